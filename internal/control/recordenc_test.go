package control

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

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
