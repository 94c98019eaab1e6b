package runtime

import (
	"context"
	"encoding/json"
	"net/netip"
)

// The interfaces below are optional: a Runtime may implement them, and the
// agent checks with a type assertion and does without when it does not.
// runtime/docker and runtime/sim implement both.

// StatsReader is a Runtime that reports containers' resource usage.
type StatsReader interface {
	// Stats returns one sample of the container's resource usage as the
	// Docker Engine API's stats object (GET /containers/{id}/stats with
	// stream=false: "read", "cpu_stats", "memory_stats", "networks", ...),
	// which is what the ECS task metadata endpoint serves. An unknown
	// container returns ErrNotFound.
	Stats(ctx context.Context, id string) (json.RawMessage, error)
}

// NetworkInfo is what a runtime knows of the network that a container of
// a given network mode is on.
type NetworkInfo struct {
	// Gateway is the host's address on that network: where a container on
	// it reaches a server listening on the host. It is a loopback address
	// for host networking, and invalid when the container has no network
	// ("none") or the runtime cannot tell.
	Gateway netip.Addr
	// Subnet is the network's IPv4 subnet; invalid when unknown.
	Subnet netip.Prefix
	// IPAddress and MACAddress are, for "container:<id or name>", the
	// address and MAC address of the container whose network namespace is
	// joined (the awsvpc task's own address); unset otherwise.
	IPAddress  netip.Addr
	MACAddress string
}

// NetworkReader is a Runtime that can describe the network of a network
// mode (a ContainerSpec.NetworkMode: "bridge", "host", "none",
// "container:<id or name>", or a user-defined network's name).
type NetworkReader interface {
	NetworkInfo(ctx context.Context, networkMode string) (NetworkInfo, error)
}
