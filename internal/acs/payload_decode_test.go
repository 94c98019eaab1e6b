package acs

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// realisticPayload is the frame the server sends for a RunTask of count n
// (see Backend.sync in internal/agents): n tasks compiled by CompileTask
// from a two-container task definition with environment, ports, mounts,
// a health check, log configuration and a command and environment
// override.
func realisticPayload(tb testing.TB, n int) []byte {
	tb.Helper()
	const region, account = "us-east-1", "123456789012"
	arn := func(res string) string { return "arn:aws:ecs:" + region + ":" + account + ":" + res }
	td := &wire.TaskDefinition{
		Family: wire.Ptr("web"), Revision: wire.Ptr(int32(12)),
		NetworkMode: wire.Ptr(wire.NetworkModeBridge),
		Cpu:         wire.Ptr("512"), Memory: wire.Ptr("1024"),
		Volumes: []wire.Volume{
			{Name: wire.Ptr("data"), Host: &wire.HostVolumeProperties{SourcePath: wire.Ptr("/srv/data")}},
			{Name: wire.Ptr("scratch"), Host: &wire.HostVolumeProperties{}},
		},
		ContainerDefinitions: []wire.ContainerDefinition{{
			Name: wire.Ptr("app"), Image: wire.Ptr("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"),
			Cpu: wire.Ptr(int32(256)), Memory: wire.Ptr(int32(512)), MemoryReservation: wire.Ptr(int32(256)),
			Essential: wire.Ptr(true),
			Command:   []string{"serve", "--port=8080", "--log-level=info"},
			Environment: []wire.KeyValuePair{
				{Name: wire.Ptr("APP_ENV"), Value: wire.Ptr("production")},
				{Name: wire.Ptr("DATABASE_URL"), Value: wire.Ptr("postgres://web@db.internal:5432/web?sslmode=require&pool=10")},
				{Name: wire.Ptr("GREETING"), Value: wire.Ptr("héllo, wörld <3")},
				{Name: wire.Ptr("FEATURES"), Value: wire.Ptr(`{"beta":true,"quota":100}`)},
				{Name: wire.Ptr("LOG_FORMAT"), Value: wire.Ptr("json")},
				{Name: wire.Ptr("PORT"), Value: wire.Ptr("8080")},
			},
			PortMappings: []wire.PortMapping{
				{ContainerPort: wire.Ptr(int32(8080)), HostPort: wire.Ptr(int32(0)), Protocol: wire.Ptr(wire.TransportProtocolTcp)},
				{ContainerPort: wire.Ptr(int32(9090)), HostPort: wire.Ptr(int32(9090)), Protocol: wire.Ptr(wire.TransportProtocolTcp)},
			},
			MountPoints: []wire.MountPoint{
				{SourceVolume: wire.Ptr("data"), ContainerPath: wire.Ptr("/data"), ReadOnly: wire.Ptr(true)},
				{SourceVolume: wire.Ptr("scratch"), ContainerPath: wire.Ptr("/tmp/scratch")},
			},
			DockerLabels:     map[string]string{"team": "web", "tier": "frontend"},
			WorkingDirectory: wire.Ptr("/srv"), User: wire.Ptr("1000:1000"),
			HealthCheck: &wire.HealthCheck{Command: []string{"CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"},
				Interval: wire.Ptr(int32(10)), Retries: wire.Ptr(int32(3))},
			Ulimits:          []wire.Ulimit{{Name: wire.Ptr(wire.UlimitNameNofile), SoftLimit: wire.Ptr(int32(65536)), HardLimit: wire.Ptr(int32(65536))}},
			LogConfiguration: &wire.LogConfiguration{LogDriver: wire.Ptr(wire.LogDriverJsonFile), Options: map[string]string{"max-size": "10m", "max-file": "3"}},
			StopTimeout:      wire.Ptr(int32(30)),
			DependsOn:        []wire.ContainerDependency{{ContainerName: wire.Ptr("proxy"), Condition: wire.Ptr(wire.ContainerConditionStart)}},
		}, {
			Name: wire.Ptr("proxy"), Image: wire.Ptr("envoyproxy/envoy:v1.29"),
			Cpu: wire.Ptr(int32(128)), Memory: wire.Ptr(int32(256)), Essential: wire.Ptr(false),
			EntryPoint:  []string{"/docker-entrypoint.sh"},
			Environment: []wire.KeyValuePair{{Name: wire.Ptr("ENVOY_UID"), Value: wire.Ptr("0")}},
			PortMappings: []wire.PortMapping{
				{ContainerPort: wire.Ptr(int32(10000)), Protocol: wire.Ptr(wire.TransportProtocolTcp)},
			},
			VolumesFrom: []wire.VolumeFrom{{SourceContainer: wire.Ptr("app"), ReadOnly: wire.Ptr(true)}},
		}},
	}
	tasks := make([]Task, n)
	for i := range tasks {
		id := fmt.Sprintf("%032x", 0xabcdef0000+i)
		task := &wire.Task{
			TaskArn:       wire.Ptr(arn("task/default/" + id)),
			ClusterArn:    wire.Ptr(arn("cluster/default")),
			DesiredStatus: wire.Ptr(DesiredStatusRunning),
			LaunchType:    wire.Ptr(wire.LaunchTypeEc2),
			Group:         wire.Ptr("family:web"),
			Cpu:           wire.Ptr("512"),
			Containers: []wire.Container{
				{Name: wire.Ptr("app"), ContainerArn: wire.Ptr(arn("container/default/" + id + "/app"))},
				{Name: wire.Ptr("proxy"), ContainerArn: wire.Ptr(arn("container/default/" + id + "/proxy"))},
			},
			Overrides: &wire.TaskOverride{ContainerOverrides: []wire.ContainerOverride{{
				Name:        wire.Ptr("app"),
				Command:     []string{"serve", "--port=8080", "--shard=" + strconv.Itoa(i)},
				Environment: []wire.KeyValuePair{{Name: wire.Ptr("SHARD"), Value: wire.Ptr(strconv.Itoa(i))}},
			}}},
		}
		tasks[i] = CompileTask(td, task)
	}
	b, err := Encode(&PayloadMessage{
		ClusterARN:           arn("cluster/default"),
		ContainerInstanceARN: arn("container-instance/default/0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
		Tasks:                tasks,
		GeneratedAt:          time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli(),
		MessageID:            "payload-17-42",
		SeqNum:               42,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// payloadFrame wraps a message as encode would.
func payloadFrame(msg string) string {
	return `{"type":"PayloadMessage","message":` + msg + `}`
}

// payloadCases are PayloadMessage frames, each with whether the fast path
// must take it (rather than give up).
func payloadCases(tb testing.TB) []struct {
	name  string
	frame string
	fast  bool
} {
	task := func(members string) string {
		return payloadFrame(`{"messageId":"m","tasks":[{"arn":"t",` + members + `}]}`)
	}
	ctr := func(members string) string { return task(`"containers":[{"name":"c",` + members + `}]`) }
	return []struct {
		name  string
		frame string
		fast  bool
	}{
		{"Realistic1", string(realisticPayload(tb, 1)), true},
		{"Realistic10", string(realisticPayload(tb, 10)), true},
		{"Empty", payloadFrame(`{}`), true},
		{"EmptyTasks", payloadFrame(`{"tasks":[]}`), true},
		{"EmptyTask", payloadFrame(`{"tasks":[{}]}`), true},
		{"Null", payloadFrame(`null`), false},
		{"WhiteSpace", payloadFrame(" \t\r\n{ \"messageId\" : \"m\" ,\n\"tasks\" : [ { \"arn\" : \"t\" , \"containers\" : [ ] } , { } ] , \"seqNum\" : 3 } \n"), true},
		{"AllTaskMembers", task(`"taskClusterArn":"c","desiredStatus":"STOPPED","family":"f","overrides":"{}","version":"3",` +
			`"zone":"z","taskDefinitionAccountId":"1","cpu":0.25,"memory":512,"pidMode":"host","ipcMode":"task",` +
			`"agentConfiguration":"x","launchType":"EC2","networkMode":"bridge","serviceName":"s","group":"g",` +
			`"enableFaultInjection":true,"roleCredentials":{"credentialsId":"id","roleArn":"r","accessKeyId":"AK",` +
			`"secretAccessKey":"SK","sessionToken":"ST","expiration":"2025-01-01T00:00:00Z","credentialScope":"s"},` +
			`"executionRoleCredentials":{"credentialsId":"id2"},"volumes":[{"name":"v","type":"docker",` +
			`"dockerVolumeConfiguration":{"scope":"task","autoprovision":true,"driver":"local","driverOpts":{"a":"b"},"labels":{}}},` +
			`{"name":"h","type":"host","host":{}}]`), true},
		{"AllContainerMembers", ctr(`"command":["a","b"],"cpu":10,"credentialSpecs":[],"entryPoint":["/e"],` +
			`"environment":{"A":"1","B":""},"essential":false,"image":"i","links":["l"],"memory":128,"overrides":"{\"command\":[\"x\"]}",` +
			`"portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"},{"containerPortRange":"1-2"}],` +
			`"mountPoints":[{"sourceVolume":"v","containerPath":"/v","readOnly":true}],"privileged":true,` +
			`"networkInterfaceNames":["eth0"],"volumesFrom":[{"sourceContainer":"o","readOnly":false}],` +
			`"dockerConfig":{"version":"1.17","config":"{}","hostConfig":"{\"Dns\":[\"1.1.1.1\"]}"},"healthCheckType":"docker",` +
			`"logsAuthStrategy":"ExecutionRole","dependsOn":[{"containerName":"o","condition":"START"}],` +
			`"startTimeout":5,"stopTimeout":30,"containerArn":"ca"`), true},
		{"Timeline", payloadFrame(`{"timeline":7}`), true},
		{"TimelineNull", payloadFrame(`{"timeline":null}`), false},
		{"PrivilegedFalse", ctr(`"privileged":false`), true},
		{"PrivilegedNull", ctr(`"privileged":null`), false},

		// Strings.
		{"Escapes", ctr(`"image":"a\"b\\c\/d\be\ff\ng\rh\ti","environment":{"K\n":"\u0041\u00e9\u20ac\ud83d\ude00"}`), true},
		{"HTMLEscapes", ctr(`"environment":{"Q":"a\u0026b\u003cc\u003e"}`), true},
		// Lone surrogates, invalid UTF-8 and escaped member names are left
		// to encoding/json (wire.Decoder does not repair or unescape them).
		{"LoneHighSurrogate", ctr(`"image":"x\ud800y"`), false},
		{"LoneLowSurrogate", ctr(`"image":"x\udc00y"`), false},
		{"HighThenNonLow", ctr(`"image":"\ud800\u0041"`), false},
		{"HighThenHigh", ctr(`"image":"\ud800\ud800\udc00"`), false},
		{"SurrogateAtEnd", ctr(`"image":"\ud83d"`), false},
		{"UpperHex", ctr(`"image":"\u00E9\uD83D\uDE00"`), true},
		{"Unicode", ctr(`"image":"日本語 ü 😀"`), true},
		{"InvalidUTF8", ctr("\"image\":\"a\xffb\xc3\""), false},
		{"InvalidUTF8AfterEscape", ctr("\"image\":\"\\n\xe2\x82\""), false},
		{"EncodedReplacementChar", ctr("\"image\":\"\xef\xbf\xbd\""), true},
		{"EscapedKey", task(`"f\u0061mily":"x"`), false},
		{"BadEscape", ctr(`"image":"\x"`), false},
		{"BadUnicodeEscape", ctr(`"image":"\u12G4"`), false},
		{"ControlChar", ctr("\"image\":\"a\tb\""), false},
		{"Unterminated", payloadFrame(`{"messageId":"m`), false},

		// Numbers.
		{"Numbers", task(`"cpu":1.5e-1,"memory":-0`), true},
		{"CPUInteger", task(`"cpu":2`), true},
		{"CPUExponent", task(`"cpu":25E-2`), true},
		{"CPUHuge", task(`"cpu":1e400`), false},
		{"CPUTiny", task(`"cpu":1e-400`), true},
		{"IntFraction", task(`"memory":1.5`), false},
		{"IntExponent", task(`"memory":1e3`), false},
		{"IntOverflow", task(`"memory":9223372036854775808`), false},
		{"IntMax", task(`"memory":9223372036854775807`), true},
		{"IntMin", task(`"memory":-9223372036854775808`), true},
		{"LeadingZero", task(`"memory":012`), false},
		{"LeadingPlus", task(`"memory":+1`), false},
		{"BareMinus", task(`"memory":-`), false},
		{"NumberAsString", task(`"memory":"512"`), false},

		// Structure.
		{"MissingFields", payloadFrame(`{"tasks":[{"containers":[{}]}]}`), true},
		{"UnknownTop", payloadFrame(`{"messageId":"m","extra":{"a":[1,2]}}`), false},
		{"UnknownTask", task(`"lastStatus":"RUNNING"`), false},
		{"UnknownContainer", ctr(`"secrets":[{"name":"s"}]`), false},
		{"MixedCase", task(`"Family":"f"`), false},
		{"MixedCaseTop", payloadFrame(`{"MessageID":"m"}`), false},
		{"DuplicateScalar", task(`"family":"a","family":"b"`), false},
		{"DuplicateTasks", payloadFrame(`{"tasks":[{"arn":"a","family":"f"},{"arn":"x"}],"tasks":[{"arn":"b"}]}`), false},
		{"DuplicateEnvKey", ctr(`"environment":{"K":"1","K":"2"}`), true},
		{"DuplicateEnvironment", ctr(`"environment":{"A":"1"},"environment":{"B":"2"}`), false},
		{"EnvNullValue", ctr(`"environment":{"K":null}`), true},
		{"EnvironmentNull", ctr(`"environment":null`), false},
		{"TasksNull", payloadFrame(`{"tasks":null}`), false},
		{"UnimplementedMember", ctr(`"linuxParameters":{"initProcessEnabled":true}`), false},
		{"TrailingComma", task(`"family":"f",`), false},
		{"TrailingMember", payloadFrame(`{"messageId":"m"},"x":1`), false},
		{"TrailingBytes", payloadFrame(`{"messageId":"m"} x`), false},
		{"NotAnObject", payloadFrame(`[1]`), false},
		{"StringMessage", payloadFrame(`"m"`), false},
		{"WrongKind", payloadFrame(`{"tasks":{}}`), false},
		{"BoolTypo", ctr(`"essential":tru`), false},
		{"BoolThenGarbage", ctr(`"essential":truex`), false},
		{"BracesInStrings", ctr(`"image":"}]{[\"\\"`), true},
		{"UnclosedTask", payloadFrame(`{"tasks":[{"arn":"t"`), false},
		{"MissingColon", task(`"family" "f"`), false},
		{"OtherType", `{"type":"HeartbeatMessage","message":{"messageId":"m"}}`, false},
		{"NotEncodeForm", `{"message":{"messageId":"m"},"type":"PayloadMessage"}`, false},
	}
}

func TestDecodePayload_MatchesJSON(t *testing.T) {
	for _, tc := range payloadCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.frame)
			checkDecodeMatchesJSON(t, b)
			_, msg, framed := splitFrame(b)
			_, fast := decodePayload(msg)
			fast = fast && framed && strings.HasPrefix(tc.frame, payloadFramePrefix)
			if fast != tc.fast {
				t.Errorf("fast path taken: %v, want %v", fast, tc.fast)
			}
		})
	}
}

// checkDecodeMatchesJSON fails unless Decode gives what encoding/json
// alone gives: the same value, and the same error.
func checkDecodeMatchesJSON(t *testing.T, b []byte) {
	t.Helper()
	got, gotErr := Decode(b)
	want, wantErr := acsCodec.decodeJSON(b)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("Decode(%q): error %v, encoding/json: %v", b, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q):\n got %#v\nwant %#v", b, got, want)
	}
}

func TestDecodePayload_Realistic(t *testing.T) {
	b := realisticPayload(t, 2)
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	p := m.(*PayloadMessage)
	if len(p.Tasks) != 2 || len(p.Tasks[0].Containers) != 2 || p.Tasks[0].CPU != 0.5 || p.SeqNum != 42 ||
		p.Tasks[0].Containers[0].Environment["SHARD"] != "0" || p.Tasks[1].Containers[0].Environment["SHARD"] != "1" ||
		p.Tasks[0].Containers[0].Environment["GREETING"] != "héllo, wörld <3" ||
		!strings.HasPrefix(p.Tasks[0].Containers[0].DockerConfig.Config, `{"Healthcheck":{`) {
		t.Fatalf("unexpected payload %+v", p)
	}
	// The decoded message does not share memory with the frame, which
	// the connection may reuse for the next one.
	for i := range b {
		b[i] = 'x'
	}
	fresh, _ := Decode(realisticPayload(t, 2))
	if !reflect.DeepEqual(p, fresh) {
		t.Fatalf("the decoded message changed with the frame's bytes:\n%+v", p)
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, tc := range payloadCases(f) {
		f.Add([]byte(tc.frame))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodeMatchesJSON(t, b)
		// The message alone, framed as encode frames it, so that the
		// fuzzer's mutations reach the fast path.
		if !strings.HasPrefix(string(b), "{\"type\"") {
			checkDecodeMatchesJSON(t, []byte(payloadFrame(string(b))))
		}
	})
}

func BenchmarkDecodePayload(b *testing.B) {
	frame := realisticPayload(b, 10)
	if _, ok := decodePayload(frame[len(payloadFramePrefix) : len(frame)-1]); !ok {
		b.Fatal("fast path gave up on the realistic payload")
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{
		{"json", acsCodec.decodeJSON},
		{"fast", Decode},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
