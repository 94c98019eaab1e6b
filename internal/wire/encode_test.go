package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// fill sets v (addressable) to a random value: pointers, slices and maps
// are sometimes nil, sometimes empty; strings mix plain, escaped, HTML,
// non-ASCII and invalid UTF-8 characters.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(r, v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Time]() {
			v.Set(reflect.ValueOf(Time{time.UnixMilli(r.Int64N(4e12) - 1e12).UTC()}))
			return
		}
		for i := range v.NumField() {
			fill(r, v.Field(i), depth+1)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			docs := []string{"", `{"a": [1, 2.5, "<x>"]}`, `"s"`, `null`, `[ ]`}
			if d := docs[r.IntN(len(docs))]; d != "" {
				v.SetBytes([]byte(d))
			}
			return
		}
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		parts := []string{"a", "Zz9", `"`, `\`, "\n\t\r\b\f\x01\x1f", "<&>", "é", "日本", "\u2028\u2029", "\xff\xfe", "😀", " "}
		var s string
		for range r.IntN(4) {
			s += parts[r.IntN(len(parts))]
		}
		v.SetString(s)
	case reflect.Int32, reflect.Int64:
		v.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Float64:
		fs := []float64{0, 1, -2.5, 1e-7, 3.14159, 1e21, 123456789.125, -1e-300, math.MaxFloat64, 5e-324}
		v.SetFloat(fs[r.IntN(len(fs))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Uint8:
		v.SetUint(uint64(r.IntN(256)))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// TestAppendJSONMatches: for every structure of the model and 200 random
// values of each, AppendJSON writes exactly what json.Marshal writes.
func TestAppendJSONMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, proto := range structures() {
		typ := reflect.TypeOf(proto).Elem()
		for range 200 {
			v := reflect.New(typ)
			fill(r, v.Elem(), 0)
			want, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s: json.Marshal: %v", typ.Name(), err)
			}
			got := v.Interface().(AppendJSONer).AppendJSON(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s:\n got %s\nwant %s", typ.Name(), got, want)
			}
		}
	}
}

func BenchmarkAppendJSONTask(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var task Task
	fill(r, reflect.ValueOf(&task).Elem(), 0)
	b.Run("AppendJSON", func(b *testing.B) {
		buf := make([]byte, 0, 8192)
		for b.Loop() {
			buf = task.AppendJSON(buf[:0])
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(&task)
		}
	})
}

func TestPlainPrefix(t *testing.T) {
	// Every byte value at every position of a 16-byte string: the prefix
	// stops at the word holding the first byte that needs attention, and
	// the string is written as encoding/json writes it.
	for pos := range 16 {
		for c := range 256 {
			buf := []byte("abcdefghijklmnop")
			buf[pos] = byte(c)
			s := string(buf)
			want := len(s)
			if c >= 0x80 || !plainASCII[c] {
				want = pos / 8 * 8
			}
			if got := plainPrefix(s); got != want {
				t.Fatalf("plainPrefix(%q) = %d, want %d", s, got, want)
			}
			exp, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString(nil, s); !bytes.Equal(got, exp) {
				t.Fatalf("appendString(%q) = %s, want %s", s, got, exp)
			}
		}
	}
}

func BenchmarkAppendStringARN(b *testing.B) {
	s := "arn:aws:ecs:us-east-1:123456789012:container-instance/scale/0123456789abcdef0123456789abcdef"
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

// TestAppendTimeMillisMatchesFloat: the direct form is exactly what
// AppendFloat writes, at the edges and for random values of every size.
func TestAppendTimeMillisMatchesFloat(t *testing.T) {
	check := func(ms int64) {
		t.Helper()
		want := strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64)
		if got := AppendTimeMillis(nil, ms); string(got) != string(want) {
			t.Fatalf("AppendTimeMillis(%d) = %s, want %s", ms, got, want)
		}
	}
	for _, ms := range []int64{0, 1, -1, 10, 100, 999, 1000, 1001, 1010, 1100, -999, -1000, -1001,
		1_795_498_529_964, 1_795_498_530_270, 1_795_498_530_200, 1_795_498_530_000, -8_100_000_000_111,
		1e15 - 1, 1e15, -1e15 + 1, -1e15, 1<<53 - 1, 1 << 53, math.MaxInt64, math.MinInt64 + 1, math.MinInt64} {
		check(ms)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		ms := rng.Int64N(1 << uint(rng.IntN(62)+1))
		if rng.IntN(2) == 0 {
			ms = -ms
		}
		check(ms)
	}
}
