package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/berth-dev/berth/internal/runtime"
)

var (
	_ runtime.StatsReader   = (*Runtime)(nil)
	_ runtime.NetworkReader = (*Runtime)(nil)
)

// maxStats bounds a stats answer (a few KiB in practice).
const maxStats = 1 << 20

// Stats returns one sample of the container's resource usage, the
// daemon's stats object as it is (one-shot: the daemon does not wait for a
// second sample, so precpu_stats is empty). An unknown id returns
// runtime.ErrNotFound.
func (r *Runtime) Stats(ctx context.Context, id string) (json.RawMessage, error) {
	res, err := r.cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, notFound(id, err)
		}
		return nil, fmt.Errorf("docker: stats %s: %w", id, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxStats))
	if err != nil {
		return nil, fmt.Errorf("docker: stats %s: %w", id, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("docker: stats %s: the daemon's answer is not JSON", id)
	}
	return json.RawMessage(b), nil
}

// NetworkInfo describes the network of a network mode: with "host" the
// gateway is 127.0.0.1; with "none" there is nothing; with
// "container:<id or name>" it is the network of that container (the first,
// by name, that gave it an address), with its address and MAC address;
// otherwise ("", "default", "bridge" or a network's name) it is that
// network's subnet and gateway.
func (r *Runtime) NetworkInfo(ctx context.Context, mode string) (runtime.NetworkInfo, error) {
	m := container.NetworkMode(mode)
	switch {
	case m.IsHost():
		return runtime.NetworkInfo{Gateway: netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	case m.IsNone():
		return runtime.NetworkInfo{}, nil
	case m.IsContainer():
		return r.containerNetwork(ctx, m.ConnectedContainer(), 0)
	}
	name := mode
	if name == "" || m.IsDefault() {
		name = network.NetworkBridge
	}
	n, err := r.inspectNetwork(ctx, name)
	if err != nil {
		return runtime.NetworkInfo{}, err
	}
	return runtime.NetworkInfo{Gateway: n.Gateway, Subnet: n.Subnet}, nil
}

// containerNetwork is NetworkInfo for a container's network namespace;
// depth counts the containers followed so far (one may join another's).
func (r *Runtime) containerNetwork(ctx context.Context, id string, depth int) (runtime.NetworkInfo, error) {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return runtime.NetworkInfo{}, notFound(id, err)
		}
		return runtime.NetworkInfo{}, fmt.Errorf("docker: inspect %s: %w", id, err)
	}
	if c.ContainerJSONBase != nil && c.HostConfig != nil {
		switch m := c.HostConfig.NetworkMode; {
		case m.IsHost():
			return runtime.NetworkInfo{Gateway: netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
		case m.IsContainer() && depth < 3:
			return r.containerNetwork(ctx, m.ConnectedContainer(), depth+1)
		}
	}
	if c.NetworkSettings == nil {
		return runtime.NetworkInfo{}, nil
	}
	nets := c.NetworkSettings.Networks
	for _, name := range slices.Sorted(maps.Keys(nets)) {
		if ep := nets[name]; ep != nil && ep.IPAddress != "" {
			return endpointInfo(ep), nil
		}
	}
	return runtime.NetworkInfo{}, nil
}

// endpointInfo is the NetworkInfo of a container's endpoint on a network.
func endpointInfo(ep *network.EndpointSettings) runtime.NetworkInfo {
	var info runtime.NetworkInfo
	info.Gateway, _ = netip.ParseAddr(ep.Gateway)
	if ip, err := netip.ParseAddr(ep.IPAddress); err == nil {
		info.IPAddress = ip
		if p, err := ip.Prefix(ep.IPPrefixLen); err == nil && ep.IPPrefixLen > 0 {
			info.Subnet = p
		}
	}
	if hw, err := net.ParseMAC(ep.MacAddress); err == nil {
		info.MACAddress = strings.ToLower(hw.String())
	}
	return info
}
