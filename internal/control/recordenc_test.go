package control

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

func TestAppendTaskRecordMatchesMarshal(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC)
	full := &taskRecord{
		Task: wire.Task{
			TaskArn:              wire.Ptr("arn:aws:ecs:us-east-1:123456789012:task/c1/0123456789abcdef0123456789abcdef"),
			ClusterArn:           wire.Ptr("arn:aws:ecs:us-east-1:123456789012:cluster/c1"),
			LastStatus:           wire.Ptr("RUNNING"),
			DesiredStatus:        wire.Ptr("RUNNING"),
			CreatedAt:            wire.NewTime(now),
			StartedAt:            wire.NewTime(now.Add(time.Second)),
			Cpu:                  wire.Ptr("256"),
			Memory:               wire.Ptr("512"),
			Group:                wire.Ptr("family:web <&> ünïcode \u2028"),
			Version:              wire.Ptr(int64(3)),
			EnableExecuteCommand: wire.Ptr(false),
			Containers: []wire.Container{{
				Name: wire.Ptr("app"), LastStatus: wire.Ptr("RUNNING"), RuntimeId: wire.Ptr("sim-1"),
				ExitCode: wire.Ptr(int32(0)),
				NetworkBindings: []wire.NetworkBinding{{BindIP: wire.Ptr("0.0.0.0"), ContainerPort: wire.Ptr(int32(80)),
					HostPort: wire.Ptr(int32(32768)), Protocol: wire.Ptr(wire.TransportProtocol("tcp"))}},
			}},
			Overrides: &wire.TaskOverride{ContainerOverrides: []wire.ContainerOverride{{Name: wire.Ptr("app")}}},
			Tags:      []wire.Tag{{Key: wire.Ptr("k"), Value: wire.Ptr("\"quoted\"\n")}},
		},
		Cluster: "c1", ID: "0123456789abcdef0123456789abcdef",
		ReservedCPU: 256, ReservedMemory: 512,
		ReservedPorts: []string{"80", "443"}, ReservedPortsUDP: []string{"53"},
		Essential: []string{"app", "side<car>"},
	}
	cases := map[string]*taskRecord{
		"zero":        {},
		"ids only":    {Cluster: "c", ID: "i"},
		"full":        full,
		"no extras":   {Task: full.Task},
		"empty lists": {Cluster: "c", ID: "i", ReservedPorts: []string{}, Essential: []string{}},
		"negative":    {ReservedCPU: -1, ReservedMemory: -2},
	}
	for name, r := range cases {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := appendTaskRecord([]byte("prefix"), r)
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got[len("prefix"):], want)
		}
	}
}

func TestKeyTaskIsPrefixPlusID(t *testing.T) {
	if got, want := keyTask(testNS, "c1", "abc"), keyTaskPrefix(testNS, "c1")+"abc"; got != want {
		t.Fatalf("keyTask = %q, want %q", got, want)
	}
}

func TestDescribedTasksMatchesResponse(t *testing.T) {
	if a, k := string(appendKeyTask([]byte("x"), testNS, "c", "0123")), keyTask(testNS, "c", "0123"); a != "x"+k {
		t.Fatalf("appendKeyTask wrote %q, keyTask is %q", a, k)
	}
	f := newTaskFixture(t)
	f.connect(t, true)
	plain := f.run(t, "big", 1)
	tagged, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("web"),
		Tags: []wire.Tag{{Key: wire.Ptr("team"), Value: wire.Ptr("blue+green@x")}}})
	noErr(t, err)
	if len(plain.Tasks) != 1 || len(tagged.Tasks) != 1 {
		t.Fatalf("tasks not placed: %+v %+v", plain.Failures, tagged.Failures)
	}
	refs := []string{wire.Val(plain.Tasks[0].TaskArn), lastSegment(wire.Val(tagged.Tasks[0].TaskArn)),
		"0123456789abcdef0123456789abcdef", "arn:aws:ecs:us-east-1:123456789012:task/other/0123", "not a task"}
	for _, in := range []*wire.DescribeTasksRequest{
		{Cluster: wire.Ptr("tasks"), Tasks: refs},
		{Cluster: wire.Ptr("tasks"), Tasks: refs, Include: []wire.TaskField{wire.TaskFieldTags}},
		{Cluster: wire.Ptr("tasks"), Tasks: refs[:2]},
		{Cluster: wire.Ptr("tasks"), Tasks: refs[2:]},
		{Cluster: wire.Ptr("tasks")},
	} {
		want, err := f.c.DescribeTasks(testCtx(t), testNS, in)
		noErr(t, err)
		got, err := f.c.DescribeTasksAnswer(testCtx(t), testNS, in)
		noErr(t, err)
		if w, g := want.AppendJSON(nil), got.AppendJSON(nil); !bytes.Equal(w, g) {
			t.Errorf("%v:\n got %s\nwant %s", in.Tasks, g, w)
		}
	}
	d, err := f.c.DescribeTasksAnswer(testCtx(t), testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("tasks"), Tasks: refs[:2]})
	noErr(t, err)
	buf := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(100, func() { buf = d.AppendJSON(buf[:0]) }); n != 0 && !raceEnabled {
		t.Errorf("AppendJSON allocates %v times per call", n)
	}
}

func TestAppendInstanceRecordMatchesMarshal(t *testing.T) {
	f := newTaskFixture(t)
	f.connect(t, true)
	f.run(t, "web", 1)
	var stored instanceRecord
	noErr(t, f.c.store.View(testCtx(t), func(r store.Reader) error {
		kv, err := r.Get(keyInstance(testNS, "tasks", f.id))
		if err != nil {
			return err
		}
		return json.Unmarshal(kv.Value, &stored)
	}))
	dereg := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	cases := map[string]*instanceRecord{
		"zero":     {},
		"ids only": {Cluster: "c", ID: "i"},
		"stored":   &stored,
		"everything": {ContainerInstance: stored.ContainerInstance, Cluster: "c<&>", ID: "i",
			PlatformDevices: []wire.PlatformDevice{{Id: wire.Ptr("gpu-0"), Type: wire.Ptr(wire.PlatformDeviceType("GPU"))}},
			DeregisteredAt:  &dereg,
			Reserved:        usage{CPU: 256, Memory: -1, Ports: []string{"80"}, UDP: []string{"53", "54"}},
			Groups:          map[string]int{"service:web": 2, "family:<a>": 1, "": 0}},
		"empty lists":  {PlatformDevices: []wire.PlatformDevice{}, Reserved: usage{Ports: []string{}}, Groups: map[string]int{}},
		"reserved cpu": {Reserved: usage{CPU: 1}},
		"local time":   {DeregisteredAt: func() *time.Time { t := dereg.In(time.FixedZone("x", 3600)); return &t }()},
	}
	if stored.Reserved.CPU == 0 || len(stored.Groups) == 0 || len(stored.Attributes) == 0 {
		t.Fatalf("the stored instance should carry reservations, groups and attributes: %+v", stored)
	}
	for name, r := range cases {
		want, err := json.Marshal(r)
		noErr(t, err)
		if got := appendInstanceRecord(nil, r); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
