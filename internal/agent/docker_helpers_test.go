package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker"
	"github.com/berth-dev/berth/internal/runtime/docker/dockertest"
	"github.com/berth-dev/berth/internal/testkit"
)

// newDocker returns the Docker runtime and the probe image, or skips the
// test when Docker is not usable (fails it with BERTH_REQUIRE_DOCKER=1).
func newDocker(t *testing.T) (*docker.Runtime, string) {
	t.Helper()
	rt := dockertest.Runtime(t)
	return rt, dockertest.ProbeImage(t, rt)
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
	testkit.Eventually(t, 20*time.Second, "", func() error {
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
