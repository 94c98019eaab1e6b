package bench

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// BenchmarkReadsAB compares the DescribeTasks rate of server binaries on
// the same store, with less of the machine's noise than whole scale runs:
// each round starts each binary in turn on the store, warms it for 1 s,
// and measures 5 s of DescribeTasks of 10 random tasks from 32 keep-alive
// clients, logging req/s and the server's and the clients' CPU per
// request. No sim runs; the store is the one a scale run kept:
//
//	BERTH_SCALE_DATA=/tmp/scale go test -run='^$' -bench=Scale -benchtime=1x -timeout=30m ./internal/bench/
//	go build -o /tmp/a ./cmd/berth   # and /tmp/b from the other commit
//	BERTH_AB_DATA=/tmp/scale BERTH_AB_BINS=a=/tmp/a,b=/tmp/b go test -run='^$' -bench=ReadsAB -benchtime=1x ./internal/bench/
//
// BERTH_AB_ROUNDS sets the rounds (default 3); BERTH_AB_PROFILE=prefix
// writes each binary's CPU profile to prefix-label.
func BenchmarkReadsAB(b *testing.B) {
	dir := os.Getenv("BERTH_AB_DATA")
	if dir == "" {
		b.Skip("BERTH_AB_DATA names a store kept by BERTH_SCALE_DATA")
	}
	var bodies [][]byte
	for round := range envInt("BERTH_AB_ROUNDS", 3) {
		for _, v := range strings.Split(os.Getenv("BERTH_AB_BINS"), ",") {
			label, bin, ok := strings.Cut(v, "=")
			if !ok {
				b.Fatalf("BERTH_AB_BINS: %q is not label=path", v)
			}
			args := []string{"server", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}
			if p := os.Getenv("BERTH_AB_PROFILE"); p != "" {
				args = append(args, "--cpu-profile", p+"-"+label)
			}
			srv := startProc(b, bin, args...)
			url := srv.listenURL(b)
			hc := httpClient(32)
			if bodies == nil {
				bodies = describeBodies(listTaskARNs(b, hc, url))
			}
			describe := func(i int64) error {
				return post(hc, url, "DescribeTasks", bodies[i%int64(len(bodies))], nil)
			}
			readRate(32, time.Second, describe)
			c0 := [2]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
			r := readRate(32, 5*time.Second, describe)
			c1 := [2]float64{cpuSeconds(b, srv.cmd.Process.Pid), cpuSeconds(b, os.Getpid())}
			b.Logf("round %d %-8s %6.0f req/s  server %.2f cpu-s client %.2f cpu-s  (%.1f + %.1f us/req)", round, label, r, c1[0]-c0[0], c1[1]-c0[1],
				(c1[0]-c0[0])/(r*5)*1e6, (c1[1]-c0[1])/(r*5)*1e6)
			hc.CloseIdleConnections()
			srv.stop()
		}
	}
}

// listTaskARNs pages through ListTasks of the cluster "scale".
func listTaskARNs(b *testing.B, hc *http.Client, url string) []string {
	var arns []string
	tok := ""
	for {
		req := map[string]any{"cluster": "scale", "maxResults": 100}
		if tok != "" {
			req["nextToken"] = tok
		}
		body, _ := json.Marshal(req)
		var page struct {
			TaskArns  []string `json:"taskArns"`
			NextToken string   `json:"nextToken"`
		}
		if err := post(hc, url, "ListTasks", body, &page); err != nil {
			b.Fatal(err)
		}
		arns = append(arns, page.TaskArns...)
		if tok = page.NextToken; tok == "" {
			return arns
		}
	}
}
