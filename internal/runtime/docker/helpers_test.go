package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
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

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

// requireDockerEnv names the variable that turns a missing or unreachable
// Docker from a skip into a failure; CI sets it to 1.
const requireDockerEnv = "BERTH_REQUIRE_DOCKER"

// probeRepo is the repository of the test image. Its tag is the probe
// binary's hash, so a changed probe gets a new image and an unchanged one
// is imported once per daemon; "latest" follows the newest build.
const probeRepo = "berth-test/probe"

// testLabel marks every container the tests create, for a manual clean-up
// after a crashed run: docker rm -f $(docker ps -aq -f label=berth.test).
const testLabel = "berth.test"

// probeImage builds testdata/probe and imports it as an image holding only
// /probe (its entrypoint), once per test binary.
var probeImage = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "berth-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/probe")
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

	rt, err := New()
	if err != nil {
		return "", err
	}
	defer rt.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := rt.cli.ImageInspect(ctx, ref); err == nil {
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
	rc, err := rt.cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref,
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
	if err := rt.cli.ImageTag(ctx, ref, probeRepo+":latest"); err != nil {
		return "", fmt.Errorf("tag probe image: %w", err)
	}
	return ref, nil
})

// dockerEnv is what an integration test works with.
type dockerEnv struct {
	rt    *Runtime
	image string // the probe image
}

// newDockerEnv returns a Runtime on the local daemon and the probe image,
// or skips the test when Docker is not reachable (fails it when
// BERTH_REQUIRE_DOCKER=1).
func newDockerEnv(t *testing.T) *dockerEnv {
	t.Helper()
	rt := newTestRuntime(t)
	ref, err := probeImage()
	if err != nil {
		t.Fatalf("probe image: %v", err)
	}
	return &dockerEnv{rt: rt, image: ref}
}

// newTestRuntime returns a Runtime on a daemon that answers, closed when the
// test ends.
func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New()
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
	return rt
}

// spec returns a container spec for the probe image running args, with a
// unique name, a unique task ARN label and the test label.
func (e *dockerEnv) spec(t *testing.T, args ...string) runtime.ContainerSpec {
	t.Helper()
	id := randomHex(t, 6)
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return runtime.ContainerSpec{
		Name:    "berth-test-" + name + "-" + id,
		Image:   e.image,
		Command: args,
		Labels: map[string]string{
			runtime.LabelTaskARN:       "arn:aws:ecs:us-east-1:111111111111:task/berth-test/" + id,
			runtime.LabelContainerName: "probe",
			runtime.LabelCluster:       "berth-test",
			testLabel:                  "1",
		},
	}
}

// create creates spec's container and removes it when the test ends.
func (e *dockerEnv) create(t *testing.T, spec runtime.ContainerSpec) string {
	t.Helper()
	id, err := e.rt.Create(t.Context(), spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.rt.Remove(ctx, id); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Remove %s: %v", id, err)
		}
	})
	return id
}

// run creates and starts spec's container.
func (e *dockerEnv) run(t *testing.T, spec runtime.ContainerSpec) string {
	t.Helper()
	id := e.create(t, spec)
	if err := e.rt.Start(t.Context(), id); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return id
}

// wait waits (up to a minute) for the container to exit.
func (e *dockerEnv) wait(t *testing.T, id string) runtime.ExitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := e.rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res
}

// waitLogs polls the container's logs until they contain want.
func (e *dockerEnv) waitLogs(t *testing.T, id, want string) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "", func() error {
		b, err := e.rt.Logs(t.Context(), id, 0)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), want) {
			return fmt.Errorf("logs %q do not contain %q", b, want)
		}
		return nil
	})
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
