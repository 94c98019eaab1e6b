package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBerth builds the binary once per test.
func buildBerth(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "berth")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBerth runs `berth server` and returns the process and its base URL
// (read from the "listening on http://HOST:PORT" line).
func startBerth(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "listening on ") {
				lines <- strings.TrimPrefix(sc.Text(), "listening on ")
			}
		}
	}()
	select {
	case url := <-lines:
		if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
			t.Fatalf("listening line names %q", url)
		}
		return cmd, url
	case <-time.After(20 * time.Second):
		t.Fatal("no 'listening on' line")
	}
	return nil, ""
}

func post(t *testing.T, url, op, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServer_SignalShutdownKeepsData starts the real binary on port 0,
// writes, stops it with SIGTERM (it must exit 0), starts it again on the
// same data directory, and reads the writes back. SIGINT is the same path.
func TestServer_SignalShutdownKeepsData(t *testing.T) {
	bin := buildBerth(t)
	dir := t.TempDir()
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd, url := startBerth(t, bin, "--listen", "127.0.0.1:0", "--data-dir", dir)
		name := []string{"first", "second"}[i]
		if code, body := post(t, url, "CreateCluster", `{"clusterName":"`+name+`"}`); code != 200 {
			t.Fatalf("CreateCluster: %d %s", code, body)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after %v: %v", sig, err)
			}
		case <-ctx.Done():
			t.Fatalf("no exit after %v", sig)
		}
		cancel()
	}
	_, url := startBerth(t, bin, "--listen", "127.0.0.1:0", "--data-dir", dir)
	code, body := post(t, url, "DescribeClusters", `{"clusters":["first","second"]}`)
	if code != 200 || strings.Count(body, `"status":"ACTIVE"`) != 2 {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

// TestRun_Usage covers the role dispatch and flag errors.
func TestRun_Usage(t *testing.T) {
	var out, errOut strings.Builder
	if err := run(nil, &out, &errOut); err == nil {
		t.Fatal("no role: want an error")
	}
	if err := run([]string{"bogus"}, &out, &errOut); err == nil {
		t.Fatal("unknown role: want an error")
	}
	if err := run([]string{"server", "--no-such-flag"}, &out, &errOut); err == nil {
		t.Fatal("unknown flag: want an error")
	}
	if err := run([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--default-account", "12"}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "12 digits") {
		t.Fatalf("bad account: %v", err)
	}
	if err := run([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--auth", "sigv4"}, &out, &errOut); err == nil {
		t.Fatal("sigv4 without credentials: want an error")
	}
	if err := run([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--fargate-runtime", "podman"}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "unknown runtime") {
		t.Fatalf("bad Fargate runtime: %v", err)
	}
}
