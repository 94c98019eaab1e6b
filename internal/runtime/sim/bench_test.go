package sim

import (
	"context"
	goruntime "runtime"
	"strconv"
	"testing"

	"github.com/berth-dev/berth/internal/runtime"
)

// benchSpecs returns n container specs shaped like the agent's: five ECS
// labels, a dynamic port, a few environment variables, a scripted run time
// (so every container sits in the schedule) and, for half, a health check.
func benchSpecs(n int) []runtime.ContainerSpec {
	specs := make([]runtime.ContainerSpec, n)
	hc := &runtime.HealthCheck{Test: []string{"CMD-SHELL", "curl -f http://localhost/"}}
	for i := range specs {
		task := "arn:aws:ecs:us-east-1:123456789012:task/bench/" + strconv.Itoa(i)
		specs[i] = runtime.ContainerSpec{
			Name:  "ecs-bench-1-web-" + strconv.Itoa(i),
			Image: "nginx:1.27",
			Env: []string{
				"PORT=80", "MODE=bench",
				"BERTH_SIM_RUN_SECONDS=" + strconv.Itoa(3600+i%600),
				"BERTH_SIM_EXIT_CODE=0",
			},
			Labels: map[string]string{
				runtime.LabelTaskARN:       task,
				runtime.LabelContainerName: "web",
				runtime.LabelCluster:       "bench",
				runtime.LabelTaskFamily:    "bench",
				runtime.LabelTaskRevision:  "1",
			},
			Ports: []runtime.PortBinding{{ContainerPort: 80, Protocol: "tcp"}},
		}
		if i%2 == 0 {
			specs[i].HealthCheck = hc
		}
	}
	return specs
}

// build creates and starts one container per spec in a new Runtime with
// instantaneous steps.
func build(tb testing.TB, specs []runtime.ContainerSpec) *Runtime {
	r, err := New(Options{Timings: &Timings{}, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range specs {
		id, err := r.Create(ctx, s)
		if err != nil {
			tb.Fatal(err)
		}
		if err := r.Start(ctx, id); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// retained measures the heap and goroutines one build keeps alive, per
// container.
func retained(tb testing.TB, specs []runtime.ContainerSpec) (bytes, goroutines float64) {
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.GC() // a stopped timer can keep a closed Runtime for one cycle
	goruntime.ReadMemStats(&before)
	g0 := goruntime.NumGoroutine()
	r := build(tb, specs)
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	n := float64(len(specs))
	bytes = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	goroutines = float64(goruntime.NumGoroutine()-g0) / n
	r.Close()
	return bytes, goroutines
}

// BenchmarkRuntime_CreateStart10k creates and starts 10,000 containers in
// one Runtime per iteration, with instantaneous steps. Besides ns/op (per
// 10,000) it reports ns/container, the heap a Runtime retains per running
// container, and the goroutines per container (zero: one timer drives the
// whole Runtime).
func BenchmarkRuntime_CreateStart10k(b *testing.B) {
	const n = 10_000
	specs := benchSpecs(n)
	bytes, goroutines := retained(b, specs)
	for b.Loop() {
		build(b, specs).Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/container")
	b.ReportMetric(bytes, "bytes/container")
	b.ReportMetric(goroutines, "goroutines/container")
}
