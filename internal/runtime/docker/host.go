package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
)

// The daemon-wide helpers below are not part of runtime.Runtime: they
// prepare what containers then use (a network to give them fixed
// addresses on, an image no registry has). The server's Fargate fleet uses
// them.

// Network is the IPv4 addressing of a user-defined network.
type Network struct {
	Name    string
	Subnet  netip.Prefix
	Gateway netip.Addr // may be invalid when the daemon does not say
}

// EnsureNetwork returns the user-defined bridge network name, creating it
// with subnet (and the subnet's first address as gateway) and labels when
// it does not exist. An existing network is used as it is, with the subnet
// it has; one without an IPv4 subnet is an error. Two callers racing to
// create it both end up with the same network.
func (r *Runtime) EnsureNetwork(ctx context.Context, name string, subnet netip.Prefix, labels map[string]string) (Network, error) {
	n, err := r.inspectNetwork(ctx, name)
	if err == nil || !cerrdefs.IsNotFound(err) {
		return n, err
	}
	subnet = subnet.Masked()
	_, cerr := r.cli.NetworkCreate(ctx, name, network.CreateOptions{
		Driver: "bridge",
		IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{
			Subnet:  subnet.String(),
			Gateway: subnet.Addr().Next().String(),
		}}},
		Labels: maps.Clone(labels),
	})
	n, err = r.inspectNetwork(ctx, name)
	if err != nil && cerr != nil {
		return Network{}, fmt.Errorf("docker: create network %s: %w", name, cerr)
	}
	return n, err
}

// inspectNetwork returns a network's IPv4 addressing; a missing network is
// an error for which cerrdefs.IsNotFound holds.
func (r *Runtime) inspectNetwork(ctx context.Context, name string) (Network, error) {
	res, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return Network{}, err
		}
		return Network{}, fmt.Errorf("docker: inspect network %s: %w", name, err)
	}
	for _, c := range res.IPAM.Config {
		p, err := netip.ParsePrefix(c.Subnet)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		n := Network{Name: name, Subnet: p.Masked()}
		if gw, err := netip.ParseAddr(c.Gateway); err == nil {
			n.Gateway = gw
		}
		return n, nil
	}
	return Network{}, fmt.Errorf("docker: network %s has no IPv4 subnet", name)
}

// ImportImage makes ref an image whose file system holds only files (path
// → content, each mode 0755) and whose entry point is entrypoint, through
// Docker's image import: no registry is involved. An image already named
// ref is kept as it is, so ref should name its content (a digest in the
// tag, say).
func (r *Runtime) ImportImage(ctx context.Context, ref string, files map[string][]byte, entrypoint []string) error {
	if _, err := r.cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: inspect image %s: %w", ref, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		hdr := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("docker: import %s: %w", ref, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("docker: import %s: %w", ref, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("docker: import %s: %w", ref, err)
	}
	ep, err := json.Marshal(entrypoint)
	if err != nil {
		return fmt.Errorf("docker: import %s: %w", ref, err)
	}
	rc, err := r.cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref,
		image.ImportOptions{Changes: []string{"ENTRYPOINT " + string(ep)}})
	if err != nil {
		return fmt.Errorf("docker: import %s: %w", ref, err)
	}
	defer rc.Close()
	// The import reports progress, and a failure, in its stream.
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("docker: import %s: reading progress: %w", ref, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("docker: import %s: %s", ref, msg.Error)
		}
	}
}

// Arch returns the daemon's CPU architecture in Go's terms ("amd64",
// "arm64", …).
func (r *Runtime) Arch(ctx context.Context) (string, error) {
	v, err := r.cli.ServerVersion(ctx)
	if err != nil {
		return "", fmt.Errorf("docker: version: %w", err)
	}
	return v.Arch, nil
}
