package service

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecide measures one pass over a 1,000-task service on 200
// instances: steady, and the first pass of a rolling update at 50/200
// (which picks 500 victims among 1,000 old tasks).
func BenchmarkDecide(b *testing.B) {
	var insts []Instance
	for i := range 200 {
		insts = append(insts, Instance{ID: fmt.Sprintf("i-%03d", i), Status: StatusActive, AvailabilityZone: fmt.Sprint("az-", i%3)})
	}
	tasks := running("t", depA, 1000)
	for i := range tasks {
		tasks[i].ID = fmt.Sprintf("t-%04d", i)
		tasks[i].InstanceID = insts[i%200].ID
	}
	for _, bc := range []struct {
		name string
		deps []Deployment
		want int
	}{
		{"steady", []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}, 0},
		{"rolling-50-200", []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)}, 500},
	} {
		s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(1000, 50, 200), Tasks: tasks, Instances: insts, Deployments: bc.deps}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := Decide(s); len(d.Stop) != bc.want {
					b.Fatalf("stops %d, want %d", len(d.Stop), bc.want)
				}
			}
		})
	}
}
