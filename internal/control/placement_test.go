package control

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// TestRunTask_ConcurrentPlacementNeverOvercommits: 40 concurrent RunTasks
// and 9 StartTasks
// (placed from the view, verified in the transaction) on three instances
// that take four tasks each by memory: exactly 12 are placed,
// the rest fail with RESOURCE:MEMORY, and no instance holds more than it
// registered.
func TestRunTask_ConcurrentPlacementNeverOvercommits(t *testing.T) {
	c := newTestControl(t)
	createCluster(t, c, "busy")
	register(t, c, "small", 64, 512, 0)
	var ids []string
	for i := range 3 {
		out, err := c.RegisterContainerInstance(testCtx(t), testNS, &wire.RegisterContainerInstanceRequest{
			Cluster: wire.Ptr("busy"),
			TotalResources: []wire.Resource{
				{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(4096))},
				{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
			},
			Attributes: append(capabilityAttributes(), wire.Attribute{Name: wire.Ptr("ecs.availability-zone"), Value: wire.Ptr("us-east-1" + string(rune('a'+i)))}),
		})
		noErr(t, err)
		ids = append(ids, lastSegment(wire.Val(out.ContainerInstance.ContainerInstanceArn)))
		noErr(t, c.SetAgentConnected(testCtx(t), testNS, "busy", ids[i], true))
	}
	var mu sync.Mutex
	placed, failed := 0, 0
	var wg sync.WaitGroup
	// StartTask places inside its transaction, without the in-flight
	// picture: it races RunTask's view-based plans, which must notice.
	for i := range 9 {
		wg.Go(func() {
			out, err := c.StartTask(testCtx(t), testNS, &wire.StartTaskRequest{Cluster: wire.Ptr("busy"), TaskDefinition: wire.Ptr("small"), ContainerInstances: []string{ids[i%3]}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			placed += len(out.Tasks)
		})
	}
	for range 40 {
		wg.Go(func() {
			out, err := c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("busy"), TaskDefinition: wire.Ptr("small"),
				PlacementStrategy: []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeBinpack), Field: wire.Ptr("memory")}}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			placed += len(out.Tasks)
			for _, f := range out.Failures {
				if r := wire.Val(f.Reason); r != "RESOURCE:MEMORY" {
					t.Errorf("failure reason %q", r)
				}
			}
			if len(out.Tasks) == 0 {
				failed++
			}
		})
	}
	wg.Wait()
	if placed != 12 || failed < 40-12 {
		t.Fatalf("placed %d, RunTasks failed %d; want 12 and at least 28", placed, failed)
	}
	c.view.scan(keyInstancePrefix(testNS, "busy"), "", false, func(_ string, obj any) bool {
		if r := obj.(*instanceRecord); r.Reserved.Memory != 2048 || r.Groups["family:small"] != 4 {
			t.Errorf("instance %s holds %d MiB, %v", r.ID, r.Reserved.Memory, r.Groups)
		}
		return true
	})
}

// BenchmarkRunTaskPlacement: RunTask (count 10, binpack on memory) on a
// cluster of 5,000 connected instances (4 vCPU / 16 GiB, 3 AZs), from 8
// goroutines, each call placed and durably committed (bolt, fsync). It
// reports tasks/s.
//
//	go test -run='^$' -bench=RunTaskPlacement -benchtime=2000x ./internal/control/
func BenchmarkRunTaskPlacement(b *testing.B) {
	c := newTestControl(b)
	createCluster(b, c, "big")
	register(b, c, "small", 64, 512, 0)
	const instances = 5000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range instances {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := c.RegisterContainerInstance(context.Background(), testNS, &wire.RegisterContainerInstanceRequest{
				Cluster: wire.Ptr("big"),
				TotalResources: []wire.Resource{
					{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(4096))},
					{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(16384))},
				},
				Attributes: append(capabilityAttributes(), wire.Attribute{Name: wire.Ptr("ecs.availability-zone"), Value: wire.Ptr("us-east-1" + string(rune('a'+i%3)))}),
			})
			if err != nil {
				b.Error(err)
				return
			}
			if err := c.SetAgentConnected(context.Background(), testNS, "big", lastSegment(wire.Val(out.ContainerInstance.ContainerInstanceArn)), true); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	in := &wire.RunTaskRequest{Cluster: wire.Ptr("big"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(10)),
		PlacementStrategy: []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeBinpack), Field: wire.Ptr("memory")}}}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				out, err := c.RunTask(context.Background(), testNS, in)
				if err != nil || len(out.Tasks) != 10 {
					b.Errorf("RunTask: %v %+v", err, out)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*10)/time.Since(start).Seconds(), "tasks/s")
}

// TestTakes: the check a view-made plan passes in the transaction.
func TestTakes(t *testing.T) {
	rec := &instanceRecord{}
	rec.Status = wire.Ptr("ACTIVE")
	rec.AgentConnected = wire.Ptr(true)
	rec.RegisteredResources = []wire.Resource{
		{Name: wire.Ptr("CPU"), IntegerValue: wire.Ptr(int32(1024))},
		{Name: wire.Ptr("MEMORY"), IntegerValue: wire.Ptr(int32(2048))},
		{Name: wire.Ptr("PORTS"), StringSetValue: []string{"22"}},
		{Name: wire.Ptr("PORTS_UDP"), StringSetValue: []string{"53"}},
	}
	rec.Reserved = usage{CPU: 512, Memory: 1024, Ports: []string{"8080"}, UDP: []string{"5000"}}
	for _, tc := range []struct {
		name string
		r    reservation
		want bool
	}{
		{"fits", reservation{cpu: 512, memory: 1024, ports: []string{"80"}, udp: []string{"54"}}, true},
		{"cpu", reservation{cpu: 513}, false},
		{"memory", reservation{memory: 1025}, false},
		{"agent port", reservation{ports: []string{"22"}}, false},
		{"task port", reservation{ports: []string{"8080"}}, false},
		{"agent udp", reservation{udp: []string{"53"}}, false},
		{"task udp", reservation{udp: []string{"5000"}}, false},
		{"tcp port free for udp", reservation{udp: []string{"8080"}}, true},
	} {
		if got := takes(rec, tc.r); got != tc.want {
			t.Errorf("%s: takes = %v, want %v", tc.name, got, tc.want)
		}
	}
	rec.AgentConnected = wire.Ptr(false)
	if takes(rec, reservation{}) {
		t.Error("an instance without its agent takes tasks")
	}
}
