package autoscaling

import (
	"slices"
	"strings"
)

// InstanceTypeInfo is what an in-process launcher (sim, local) gives an
// instance of an EC2 instance type: its registered CPU and memory.
type InstanceTypeInfo struct {
	Name      string
	VCPU      int
	MemoryMiB int64
}

// CPUUnits is the type's CPU in ECS units (1024 per vCPU).
func (t InstanceTypeInfo) CPUUnits() int64 { return int64(t.VCPU) * 1024 }

// instanceTypes is the built-in table of the x86_64 types the sim and
// local launchers know: vCPUs and memory as EC2 lists them. Berth
// registers all of it (ECS registers a little less memory on a real host,
// the rest being the OS's and the agent's).
func instanceTypes() []InstanceTypeInfo {
	const gib = 1024
	return []InstanceTypeInfo{
		{"t3.micro", 2, 1 * gib},
		{"t3.small", 2, 2 * gib},
		{"t3.medium", 2, 4 * gib},
		{"t3.large", 2, 8 * gib},
		{"t3.xlarge", 4, 16 * gib},
		{"t3.2xlarge", 8, 32 * gib},
		{"m5.large", 2, 8 * gib},
		{"m5.xlarge", 4, 16 * gib},
		{"m5.2xlarge", 8, 32 * gib},
		{"m5.4xlarge", 16, 64 * gib},
		{"c5.large", 2, 4 * gib},
		{"c5.xlarge", 4, 8 * gib},
		{"c5.2xlarge", 8, 16 * gib},
		{"c5.4xlarge", 16, 32 * gib},
		{"r5.large", 2, 16 * gib},
		{"r5.xlarge", 4, 32 * gib},
		{"r5.2xlarge", 8, 64 * gib},
	}
}

// LookupInstanceType returns the built-in description of an instance type
// (see the package doc for the table).
func LookupInstanceType(name string) (InstanceTypeInfo, bool) {
	types := instanceTypes()
	i := slices.IndexFunc(types, func(t InstanceTypeInfo) bool { return t.Name == name })
	if i < 0 {
		return InstanceTypeInfo{}, false
	}
	return types[i], true
}

// InstanceTypeNames returns the names of the built-in instance types, in
// table order, joined by ", ": for error messages.
func InstanceTypeNames() string {
	var names []string
	for _, t := range instanceTypes() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}
