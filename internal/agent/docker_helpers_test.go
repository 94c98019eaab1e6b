package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker"
)

// requireDockerEnv names the variable that turns a missing or unreachable
// Docker from a skip into a failure; CI sets it to 1.
const requireDockerEnv = "BERTH_REQUIRE_DOCKER"

// probeSource is the test program of the docker runtime's tests; the
// agent's tests run the same image (its tag is the binary's hash, so both
// packages share one import per daemon).
const probeSource = "../runtime/docker/testdata/probe"

const probeRepo = "berth-test/probe"

// probeImage builds the probe and imports it as an image holding only
// /probe (its entrypoint), once per test binary.
var probeImage = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "berth-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, probeSource)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goruntime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build probe: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	ref := probeRepo + ":" + hex.EncodeToString(sum[:6])

	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return "", err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "probe", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return "", err
	}
	if _, err := tw.Write(data); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref,
		image.ImportOptions{Changes: []string{`ENTRYPOINT ["/probe"]`}})
	if err != nil {
		return "", fmt.Errorf("import probe image: %w", err)
	}
	out, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("import probe image: %w", err)
	}
	if bytes.Contains(out, []byte(`"error"`)) {
		return "", fmt.Errorf("import probe image: %s", out)
	}
	return ref, nil
})

// newDocker returns the Docker runtime and the probe image, or skips the
// test when Docker is not usable (fails it with BERTH_REQUIRE_DOCKER=1).
func newDocker(t *testing.T) (*docker.Runtime, string) {
	t.Helper()
	rt, err := docker.New()
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = rt.Ping(ctx)
		cancel()
		if err != nil {
			rt.Close()
		}
	}
	if err != nil {
		if os.Getenv(requireDockerEnv) == "1" {
			t.Fatalf("docker is required (%s=1) but not usable: %v", requireDockerEnv, err)
		}
		t.Skipf("docker is not usable (%v); start dockerd (see .ci/docker.sh), or set %s=1 to make this a failure", err, requireDockerEnv)
	}
	t.Cleanup(func() { rt.Close() })
	ref, err := probeImage()
	if err != nil {
		t.Fatalf("probe image: %v", err)
	}
	return rt, ref
}

// removeClusterContainers removes, when the test ends, every container the
// agent created for the cluster.
func removeClusterContainers(t *testing.T, rt runtime.Runtime, cluster string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := rt.List(ctx, map[string]string{runtime.LabelCluster: cluster})
		if err != nil {
			t.Errorf("list the test's containers: %v", err)
			return
		}
		for _, c := range list {
			if err := rt.Remove(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("remove %s: %v", c.ID, err)
			}
		}
	})
}

// waitLogs polls a container's logs until they contain want.
func waitLogs(t *testing.T, rt runtime.Runtime, id, want string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		b, err := rt.Logs(t.Context(), id, 0)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), want) {
			return fmt.Errorf("logs %q do not contain %q", b, want)
		}
		return nil
	})
}
