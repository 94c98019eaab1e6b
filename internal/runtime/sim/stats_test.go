package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// statsView is what the tests read of a stats object.
type statsView struct {
	Read time.Time `json:"read"`
	Name string    `json:"name"`
	ID   string    `json:"id"`
	CPU  struct {
		Usage struct {
			Total uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
		Online int `json:"online_cpus"`
	} `json:"cpu_stats"`
	Memory struct {
		Usage uint64 `json:"usage"`
		Limit uint64 `json:"limit"`
	} `json:"memory_stats"`
	Networks map[string]struct {
		Rx uint64 `json:"rx_bytes"`
		Tx uint64 `json:"tx_bytes"`
	} `json:"networks"`
}

func stats(t *testing.T, r *Runtime, id string) (statsView, map[string]json.RawMessage) {
	t.Helper()
	b, err := r.Stats(context.Background(), id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	var v statsView
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &members); err != nil {
		t.Fatal(err)
	}
	return v, members
}

func TestRuntime_Stats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{Seed: 1})
		s := spec("app")
		s.MemoryLimitMiB = 128
		id := run(t, r, s)
		time.Sleep(10 * time.Second)
		v, members := stats(t, r, id)
		for _, k := range []string{"read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats",
			"cpu_stats", "precpu_stats", "memory_stats", "name", "id", "networks"} {
			if _, ok := members[k]; !ok {
				t.Errorf("no %q in %v", k, members)
			}
		}
		if v.ID != id || v.Name != "/app" || v.Read.IsZero() || v.CPU.Online != simCPUs ||
			v.CPU.Usage.Total != uint64(float64(10*time.Second)*simCPUShare) ||
			v.Memory.Limit != 128<<20 || v.Memory.Usage != simMemBase+10*simMemGrowth ||
			v.Networks["eth0"].Rx != 10*simRxPerSecond || v.Networks["eth0"].Tx != 10*simTxPerSecond {
			t.Errorf("stats %+v", v)
		}

		// Host networking has no interface of its own; an exited
		// container reports zeros.
		h := spec("host")
		h.NetworkMode = "host"
		hid := run(t, r, h)
		if v, _ := stats(t, r, hid); v.Networks != nil || v.Memory.Limit != simMemNoLimit {
			t.Errorf("host stats %+v", v)
		}
		if err := r.Stop(context.Background(), id, time.Second); err != nil {
			t.Fatal(err)
		}
		if v, _ := stats(t, r, id); !v.Read.IsZero() || v.CPU.Usage.Total != 0 || v.ID != id {
			t.Errorf("stopped stats %+v", v)
		}
		if _, err := r.Stats(context.Background(), "nope"); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Stats(unknown) = %v", err)
		}
	})
}

func TestRuntime_NetworkInfo(t *testing.T) {
	r := newRuntime(t, Options{Seed: 1})
	ctx := context.Background()
	pause := run(t, r, spec("pause"))
	ip := netip.MustParseAddr(inspect(t, r, pause).IPAddress)
	loopback := netip.MustParseAddr("127.0.0.1")
	for mode, want := range map[string]runtime.NetworkInfo{
		"":       {Gateway: loopback, Subnet: netip.MustParsePrefix("172.17.0.0/16")},
		"bridge": {Gateway: loopback, Subnet: netip.MustParsePrefix("172.17.0.0/16")},
		"host":   {Gateway: loopback},
		"none":   {},
		"container:pause": {Gateway: loopback, Subnet: netip.MustParsePrefix("172.17.0.0/16"), IPAddress: ip,
			MACAddress: "02:42:" + strings.Join(hexBytes(ip), ":")},
		"container:" + pause: {Gateway: loopback, Subnet: netip.MustParsePrefix("172.17.0.0/16"), IPAddress: ip,
			MACAddress: "02:42:" + strings.Join(hexBytes(ip), ":")},
	} {
		got, err := r.NetworkInfo(ctx, mode)
		if err != nil || got != want {
			t.Errorf("NetworkInfo(%q) = %+v, %v; want %+v", mode, got, err, want)
		}
	}
	if _, err := r.NetworkInfo(ctx, "container:nope"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("NetworkInfo(container:nope) = %v", err)
	}
	if st := inspect(t, r, pause); st.ImageID != imageID(st.Image) || !strings.HasPrefix(st.ImageID, "sha256:") || st.CreatedAt.IsZero() {
		t.Errorf("Inspect: image id %q, created %v", st.ImageID, st.CreatedAt)
	}
}

func hexBytes(ip netip.Addr) []string {
	var out []string
	for _, b := range ip.As4() {
		out = append(out, fmt.Sprintf("%02x", b))
	}
	return out
}
