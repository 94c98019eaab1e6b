package control

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// randomFill sets v (addressable) to a random value: pointers, slices and
// maps sometimes nil, sometimes empty; strings mixing characters JSON
// escapes, non-ASCII and invalid UTF-8.
func randomFill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		randomFill(r, v.Elem(), depth+1)
	case reflect.Struct:
		switch v.Type() {
		case reflect.TypeFor[wire.Time]():
			v.Set(reflect.ValueOf(wire.Time{Time: time.UnixMilli(r.Int64N(4e12) - 1e12).UTC()}))
			return
		case reflect.TypeFor[time.Time]():
			zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -7*3600-1800)}
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])))
			return
		}
		for i := range v.NumField() {
			randomFill(r, v.Field(i), depth+1)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if docs := []string{"", `{"a": [1, "<x>"]}`, `null`}; r.IntN(2) == 0 {
				if d := docs[r.IntN(len(docs))]; d != "" {
					v.SetBytes([]byte(d))
				}
			}
			return
		}
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			randomFill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			k := reflect.New(v.Type().Key()).Elem()
			randomFill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			randomFill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		parts := []string{"a", "Zz9", `"`, `\`, "\n\t\x01", "<&>", "é", "日本", "\u2028", "\xff", "😀", "tcp:80"}
		var s string
		for range r.IntN(4) {
			s += parts[r.IntN(len(parts))]
		}
		v.SetString(s)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(r.Int64N(1<<31) - 1<<30)
	case reflect.Float64:
		fs := []float64{0, 1, -2.5, 1e-7, 3.14159, 1e21}
		v.SetFloat(fs[r.IntN(len(fs))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	default:
		panic("randomFill: unhandled kind " + v.Kind().String())
	}
}

// decodeRecordBoth decodes in into new records of typ with json.Unmarshal
// and with the fast decoder, fails unless values and errors are the same,
// and reports whether the fast path decoded in without falling back.
func decodeRecordBoth(t testing.TB, typ reflect.Type, in []byte) (fast bool) {
	t.Helper()
	want := reflect.New(typ)
	werr := json.Unmarshal(in, want.Interface())
	got := reflect.New(typ)
	gerr := unmarshalRecord(in, got.Interface())
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%s %q:\n decodeJSON error %v\n  Unmarshal error %v", typ.Name(), in, gerr, werr)
	}
	if !reflect.DeepEqual(got.Elem().Interface(), want.Elem().Interface()) {
		g, _ := json.Marshal(got.Interface())
		w, _ := json.Marshal(want.Interface())
		t.Fatalf("%s %q:\n decodeJSON %s\n  Unmarshal %s", typ.Name(), in, g, w)
	}
	d := wire.NewDecoder(in)
	var err error
	switch v := reflect.New(typ).Interface().(type) {
	case *taskRecord:
		err = v.decodeFast(&d)
	case *instanceRecord:
		err = v.decodeFast(&d)
	default:
		t.Fatalf("no fast decoder for %s", typ)
	}
	return err == nil && d.End() == nil
}

// TestRecordDecodeMatches: random task and instance records, written by
// json.Marshal, decode as json.Unmarshal decodes them, on the fast path.
func TestRecordDecodeMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for _, typ := range []reflect.Type{reflect.TypeFor[taskRecord](), reflect.TypeFor[instanceRecord]()} {
		for range 2000 {
			v := reflect.New(typ)
			randomFill(r, v.Elem(), 0)
			b, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: json.Marshal: %v", typ.Name(), err)
			}
			if !decodeRecordBoth(t, typ, b) {
				t.Fatalf("%s: %s fell back", typ.Name(), b)
			}
		}
	}
}

// TestRecordDecodeEdges: hand-written record inputs, checked on both record
// types; fast says whether the fast path must decode them itself (for the
// record type the members belong to).
func TestRecordDecodeEdges(t *testing.T) {
	task, inst := reflect.TypeFor[taskRecord](), reflect.TypeFor[instanceRecord]()
	cases := []struct {
		in   string
		fast bool
		typ  reflect.Type
	}{
		{`{}`, true, task},
		{`null`, true, task},
		{`{"cluster":"c","id":"1","taskArn":"arn","reservedCpu":128,"reservedMemory":256,"reservedPorts":["tcp:80"],"reservedPortsUdp":[],"essential":["web"],"containers":[{"name":"web"}]}`, true, task},
		{`{"cluster":null,"id":null,"reservedCpu":null,"reservedPorts":null,"essential":[null]}`, true, task},
		{`{"cluster":"a","cluster":"b","reservedCpu":1,"reservedCpu":2}`, true, task},
		{`{"reservedPorts":["a"],"reservedPorts":["b"]}`, false, task},
		{`{"CLUSTER":"c"}`, false, task},
		{`{"Id":"c"}`, false, task},
		{`{"TASKARN":"c"}`, false, task},
		{`{"reservedCpu":1.5}`, false, task},
		{`{"reservedCpu":"1"}`, false, task},
		{`{"reservedCpu":9223372036854775808}`, false, task},
		{`{"cluster":1}`, false, task},
		{`{"cluster":"\u00e9\ud83d\ude00"}`, true, task},
		{"{\"cluster\":\"\xff\"}", false, task},
		{`{"unknown":{"cluster":[1,2,{}]},"id":"x"}`, true, task},
		{`{"id":"x"} x`, false, task},
		{`{"id":"x",}`, false, task},
		{`[]`, false, task},
		{`{"cluster":"c","id":"i","containerInstanceArn":"arn","status":"ACTIVE","reserved":{"cpu":1,"memory":2,"ports":["tcp:80"],"udp":[]},"groups":{"service:web":2,"family:x":1}}`, true, inst},
		{`{"reserved":null,"groups":null,"deregisteredAt":null,"platformDevices":null}`, true, inst},
		{`{"reserved":{"cpu":1},"reserved":{"memory":2}}`, false, inst},
		{`{"reserved":{"CPU":1}}`, false, inst},
		{`{"reserved":{"cpu":1,"other":[1]}}`, true, inst},
		{`{"reserved":[]}`, false, inst},
		{`{"groups":{"a":1,"a":null,"\u00e9\n":3}}`, true, inst},
		{`{"groups":{"a":1},"groups":{"b":2}}`, false, inst},
		{`{"groups":{"a":1.5}}`, false, inst},
		{`{"groups":[]}`, false, inst},
		{`{"GROUPS":{}}`, false, inst},
		{`{"deregisteredAt":"2024-03-01T12:00:00.123456789+02:00"}`, true, inst},
		{`{"deregisteredAt":"2024-03-01T12:00:00Z"}`, true, inst},
		{`{"deregisteredAt":"yesterday"}`, false, inst},
		{`{"deregisteredAt":1709242525}`, false, inst},
		{`{"deregisteredAt":{}}`, false, inst},
		{`{"platformDevices":[{"id":"gpu0","type":"GPU"}]}`, true, inst},
		{`{"platformDevices":[{"ID":"gpu0"}]}`, true, inst},
		{`{"platformDevices":[{"id":1}]}`, false, inst},
		{`{"platformDevices":[],"platformDevices":[{"id":"gpu0"}]}`, false, inst},
		{`{"platformDevices":{}}`, false, inst},
		{`{"registeredAt":1709242525.5,"versionInfo":{"agentVersion":"1.80.0"},"remainingResources":[{"name":"CPU","type":"INTEGER","integerValue":1024}]}`, true, inst},
		{`{"registeredAt":"x"}`, false, inst},
	}
	for _, c := range cases {
		for _, typ := range []reflect.Type{task, inst} {
			fast := decodeRecordBoth(t, typ, []byte(c.in))
			if typ == c.typ && fast != c.fast {
				t.Errorf("%s %q: fast path %v, want %v", typ.Name(), c.in, fast, c.fast)
			}
		}
	}
}

// TestUnmarshalRecordMerges: into a record that is not zero, the result is
// still json.Unmarshal's (which merges into the old value).
func TestUnmarshalRecordMerges(t *testing.T) {
	in := []byte(`{"id":"2","essential":["b"],"containers":[{"cpu":"1"}]}`)
	mk := func() *taskRecord {
		return &taskRecord{Cluster: "c", Task: wire.Task{Containers: []wire.Container{{Name: wire.Ptr("a")}}}}
	}
	want, got := mk(), mk()
	if err := json.Unmarshal(in, want); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalRecord(in, got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// BenchmarkDecodeTaskRecord decodes a task record of realistic size (two
// containers, attachments, tags, timestamps, reservations).
func BenchmarkDecodeTaskRecord(b *testing.B) {
	in := []byte(`{"attachments":[{"details":[{"name":"subnetId","value":"subnet-0123456789abcdef0"},{"name":"networkInterfaceId","value":"eni-0123456789abcdef0"}],"id":"4f9f9a1e-1b2c-4d5e-8f90-123456789abc","status":"ATTACHED","type":"ElasticNetworkInterface"}],"attributes":[{"name":"ecs.cpu-architecture","value":"x86_64"}],"availabilityZone":"us-east-1a","clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/bench","connectivity":"CONNECTED","connectivityAt":1709242525.051,"containerInstanceArn":"arn:aws:ecs:us-east-1:000000000000:container-instance/bench/0123456789abcdef0123456789abcdef","containers":[{"containerArn":"arn:aws:ecs:us-east-1:000000000000:container/bench/0123456789abcdef0123456789abcdef/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809","cpu":"128","image":"nginx:1.25","lastStatus":"RUNNING","memory":"256","name":"web","networkBindings":[{"bindIP":"0.0.0.0","containerPort":80,"hostPort":32768,"protocol":"tcp"}],"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef"},{"containerArn":"arn:aws:ecs:us-east-1:000000000000:container/bench/0123456789abcdef0123456789abcdef/9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0","cpu":"64","image":"fluent-bit:stable","lastStatus":"RUNNING","memory":"128","name":"log-router","taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef"}],"cpu":"192","createdAt":1709242520.5,"desiredStatus":"RUNNING","group":"service:web","lastStatus":"RUNNING","launchType":"EC2","memory":"384","overrides":{"containerOverrides":[{"name":"web"},{"name":"log-router"}]},"startedAt":1709242525.051,"startedBy":"ecs-svc/1234567890123456789","tags":[{"key":"team","value":"platform"}],"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef","taskDefinitionArn":"arn:aws:ecs:us-east-1:000000000000:task-definition/web:42","version":4,"cluster":"bench","id":"0123456789abcdef0123456789abcdef","reservedCpu":192,"reservedMemory":384,"reservedPorts":["tcp:32768"],"essential":["web"]}`)
	if !decodeRecordBoth(b, reflect.TypeFor[taskRecord](), in) {
		b.Fatal("benchmark record not on the fast path")
	}
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v taskRecord
			_ = json.Unmarshal(in, &v)
		}
	})
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v taskRecord
			_ = unmarshalRecord(in, &v)
		}
	})
}

// FuzzRecordDecode: for any input, the records' fast decoders and
// json.Unmarshal agree on the error (its text too) and the value.
func FuzzRecordDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, typ := range []reflect.Type{reflect.TypeFor[taskRecord](), reflect.TypeFor[instanceRecord]()} {
		for range 4 {
			v := reflect.New(typ)
			randomFill(r, v.Elem(), 0)
			b, err := json.Marshal(v.Interface())
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"reserved":{"cpu":1},"groups":{"a":1},"CLUSTER":"x","deregisteredAt":"2024-03-01T12:00:00Z","platformDevices":[{"id":"g"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeRecordBoth(t, reflect.TypeFor[taskRecord](), b)
		decodeRecordBoth(t, reflect.TypeFor[instanceRecord](), b)
	})
}
