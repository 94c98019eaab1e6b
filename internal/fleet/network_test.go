package fleet

import (
	"bytes"
	"debug/elf"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

func TestPauseProgram(t *testing.T) {
	for _, tc := range []struct {
		arch    string
		machine elf.Machine
	}{
		{"amd64", elf.EM_X86_64},
		{"arm64", elf.EM_AARCH64},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			prog, ok := pauseProgram(tc.arch)
			if !ok {
				t.Fatal("no program")
			}
			f, err := elf.NewFile(bytes.NewReader(prog))
			if err != nil {
				t.Fatalf("not an ELF file: %v", err)
			}
			if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_EXEC || f.Machine != tc.machine || f.OSABI != elf.ELFOSABI_NONE {
				t.Fatalf("header %+v", f.FileHeader)
			}
			if len(f.Progs) != 1 {
				t.Fatalf("%d program headers", len(f.Progs))
			}
			p := f.Progs[0]
			if p.Type != elf.PT_LOAD || p.Flags != elf.PF_R|elf.PF_X || p.Off != 0 || p.Filesz != uint64(len(prog)) || p.Memsz != p.Filesz ||
				p.Vaddr%p.Align != 0 || f.Entry < p.Vaddr+120 || f.Entry >= p.Vaddr+p.Filesz {
				t.Fatalf("segment %+v, entry %#x", p.ProgHeader, f.Entry)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		if _, ok := pauseProgram("mips"); ok {
			t.Fatal("a program for mips")
		}
	})
	t.Run("RunsUntilKilled", func(t *testing.T) {
		if goruntime.GOOS != "linux" {
			t.Skip("a Linux program")
		}
		prog, ok := pauseProgram(goruntime.GOARCH)
		if !ok {
			t.Skipf("no pause program for %s", goruntime.GOARCH)
		}
		path := filepath.Join(t.TempDir(), "pause")
		if err := os.WriteFile(path, prog, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(path)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start: %v", err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("the pause program ended: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		_ = cmd.Process.Kill()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("after kill: %v", err)
		}
	})
	t.Run("ImageRef", func(t *testing.T) {
		a, _ := pauseProgram("amd64")
		b, _ := pauseProgram("arm64")
		if ra, rb := pauseImageRef(a), pauseImageRef(b); ra == rb || !strings.HasPrefix(ra, "berth/fargate-pause:") || ra != pauseImageRef(a) {
			t.Fatalf("refs %q %q", ra, rb)
		}
	})
}

func TestAllocator(t *testing.T) {
	addr := netip.MustParseAddr
	used := func(ips ...string) map[netip.Addr]bool {
		m := map[netip.Addr]bool{}
		for _, ip := range ips {
			m[addr(ip)] = true
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		subnet string
		start  string // the cursor; "" for a new allocator
		used   map[netip.Addr]bool
		want   []string // successive takes; "" = none left
	}{
		{"First", "10.213.0.0/16", "", nil, []string{"10.213.0.2", "10.213.0.3"}},
		{"SkipsUsed", "10.213.0.0/16", "", used("10.213.0.2", "10.213.0.4"), []string{"10.213.0.3", "10.213.0.5"}},
		{"WrapsBeforeBroadcast", "10.0.0.0/29", "10.0.0.6", nil, []string{"10.0.0.6", "10.0.0.2", "10.0.0.3"}},
		{"Exhausted", "10.0.0.0/30", "", nil, []string{"10.0.0.2", "10.0.0.2"}},
		{"ExhaustedUsed", "10.0.0.0/30", "", used("10.0.0.2"), []string{""}},
		{"TooSmall", "10.0.0.0/31", "", nil, []string{""}},
		{"CursorOutside", "10.0.0.0/29", "192.168.0.1", nil, []string{"10.0.0.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := allocator{subnet: netip.MustParsePrefix(tc.subnet).Masked()}
			if tc.start != "" {
				a.next = addr(tc.start)
			}
			for i, want := range tc.want {
				ip, ok := a.take(tc.used)
				got := ""
				if ok {
					got = ip.String()
				}
				if got != want {
					t.Fatalf("take %d: got %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:123456789012:task/web/0123456789abcdef0123456789abcdef"
	if got := pauseName(arn); got != "berth-fargate-pause-0123456789abcdef0123456789abcdef" {
		t.Errorf("pauseName %q", got)
	}
	if got := eniID(arn); len(got) != len("eni-")+17 || !strings.HasPrefix(got, "eni-") || got != eniID(arn) || got == eniID(arn+"0") {
		t.Errorf("eniID %q", got)
	}
	if got := macAddress(netip.MustParseAddr("10.213.1.7")); got != "02:42:0a:d5:01:07" {
		t.Errorf("macAddress %q", got)
	}
}
