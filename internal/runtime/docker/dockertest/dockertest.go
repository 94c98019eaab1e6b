// Package dockertest is test support for packages whose tests run real
// containers: it gates a test on a usable Docker Engine and provides the
// probe image (internal/runtime/docker/testdata/probe, a static program
// imported as an image holding only /probe, since no registry is
// reachable). Only tests import it.
package dockertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/runtime/docker"
)

// RequireEnv names the variable that turns a missing or unreachable Docker
// from a skip into a failure; CI sets it to 1.
const RequireEnv = "BERTH_REQUIRE_DOCKER"

// ProbeRepo is the repository of the probe image; its tag is the probe
// binary's content hash, so an unchanged probe is imported once per daemon.
const ProbeRepo = "berth-test/probe"

// Runtime returns a Docker runtime on the local daemon, closed at cleanup,
// or skips the test when Docker is not usable (fails it when RequireEnv=1).
func Runtime(t testing.TB) *docker.Runtime {
	t.Helper()
	rt, err := docker.New()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = rt.Ping(ctx)
		cancel()
		if err != nil {
			rt.Close()
		}
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("docker is required (%s=1) but not usable: %v", RequireEnv, err)
		}
		t.Skipf("docker is not usable (%v); start dockerd (bash .ci/docker.sh), or set %s=1 to make this a failure", err, RequireEnv)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// ProbeImage builds the probe (static, for this architecture) and imports
// it through rt as ProbeRepo:<hash> with entry point /probe; it returns the
// image reference. An image already present is reused.
func ProbeImage(t testing.TB, rt *docker.Runtime) string {
	t.Helper()
	_, self, _, _ := goruntime.Caller(0)
	src := filepath.Join(filepath.Dir(self), "..", "testdata", "probe")
	bin := filepath.Join(t.TempDir(), "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goruntime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build probe: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	ref := ProbeRepo + ":" + hex.EncodeToString(sum[:6])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rt.ImportImage(ctx, ref, map[string][]byte{"probe": data}, []string{"/probe"}); err != nil {
		t.Fatalf("import probe image: %v", err)
	}
	return ref
}
