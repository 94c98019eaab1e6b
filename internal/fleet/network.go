package fleet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// pauseProgram returns a static Linux executable for the CPU architecture
// arch (Go's names) that blocks forever, and false for an architecture it
// has none for. It is the whole file system of the pause image: the fleet
// imports it into Docker at first use, as no registry is reachable and no
// toolchain is at hand.
//
// The executable is an ELF64 file with one loadable segment (the headers
// and the code, read and execute) and no section headers; its code calls
// the sleeping system call in a loop, and never handles a signal, so it
// runs until killed (the fleet removes pause containers with a kill):
//
//	amd64:  mov eax, 34 (pause) ; syscall ; jmp back
//	arm64:  x0..x3 = 0 ; x8 = 73 (ppoll: no fds, no timeout) ; svc #0 ; b back
func pauseProgram(arch string) ([]byte, bool) {
	switch arch {
	case "amd64":
		return elf64(62, 0x1000, []byte{
			0xb8, 34, 0, 0, 0, // mov eax, 34
			0x0f, 0x05, // syscall
			0xeb, 0xf7, // jmp -9 (to mov)
		}), true
	case "arm64":
		var code []byte
		for _, ins := range []uint32{
			0xd2800000, // mov x0, #0
			0xd2800001, // mov x1, #0
			0xd2800002, // mov x2, #0
			0xd2800003, // mov x3, #0
			0xd2800928, // mov x8, #73
			0xd4000001, // svc #0
			0x17fffffa, // b -24 (to the first mov)
		} {
			code = binary.LittleEndian.AppendUint32(code, ins)
		}
		// 64 KiB alignment suits kernels with 4, 16 and 64 KiB pages.
		return elf64(183, 0x10000, code), true
	}
	return nil, false
}

// elf64 lays out a little-endian ELF64 executable: the 64-byte file
// header, one 56-byte PT_LOAD program header mapping the whole file at
// 0x400000, then code, where execution starts.
func elf64(machine uint16, align uint64, code []byte) []byte {
	const (
		base   = 0x400000
		ehsize = 64
		phsize = 56
	)
	le := binary.LittleEndian
	b := make([]byte, ehsize+phsize, ehsize+phsize+len(code))
	copy(b, "\x7fELF\x02\x01\x01") // magic, 64-bit, little-endian, version 1, System V ABI
	le.PutUint16(b[16:], 2)        // e_type: executable
	le.PutUint16(b[18:], machine)  // e_machine
	le.PutUint32(b[20:], 1)        // e_version
	le.PutUint64(b[24:], base+ehsize+phsize)
	le.PutUint64(b[32:], ehsize) // e_phoff
	le.PutUint16(b[52:], ehsize) // e_ehsize
	le.PutUint16(b[54:], phsize) // e_phentsize
	le.PutUint16(b[56:], 1)      // e_phnum
	ph := b[ehsize:]
	size := uint64(ehsize + phsize + len(code))
	le.PutUint32(ph[0:], 1) // p_type: PT_LOAD
	le.PutUint32(ph[4:], 5) // p_flags: read, execute
	le.PutUint64(ph[16:], base)
	le.PutUint64(ph[24:], base)
	le.PutUint64(ph[32:], size) // p_filesz
	le.PutUint64(ph[40:], size) // p_memsz
	le.PutUint64(ph[48:], align)
	return append(b, code...)
}

// pauseImageRef names the pause image after its content.
func pauseImageRef(program []byte) string {
	sum := sha256.Sum256(program)
	return "berth/fargate-pause:" + hex.EncodeToString(sum[:6])
}

// allocator hands out the host addresses of a subnet (not the network
// address, the gateway — the first host — or the broadcast address),
// sequentially from where it last stopped, so that a freed address is not
// reused at once. It is not safe for concurrent use.
type allocator struct {
	subnet netip.Prefix
	next   netip.Addr
}

// take returns the next address not in used, or false when every address
// is.
func (a *allocator) take(used map[netip.Addr]bool) (netip.Addr, bool) {
	first := a.subnet.Addr().Next().Next() // after the gateway
	bits := 32 - a.subnet.Bits()
	if bits < 2 {
		return netip.Addr{}, false
	}
	n := 1<<bits - 3 // hosts, less the gateway
	if !a.subnet.Contains(a.next) || a.next.Less(first) {
		a.next = first
	}
	for range n {
		ip := a.next
		a.next = a.next.Next()
		if !a.subnet.Contains(a.next.Next()) { // a.next is the broadcast address
			a.next = first
		}
		if !used[ip] {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// macAddress is the MAC address Docker gives an address on a bridge
// (02:42 and the four bytes of the address), which the task's ENI reports.
func macAddress(ip netip.Addr) string {
	b := ip.As4()
	return fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// eniID is the network interface id of a task: "eni-" and 17 hex digits
// fixed by the task ARN.
func eniID(taskARN string) string {
	sum := sha256.Sum256([]byte(taskARN))
	return "eni-" + hex.EncodeToString(sum[:9])[:17]
}

// pauseName is the runtime name of a task's pause container.
func pauseName(taskARN string) string {
	return "berth-fargate-pause-" + taskARN[strings.LastIndexByte(taskARN, '/')+1:]
}
