package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

var (
	_ runtime.StatsReader   = (*Runtime)(nil)
	_ runtime.NetworkReader = (*Runtime)(nil)
)

// Synthetic resource usage of a running simulated container (see Stats).
const (
	simCPUs        = 2               // online_cpus
	simCPUShare    = 0.02            // of one CPU, all the time
	simMemBase     = 8 << 20         // bytes in use from the start
	simMemGrowth   = 64 << 10        // bytes more per second of running, up to the limit
	simMemNoLimit  = 2 << 30         // "limit" without a memory limit
	simRxPerSecond = 1200            // bytes received per second
	simTxPerSecond = 800             // bytes sent per second
	simPacketBytes = 600             // bytes per packet
	simBootTime    = 100 * time.Hour // system_cpu_usage counts from this long before the container started
	simKernelShare = 0.25            // of the CPU time, in kernel mode
)

// imageID is the id a simulated image has: "sha256:" and a digest of its
// name, so that the same name always has the same id.
func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The stats object, with the members the Docker Engine API gives on Linux
// (cgroup v2 leaves percpu_usage out).
type (
	statsJSON struct {
		Read        time.Time               `json:"read"`
		PreRead     time.Time               `json:"preread"`
		PidsStats   pidsStats               `json:"pids_stats"`
		BlkioStats  blkioStats              `json:"blkio_stats"`
		NumProcs    int                     `json:"num_procs"`
		Storage     struct{}                `json:"storage_stats"`
		CPUStats    cpuStats                `json:"cpu_stats"`
		PreCPUStats cpuStats                `json:"precpu_stats"`
		MemoryStats memoryStats             `json:"memory_stats"`
		Name        string                  `json:"name"`
		ID          string                  `json:"id"`
		Networks    map[string]networkStats `json:"networks,omitempty"`
	}
	pidsStats struct {
		Current uint64 `json:"current,omitempty"`
		Limit   uint64 `json:"limit,omitempty"`
	}
	blkioStats struct {
		IOServiceBytesRecursive []struct{} `json:"io_service_bytes_recursive"`
		IOServicedRecursive     []struct{} `json:"io_serviced_recursive"`
		IOQueuedRecursive       []struct{} `json:"io_queue_recursive"`
		IOServiceTimeRecursive  []struct{} `json:"io_service_time_recursive"`
		IOWaitTimeRecursive     []struct{} `json:"io_wait_time_recursive"`
		IOMergedRecursive       []struct{} `json:"io_merged_recursive"`
		IOTimeRecursive         []struct{} `json:"io_time_recursive"`
		SectorsRecursive        []struct{} `json:"sectors_recursive"`
	}
	cpuStats struct {
		CPUUsage struct {
			TotalUsage        uint64 `json:"total_usage"`
			UsageInKernelmode uint64 `json:"usage_in_kernelmode"`
			UsageInUsermode   uint64 `json:"usage_in_usermode"`
		} `json:"cpu_usage"`
		SystemUsage    uint64 `json:"system_cpu_usage,omitempty"`
		OnlineCPUs     uint32 `json:"online_cpus,omitempty"`
		ThrottlingData struct {
			Periods          uint64 `json:"periods"`
			ThrottledPeriods uint64 `json:"throttled_periods"`
			ThrottledTime    uint64 `json:"throttled_time"`
		} `json:"throttling_data"`
	}
	memoryStats struct {
		Usage uint64            `json:"usage,omitempty"`
		Stats map[string]uint64 `json:"stats,omitempty"`
		Limit uint64            `json:"limit,omitempty"`
	}
	networkStats struct {
		RxBytes   uint64 `json:"rx_bytes"`
		RxPackets uint64 `json:"rx_packets"`
		RxErrors  uint64 `json:"rx_errors"`
		RxDropped uint64 `json:"rx_dropped"`
		TxBytes   uint64 `json:"tx_bytes"`
		TxPackets uint64 `json:"tx_packets"`
		TxErrors  uint64 `json:"tx_errors"`
		TxDropped uint64 `json:"tx_dropped"`
	}
)

// Stats returns a synthetic sample in the Docker Engine API's stats
// format, a pure function of the container and the clock: while it runs,
// CPU time grows at 2% of one of 2 CPUs, memory from 8 MiB by 64 KiB a
// second up to its limit, and eth0 (on the bridge, or the namespace it
// joins) receives 1200 and sends 800 bytes a second. A container that is
// not running reports zeros, as Docker does (a zero "read" time included).
// An unknown id returns ErrNotFound.
func (r *Runtime) Stats(ctx context.Context, id string) (json.RawMessage, error) {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	now := r.clock.Now()
	st := statsJSON{Name: "/" + c.name, ID: c.id}
	if c.state == runtime.StateRunning {
		st = c.stats(now)
	}
	r.mu.Unlock()
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("sim: stats %s: %w", id, err)
	}
	return b, nil
}

// stats is the sample of a running container at now. Caller holds mu.
func (c *container) stats(now time.Time) statsJSON {
	up := max(now.Sub(c.startedAt), 0)
	secs := uint64(up / time.Second)
	cpu := uint64(float64(up) * simCPUShare)
	st := statsJSON{
		Read:      now.UTC(),
		Name:      "/" + c.name,
		ID:        c.id,
		PidsStats: pidsStats{Current: 1},
	}
	st.CPUStats.CPUUsage.TotalUsage = cpu
	st.CPUStats.CPUUsage.UsageInKernelmode = uint64(float64(cpu) * simKernelShare)
	st.CPUStats.CPUUsage.UsageInUsermode = cpu - st.CPUStats.CPUUsage.UsageInKernelmode
	st.CPUStats.SystemUsage = uint64(simCPUs) * uint64(simBootTime+up)
	st.CPUStats.OnlineCPUs = simCPUs
	limit := uint64(simMemNoLimit)
	if c.memMiB > 0 {
		limit = uint64(c.memMiB) << 20
	}
	usage := min(uint64(simMemBase)+secs*simMemGrowth, limit)
	st.MemoryStats = memoryStats{
		Usage: usage,
		Limit: limit,
		Stats: map[string]uint64{"anon": usage * 3 / 4, "file": usage / 4, "active_anon": usage * 3 / 4, "inactive_file": usage / 4},
	}
	if c.net == netBridge || c.net == netContainer {
		rx, tx := secs*simRxPerSecond, secs*simTxPerSecond
		st.Networks = map[string]networkStats{"eth0": {
			RxBytes: rx, RxPackets: rx / simPacketBytes,
			TxBytes: tx, TxPackets: tx / simPacketBytes,
		}}
	}
	return st
}

// NetworkInfo describes the network of a network mode. The simulated
// containers are "on" the machine the simulator runs on, so the host's
// address for every mode but "none" is 127.0.0.1; the bridge's subnet is
// 172.17.0.0/16; for "container:<id or name>" the address is that
// container's, with the MAC address Docker would give it (02:42 and the
// address's four bytes).
func (r *Runtime) NetworkInfo(ctx context.Context, mode string) (runtime.NetworkInfo, error) {
	loopback := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	switch {
	case mode == "none":
		return runtime.NetworkInfo{}, nil
	case mode == "host":
		return runtime.NetworkInfo{Gateway: loopback}, nil
	case strings.HasPrefix(mode, "container:"):
		ref := strings.TrimPrefix(mode, "container:")
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return runtime.NetworkInfo{}, ErrClosed
		}
		other := r.byID[ref]
		if other == nil {
			other = r.byName[ref]
		}
		var ip string
		if other != nil {
			ip = r.ipOf(other)
		}
		r.mu.Unlock()
		if other == nil {
			return runtime.NetworkInfo{}, fmt.Errorf("sim: container %s: %w", ref, runtime.ErrNotFound)
		}
		info := runtime.NetworkInfo{Gateway: loopback}
		if addr, err := netip.ParseAddr(ip); err == nil && addr.Is4() {
			b := addr.As4()
			info.IPAddress = addr
			info.Subnet = netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], 0, 0}), 16)
			info.MACAddress = fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
		}
		return info, nil
	}
	return runtime.NetworkInfo{Gateway: loopback, Subnet: netip.MustParsePrefix("172.17.0.0/16")}, nil
}
