package acs

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode and DecodeTelemetry never panic, and that
// whatever they accept re-encodes to a frame that is a fixed point: decoding
// and encoding it again gives the same bytes.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"type":"HeartbeatMessage","message":{"healthy":true,"messageId":"m"}}`,
		`{"type":"AckRequest","message":{"cluster":"c","containerInstance":"ci","messageId":"m"}}`,
		`{"type":"PayloadMessage","message":{"tasks":[{"arn":"t","containers":[{"name":"a","environment":{"K":"V"},` +
			`"privileged":false,"linuxParameters":{"sharedMemorySize":64}}],"volumes":[{"name":"v","type":"host",` +
			`"host":{"sourcePath":"/x"}}],"cpu":0.5}],"seqNum":1,"timeline":null}}`,
		`{"type":"TaskManifestMessage","message":{"tasks":[{"taskArn":"t","desiredStatus":"RUNNING"}],"timeline":3}}`,
		`{"type":"TaskStopVerificationMessage","message":{"messageId":"m","stopCandidates":[{"taskArn":"t"}]}}`,
		`{"type":"PublishMetricsRequest","message":{"timestamp":1700000000.123,"instanceMetrics":{"storage":{"OSFilesystem":1}}}}`,
		"Host: x\r\n\r\n" + `{"type":"PublishHealthRequest","message":{"tasks":[{"containers":[{"statusSince":"2024-01-01T00:00:00Z"}]}]}}`,
		`{"InactiveInstanceException":"gone"}`,
		`{"type":"Nope"}`,
		`{"type":"ServerException","message":null}`,
		`[1,2]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(decode func([]byte) (any, error), encode func(any) ([]byte, error)) {
			m, err := decode(b)
			if err != nil {
				if m != nil {
					t.Fatalf("error %v with a message %#v", err, m)
				}
				return
			}
			if reflect.ValueOf(m).Kind() != reflect.Pointer {
				t.Fatalf("decoded %T, want a pointer", m)
			}
			e1, err := encode(m)
			if err != nil {
				t.Fatalf("re-encode %T: %v", m, err)
			}
			m2, err := decode(e1)
			if err != nil {
				t.Fatalf("decode of re-encoded %s: %v", e1, err)
			}
			e2, err := encode(m2)
			if err != nil {
				t.Fatalf("second re-encode: %v", err)
			}
			if !bytes.Equal(e1, e2) {
				t.Fatalf("not a fixed point:\n%s\n%s", e1, e2)
			}
		}
		check(Decode, Encode)
		check(DecodeTelemetry, EncodeTelemetry)
		// decode's fast path for frames as encode writes them agrees
		// with the general one.
		for _, c := range []*codec{acsCodec, tcsCodec} {
			m1, err1 := c.decode(b)
			m2, err2 := c.decodeFrame(b)
			if !reflect.DeepEqual(m1, m2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Fatalf("%s: decode %#v, %v; the general path %#v, %v", c.protocol, m1, err1, m2, err2)
			}
		}
	})
}
