package docker

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// TestRuntime_Stats checks that Stats gives the daemon's stats object of
// a running container, and ErrNotFound for an unknown one.
func TestRuntime_Stats(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	spec := e.spec(t, "-print", "up", "-forever")
	spec.MemoryLimitMiB = 64
	id := e.run(t, spec)
	e.waitLogs(t, id, "up")
	b, err := e.rt.Stats(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Read   time.Time `json:"read"`
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		CPU    *struct{} `json:"cpu_stats"`
		Memory struct {
			Limit uint64 `json:"limit"`
		} `json:"memory_stats"`
		Networks map[string]json.RawMessage `json:"networks"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.ID != id || st.Name != "/"+spec.Name || st.Read.IsZero() || st.CPU == nil || st.Memory.Limit != 64<<20 || st.Networks["eth0"] == nil {
		t.Fatalf("stats %s", b)
	}
	if _, err := e.rt.Stats(t.Context(), "berth-test-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Stats(unknown) = %v", err)
	}
}

// TestRuntime_NetworkInfo checks the host's address on the default bridge
// (docker0's gateway), with host networking, and for a container that
// joins another's namespace (that container's network, address and MAC).
func TestRuntime_NetworkInfo(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	ctx := t.Context()
	bridge, err := e.rt.NetworkInfo(ctx, "bridge")
	if err != nil || !bridge.Gateway.IsValid() || !bridge.Subnet.Contains(bridge.Gateway) {
		t.Fatalf("NetworkInfo(bridge) = %+v, %v", bridge, err)
	}
	if def, err := e.rt.NetworkInfo(ctx, ""); err != nil || def != bridge {
		t.Errorf(`NetworkInfo("") = %+v, %v; want %+v`, def, err, bridge)
	}
	if host, err := e.rt.NetworkInfo(ctx, "host"); err != nil || host.Gateway != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("NetworkInfo(host) = %+v, %v", host, err)
	}
	if none, err := e.rt.NetworkInfo(ctx, "none"); err != nil || none != (runtime.NetworkInfo{}) {
		t.Errorf("NetworkInfo(none) = %+v, %v", none, err)
	}
	spec := e.spec(t, "-forever")
	id := e.run(t, spec)
	st, err := e.rt.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.ImageID, "sha256:") || st.CreatedAt.IsZero() || st.CreatedAt.After(st.StartedAt) {
		t.Errorf("Inspect: image id %q, created %v, started %v", st.ImageID, st.CreatedAt, st.StartedAt)
	}
	for _, ref := range []string{id, spec.Name} {
		got, err := e.rt.NetworkInfo(ctx, "container:"+ref)
		if err != nil || got.Gateway != bridge.Gateway || got.IPAddress.String() != st.IPAddress ||
			!got.Subnet.Contains(got.IPAddress) || !strings.HasPrefix(got.MACAddress, "02:42:") {
			t.Errorf("NetworkInfo(container:%s) = %+v, %v (address %s)", ref, got, err, st.IPAddress)
		}
	}
	if _, err := e.rt.NetworkInfo(ctx, "container:berth-test-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("NetworkInfo(container:unknown) = %v", err)
	}
}
