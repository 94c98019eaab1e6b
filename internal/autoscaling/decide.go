package autoscaling

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Policy holds the tunables decisions depend on.
type Policy struct {
	// LaunchBackoff is the wait after a failed launch before the next
	// attempt; it doubles with each consecutive failure up to
	// MaxLaunchBackoff.
	LaunchBackoff    time.Duration
	MaxLaunchBackoff time.Duration
}

// DefaultPolicy returns the controller's default policy: 10 s after a
// failed launch, doubling up to 5 minutes.
func DefaultPolicy() Policy {
	return Policy{LaunchBackoff: 10 * time.Second, MaxLaunchBackoff: 5 * time.Minute}
}

// Launch is one instance to start: its new id and zone.
type Launch struct {
	InstanceID string
	AZ         string
}

// Plan is what the controller should do to a group now.
type Plan struct {
	Launch    []Launch
	Terminate []string // instance ids to take out of service (scale-in or delete)
	Delete    bool     // the group is being deleted and has no instances left
}

// Empty reports whether the plan does nothing.
func (p Plan) Empty() bool { return len(p.Launch) == 0 && len(p.Terminate) == 0 && !p.Delete }

// Decide compares the group's instances with its desired capacity and
// returns the launches and terminations that close the gap. It is a pure
// function of its inputs: the group is not modified, now is the clock and
// rng draws instance ids and breaks zone ties.
//
//   - Counted instances are those not Terminating (Pending and InService).
//   - Scale-out puts each new instance in the zone with the fewest counted
//     instances (ties: random), unless launches are backing off after a
//     failure.
//   - Scale-in takes unprotected instances only: from the zone with the
//     most counted instances (ties: zone name), the oldest launch first
//     (ties: instance id). Protected instances are never chosen, so the
//     group may stay above its desired capacity.
//   - A group being force-deleted terminates everything, protected or not,
//     and is deleted once it has no instances.
func Decide(g *Group, now time.Time, p Policy, rng *rand.Rand) Plan {
	var plan Plan
	if g.Deleting {
		for _, in := range g.Instances {
			if in.LifecycleState != StateTerminating {
				plan.Terminate = append(plan.Terminate, in.ID)
			}
		}
		plan.Delete = len(g.Instances) == 0
		return plan
	}
	active := g.active()
	switch {
	case active < g.DesiredCapacity:
		if g.LaunchFailures > 0 && now.Before(g.LastLaunchFailure.Add(backoff(p, g.LaunchFailures))) {
			return plan
		}
		plan.Launch = placeLaunches(g, int(g.DesiredCapacity-active), rng)
	case active > g.DesiredCapacity:
		plan.Terminate = pickScaleIn(g, int(active-g.DesiredCapacity))
	}
	return plan
}

// backoff is the wait after n consecutive launch failures.
func backoff(p Policy, n int) time.Duration {
	d := p.LaunchBackoff
	for i := 1; i < n && d < p.MaxLaunchBackoff; i++ {
		d *= 2
	}
	return min(d, max(p.MaxLaunchBackoff, p.LaunchBackoff))
}

// zoneCounts counts the group's non-terminating instances per zone, with
// every configured zone present.
func zoneCounts(g *Group) map[string]int {
	counts := map[string]int{}
	for _, z := range g.AvailabilityZones {
		counts[z] = 0
	}
	for _, in := range g.Instances {
		if in.LifecycleState != StateTerminating {
			counts[in.AvailabilityZone]++
		}
	}
	return counts
}

func placeLaunches(g *Group, n int, rng *rand.Rand) []Launch {
	if len(g.AvailabilityZones) == 0 {
		return nil
	}
	counts := zoneCounts(g)
	used := map[string]bool{}
	for _, in := range g.Instances {
		used[in.ID] = true
	}
	out := make([]Launch, 0, n)
	for range n {
		var best []string
		low := -1
		for _, z := range g.AvailabilityZones { // configured order: deterministic before the draw
			c := counts[z]
			switch {
			case low < 0 || c < low:
				low, best = c, []string{z}
			case c == low:
				best = append(best, z)
			}
		}
		z := best[rng.IntN(len(best))]
		counts[z]++
		id := newInstanceID(rng)
		for used[id] {
			id = newInstanceID(rng)
		}
		used[id] = true
		out = append(out, Launch{InstanceID: id, AZ: z})
	}
	return out
}

// newInstanceID draws an EC2-style id: i- and 17 hex digits.
func newInstanceID(rng *rand.Rand) string {
	return fmt.Sprintf("i-%01x%016x", rng.IntN(16), rng.Uint64())
}

func pickScaleIn(g *Group, n int) []string {
	counts := zoneCounts(g)
	var cands []Instance
	for _, in := range g.Instances {
		if in.LifecycleState != StateTerminating && !in.ProtectedFromScaleIn {
			cands = append(cands, in)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if !cands[i].LaunchTime.Equal(cands[j].LaunchTime) {
			return cands[i].LaunchTime.Before(cands[j].LaunchTime)
		}
		return cands[i].ID < cands[j].ID
	})
	var out []string
	for range n {
		// The zone with the most instances among those with a candidate.
		zone, most := "", -1
		for _, c := range cands {
			z := c.AvailabilityZone
			if counts[z] > most || (counts[z] == most && z < zone) {
				zone, most = z, counts[z]
			}
		}
		if most < 0 {
			break // only protected instances are left
		}
		i := slices.IndexFunc(cands, func(c Instance) bool { return c.AvailabilityZone == zone })
		out = append(out, cands[i].ID)
		counts[zone]--
		cands = slices.Delete(cands, i, i+1)
	}
	return out
}
