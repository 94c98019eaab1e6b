package taskdef

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

const (
	maxPort     = 65535
	protocolTCP = wire.TransportProtocol("tcp")
)

// portSpan is a closed range of container ports for one protocol.
type portSpan struct {
	lo, hi int
	proto  wire.TransportProtocol
}

// checkPorts applies the port mapping rules of c under the task's network
// mode [doc: PortMapping]:
//   - none: no port mappings;
//   - awsvpc and host: hostPort, when given, equals containerPort;
//   - bridge: hostPort 0 or absent means a dynamic host port;
//   - each mapping has exactly one of containerPort (1–65535) and
//     containerPortRange ("first-last", first < last, bridge and awsvpc
//     only, no hostPort);
//   - a container port appears in one mapping per protocol only;
//   - port mapping names are unique within the task definition.
func (d *def) checkPorts(c *wire.ContainerDefinition) *ecs.Error {
	if len(c.PortMappings) == 0 {
		return nil
	}
	name := wire.Val(c.Name)
	bad := func(format string, args ...any) *ecs.Error {
		return clientErrf(fmtPortMapping, name, fmt.Sprintf(format, args...))
	}
	mode := d.mode()
	if mode == modeNone {
		return bad("Port mappings are not supported when networkMode=none.")
	}
	spans := make([]portSpan, 0, len(c.PortMappings))
	for _, pm := range c.PortMappings {
		var s portSpan
		s.proto = protocolTCP
		if pm.Protocol != nil {
			s.proto = *pm.Protocol
		}
		switch {
		case pm.ContainerPort != nil && pm.ContainerPortRange != nil:
			return bad("'containerPort' and 'containerPortRange' cannot both be specified.")
		case pm.ContainerPort == nil && pm.ContainerPortRange == nil:
			return bad("'containerPort' or 'containerPortRange' must be specified.")
		case pm.ContainerPort != nil:
			p := int(*pm.ContainerPort)
			if p < 1 || p > maxPort {
				return bad("'containerPort' must be between 1 and 65535.")
			}
			if pm.HostPort != nil {
				h := int(*pm.HostPort)
				if h < 0 || h > maxPort {
					return bad("'hostPort' must be between 0 and 65535.")
				}
				if (mode == modeAwsvpc || mode == modeHost) && h != p {
					return clientErrf(fmtPortsMustMatch, mode)
				}
			}
			s.lo, s.hi = p, p
		default:
			lo, hi, ok := parsePortRange(*pm.ContainerPortRange)
			if !ok {
				return bad("'containerPortRange' must be two ports between 1 and 65535, the first less than the last, joined by a hyphen.")
			}
			if mode != modeBridge && mode != modeAwsvpc {
				return bad("'containerPortRange' is only supported when networkMode=bridge or networkMode=awsvpc.")
			}
			if pm.HostPort != nil {
				return bad("'hostPort' cannot be specified with 'containerPortRange'.")
			}
			s.lo, s.hi = lo, hi
		}
		for _, o := range spans {
			if o.proto == s.proto && s.lo <= o.hi && o.lo <= s.hi {
				return bad("Port %d/%s is included in more than one port mapping.", max(s.lo, o.lo), s.proto)
			}
		}
		spans = append(spans, s)
		if pm.Name != nil {
			if d.portNames[*pm.Name] {
				return bad("Port mapping name '%s' is used more than once in the task definition.", *pm.Name)
			}
			d.portNames[*pm.Name] = true
		}
	}
	return nil
}

// parsePortRange parses "first-last" with 1 <= first < last <= 65535.
func parsePortRange(s string) (lo, hi int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	lo, okA := port(a)
	hi, okB := port(b)
	if !okA || !okB || lo >= hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// port parses a decimal port number, 1–65535, digits only.
func port(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= maxPort
}
