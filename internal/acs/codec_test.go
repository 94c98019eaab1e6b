package acs

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field of the struct v points to, recursively, to a
// non-zero value derived from the field name, so that a round trip checks
// every member.
func fill(v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Timestamp]() {
			v.Set(reflect.ValueOf(NewTimestamp(time.UnixMilli(1700000000123 + int64(len(name))))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), v.Type().Field(i).Name)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), name+"0")
		fill(s.Index(1), name+"1")
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, name+"-key")
		fill(e, name+"-value")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("v-" + name + " \"é\"")
	case reflect.Int64:
		v.SetInt(int64(len(name)) + 1<<40)
	case reflect.Float64:
		v.SetFloat(float64(len(name)) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic(fmt.Sprintf("fill: unhandled kind %s", v.Kind()))
	}
}

// membersOf collects every JSON object key of a decoded JSON value.
func membersOf(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			membersOf(e, into)
		}
	case []any:
		for _, e := range x {
			membersOf(e, into)
		}
	}
}

func TestCodec_RoundTripEveryType(t *testing.T) {
	cases := []struct {
		name   string
		codec  *codec
		encode func(any) ([]byte, error)
		decode func([]byte) (any, error)
	}{
		{"ACS", acsCodec, Encode, Decode},
		{"TCS", tcsCodec, EncodeTelemetry, DecodeTelemetry},
	}
	for _, cc := range cases {
		for name, typ := range cc.codec.byName {
			t.Run(cc.name+"/"+name, func(t *testing.T) {
				p := reflect.New(typ)
				fill(p.Elem(), name)
				b, err := cc.encode(p.Interface())
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				var f struct {
					Type    string         `json:"type"`
					Message map[string]any `json:"message"`
				}
				if err := json.Unmarshal(b, &f); err != nil {
					t.Fatalf("frame is not JSON: %v\n%s", err, b)
				}
				if f.Type != name {
					t.Errorf("type = %q, want %q", f.Type, name)
				}
				// Every member of every reachable shape is on the wire.
				got := map[string]bool{}
				membersOf(f.Message, got)
				want := map[string]bool{}
				var walk func(reflect.Type)
				walk = func(t reflect.Type) {
					for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
						t = t.Elem()
					}
					if members, ok := modelMembers[t]; ok {
						for i, m := range members {
							want[m] = true
							walk(t.Field(i).Type)
						}
					}
				}
				walk(typ)
				for m := range want {
					if !got[m] {
						t.Errorf("member %q missing from the frame", m)
					}
				}
				back, err := cc.decode(b)
				if err != nil {
					t.Fatalf("decode: %v\n%s", err, b)
				}
				if !reflect.DeepEqual(back, p.Interface()) {
					t.Errorf("round trip differs\n got %+v\nwant %+v", back, p.Interface())
				}
				// A value (not a pointer) encodes the same.
				b2, err := cc.encode(p.Elem().Interface())
				if err != nil || string(b2) != string(b) {
					t.Errorf("encoding the value: %v\n%s\n%s", err, b2, b)
				}
				if TypeName(p.Interface()) != name {
					t.Errorf("TypeName = %q", TypeName(p.Interface()))
				}
			})
		}
	}
}

// TestCodec_Wire pins exact frames: casing, omitted zero members, numbers.
func TestCodec_Wire(t *testing.T) {
	timeline := int64(7)
	tests := []struct {
		name string
		msg  any
		want string
	}{
		{"Heartbeat", &HeartbeatMessage{Healthy: true, MessageID: "m1"},
			`{"type":"HeartbeatMessage","message":{"healthy":true,"messageId":"m1"}}`},
		{"HeartbeatAck", HeartbeatAckRequest{MessageID: "m1"},
			`{"type":"HeartbeatAckRequest","message":{"messageId":"m1"}}`},
		{"Ack", &AckRequest{Cluster: "c", ContainerInstance: "ci", MessageID: "m2"},
			`{"type":"AckRequest","message":{"cluster":"c","containerInstance":"ci","messageId":"m2"}}`},
		{"EmptyMessage", &CloseMessage{}, `{"type":"CloseMessage","message":{}}`},
		{"Payload", &PayloadMessage{
			ClusterARN: "arn:c", ContainerInstanceARN: "arn:ci", MessageID: "m3", SeqNum: 2, GeneratedAt: 1700000000000,
			Timeline: &timeline,
			Tasks: []Task{{
				ARN: "arn:t", DesiredStatus: DesiredStatusRunning, Family: "web", Version: "3", CPU: 0.25, Memory: 512,
				Containers: []Container{{
					Name: "app", Image: "nginx", Essential: true, CPU: 128, Memory: 256,
					Environment:     map[string]string{"B": "2", "A": "1"},
					PortMappings:    []PortMapping{{ContainerPort: 80, Protocol: ProtocolTCP}},
					DockerConfig:    &DockerConfig{Config: `{"Labels":{"x":"y"}}`, HostConfig: `{}`, Version: "1.19"},
					HealthCheckType: HealthCheckTypeDocker,
				}},
			}},
		}, `{"type":"PayloadMessage","message":{"containerInstanceArn":"arn:ci","clusterArn":"arn:c","tasks":[{` +
			`"arn":"arn:t","containers":[{"cpu":128,"environment":{"A":"1","B":"2"},"essential":true,"image":"nginx",` +
			`"memory":256,"name":"app","portMappings":[{"containerPort":80,"protocol":"tcp"}],"dockerConfig":{` +
			`"version":"1.19","config":"{\"Labels\":{\"x\":\"y\"}}","hostConfig":"{}"},"healthCheckType":"docker"}],` +
			`"desiredStatus":"RUNNING","family":"web","version":"3","cpu":0.25,"memory":512}],` +
			`"generatedAt":1700000000000,"messageId":"m3","seqNum":2,"timeline":7}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("\n got %s\nwant %s", b, tt.want)
			}
		})
	}
	t.Run("Telemetry", func(t *testing.T) {
		b, err := EncodeTelemetry(&PublishMetricsRequest{
			Metadata:        &MetricsMetadata{Cluster: "c", MessageID: "m", Fin: true},
			InstanceMetrics: &InstanceMetrics{Storage: &InstanceStorageMetrics{OSFilesystem: 12.5}},
			TaskMetrics: []TaskMetric{{TaskARN: "t", ContainerMetrics: []ContainerMetric{{
				ContainerName: "app",
				NetworkStatsSet: &NetworkStatsSet{
					RxBytes:          &ULongStatsSet{},
					RxBytesPerSecond: &UDoubleCWStatsSet{Max: 1.5, SampleCount: 1, Sum: 1.5, Min: 1.5},
				},
			}}}},
			Timestamp: NewTimestamp(time.UnixMilli(1700000000123)),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"type":"PublishMetricsRequest","message":{"metadata":{"cluster":"c","messageId":"m","fin":true},` +
			`"instanceMetrics":{"storage":{"OSFilesystem":12.5}},"taskMetrics":[{"taskArn":"t","containerMetrics":[{` +
			`"containerName":"app","networkStatsSet":{"rxBytesPerSecond":{"min":1.5,"max":1.5,"sampleCount":1,"sum":1.5},` +
			`"rxBytes":{"min":0,"max":0,"sampleCount":0,"sum":0}}}]}],"timestamp":1700000000.123}}`
		if string(b) != want {
			t.Errorf("\n got %s\nwant %s", b, want)
		}
		b, err = EncodeTelemetry(&HeartbeatMessage{Healthy: true})
		if err != nil || string(b) != `{"type":"HeartbeatMessage","message":{"healthy":true}}` {
			t.Errorf("TCS heartbeat: %s %v", b, err)
		}
	})
}

func TestDecode_Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		unknown bool
	}{
		{"NotJSON", `{`, false},
		{"Empty", ``, false},
		{"Array", `[]`, false},
		{"NoType", `{"message":{}}`, false},
		{"EmptyType", `{"type":"","message":{}}`, false},
		{"TypeNotString", `{"type":3,"message":{}}`, false},
		{"MessageNotObject", `{"type":"AckRequest","message":"x"}`, false},
		{"MemberWrongType", `{"type":"PayloadMessage","message":{"seqNum":"one"}}`, false},
		{"IntegerWithFraction", `{"type":"PayloadMessage","message":{"seqNum":1.5}}`, false},
		{"Unknown", `{"type":"SomethingNew","message":{}}`, true},
		{"TelemetryTypeOnACS", `{"type":"PublishMetricsRequest","message":{}}`, true},
		{"UnframedNonException", `{"PayloadMessage":"x"}`, false},
		{"UnframedTwoKeys", `{"ServerException":"x","BadRequestException":"y"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode(%s) = %#v, want an error", tt.in, m)
			}
			var ue *UnknownTypeError
			var me *MalformedFrameError
			switch {
			case tt.unknown && !errors.As(err, &ue):
				t.Errorf("error %v (%T), want *UnknownTypeError", err, err)
			case !tt.unknown && !errors.As(err, &me):
				t.Errorf("error %v (%T), want *MalformedFrameError", err, err)
			}
		})
	}
}

func TestDecode_Lenient(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"NullMessage", `{"type":"HeartbeatMessage","message":null}`, &HeartbeatMessage{}},
		{"NoMessage", `{"type":"HeartbeatMessage"}`, &HeartbeatMessage{}},
		{"UnknownMembers", `{"type":"AckRequest","message":{"messageId":"m","futureMember":[1,2]},"extra":1}`,
			&AckRequest{MessageID: "m"}},
		{"CaseInsensitiveMembers", `{"type":"AckRequest","message":{"MessageId":"m"}}`, &AckRequest{MessageID: "m"}},
		{"UnframedHandshakeError", `{"InactiveInstanceException":"deregistered"}`,
			&InactiveInstanceException{Message: "deregistered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEncode_NotAMessage(t *testing.T) {
	for _, v := range []any{nil, 3, "x", Task{}, &Container{}, (*PayloadMessage)(nil), &PublishMetricsRequest{}} {
		_, err := Encode(v)
		var ue *UnknownTypeError
		if !errors.As(err, &ue) {
			t.Errorf("Encode(%T) error = %v, want *UnknownTypeError", v, err)
		}
	}
	if _, err := EncodeTelemetry(&PayloadMessage{}); err == nil {
		t.Error("EncodeTelemetry(PayloadMessage) succeeded")
	}
}

func TestDecodeTelemetry_SignedPreamble(t *testing.T) {
	body := `{"type":"PublishMetricsRequest","message":{"metadata":{"cluster":"c","containerInstance":"ci",` +
		`"messageId":"m","fin":true},"taskMetrics":[{"taskArn":"t"}],"timestamp":1700000000.5}}`
	header := "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ecs/aws4_request, " +
		"SignedHeaders=host;x-amz-date, Signature=abc\r\nHost: berth:8080\r\nX-Amz-Date: 20240101T000000Z"
	for _, frame := range []string{body, header + "\r\n\r\n" + body, "\n " + body} {
		m, err := DecodeTelemetry([]byte(frame))
		if err != nil {
			t.Fatalf("DecodeTelemetry(%.40q): %v", frame, err)
		}
		got, ok := m.(*PublishMetricsRequest)
		if !ok || got.Metadata.ContainerInstance != "ci" || len(got.TaskMetrics) != 1 ||
			!got.Timestamp.Equal(time.UnixMilli(1700000000500)) {
			t.Errorf("got %#v", m)
		}
	}
	h, b, err := SplitSignedFrame([]byte(header + "\r\n\r\n" + body))
	if err != nil || string(h) != header || string(b) != body {
		t.Errorf("SplitSignedFrame = %q, %q, %v", h, b, err)
	}
	var me *MalformedFrameError
	if _, err := DecodeTelemetry([]byte("Host: x\r\n")); !errors.As(err, &me) {
		t.Errorf("preamble without body: %v", err)
	}
}

func TestTimestamp_JSON(t *testing.T) {
	ms := func(v int64) Timestamp { return Timestamp{time.UnixMilli(v).UTC()} }
	tests := []struct {
		in      string
		want    Timestamp
		out     string
		wantErr bool
	}{
		{in: `1700000000`, want: ms(1700000000000), out: `1700000000`},
		{in: `1700000000.123`, want: ms(1700000000123), out: `1700000000.123`},
		{in: `1700000000.1234567`, want: ms(1700000000123), out: `1700000000.123`},
		{in: `1.7e9`, want: ms(1700000000000), out: `1700000000`},
		{in: `"1700000000.5"`, want: ms(1700000000500), out: `1700000000.5`},
		{in: `"2023-11-14T22:13:20.25Z"`, want: ms(1700000000250), out: `1700000000.25`},
		{in: `"2023-11-14T23:13:20+01:00"`, want: ms(1700000000000), out: `1700000000`},
		{in: `-1.5`, want: ms(-1500), out: `-1.5`},
		{in: `null`, want: Timestamp{}, out: `null`},
		{in: `"yesterday"`, wantErr: true},
		{in: `"NaN"`, wantErr: true},
		{in: `1e300`, wantErr: true},
		{in: `true`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Timestamp
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want.Time) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			out, err := json.Marshal(got)
			if err != nil || string(out) != tt.out {
				t.Errorf("marshal = %s, %v; want %s", out, err, tt.out)
			}
		})
	}
	// Omitted when zero.
	b, _ := EncodeTelemetry(&PublishHealthRequest{})
	if strings.Contains(string(b), "timestamp") {
		t.Errorf("zero timestamp written: %s", b)
	}
}
