package capacity

import (
	"cmp"
	"slices"
)

// Protection is what managed termination protection does to the group's
// instances in one evaluation.
type Protection struct {
	// Protect lists the instances to protect from scale-in: those running
	// a non-daemon task that are not protected yet.
	Protect []string
	// Unprotect lists the empty instances whose protection is removed so
	// that the group can terminate them.
	Unprotect []string
	// Terminate lists the instances the scale-in may take: empty ones only,
	// at most the surplus. With managed draining, the caller drains each
	// before it is terminated (§4.7).
	Terminate []string
}

// Protect chooses, for managed termination protection (spec §4.6), which
// instances are protected from scale-in and which the group may terminate
// when it has surplus instances more than it wants (its instance count
// minus the new desired capacity).
//
// With managed termination protection enabled, every instance running a
// non-daemon task is protected, and never terminated; when there is a
// surplus, that many empty instances (the oldest launch first, ties by
// id: [impl] the group's own oldest-first order) are chosen to go and lose
// their protection. Empty instances not chosen keep the protection they
// have (spare capacity for a target below 100).
//
// With it disabled, ECS protects nothing and the group's termination
// policy chooses, running tasks or not (§4.5): the result is empty.
//
// The instances given are not modified, and their order does not matter.
func Protect(instances []Instance, managed bool, surplus int) Protection {
	var p Protection
	if !managed {
		return p
	}
	sorted := slices.Clone(instances)
	slices.SortFunc(sorted, func(a, b Instance) int {
		return cmp.Or(a.LaunchTime.Compare(b.LaunchTime), cmp.Compare(a.ID, b.ID))
	})
	for _, in := range sorted {
		switch {
		case in.Tasks > 0:
			if !in.Protected {
				p.Protect = append(p.Protect, in.ID)
			}
		case len(p.Terminate) < surplus:
			p.Terminate = append(p.Terminate, in.ID)
			if in.Protected {
				p.Unprotect = append(p.Unprotect, in.ID)
			}
		}
	}
	return p
}

// Busy counts the instances running at least one non-daemon task.
func Busy(instances []Instance) int {
	n := 0
	for _, in := range instances {
		if in.Tasks > 0 {
			n++
		}
	}
	return n
}
