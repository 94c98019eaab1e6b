package sim

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/berth-dev/berth/internal/runtime"
)

func TestRuntime_DynamicPorts(t *testing.T) {
	r := newRuntime(t, Options{Seed: 7})
	ctx := context.Background()
	seen := map[portKey]string{}
	var ids []string
	for i := range 200 {
		s := spec("app" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		s.Ports = []runtime.PortBinding{
			{ContainerPort: 80, Protocol: "tcp"},
			{ContainerPort: 53, Protocol: "udp"},
			{ContainerPort: 8080}, // protocol defaults to tcp
		}
		id, err := r.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		st := inspect(t, r, id)
		if len(st.Ports) != 3 {
			t.Fatalf("Ports = %+v", st.Ports)
		}
		for _, p := range st.Ports {
			if p.HostPort < portMin || p.HostPort > portMax {
				t.Fatalf("host port %d outside the dynamic range", p.HostPort)
			}
			k := newPortKey(p.HostPort, p.Protocol)
			if other, dup := seen[k]; dup {
				t.Fatalf("host port %s given to %s and %s", k, other, id)
			}
			seen[k] = id
		}
		if st.Ports[2].Protocol != "tcp" {
			t.Errorf("default protocol = %q, want tcp", st.Ports[2].Protocol)
		}
	}
	if got := len(r.ports.used); got != 600 {
		t.Fatalf("ports held = %d, want 600", got)
	}
	for _, id := range ids {
		if err := r.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got, ips := len(r.ports.used), len(r.ips.used); got != 0 || ips != 0 {
		t.Errorf("after Remove: %d ports and %d addresses held, want 0", got, ips)
	}
}

func TestPortPool_WrapsAndReuses(t *testing.T) {
	p := portPool{next: portMax}
	a, _ := p.take(false)
	b, _ := p.take(false)
	if a.Port != portMax || b.Port != portMin {
		t.Fatalf("took %v then %v, want %d then %d", a, b, portMax, portMin)
	}
	p.release([]portKey{a})
	p.next = portMax
	if c, _ := p.take(false); c != a {
		t.Errorf("released port not reused: got %v", c)
	}
	full := portPool{}
	for port := portMin; port <= portMax; port++ {
		full.hold(portKey{Port: uint16(port)})
	}
	if _, err := full.take(false); !errors.Is(err, errNoPort) {
		t.Errorf("take from a full pool = %v, want errNoPort", err)
	}
	if _, err := full.take(true); err != nil {
		t.Errorf("udp take with tcp exhausted: %v", err)
	}
}

func TestRuntime_Networking(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		ports     []runtime.PortBinding
		wantIP    string // "bridge": an address in 172.17.0.0/16; "pause": the pause container's
		wantPorts []runtime.PortBinding
	}{
		{"Bridge", "bridge", []runtime.PortBinding{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}}, "bridge",
			[]runtime.PortBinding{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}}},
		{"DefaultIsBridge", "", nil, "bridge", []runtime.PortBinding{}},
		{"Host", "host", []runtime.PortBinding{{ContainerPort: 9000, Protocol: "tcp"}}, "",
			[]runtime.PortBinding{{ContainerPort: 9000, HostPort: 9000, Protocol: "tcp"}}},
		{"None", "none", []runtime.PortBinding{{ContainerPort: 80}}, "", nil},
		{"AWSVPC", "container:pause", []runtime.PortBinding{{ContainerPort: 80}}, "pause",
			[]runtime.PortBinding{{ContainerPort: 80, HostPort: 80, Protocol: "tcp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, Options{})
			pause := run(t, r, spec("pause"))
			s := spec("app")
			s.NetworkMode, s.Ports = tt.mode, tt.ports
			id := run(t, r, s)
			st := inspect(t, r, id)
			switch tt.wantIP {
			case "bridge":
				addr, err := netip.ParseAddr(st.IPAddress)
				if err != nil || !netip.MustParsePrefix("172.17.0.0/16").Contains(addr) {
					t.Errorf("IPAddress = %q, want one in 172.17.0.0/16", st.IPAddress)
				}
				if st.IPAddress == inspect(t, r, pause).IPAddress {
					t.Errorf("two containers share %s", st.IPAddress)
				}
			case "pause":
				if want := inspect(t, r, pause).IPAddress; st.IPAddress != want {
					t.Errorf("IPAddress = %q, want the pause container's %q", st.IPAddress, want)
				}
			default:
				if st.IPAddress != tt.wantIP {
					t.Errorf("IPAddress = %q, want %q", st.IPAddress, tt.wantIP)
				}
			}
			if len(st.Ports) != len(tt.wantPorts) {
				t.Fatalf("Ports = %+v, want %+v", st.Ports, tt.wantPorts)
			}
			for i := range st.Ports {
				if st.Ports[i] != tt.wantPorts[i] {
					t.Errorf("Ports = %+v, want %+v", st.Ports, tt.wantPorts)
				}
			}
		})
	}
}

func TestRuntime_StaticPortConflict(t *testing.T) {
	r := newRuntime(t, Options{})
	ctx := context.Background()
	withPort := func(name string) runtime.ContainerSpec {
		s := spec(name, "BERTH_SIM_STOP_DELAY=0")
		s.Ports = []runtime.PortBinding{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}}
		return s
	}
	first := run(t, r, withPort("first"))
	second, err := r.Create(ctx, withPort("second"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, second); !errors.Is(err, runtime.ErrStart) {
		t.Fatalf("Start with the port in use = %v, want ErrStart", err)
	}
	if st := inspect(t, r, second); st.Error == "" || *st.ExitCode != 128 {
		t.Errorf("failed start not recorded: %+v", st)
	}
	// The port is free once the first container has exited.
	if err := r.Stop(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, second); err != nil {
		t.Errorf("Start after the holder exited: %v", err)
	}
}

func TestIPString(t *testing.T) {
	tests := []struct {
		name string
		ip   int
		want string
	}{
		{"None", 0, ""},
		{"First", ipFirst, "172.17.0.2"},
		{"Middle", 3<<8 | 7, "172.17.3.7"},
		{"Last", ipLast, "172.17.255.254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ipString(tt.ip)
			if got != tt.want {
				t.Errorf("ipString = %q, want %q", got, tt.want)
			}
			if back, err := parseIP(got); err != nil || back != tt.ip {
				t.Errorf("parseIP(%q) = %d, %v", got, back, err)
			}
		})
	}
	for _, bad := range []string{"10.0.0.1", "172.17.0.1", "172.17.256.1", "172.17.x.1"} {
		if _, err := parseIP(bad); err == nil {
			t.Errorf("parseIP(%q) succeeded", bad)
		}
	}
}
