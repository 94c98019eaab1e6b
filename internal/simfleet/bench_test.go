package simfleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/server"
)

// benchServerEnv, set in the environment of the test binary, makes it a
// Berth server (on the data directory it names) instead of running tests:
// BenchmarkFleetTasks runs its server in such a child process, so that the
// benchmark's own CPU time and allocations are the fleet's alone.
const benchServerEnv = "BERTH_SIMFLEET_BENCH_SERVER"

// serveBench runs a server on 127.0.0.1:0 in dir, prints its URL on
// stdout, and returns when stdin closes or a signal arrives.
func serveBench(dir string) int {
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		return 1
	}
	fmt.Println("listening on", m.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	stdin := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		close(stdin)
	}()
	select {
	case <-sig:
	case <-stdin:
	}
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close server:", err)
		return 1
	}
	return 0
}

// startBenchServer starts the test binary as a server (see benchServerEnv)
// and returns its URL; the process is stopped at the end of the benchmark.
func startBenchServer(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"="+b.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			go func() { // drain the rest; ends when the child exits
				for sc.Scan() {
				}
			}()
			return url
		}
	}
	b.Fatal("the server process printed no URL")
	return ""
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFleetTasks measures what `berth sim` spends per task it starts:
// BERTH_BENCH_INSTANCES simulated instances (default 200) in this process,
// connected to a Berth server in a child process, are given
// BERTH_BENCH_TASKS tasks (default 5,000; one container, as in the scale
// benchmark) through RunTask (count 10, binpack on memory) until the
// cluster counts them all RUNNING. It reports this process's CPU time per
// task (the fleet's, plus the lean RunTask and DescribeClusters calls), heap
// allocations and bytes per task, and the goroutines and goroutine stack
// bytes each running task holds.
//
//	go test -run='^$' -bench=FleetTasks -benchtime=1x ./internal/simfleet/
func BenchmarkFleetTasks(b *testing.B) {
	instances := envInt("BERTH_BENCH_INSTANCES", 200)
	tasks := envInt("BERTH_BENCH_TASKS", 5000)
	for range b.N {
		benchFleetTasks(b, instances, tasks)
	}
}

// post calls an ECS operation unsigned (the server's default
// authentication accepts it) and returns the answer's body.
func post(c *http.Client, url, op string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %d %s", op, resp.StatusCode, out)
	}
	return out, err
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchFleetTasks(b *testing.B, instances, tasks int) {
	b.StopTimer()
	url := startBenchServer(b)
	client := ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("bench-task"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"),
			Cpu: 64, Memory: aws.Int32(512)}},
	}); err != nil {
		b.Fatal(err)
	}
	f, err := New(Config{Endpoint: url, Cluster: "bench", Instances: instances, DataDir: b.TempDir(),
		CPU: 4096, MemoryMiB: 16384})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-f.Ready():
	case err := <-done:
		done <- err
		b.Fatalf("Run ended before Ready: %v", err)
	case <-time.After(2 * time.Minute):
		b.Fatalf("not ready: %d of %d connected", f.Connected(), instances)
	}
	time.Sleep(500 * time.Millisecond) // let the first heartbeats and telemetry settle

	goruntime.GC()
	var m0, m1 goruntime.MemStats
	goruntime.ReadMemStats(&m0)
	g0 := goruntime.NumGoroutine()
	// BERTH_BENCH_CPUPROFILE=file profiles the measured phase alone.
	if file := os.Getenv("BERTH_BENCH_CPUPROFILE"); file != "" {
		out, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = out.Close()
		}()
	}
	cpu0, t0 := cpuTime(), time.Now()
	b.StartTimer()

	// The calls go out unsigned and their answers are not decoded: the
	// process's CPU and allocations are the fleet's, not the client's.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer hc.CloseIdleConnections()
	runTask := []byte(`{"cluster":"bench","taskDefinition":"bench-task","count":10,"placementStrategy":[{"type":"binpack","field":"memory"}]}`)
	calls := make(chan struct{}, tasks/10)
	for range tasks / 10 {
		calls <- struct{}{}
	}
	close(calls)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range calls {
				out, err := post(hc, url, "RunTask", runTask)
				if err != nil {
					b.Error(err)
					return
				}
				if bytes.Contains(out, []byte(`"failures":[{`)) {
					b.Errorf("RunTask failures: %s", out)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	want := tasks / 10 * 10
	for {
		out, err := post(hc, url, "DescribeClusters", []byte(`{"clusters":["bench"]}`))
		if err != nil {
			b.Fatal(err)
		}
		var d struct {
			Clusters []struct {
				Running int `json:"runningTasksCount"`
			} `json:"clusters"`
		}
		if err := json.Unmarshal(out, &d); err != nil || len(d.Clusters) != 1 {
			b.Fatalf("DescribeClusters: %v %s", err, out)
		}
		if d.Clusters[0].Running >= want {
			break
		}
		if time.Since(t0) > 10*time.Minute {
			b.Fatalf("%d of %d RUNNING after 10 minutes", d.Clusters[0].Running, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the last acknowledgements
	b.StopTimer()
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	goruntime.ReadMemStats(&m1)
	g1 := goruntime.NumGoroutine()

	n := float64(want)
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/task")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/task")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/n, "B/task")
	b.ReportMetric(float64(g1-g0)/n, "goroutines/task")
	b.ReportMetric(float64(int64(m1.StackInuse)-int64(m0.StackInuse))/n, "stack-B/task")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC), "gcs")
	b.Logf("%d tasks on %d instances RUNNING in %s; fleet CPU %s", want, instances, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
}
