package docker

import (
	"context"
	"net/netip"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
)

// TestRuntime_Network creates a user-defined network, gives a container a
// fixed address on it, and checks that EnsureNetwork is idempotent.
func TestRuntime_Network(t *testing.T) {
	e := newDockerEnv(t)
	ctx := t.Context()
	name := "berth-test-net-" + randomHex(t, 4)
	subnet := netip.MustParsePrefix("10.251.0.0/24")
	n, err := e.rt.EnsureNetwork(ctx, name, subnet, map[string]string{testLabel: "1"})
	if err != nil {
		t.Fatalf("EnsureNetwork: %v", err)
	}
	t.Cleanup(func() {
		cx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.rt.cli.NetworkRemove(cx, name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	if n.Name != name || n.Subnet != subnet || n.Gateway != netip.MustParseAddr("10.251.0.1") {
		t.Fatalf("network %+v", n)
	}
	// Existing: used as it is, whatever subnet is asked for.
	again, err := e.rt.EnsureNetwork(ctx, name, netip.MustParsePrefix("10.252.0.0/16"), nil)
	if err != nil || again != n {
		t.Fatalf("EnsureNetwork again: %+v, %v", again, err)
	}
	res, err := e.rt.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil || res.Labels[testLabel] != "1" || res.Driver != "bridge" {
		t.Fatalf("inspect: %+v, %v", res, err)
	}

	spec := e.spec(t, "-forever")
	spec.NetworkMode, spec.IPv4Address = name, "10.251.0.77"
	id := e.run(t, spec)
	st, err := e.rt.Inspect(ctx, id)
	if err != nil || st.IPAddress != "10.251.0.77" {
		t.Fatalf("inspect container: address %q, %v", st.IPAddress, err)
	}
	// A second container cannot take the same address.
	dup := e.spec(t, "-forever")
	dup.NetworkMode, dup.IPv4Address = name, "10.251.0.77"
	dupID := e.create(t, dup)
	if err := e.rt.Start(ctx, dupID); err == nil {
		t.Fatal("two containers started with one address")
	}
}

// TestRuntime_ImportImage imports a one-file image and runs it.
func TestRuntime_ImportImage(t *testing.T) {
	e := newDockerEnv(t)
	ctx := t.Context()
	arch, err := e.rt.Arch(ctx)
	if err != nil || arch != goruntime.GOARCH {
		t.Fatalf("Arch: %q, %v (want %s)", arch, err, goruntime.GOARCH)
	}
	ref := "berth-test/import:" + randomHex(t, 4)
	t.Cleanup(func() {
		cx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := e.rt.cli.ImageRemove(cx, ref, image.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove image: %v", err)
		}
	})
	files := map[string][]byte{"hello.txt": []byte("hello\n"), "bin/x": []byte("#!/bin/false\n")}
	if err := e.rt.ImportImage(ctx, ref, files, []string{"/bin/x", "-y"}); err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	img, err := e.rt.cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if ep := img.Config.Entrypoint; len(ep) != 2 || ep[0] != "/bin/x" || ep[1] != "-y" {
		t.Fatalf("entrypoint %v", ep)
	}
	// A second import keeps the image.
	if err := e.rt.ImportImage(ctx, ref, map[string][]byte{"other": nil}, nil); err != nil {
		t.Fatalf("ImportImage again: %v", err)
	}
	if again, err := e.rt.cli.ImageInspect(ctx, ref); err != nil || again.ID != img.ID {
		t.Fatalf("the image changed: %s → %s (%v)", img.ID, again.ID, err)
	}
}
