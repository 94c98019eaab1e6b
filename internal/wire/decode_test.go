package wire

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

type jsonDecoder interface{ DecodeJSON([]byte) error }

// decodeBoth decodes in into new values of typ with json.Unmarshal and with
// DecodeJSON, fails unless the values and errors are the same, and reports
// whether the fast path decoded in (without falling back).
func decodeBoth(t testing.TB, typ reflect.Type, in []byte) (fast bool) {
	t.Helper()
	want := reflect.New(typ)
	werr := json.Unmarshal(in, want.Interface())
	got := reflect.New(typ)
	gerr := got.Interface().(jsonDecoder).DecodeJSON(in)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%s %q:\nDecodeJSON error %v\n Unmarshal error %v", typ.Name(), in, gerr, werr)
	}
	if !reflect.DeepEqual(got.Elem().Interface(), want.Elem().Interface()) {
		g, _ := json.Marshal(got.Interface())
		w, _ := json.Marshal(want.Interface())
		t.Fatalf("%s %q:\nDecodeJSON %s\n Unmarshal %s", typ.Name(), in, g, w)
	}
	d := Decoder{b: in}
	v := reflect.New(typ).Interface().(interface{ decodeJSONObject(*Decoder) error })
	return v.decodeJSONObject(&d) == nil && d.End() == nil
}

// TestDecodeJSONMatches: for every structure of the model and 200 random
// values of each, DecodeJSON of json.Marshal's bytes gives what
// json.Unmarshal gives, on the fast path (what Marshal writes never needs
// the fallback).
func TestDecodeJSONMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	protos := decoders()
	if len(protos) != len(structures()) {
		t.Fatalf("%d decoders, %d structures", len(protos), len(structures()))
	}
	for _, proto := range protos {
		typ := reflect.TypeOf(proto).Elem()
		for range 200 {
			v := reflect.New(typ)
			fill(r, v.Elem(), 0)
			b, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: json.Marshal: %v", typ.Name(), err)
			}
			if !decodeBoth(t, typ, b) {
				t.Fatalf("%s: %s fell back", typ.Name(), b)
			}
		}
	}
}

// TestDecodeJSONEdges: hand-written inputs, each decoded both ways into
// several types; fast says which must not fall back.
func TestDecodeJSONEdges(t *testing.T) {
	types := []reflect.Type{
		reflect.TypeFor[Task](),
		reflect.TypeFor[RunTaskRequest](),
		reflect.TypeFor[SubmitTaskStateChangeRequest](),
		reflect.TypeFor[DescribeTasksRequest](),
		reflect.TypeFor[ContainerInstance](),
		reflect.TypeFor[ContainerDefinition](),
		reflect.TypeFor[DeploymentLifecycleHook](), // has a document member
	}
	// fast applies to the case's type (Task unless the member is another
	// type's); every input is checked for equivalence on all types.
	run := reflect.TypeFor[RunTaskRequest]()
	desc := reflect.TypeFor[DescribeTasksRequest]()
	cdef := reflect.TypeFor[ContainerDefinition]()
	hook := reflect.TypeFor[DeploymentLifecycleHook]()
	cases := []struct {
		in   string
		fast bool
		typ  reflect.Type
	}{
		// Plain and whitespace.
		{`{}`, true, nil},
		{` {  } `, true, nil},
		{"\t{\n\"taskArn\" :\r\"a\" , \"cpu\":\"256\"}\n", true, nil},
		{`null`, true, nil},
		{` null `, true, nil},
		{`{"cluster":"c","tasks":["a","b"],"include":["TAGS"]}`, true, desc},
		{`{"tasks":[],"containers":[],"overrides":{}}`, true, desc},
		{`{"tasks":[ ],"containers":[ { } ]}`, true, desc},
		// Strings and escapes.
		{`{"taskArn":"\u00e9\"\\\/\b\f\n\r\t"}`, true, nil},
		{`{"taskArn":"caf\u00E9 \ud83d\ude00 😀 日本"}`, true, nil},
		{`{"taskArn":"\u0000\u001f\u2028"}`, true, nil},
		{`{"taskArn":"\ud83d"}`, false, nil},
		{`{"taskArn":"\ud83dx"}`, false, nil},
		{`{"taskArn":"\ude00\ud83d"}`, false, nil},
		{`{"taskArn":"\ud83d\u0041"}`, false, nil},
		{"{\"taskArn\":\"\xff\"}", false, nil},
		{"{\"taskArn\":\"\xed\xa0\x80\"}", false, nil},
		{"{\"taskArn\":\"a\\n\xc3\"}", false, nil},
		{"{\"taskArn\":\"a\nb\"}", false, nil},
		{`{"taskArn":"\x"}`, false, nil},
		{`{"taskArn":"\u12"}`, false, nil},
		{`{"taskArn":"\u12G4"}`, false, nil},
		{`{"taskArn":"abc`, false, nil},
		{`{"taskArn":"abc\`, false, nil},
		{`{"cluster":"\u00e9","tasks":["\ud83d\ude00"]}`, true, desc},
		// Numbers into integer, float and bool members.
		{`{"count":3,"version":-9223372036854775808}`, true, run},
		{`{"count":2147483647,"startedAt":1}`, true, run},
		{`{"count":2147483648}`, false, run},
		{`{"count":-2147483649}`, false, run},
		{`{"count":1e3}`, false, run},
		{`{"count":1.5}`, false, run},
		{`{"count":1.0}`, false, run},
		{`{"count":-0}`, true, run},
		{`{"count":-0.0}`, false, run},
		{`{"count":01}`, false, run},
		{`{"count":+1}`, false, run},
		{`{"count":.5}`, false, run},
		{`{"count":1.}`, false, run},
		{`{"count":1e}`, false, run},
		{`{"count":-}`, false, run},
		{`{"version":9223372036854775807}`, true, nil},
		{`{"version":9223372036854775808}`, false, nil},
		{`{"version":123456789012345678901234567890}`, false, nil},
		{`{"version":"1"}`, false, nil},
		{`{"count":true}`, false, run},
		{`{"enableExecuteCommand":true,"healthStatus":"HEALTHY"}`, true, nil},
		{`{"enableExecuteCommand":1}`, false, nil},
		{`{"enableExecuteCommand":tru}`, false, nil},
		{`{"enableExecuteCommand":"true"}`, false, nil},
		{`{"containers":[{"exitCode":0,"cpu":"1"}],"cpu":1}`, false, nil},
		{`{"containers":[{"memory":"512"}],"overrides":{"cpu":"1","memory":"2"}}`, true, nil},
		{`{"memory":1e400}`, false, nil},
		// Null everywhere.
		{`{"taskArn":null,"count":null,"containers":null,"overrides":null,"createdAt":null,"tags":null}`, true, nil},
		{`{"containers":[null,{"name":null}],"tasks":[null],"include":[null]}`, true, desc},
		{`{"dockerLabels":{"a":null,"b":"x"}}`, true, cdef},
		{`{"dockerLabels":null,"hookDetails":null}`, true, cdef},
		{`{"hookDetails":{"a": [1, 2.5, "<x>"] },"dockerLabels":{}}`, true, cdef},
		{`{"hookDetails": 12e3 }`, true, hook},
		{`{"hookDetails":[1,}`, false, hook},
		// Case-folded, unknown and repeated keys.
		{`{"TASKARN":"a"}`, false, nil},
		{`{"TaskArn":"a","taskArn":"b"}`, false, nil},
		{`{"taskARN":"a"}`, false, nil},
		{`{"taskArnX":"a","TASKARNX":1}`, true, nil},
		{"{\"ta\u017fkArn\":\"a\"}", false, nil},
		{"{\"\u212aey\":\"a\"}", false, nil},
		{`{"t\u0061skArn":"a"}`, false, nil},
		{`{"unknown":{"a":[1,{"b":null}],"c":"\u00e9"},"taskArn":"x","u2":[[]],"u3":-1.5e-3}`, true, nil},
		{`{"unknown":{"a":[1,{"b":nul}]}}`, false, nil},
		{`{"unknown":"\q"}`, false, nil},
		{`{"unknown":{"a" 1}}`, false, nil},
		{`{"unknown":{,}}`, false, nil},
		{`{"unknown":[1 2]}`, false, nil},
		{`{"taskArn":"a","taskArn":"b","count":1,"count":null}`, true, nil},
		{`{"containers":[{"name":"a"}],"containers":[{"cpu":"1"}]}`, false, nil},
		{`{"containers":[{"name":"a"}],"containers":null,"containers":[{"cpu":"1"}]}`, true, nil},
		{`{"overrides":{"cpu":"1"},"overrides":{"memory":"2"}}`, false, nil},
		{`{"overrides":{"cpu":"1"},"overrides":null}`, true, nil},
		{`{"dockerLabels":{"a":"1"},"dockerLabels":{"b":"2"}}`, false, cdef},
		{`{"dockerLabels":{"a":"1","a":"2"}}`, true, cdef},
		{`{"dockerLabels":{"\u00e9\n":"1","\ud83d":"2"}}`, false, cdef},
		{`{"dockerLabels":{"\u00e9\n":"1"}}`, true, cdef},
		{`{"dockerLabels":{"é":"1"}}`, true, cdef},
		{`{"hookDetails":1,"hookDetails":[2]}`, true, hook},
		{`{"tasks":["a"],"tasks":["b"]}`, false, desc},
		// Structure: wrong types, trailing garbage, truncation.
		{`[]`, false, nil},
		{`"x"`, false, nil},
		{`1`, false, nil},
		{``, false, nil},
		{`   `, false, nil},
		{`{}x`, false, nil},
		{`{} {}`, false, nil},
		{`{"taskArn":"a",}`, false, nil},
		{`{,"taskArn":"a"}`, false, nil},
		{`{"taskArn":"a" "cpu":"b"}`, false, nil},
		{`{"taskArn"}`, false, nil},
		{`{"taskArn":}`, false, nil},
		{`{"taskArn"`, false, nil},
		{`{`, false, nil},
		{`{"containers":[{}`, false, nil},
		{`{"containers":[,]}`, false, nil},
		{`{"containers":[{},]}`, false, nil},
		{`{"containers":{}}`, false, nil},
		{`{"overrides":[]}`, false, nil},
		{`{"tasks":"a"}`, false, desc},
		{`{"taskArn":["a"]}`, false, nil},
		{`{"dockerLabels":[]}`, false, cdef},
		{`{"dockerLabels":{"a":1}}`, false, cdef},
		{"\xef\xbb\xbf{}", false, nil},
		{`nullx`, false, nil},
		// Timestamps: numbers, quoted, RFC 3339, invalid.
		{`{"createdAt":1709242525.051,"startedAt":-1.5,"stoppedAt":0}`, true, nil},
		{`{"createdAt":1e3}`, true, nil},
		{`{"createdAt":"1709242525.051"}`, true, nil},
		{`{"createdAt":"2024-03-01T12:00:00.5Z","startedAt":"2024-03-01T12:00:00+02:00"}`, true, nil},
		{`{"createdAt":"yesterday"}`, false, nil},
		{`{"createdAt":"2024-03-01T12:00:00\u005a"}`, false, nil},
		{`{"createdAt":1e14}`, false, nil},
		{`{"createdAt":true}`, false, nil},
		{`{"createdAt":{}}`, false, nil},
		{`{"createdAt":[1]}`, false, nil},
		{`{"createdAt":""}`, false, nil},
	}
	for _, c := range cases {
		for _, typ := range types {
			fast := decodeBoth(t, typ, []byte(c.in))
			if want := cmp.Or(c.typ, reflect.TypeFor[Task]()); typ != want {
				continue
			}
			if c.fast && !fast {
				t.Errorf("%s %q: fell back", typ.Name(), c.in)
			}
			if !c.fast && fast {
				t.Errorf("%s %q: fast path accepted it", typ.Name(), c.in)
			}
		}
	}
	// Deep nesting falls back to encoding/json (which limits depth).
	for _, n := range []int{999, 1001, 10001} {
		in := `{"unknown":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		decodeBoth(t, reflect.TypeFor[Task](), []byte(in))
	}
}

// FuzzDecodeJSON: for any input, DecodeJSON and json.Unmarshal agree on the
// error (its text too) and on the value, for the hot types (and one with a
// document member).
func FuzzDecodeJSON(f *testing.F) {
	fuzzTypes := []reflect.Type{
		reflect.TypeFor[Task](),
		reflect.TypeFor[RunTaskRequest](),
		reflect.TypeFor[SubmitTaskStateChangeRequest](),
		reflect.TypeFor[ContainerInstance](),
		reflect.TypeFor[DescribeTasksRequest](),
		reflect.TypeFor[DeploymentLifecycleHook](),
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, typ := range fuzzTypes {
		for range 4 {
			v := reflect.New(typ)
			fill(r, v.Elem(), 0)
			b, err := json.Marshal(v.Interface())
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"containers":[{"name":"a"}],"containers":[{"cpu":"1"}],"TASKARN":"x","createdAt":"2024-03-01T12:00:00Z"}`))
	f.Add([]byte(`{"taskArn":"\ud83d\ude00\u00e9","count":1e3,"dockerLabels":{"a":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range fuzzTypes {
			decodeBoth(t, typ, b)
		}
	})
}

// benchTask is a task of realistic size: two containers with network
// bindings and interfaces, attachments, attributes, tags and timestamps.
func benchTask() []byte {
	return []byte(`{"attachments":[{"details":[{"name":"subnetId","value":"subnet-0123456789abcdef0"},{"name":"networkInterfaceId","value":"eni-0123456789abcdef0"},{"name":"privateIPv4Address","value":"10.0.1.23"}],"id":"4f9f9a1e-1b2c-4d5e-8f90-123456789abc","status":"ATTACHED","type":"ElasticNetworkInterface"}],"attributes":[{"name":"ecs.cpu-architecture","value":"x86_64"}],"availabilityZone":"us-east-1a","capacityProviderName":"spot-provider","clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/bench","connectivity":"CONNECTED","connectivityAt":1709242525.051,"containerInstanceArn":"arn:aws:ecs:us-east-1:000000000000:container-instance/bench/0123456789abcdef0123456789abcdef","containers":[{"containerArn":"arn:aws:ecs:us-east-1:000000000000:container/bench/0123456789abcdef0123456789abcdef/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809","cpu":"128","healthStatus":"HEALTHY","image":"public.ecr.aws/docker/library/nginx:1.25","lastStatus":"RUNNING","memory":"256","name":"web","networkBindings":[{"bindIP":"0.0.0.0","containerPort":80,"hostPort":32768,"protocol":"tcp"}],"networkInterfaces":[{"attachmentId":"4f9f9a1e-1b2c-4d5e-8f90-123456789abc","privateIpv4Address":"10.0.1.23"}],"runtimeId":"0123456789abcdef0123456789abcdef-1234567890","taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef"},{"containerArn":"arn:aws:ecs:us-east-1:000000000000:container/bench/0123456789abcdef0123456789abcdef/9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0","cpu":"64","exitCode":0,"image":"public.ecr.aws/aws-observability/aws-for-fluent-bit:stable","lastStatus":"RUNNING","memory":"128","name":"log-router","networkBindings":[],"networkInterfaces":[{"attachmentId":"4f9f9a1e-1b2c-4d5e-8f90-123456789abc","privateIpv4Address":"10.0.1.23"}],"runtimeId":"0123456789abcdef0123456789abcdef-0987654321","taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef"}],"cpu":"256","createdAt":1709242520.5,"desiredStatus":"RUNNING","enableExecuteCommand":false,"group":"service:web","healthStatus":"HEALTHY","lastStatus":"RUNNING","launchType":"EC2","memory":"512","overrides":{"containerOverrides":[{"name":"web"},{"name":"log-router"}],"inferenceAcceleratorOverrides":[]},"pullStartedAt":1709242521.1,"pullStoppedAt":1709242523.9,"startedAt":1709242525.051,"startedBy":"ecs-svc/1234567890123456789","tags":[{"key":"team","value":"platform"},{"key":"env","value":"bench"}],"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef","taskDefinitionArn":"arn:aws:ecs:us-east-1:000000000000:task-definition/web:42","version":4}`)
}

func BenchmarkDecodeTask(b *testing.B) {
	in := benchTask()
	var check Task
	d := Decoder{b: in}
	if err := check.decodeJSONObject(&d); err != nil || d.End() != nil || len(check.Containers) != 2 {
		b.Fatalf("benchmark task not on the fast path: %v", err)
	}
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			var t Task
			if err := json.Unmarshal(in, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			var t Task
			if err := t.DecodeJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
