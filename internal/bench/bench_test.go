// Package bench holds the API benchmarks: the real server (bolt store,
// durable commits) on 127.0.0.1:0, driven through the full HTTP stack by
// keep-alive clients sending ECS JSON 1.1 requests.
//
// Run (one command; figures in BENCHMARKS.md):
//
//	go test -run='^$' -bench=. -benchtime=5s ./internal/bench/
//
// Each benchmark reports req/s. The clients run in the same process as the
// server, so on a 2-core machine they share the CPU with it: the figures are
// lower bounds for a server with its own cores.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/server"
)

const target = "AmazonEC2ContainerServiceV20141113."

func start(b *testing.B) *server.Main {
	b.Helper()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// sdkClient is an ECS client of the server at url: static dummy
// credentials (the server runs with --auth none) and no retries, so a
// failed call shows in the figures.
func sdkClient(url string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		Retryer:     aws.NopRetryer{},
		HTTPClient:  httpClient(32),
	})
}

// httpClient is a keep-alive client with enough idle connections for conc.
func httpClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     time.Minute,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

// call sends one request and fails the benchmark on a non-200 answer.
func call(b *testing.B, c *http.Client, url, op string, body []byte) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target+op)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: status %d", op, resp.StatusCode)
	}
}

// runConcurrent runs fn from exactly conc goroutines for b.N calls in all
// and reports requests per second.
func runConcurrent(b *testing.B, conc int, fn func(i int64)) {
	b.Helper()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{}, conc)
	for g := 0; g < conc; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				fn(i)
			}
		}()
	}
	for g := 0; g < conc; g++ {
		<-done
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// BenchmarkDescribeClusters: DescribeClusters of one cluster (with the
// default counts) from 8 concurrent keep-alive clients.
func BenchmarkDescribeClusters(b *testing.B) {
	m := start(b)
	c := httpClient(8)
	url := m.URL() + "/"
	for i := 0; i < 10; i++ {
		call(b, c, url, "CreateCluster", fmt.Appendf(nil, `{"clusterName":"bench-%d","tags":[{"key":"team","value":"bench"}]}`, i))
	}
	body := []byte(`{"clusters":["bench-3"]}`)
	runConcurrent(b, 8, func(int64) { call(b, c, url, "DescribeClusters", body) })
}

// BenchmarkRegisterTaskDefinition: durable RegisterTaskDefinition (each
// call a new revision, fsynced before the answer) from 32 concurrent
// keep-alive clients, spread over 32 families.
func BenchmarkRegisterTaskDefinition(b *testing.B) {
	m := start(b)
	c := httpClient(32)
	url := m.URL() + "/"
	bodies := make([][]byte, 32)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"family":"bench-%d","containerDefinitions":[{"name":"web","image":"nginx:1.27","memory":256,"cpu":128,"essential":true,"portMappings":[{"containerPort":80,"protocol":"tcp"}],"environment":[{"name":"MODE","value":"bench"}]}]}`, i)
	}
	runConcurrent(b, 32, func(i int64) { call(b, c, url, "RegisterTaskDefinition", bodies[i%32]) })
}
