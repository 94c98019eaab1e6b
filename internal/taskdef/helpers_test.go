package taskdef

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/wire"
)

// request returns a minimal valid request (family "web", one container
// "app" running nginx with 128 MiB) with muts applied.
func request(muts ...func(*wire.RegisterTaskDefinitionRequest)) *wire.RegisterTaskDefinitionRequest {
	r := &wire.RegisterTaskDefinitionRequest{
		Family:               wire.Ptr("web"),
		ContainerDefinitions: []wire.ContainerDefinition{container("app")},
	}
	for _, m := range muts {
		m(r)
	}
	return r
}

// container returns a container named name running nginx with 128 MiB.
func container(name string) wire.ContainerDefinition {
	return wire.ContainerDefinition{Name: wire.Ptr(name), Image: wire.Ptr("nginx"), Memory: wire.Ptr(int32(128))}
}

// first applies f to the first container definition.
func first(f func(*wire.ContainerDefinition)) func(*wire.RegisterTaskDefinitionRequest) {
	return func(r *wire.RegisterTaskDefinitionRequest) { f(&r.ContainerDefinitions[0]) }
}

// withContainers appends containers.
func withContainers(cs ...wire.ContainerDefinition) func(*wire.RegisterTaskDefinitionRequest) {
	return func(r *wire.RegisterTaskDefinitionRequest) {
		r.ContainerDefinitions = append(r.ContainerDefinitions, cs...)
	}
}

// mode sets the network mode.
func mode(m string) func(*wire.RegisterTaskDefinitionRequest) {
	return func(r *wire.RegisterTaskDefinitionRequest) { r.NetworkMode = wire.Ptr(wire.NetworkMode(m)) }
}

// requires sets requiresCompatibilities.
func requires(lts ...string) func(*wire.RegisterTaskDefinitionRequest) {
	return func(r *wire.RegisterTaskDefinitionRequest) {
		r.RequiresCompatibilities = nil
		for _, lt := range lts {
			r.RequiresCompatibilities = append(r.RequiresCompatibilities, wire.Compatibility(lt))
		}
	}
}

// size sets task-level cpu and memory.
func size(cpu, memory string) func(*wire.RegisterTaskDefinitionRequest) {
	return func(r *wire.RegisterTaskDefinitionRequest) {
		r.Cpu, r.Memory = wire.Ptr(cpu), wire.Ptr(memory)
	}
}

// fargate makes the request a valid Fargate one (awsvpc, 256/512).
func fargate(r *wire.RegisterTaskDefinitionRequest) {
	mode("awsvpc")(r)
	requires("FARGATE")(r)
	size("256", "512")(r)
}

// ports sets the first container's port mappings.
func ports(pms ...wire.PortMapping) func(*wire.RegisterTaskDefinitionRequest) {
	return first(func(c *wire.ContainerDefinition) { c.PortMappings = pms })
}

// pm returns a port mapping; hostPort < 0 means absent.
func pm(containerPort, hostPort int32) wire.PortMapping {
	p := wire.PortMapping{ContainerPort: wire.Ptr(containerPort)}
	if hostPort >= 0 {
		p.HostPort = wire.Ptr(hostPort)
	}
	return p
}

// i32 returns a pointer to v.
func i32(v int32) *int32 { return &v }

// jsonOf returns the compact JSON encoding of v.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compactJSON re-encodes a hand-written JSON document compactly.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad golden JSON: %v", err)
	}
	var td wire.TaskDefinition
	if err := json.Unmarshal([]byte(s), &td); err != nil {
		t.Fatalf("golden JSON is not a TaskDefinition: %v", err)
	}
	return jsonOf(t, &td)
}

// attrNames lists the names of attrs.
func attrNames(attrs []wire.Attribute) string {
	var b strings.Builder
	for i, a := range attrs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(wire.Val(a.Name))
	}
	return b.String()
}
