package taskdef

import (
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/wire"
)

// OS is the operating system family a task runs on, as far as Fargate
// sizing is concerned.
type OS int

// The operating system families.
const (
	Linux OS = iota
	Windows
)

// OSOf returns the OS named by a task definition's runtimePlatform: Windows
// for any WINDOWS_* family, Linux otherwise (including when rp is nil).
func OSOf(rp *wire.RuntimePlatform) OS {
	if rp != nil && strings.HasPrefix(string(wire.Val(rp.OperatingSystemFamily)), "WINDOWS") {
		return Windows
	}
	return Linux
}

// fargateSize is one row of the Fargate task size table: for cpu units, the
// memory values listed in exact, or else minMiB, minMiB+stepMiB, …, maxMiB,
// are valid.
type fargateSize struct {
	cpu, minMiB, maxMiB, stepMiB int
	exact                        []int
	windows                      bool // the row also applies to Windows
}

// fargateSizes is the Fargate task size table [doc: "Task size", Amazon ECS
// developer guide; spec §5.2]. The 8 and 16 vCPU rows need Linux platform
// version 1.4.0, which is the only current Linux one; Windows offers the
// 1, 2 and 4 vCPU rows.
var fargateSizes = [...]fargateSize{
	{cpu: 256, exact: []int{512, 1024, 2048}},
	{cpu: 512, minMiB: 1024, maxMiB: 4096, stepMiB: 1024},
	{cpu: 1024, minMiB: 2048, maxMiB: 8192, stepMiB: 1024, windows: true},
	{cpu: 2048, minMiB: 4096, maxMiB: 16384, stepMiB: 1024, windows: true},
	{cpu: 4096, minMiB: 8192, maxMiB: 30720, stepMiB: 1024, windows: true},
	{cpu: 8192, minMiB: 16384, maxMiB: 61440, stepMiB: 4096},
	{cpu: 16384, minMiB: 32768, maxMiB: 122880, stepMiB: 8192},
}

// FargateSizeValid reports whether a task of cpu units and memory MiB is a
// size Fargate offers for os. It is the check behind "No Fargate
// configuration exists for given values." at registration, and RunTask and
// CreateService use it for task-level overrides.
func FargateSizeValid(cpu, memory int, os OS) bool {
	for _, r := range fargateSizes {
		if r.cpu != cpu {
			continue
		}
		if os == Windows && !r.windows {
			return false
		}
		if r.exact != nil {
			return slices.Contains(r.exact, memory)
		}
		return memory >= r.minMiB && memory <= r.maxMiB && (memory-r.minMiB)%r.stepMiB == 0
	}
	return false
}
