package bench

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/simfleet"
)

// readFixture starts a server and 70 sim instances in this process and
// runs 2,000 tasks (32 fit on an instance); it returns the server URL and the task ARNs.
func readFixture(b *testing.B) (string, []string) {
	b.Helper()
	m := start(b)
	client := sdkClient(m.URL())
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("scale")}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("scale-task"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"),
			Cpu: 64, Memory: aws.Int32(512)}},
	}); err != nil {
		b.Fatal(err)
	}
	f, err := simfleet.New(simfleet.Config{Endpoint: m.URL(), Cluster: "scale", Instances: 70, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		b.Fatal("fleet not ready")
	}
	arns, _, _ := submitAndWait(b, client, 2000)
	return m.URL(), arns
}

// describeBodies returns 1,024 DescribeTasks requests of 10 tasks of the
// cluster "scale", drawn from arns by a fixed seed.
func describeBodies(arns []string) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, 1024)
	for i := range bodies {
		pick := make([]string, 10)
		for j := range pick {
			pick[j] = arns[rng.IntN(len(arns))]
		}
		bodies[i], _ = json.Marshal(map[string]any{"cluster": "scale", "tasks": pick})
	}
	return bodies
}

// BenchmarkDescribeTasks: DescribeTasks of 10 random RUNNING tasks (of
// 2,000 on 70 sim instances) from 8 keep-alive clients.
//
//	go test -run='^$' -bench=DescribeTasks -benchtime=5s ./internal/bench/
func BenchmarkDescribeTasks(b *testing.B) {
	url, arns := readFixture(b)
	bodies := describeBodies(arns)
	c := httpClient(8)
	if p := os.Getenv("BERTH_BENCH_PROFILE"); p != "" {
		f, _ := os.Create(p)
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	runConcurrent(b, 8, func(i int64) { call(b, c, url, "DescribeTasks", bodies[i%int64(len(bodies))]) })
}

// BenchmarkListTasks: ListTasks first pages of 100 (of 2,000 RUNNING
// tasks) from 8 keep-alive clients.
//
//	go test -run='^$' -bench=ListTasks -benchtime=5s ./internal/bench/
func BenchmarkListTasks(b *testing.B) {
	url, _ := readFixture(b)
	c := httpClient(8)
	body := []byte(`{"cluster":"scale","maxResults":100}`)
	runConcurrent(b, 8, func(int64) { call(b, c, url, "ListTasks", body) })
}
