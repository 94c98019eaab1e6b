package sim

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The dynamic host-port range (Docker's and ECS's ephemeral range on Linux).
const (
	portMin = 32768
	portMax = 60999
)

// portKey is a host port and its protocol.
type portKey struct {
	Port uint16 `json:"port"`
	UDP  bool   `json:"udp,omitempty"`
}

func newPortKey(port int, proto string) portKey {
	return portKey{Port: uint16(port), UDP: strings.EqualFold(proto, "udp")}
}

func (k portKey) String() string {
	if k.UDP {
		return strconv.Itoa(int(k.Port)) + "/udp"
	}
	return strconv.Itoa(int(k.Port)) + "/tcp"
}

var errNoPort = errors.New("no free host port in 32768-60999")

// portPool tracks the host ports in use on the simulated host: dynamic ones
// from Create to Remove, static ones while their container runs. Dynamic
// ports are handed out sequentially from a seed-chosen start, wrapping
// around, as Docker's allocator walks its range.
type portPool struct {
	next int // next dynamic port to try
	used map[portKey]struct{}
}

func newPortPool(rng *rand.Rand) portPool {
	return portPool{next: portMin + rng.IntN(portMax-portMin+1)}
}

// take reserves the next free dynamic port for proto.
func (p *portPool) take(udp bool) (portKey, error) {
	if p.next < portMin || p.next > portMax {
		p.next = portMin
	}
	for range portMax - portMin + 1 {
		k := portKey{Port: uint16(p.next), UDP: udp}
		p.next++
		if p.next > portMax {
			p.next = portMin
		}
		if _, ok := p.used[k]; !ok {
			p.hold(k)
			return k, nil
		}
	}
	return portKey{}, errNoPort
}

// claim reserves static ports, all or none; it returns the first port
// already in use.
func (p *portPool) claim(keys []portKey) (portKey, bool) {
	for _, k := range keys {
		if _, ok := p.used[k]; ok {
			return k, false
		}
	}
	for _, k := range keys {
		p.hold(k)
	}
	return portKey{}, true
}

func (p *portPool) hold(k portKey) {
	if p.used == nil {
		p.used = make(map[portKey]struct{})
	}
	p.used[k] = struct{}{}
}

func (p *portPool) release(keys []portKey) {
	for _, k := range keys {
		delete(p.used, k)
	}
}

// The simulated bridge network is Docker's default, 172.17.0.0/16, with the
// gateway at .0.1. An address is stored as its index in the /16.
const (
	ipFirst = 2         // 172.17.0.2
	ipLast  = 1<<16 - 2 // 172.17.255.254
	ipBase  = "172.17." // the /16's prefix
	ipCount = ipLast - ipFirst + 1
)

var errNoIP = errors.New("no free address in 172.17.0.0/16")

// ipPool hands out bridge addresses sequentially from a seed-chosen start,
// wrapping around; an address is held from Create to Remove.
type ipPool struct {
	next int
	used map[int]struct{}
}

func newIPPool(rng *rand.Rand) ipPool {
	return ipPool{next: ipFirst + rng.IntN(ipCount)}
}

func (p *ipPool) take() (int, error) {
	if p.next < ipFirst || p.next > ipLast {
		p.next = ipFirst
	}
	for range ipCount {
		ip := p.next
		p.next++
		if p.next > ipLast {
			p.next = ipFirst
		}
		if _, ok := p.used[ip]; !ok {
			p.hold(ip)
			return ip, nil
		}
	}
	return 0, errNoIP
}

func (p *ipPool) hold(ip int) {
	if p.used == nil {
		p.used = make(map[int]struct{})
	}
	p.used[ip] = struct{}{}
}

func (p *ipPool) release(ip int) { delete(p.used, ip) }

// ipString formats an address index; 0 (none) is "".
func ipString(ip int) string {
	if ip == 0 {
		return ""
	}
	return ipBase + strconv.Itoa(ip>>8) + "." + strconv.Itoa(ip&0xff)
}

// parseIP is ipString's inverse for snapshots.
func parseIP(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(s, ipBase)
	hi, lo, ok2 := strings.Cut(rest, ".")
	a, err1 := strconv.Atoi(hi)
	b, err2 := strconv.Atoi(lo)
	ip := a<<8 | b
	if !ok || !ok2 || err1 != nil || err2 != nil || a < 0 || a > 255 || b < 0 || b > 255 || ip < ipFirst || ip > ipLast {
		return 0, fmt.Errorf("bad address %q", s)
	}
	return ip, nil
}

// newID returns a Docker-style 64-hex-digit container id.
func newID(rng *rand.Rand) string {
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		binary.BigEndian.PutUint64(b[i:], rng.Uint64())
	}
	return hex.EncodeToString(b[:])
}
