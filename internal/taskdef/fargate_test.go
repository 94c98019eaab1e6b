package taskdef

import (
	"fmt"
	"testing"

	"github.com/berth-dev/berth/internal/wire"
)

// validFargateSizes spells out spec §5.2 (Linux) value by value, written
// independently of fargateSizes.
func validFargateSizes() map[[2]int]bool {
	ok := map[[2]int]bool{}
	add := func(cpu int, mems ...int) {
		for _, m := range mems {
			ok[[2]int{cpu, m}] = true
		}
	}
	steps := func(from, to, step int) []int {
		var out []int
		for m := from; m <= to; m += step {
			out = append(out, m)
		}
		return out
	}
	add(256, 512, 1024, 2048)
	add(512, 1024, 2048, 3072, 4096)
	add(1024, steps(2048, 8192, 1024)...)
	add(2048, steps(4096, 16384, 1024)...)
	add(4096, steps(8192, 30720, 1024)...)
	add(8192, steps(16384, 61440, 4096)...)
	add(16384, steps(32768, 122880, 8192)...)
	return ok
}

func TestFargatePairs(t *testing.T) {
	valid := validFargateSizes()
	cpus := []int{0, 128, 255, 256, 257, 384, 511, 512, 513, 768, 1023, 1024, 1025, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 16385, 32768}
	var mems []int
	for m := 0; m <= 140000; m += 256 {
		mems = append(mems, m, m+1, m-1)
	}
	for _, cpu := range cpus {
		for _, mem := range mems {
			want := valid[[2]int{cpu, mem}]
			if got := FargateSizeValid(cpu, mem, Linux); got != want {
				t.Errorf("FargateSizeValid(%d, %d, Linux) = %v, want %v", cpu, mem, got, want)
			}
			wantWin := want && (cpu == 1024 || cpu == 2048 || cpu == 4096)
			if got := FargateSizeValid(cpu, mem, Windows); got != wantWin {
				t.Errorf("FargateSizeValid(%d, %d, Windows) = %v, want %v", cpu, mem, got, wantWin)
			}
		}
	}
	if n := len(valid); n != 3+4+7+13+23+12+12 {
		t.Fatalf("spelled-out table has %d pairs", n)
	}
}

func TestFargatePairsEdges(t *testing.T) {
	for _, tc := range []struct {
		cpu, mem int
		want     bool
	}{
		{256, 512, true}, {256, 2048, true}, {256, 1536, false}, {256, 256, false}, {256, 3072, false},
		{512, 1024, true}, {512, 4096, true}, {512, 512, false}, {512, 5120, false}, {512, 1536, false},
		{1024, 2048, true}, {1024, 8192, true}, {1024, 1024, false}, {1024, 9216, false},
		{2048, 4096, true}, {2048, 16384, true}, {2048, 3072, false}, {2048, 17408, false},
		{4096, 8192, true}, {4096, 30720, true}, {4096, 7168, false}, {4096, 31744, false},
		{8192, 16384, true}, {8192, 20480, true}, {8192, 61440, true}, {8192, 17408, false}, {8192, 65536, false},
		{16384, 32768, true}, {16384, 40960, true}, {16384, 122880, true}, {16384, 36864, false}, {16384, 131072, false},
		{128, 512, false}, {32768, 65536, false}, {-256, 512, false},
	} {
		if got := FargateSizeValid(tc.cpu, tc.mem, Linux); got != tc.want {
			t.Errorf("FargateSizeValid(%d, %d) = %v, want %v", tc.cpu, tc.mem, got, tc.want)
		}
	}
}

// TestFargatePairsThroughBuild registers every documented pair in its
// string forms, and a neighbour of each that must be refused.
func TestFargatePairsThroughBuild(t *testing.T) {
	for pair := range validFargateSizes() {
		cpu, mem := pair[0], pair[1]
		for _, form := range []struct{ cpu, mem string }{
			{fmt.Sprint(cpu), fmt.Sprint(mem)},
			{fmt.Sprintf("%g vCPU", float64(cpu)/1024), fmt.Sprintf("%g GB", float64(mem)/1024)},
		} {
			td, err := Build(request(fargate, size(form.cpu, form.mem)))
			if err != nil {
				t.Errorf("Build(cpu %q, memory %q): %v", form.cpu, form.mem, err)
				continue
			}
			if *td.Cpu != fmt.Sprint(cpu) || *td.Memory != fmt.Sprint(mem) {
				t.Errorf("Build(cpu %q, memory %q) stored %s/%s", form.cpu, form.mem, *td.Cpu, *td.Memory)
			}
		}
		if !validFargateSizes()[[2]int{cpu, mem + 512}] {
			_, err := Build(request(fargate, size(fmt.Sprint(cpu), fmt.Sprint(mem+512))))
			if err == nil || err.Error() != "ClientException: "+msgFargateSize {
				t.Errorf("Build(%d, %d) error = %v, want %q", cpu, mem+512, err, msgFargateSize)
			}
		}
	}
}

func TestOSOf(t *testing.T) {
	for _, tc := range []struct {
		rp   *wire.RuntimePlatform
		want OS
	}{
		{nil, Linux},
		{&wire.RuntimePlatform{}, Linux},
		{&wire.RuntimePlatform{OperatingSystemFamily: wire.Ptr(wire.OSFamily("LINUX"))}, Linux},
		{&wire.RuntimePlatform{OperatingSystemFamily: wire.Ptr(wire.OSFamily("WINDOWS_SERVER_2019_FULL"))}, Windows},
	} {
		if got := OSOf(tc.rp); got != tc.want {
			t.Errorf("OSOf(%s) = %v, want %v", jsonOf(t, tc.rp), got, tc.want)
		}
	}
}
