package control

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// BenchmarkAppendTaskRecord encodes a RUNNING task record like the scale
// benchmark's (one container, ARNs of real length).
func BenchmarkAppendTaskRecord(b *testing.B) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC)
	arn := "arn:aws:ecs:us-east-1:123456789012:task/scale/019ab2c3d4e5f60123456789abcdef01"
	r := &taskRecord{
		Task: wire.Task{
			TaskArn: wire.Ptr(arn), ClusterArn: wire.Ptr("arn:aws:ecs:us-east-1:123456789012:cluster/scale"),
			TaskDefinitionArn:    wire.Ptr("arn:aws:ecs:us-east-1:123456789012:task-definition/bench:1"),
			ContainerInstanceArn: wire.Ptr("arn:aws:ecs:us-east-1:123456789012:container-instance/scale/0123456789abcdef0123456789abcdef"),
			LastStatus:           wire.Ptr("RUNNING"), DesiredStatus: wire.Ptr("RUNNING"), LaunchType: wire.Ptr(wire.LaunchType("EC2")),
			CreatedAt: wire.NewTime(now), StartedAt: wire.NewTime(now), PullStartedAt: wire.NewTime(now), PullStoppedAt: wire.NewTime(now),
			Cpu: wire.Ptr("64"), Memory: wire.Ptr("512"), Group: wire.Ptr("family:bench"), Version: wire.Ptr(int64(2)),
			AvailabilityZone: wire.Ptr("us-east-1a"), Connectivity: wire.Ptr(wire.Connectivity("CONNECTED")), ConnectivityAt: wire.NewTime(now),
			Attributes: []wire.Attribute{{Name: wire.Ptr("ecs.cpu-architecture"), Value: wire.Ptr("x86_64")}},
			Containers: []wire.Container{{
				ContainerArn: wire.Ptr("arn:aws:ecs:us-east-1:123456789012:container/scale/019ab2c3d4e5f60123456789abcdef01/5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c"),
				TaskArn:      wire.Ptr(arn), Name: wire.Ptr("app"), Image: wire.Ptr("busybox"), LastStatus: wire.Ptr("RUNNING"),
				RuntimeId: wire.Ptr("sim-0123456789abcdef0123456789abcdef"), Cpu: wire.Ptr("64"), Memory: wire.Ptr("512"),
				NetworkInterfaces: []wire.NetworkInterface{}, NetworkBindings: []wire.NetworkBinding{},
			}},
			Overrides: &wire.TaskOverride{ContainerOverrides: []wire.ContainerOverride{{Name: wire.Ptr("app")}}, InferenceAcceleratorOverrides: []wire.InferenceAcceleratorOverride{}},
		},
		Cluster: "scale", ID: "019ab2c3d4e5f60123456789abcdef01", ReservedCPU: 64, ReservedMemory: 512, Essential: []string{"app"},
	}
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = appendTaskRecord(buf[:0], r)
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}
