package capacity

import (
	"cmp"
	"slices"
)

// Task is what one waiting task needs of an instance: CPU units (1024 per
// vCPU), memory in MiB and the static host ports it binds (TCP and UDP
// alike: [impl] a port taken by either protocol is taken).
type Task struct {
	CPU    int64
	Memory int64
	Ports  []int
}

// InstanceType is the size of the instances the group launches.
type InstanceType struct {
	CPU    int64 // CPU units
	Memory int64 // MiB
}

// Room is the free room of one existing instance: CPU and memory not yet
// reserved by its tasks, and the host ports its tasks hold.
type Room struct {
	CPU       int64
	Memory    int64
	UsedPorts []int
}

// Estimate is the outcome of EstimateScaleOut.
type Estimate struct {
	// New is the number of new instances the waiting tasks need after the
	// existing instances' free room is used (spec §4.3 step 5).
	New int
	// Compatible counts the waiting tasks that fit an empty instance of
	// the group's type; Incompatible those that do not (§4.3 step 4): they
	// are left out of the estimate and stay PROVISIONING.
	Compatible   int
	Incompatible int
}

// fits reports whether an empty instance of type typ can run t.
func (typ InstanceType) fits(t Task) bool {
	return t.CPU <= typ.CPU && t.Memory <= typ.Memory && !duplicatePorts(t.Ports)
}

func duplicatePorts(ports []int) bool {
	for i, p := range ports {
		if slices.Contains(ports[i+1:], p) {
			return true
		}
	}
	return false
}

// bin is an instance being filled by the estimate: an existing one or a
// new one of the group's type.
type bin struct {
	cpu, mem int64
	ports    map[int]bool
}

func (b *bin) fits(t Task) bool {
	if t.CPU > b.cpu || t.Memory > b.mem {
		return false
	}
	for _, p := range t.Ports {
		if b.ports[p] {
			return false
		}
	}
	return true
}

func (b *bin) take(t Task) {
	b.cpu -= t.CPU
	b.mem -= t.Memory
	for _, p := range t.Ports {
		if b.ports == nil {
			b.ports = map[int]bool{}
		}
		b.ports[p] = true
	}
}

// EstimateScaleOut is the scale-out estimate of spec §4.3: how many new
// instances of type typ the waiting tasks need once the free room of the
// existing instances is used.
//
// Tasks that do not fit an empty instance of typ (CPU, memory, or the same
// host port twice) are incompatible and left out (§4.3 step 4). The others
// are grouped by identical requirements (§4.3 step 2) and binpacked, the
// largest groups' tasks first (memory, then CPU, then ports: [impl]
// first-fit decreasing), each onto the instance — existing or new — with
// the least memory (then CPU) left that can take it, a new instance being
// opened when none can (§4.3 step 5). [impl] All groups share the
// instances, so the estimate never exceeds the per-group sum ECS
// describes. The group has one instance type, so the smallest and largest
// types of §4.3 step 3 are the same.
//
// The result depends only on the arguments (not on their order beyond
// ties between identical tasks and the order of rooms).
func EstimateScaleOut(waiting []Task, rooms []Room, typ InstanceType) Estimate {
	var est Estimate
	tasks := make([]Task, 0, len(waiting))
	for _, t := range waiting {
		if !typ.fits(t) {
			est.Incompatible++
			continue
		}
		tasks = append(tasks, t)
	}
	est.Compatible = len(tasks)
	// Largest first; identical requirements end up adjacent (grouped).
	slices.SortStableFunc(tasks, func(a, b Task) int {
		return cmp.Or(
			cmp.Compare(b.Memory, a.Memory),
			cmp.Compare(b.CPU, a.CPU),
			cmp.Compare(len(b.Ports), len(a.Ports)),
			slices.Compare(a.Ports, b.Ports),
		)
	})
	bins := make([]*bin, 0, len(rooms))
	for _, r := range rooms {
		b := &bin{cpu: r.CPU, mem: r.Memory}
		for _, p := range r.UsedPorts {
			if b.ports == nil {
				b.ports = map[int]bool{}
			}
			b.ports[p] = true
		}
		bins = append(bins, b)
	}
	for _, t := range tasks {
		var best *bin
		for _, b := range bins {
			if !b.fits(t) {
				continue
			}
			if best == nil || b.mem < best.mem || (b.mem == best.mem && b.cpu < best.cpu) {
				best = b
			}
		}
		if best == nil {
			best = &bin{cpu: typ.CPU, mem: typ.Memory}
			bins = append(bins, best)
			est.New++
		}
		best.take(t)
	}
	return est
}
