package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// BenchmarkScale is issue 4's scale benchmark. It builds the berth binary
// and starts, as separate processes, one `berth server` (bolt, durable
// commits) and one `berth sim` with BERTH_SCALE_INSTANCES instances
// (default 5,000; 4 vCPU / 16 GiB each over 3 availability zones). Then:
//
//  1. BERTH_SCALE_TASKS tasks (default 100,000) are submitted through
//     RunTask (count 10, binpack on memory) by 16 concurrent SDK clients;
//     it reports the RunTask throughput (tasks placed and durably
//     committed per second of the submission phase) and the time from the
//     first call until the cluster counts every task RUNNING;
//  2. DescribeTasks of 10 random tasks, and ListTasks pages of 100, from 32
//     keep-alive clients for 5 s each (req/s). DescribeTasks runs twice:
//     through net/http's client (describetasks-nethttp-req/s), then
//     through rawConn, a lean load generator whose CPU per request is half
//     of net/http's (describetasks-req/s);
//  3. the server's RSS per instance (connected, before any task, above
//     the server with no instance) and per task (with every task RUNNING,
//     above the server with its instances and no task);
//  4. the server is stopped (SIGTERM) and started again on the same data
//     directory: the time from starting the process to its first answered
//     DescribeClusters.
//
// Run it (about two minutes):
//
//	go test -run='^$' -bench=Scale -benchtime=1x -timeout=30m ./internal/bench/
func BenchmarkScale(b *testing.B) {
	instances := envInt("BERTH_SCALE_INSTANCES", 5000)
	total := envInt("BERTH_SCALE_TASKS", 100_000)
	for range b.N {
		runScale(b, instances, total)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// proc is a child process whose stdout lines are scanned for a marker.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func startProc(b *testing.B, bin string, args ...string) *proc {
	b.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 64), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	b.Cleanup(func() { p.stop() })
	return p
}

// waitLine returns the first line containing marker.
func (p *proc) waitLine(b *testing.B, marker string, timeout time.Duration) string {
	b.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				b.Fatalf("%s exited before printing %q", p.cmd.Path, marker)
			}
			if strings.Contains(l, marker) {
				return l
			}
		case <-deadline:
			b.Fatalf("%s: no %q after %s", p.cmd.Path, marker, timeout)
		}
	}
}

// listenURL waits for a server's "listening on URL" line and returns URL.
func (p *proc) listenURL(b *testing.B) string {
	const marker = "listening on "
	line := p.waitLine(b, marker, 30*time.Second)
	return strings.TrimSpace(line[strings.Index(line, marker)+len(marker):])
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (p *proc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.done <- nil // later stops return at once
}

// statusKB reads the named fields (in KiB) of a process's
// /proc/<pid>/status; fields it lacks are absent from the map.
func statusKB(pid int, names ...string) map[string]int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	out := map[string]int64{}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && slices.Contains(names, strings.TrimSuffix(f[0], ":")) {
			out[strings.TrimSuffix(f[0], ":")], _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return out
}

// rssBytes reads a process's resident set size.
func rssBytes(b *testing.B, pid int) int64 {
	b.Helper()
	kb, ok := statusKB(pid, "VmRSS")["VmRSS"]
	if !ok {
		b.Fatalf("no VmRSS for process %d", pid)
	}
	return kb * 1024
}

// rssParts is a process's resident set by kind (RssAnon: heap and
// stacks; RssFile: mapped files, here bbolt's mapping), for the log.
func rssParts(pid int) string {
	kb := statusKB(pid, "RssAnon", "RssFile")
	return fmt.Sprintf("RssAnon %d MiB, RssFile %d MiB", kb["RssAnon"]>>10, kb["RssFile"]>>10)
}

// cpuSeconds reads a process's user and system CPU time.
func cpuSeconds(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which ends with ')'): utime is the
	// 12th and stime the 13th of them, in clock ticks (100 per second).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

// writtenBytes returns how many bytes a process has passed to write
// calls (wchar in /proc/PID/io), or -1 when the kernel does not say.
func writtenBytes(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func buildBerth(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "berth")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/berth")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("go build: %v", err)
	}
	return bin
}

func runScale(b *testing.B, instances, total int) {
	b.StopTimer()
	bin := buildBerth(b)
	// BERTH_SCALE_DATA=dir keeps the server's store there (for bbolt's
	// own tools) instead of in a temporary directory.
	dataDir := os.Getenv("BERTH_SCALE_DATA")
	if dataDir == "" {
		dataDir = b.TempDir()
	}
	// BERTH_SCALE_PROFILE=dir writes the server's and the sim's CPU
	// profiles there (server.prof, sim.prof; heap-server.prof, heap-sim.prof).
	prof := os.Getenv("BERTH_SCALE_PROFILE")
	profArgs := func(name string) []string {
		if prof == "" {
			return nil
		}
		return []string{"--cpu-profile", filepath.Join(prof, name), "--mem-profile", filepath.Join(prof, "heap-"+name)}
	}
	srv := startProc(b, bin, append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, profArgs("server.prof")...)...)
	url := srv.listenURL(b)
	addr := strings.TrimPrefix(url, "http://")

	client := sdkClient(url)
	ctx := context.Background()
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
	time.Sleep(time.Second)
	emptyRSS := rssBytes(b, srv.cmd.Process.Pid)

	t0 := time.Now()
	sim := startProc(b, bin, append([]string{"sim", "--endpoint", url, "--cluster", "scale", "--instances", strconv.Itoa(instances),
		"--cpu", "4096", "--memory", "16384", "--zones", "us-east-1a,us-east-1b,us-east-1c", "--data-dir", filepath.Join(b.TempDir(), "sim"),
		"--log-level", "warn"}, profArgs("sim.prof")...)...)
	sim.waitLine(b, "instances registered", 10*time.Minute)
	b.Logf("%d instances registered and connected in %s", instances, time.Since(t0).Round(time.Millisecond))
	// The per-task memory is measured against the server with its
	// instances connected and no task: the most it holds over 5 s, as
	// the memory after the reads is measured with the heap at its busiest
	// too. Right after the registrations the heap has not yet grown to
	// where the sessions' heartbeats keep it (a single sample 2 s after
	// them read anywhere from 369 to 450 MiB).
	idleRSS, idleMin := int64(0), int64(math.MaxInt64)
	for t := time.Now(); time.Since(t) < 5*time.Second; time.Sleep(100 * time.Millisecond) {
		r := rssBytes(b, srv.cmd.Process.Pid)
		idleRSS, idleMin = max(idleRSS, r), min(idleMin, r)
	}
	b.Logf("server RSS with the instances connected and no task: %d–%d MiB over 5 s", idleMin>>20, idleRSS>>20)
	if prof != "" {
		_ = srv.cmd.Process.Signal(syscall.SIGUSR1) // heap-server.prof.usr1-1: no task
		time.Sleep(2 * time.Second)
	}
	b.ReportMetric(float64(idleRSS-emptyRSS)/float64(instances), "rss-bytes/instance")

	// 1. RunTask and RUNNING.
	cpu0 := [3]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, sim.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
	wrote0 := writtenBytes(srv.cmd.Process.Pid)
	segment := func() { // server.prof.usr2-1, sim.prof.usr2-1: this phase alone
		if prof != "" {
			_ = srv.cmd.Process.Signal(syscall.SIGUSR2)
			_ = sim.cmd.Process.Signal(syscall.SIGUSR2)
		}
	}
	segment()
	b.StartTimer()
	arns, runTaskRate, allRunning := submitAndWait(b, client, total, srv.cmd.Process.Pid, sim.cmd.Process.Pid)
	b.StopTimer()
	segment()
	cpu1 := [3]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, sim.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
	b.Logf("CPU seconds while tasks were submitted and started (%.1f s): server %.1f, sim %.1f, clients %.1f",
		allRunning.Seconds(), cpu1[0]-cpu0[0], cpu1[1]-cpu0[1], cpu1[2]-cpu0[2])
	b.Logf("the server wrote %d MiB (to its store file and its sockets)", (writtenBytes(srv.cmd.Process.Pid)-wrote0)>>20)
	b.ReportMetric(runTaskRate, "runtask-tasks/s")
	b.ReportMetric(allRunning.Seconds(), "s-to-all-running")

	// 2. Reads, from 32 keep-alive clients: with fewer, the round trips
	// between the processes, not the server, bound the rate.
	readers := envInt("BERTH_SCALE_READERS", 32)
	hc := httpClient(readers)
	bodies := describeBodies(arns)
	b.Logf("server RSS with every task RUNNING, before the reads: %d MiB (%s)", rssBytes(b, srv.cmd.Process.Pid)>>20, rssParts(srv.cmd.Process.Pid))
	cpu2 := [3]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, sim.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
	// DescribeTasks twice: through net/http's client (logged), then
	// through rawConn, whose clients take half the CPU per request and so
	// leave the server more of the machine (the figure reported). Every
	// answer of the second must describe all 10 tasks and no failure.
	viaNetHTTP := readRate(readers, 5*time.Second, func(i int64) error {
		return post(hc, url, "DescribeTasks", bodies[i%int64(len(bodies))], nil)
	})
	b.ReportMetric(viaNetHTTP, "describetasks-nethttp-req/s")
	conns := make(chan *rawConn, readers)
	for range readers {
		c, err := dialRaw(addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.close()
		conns <- c
	}
	describe := readRate(readers, 5*time.Second, func(i int64) error {
		c := <-conns
		defer func() { conns <- c }()
		ans, err := c.post("DescribeTasks", bodies[i%int64(len(bodies))])
		// 20 task ARNs: each task's, and its one container's.
		if err == nil && (!bytes.HasPrefix(ans, []byte(`{"failures":[],"tasks":[{`)) || bytes.Count(ans, []byte(`"taskArn":`)) != 10+10) {
			err = fmt.Errorf("DescribeTasks answer: %.200s", ans)
		}
		return err
	})
	b.ReportMetric(describe, "describetasks-req/s")
	var tokens sync.Map // client → next token
	list := readRate(readers, 5*time.Second, func(i int64) error {
		g := i % int64(readers)
		tok, _ := tokens.Load(g)
		req := map[string]any{"cluster": "scale", "maxResults": 100}
		if s, _ := tok.(string); s != "" {
			req["nextToken"] = s
		}
		body, _ := json.Marshal(req)
		// The client stays lean (it shares the 2 cores with the server):
		// the page is counted and its token cut out, not decoded.
		var page []byte
		if err := post(hc, url, "ListTasks", body, &page); err != nil {
			return err
		}
		next := ""
		if i := bytes.Index(page, []byte(`"nextToken":"`)); i >= 0 {
			rest := page[i+len(`"nextToken":"`):]
			next = string(rest[:bytes.IndexByte(rest, '"')])
		}
		if n := bytes.Count(page, []byte(`"arn:aws:ecs:`)); n != 100 && next != "" {
			return fmt.Errorf("ListTasks page of %d", n)
		}
		tokens.Store(g, next)
		return nil
	})
	b.ReportMetric(list, "listtasks-req/s")
	cpu3 := [3]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, sim.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
	b.Logf("CPU seconds during the 10 s of reads: server %.1f, sim %.1f, clients %.1f", cpu3[0]-cpu2[0], cpu3[1]-cpu2[1], cpu3[2]-cpu2[2])

	// 3. Memory.
	rss := rssBytes(b, srv.cmd.Process.Pid)
	b.Logf("server RSS %d MiB (%s), %d MiB with no task; sim RSS %d MiB", rss>>20, rssParts(srv.cmd.Process.Pid), idleRSS>>20, rssBytes(b, sim.cmd.Process.Pid)>>20)
	b.ReportMetric(float64(rss-idleRSS)/float64(total), "rss-bytes/task")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	// The same at rest: what the process keeps once the load has stopped
	// and the runtime has returned its free memory (for the log only).
	time.Sleep(15 * time.Second)
	rest := rssBytes(b, srv.cmd.Process.Pid)
	if os.Getenv("BERTH_SCALE_PROFILE") != "" {
		// heap-server.prof.usr1-2: the live heap with every task RUNNING
		// and every session open.
		_ = srv.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(2 * time.Second)
	}
	b.Logf("at rest 15 s later: server RSS %d MiB (%s), %.0f B/task above the server with no task", rest>>20, rssParts(srv.cmd.Process.Pid), float64(rest-idleRSS)/float64(total))

	// 4. Restart.
	srv.stop() // first: its heap profile (--mem-profile) then shows the sessions too
	sim.stop()
	start := time.Now()
	srv2 := startProc(b, bin, "server", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	srv2.waitLine(b, "listening on ", time.Minute)
	for {
		if err := post(hc, url, "DescribeClusters", []byte(`{"clusters":["scale"]}`), nil); err == nil {
			break
		}
		if time.Since(start) > time.Minute {
			b.Fatal("server not serving a minute after restart")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-restart")
	var n struct {
		Clusters []struct {
			Running int `json:"runningTasksCount"`
		} `json:"clusters"`
	}
	if err := post(hc, url, "DescribeClusters", []byte(`{"clusters":["scale"]}`), &n); err != nil || len(n.Clusters) != 1 {
		b.Fatalf("after restart: %v %+v", err, n)
	}
	b.Logf("after restart the cluster counts %d running tasks", n.Clusters[0].Running)
}

// submitAndWait runs total tasks through RunTask (count 10, binpack on
// memory) from 16 clients and waits until the cluster counts them all
// RUNNING. It returns the task ARNs, the RunTask rate (tasks/s over the
// submission phase) and the time from the first call to all RUNNING.
func submitAndWait(b *testing.B, client *ecs.Client, total int, pids ...int) ([]string, float64, time.Duration) {
	conc := envInt("BERTH_SCALE_CLIENTS", 16)
	var mu sync.Mutex
	arns := make([]string, 0, total)
	calls := make(chan struct{}, total/10)
	for range total / 10 {
		calls <- struct{}{}
	}
	close(calls)
	start := time.Now()
	var wg sync.WaitGroup
	var failed, placed atomic.Int64
	// Progress every 5 s (from the first call): how far placement and the
	// agents have got.
	every := time.Duration(envInt("BERTH_SCALE_PROGRESS_MS", 5000)) * time.Millisecond
	// cpu tells the CPU seconds the server and the sim (pids) used since
	// the last progress line.
	last := make([]float64, len(pids))
	for i, pid := range pids {
		last[i] = cpuSeconds(b, pid)
	}
	progress := func(at time.Duration, running int32) {
		cpu := ""
		for i, pid := range pids {
			c := cpuSeconds(b, pid)
			cpu += fmt.Sprintf(" %.1f", c-last[i])
			last[i] = c
		}
		if cpu != "" {
			cpu = ", CPU-s (server, sim)" + cpu
		}
		b.Logf("at %4.1f s: %6d placed, %6d RUNNING%s", at.Seconds(), placed.Load(), running, cpu)
	}
	next := every
	watchDone := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			select {
			case <-watchDone:
				return
			case <-time.After(time.Until(start.Add(next))):
			}
			at := next
			next += every
			if d, err := client.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"scale"}}); err == nil {
				progress(at, d.Clusters[0].RunningTasksCount)
			}
		}
	})
	for range conc {
		wg.Go(func() {
			for range calls {
				out, err := client.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String("scale"), TaskDefinition: aws.String("scale-task"),
					Count:             aws.Int32(10),
					PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}})
				if err != nil {
					b.Error(err)
					return
				}
				failed.Add(int64(len(out.Failures)))
				placed.Add(int64(len(out.Tasks)))
				mu.Lock()
				for _, t := range out.Tasks {
					arns = append(arns, aws.ToString(t.TaskArn))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	submitted := time.Since(start)
	close(watchDone)
	watch.Wait()
	if failed.Load() > 0 || len(arns) != total {
		b.Fatalf("placed %d of %d tasks (%d failures)", len(arns), total, failed.Load())
	}
	b.Logf("%d tasks placed and committed in %s", total, submitted.Round(time.Millisecond))
	for {
		d, err := client.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"scale"}})
		if err != nil {
			b.Fatal(err)
		}
		if d.Clusters[0].RunningTasksCount >= int32(total) {
			break
		}
		if el := time.Since(start); el >= next {
			progress(el, d.Clusters[0].RunningTasksCount)
			next += every
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("%d of %d RUNNING after 10 minutes", d.Clusters[0].RunningTasksCount, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return arns, float64(total) / submitted.Seconds(), time.Since(start)
}

// readRate runs fn from conc goroutines for d and returns calls per second.
func readRate(conc int, d time.Duration, fn func(i int64) error) float64 {
	var n atomic.Int64
	var errs atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				i := n.Add(1)
				if fn(i) != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if errs.Load() > 0 {
		return 0 // a failing read does not count as throughput
	}
	return float64(n.Load()) / d.Seconds()
}

// post sends one ECS JSON request. out, when not nil, receives the
// answer: a *[]byte gets its bytes, anything else is decoded into.
func post(c *http.Client, url, op string, body []byte, out any) error {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target+op)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, data)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	return json.Unmarshal(data, out)
}
