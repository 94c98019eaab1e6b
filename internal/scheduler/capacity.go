package scheduler

import (
	"fmt"
	"slices"
)

// StrategyItem is one capacity provider strategy item (spec §3.1).
type StrategyItem struct {
	Provider string
	// Base is the minimum number of tasks on this provider (0..100000);
	// at most one item may have a base.
	Base int
	// Weight is the provider's share of the tasks beyond the base
	// (0..1000); at least one item must have a weight above zero.
	Weight int
}

// Capacity provider strategy bounds (spec §3.1).
const (
	MaxStrategyItems = 20
	MaxWeight        = 1000
	MaxBase          = 100000
)

// ValidateProviderStrategy checks a capacity provider strategy's shape
// (spec §3.1, §3.2): 1 to 20 items, distinct non-empty provider names,
// weight 0..1000, base 0..100000, at most one base and at least one weight
// above zero. Association with the cluster and the Fargate/ASG mix are the
// caller's checks. The error is a *RequestError.
func ValidateProviderStrategy(strategy []StrategyItem) error {
	const field = "capacityProviderStrategy"
	if len(strategy) == 0 {
		return requestErrorf(field, "the capacity provider strategy is empty")
	}
	if len(strategy) > MaxStrategyItems {
		return requestErrorf(field, "at most %d capacity providers are allowed in a strategy, got %d", MaxStrategyItems, len(strategy))
	}
	bases, weighted := 0, false
	for i, it := range strategy {
		item := func(member string) string { return fmt.Sprintf("%s[%d].%s", field, i, member) }
		switch {
		case it.Provider == "":
			return requestErrorf(item("capacityProvider"), "the capacity provider name is empty")
		case it.Weight < 0 || it.Weight > MaxWeight:
			return requestErrorf(item("weight"), "weight must be between 0 and %d, got %d", MaxWeight, it.Weight)
		case it.Base < 0 || it.Base > MaxBase:
			return requestErrorf(item("base"), "base must be between 0 and %d, got %d", MaxBase, it.Base)
		}
		for _, prev := range strategy[:i] {
			if prev.Provider == it.Provider {
				return requestErrorf(item("capacityProvider"), "capacity provider %q is listed more than once", it.Provider)
			}
		}
		if it.Base > 0 {
			bases++
		}
		weighted = weighted || it.Weight > 0
	}
	if bases > 1 {
		return requestErrorf(field, "only one capacity provider in a strategy can have a base defined")
	}
	if !weighted {
		return requestErrorf(field, "no capacity provider in the strategy has a weight greater than zero")
	}
	return nil
}

// Distribute chooses the capacity provider of each of n new tasks (spec
// §3.4) and returns the provider names in placement order. current holds
// the live tasks already on each provider: for a service, all of its tasks
// across deployments; for RunTask, nothing (each call is independent, so
// the base applies per call). Providers in current but not in the strategy
// are ignored.
//
// The algorithm is the spec's, exactly: while the base item has fewer than
// base tasks, it takes the task; otherwise every item with weight > 0 is
// scored weight·T/W − E, where E is its task count beyond its base, T the
// total beyond-base count after this placement and W the sum of weights,
// and the highest score takes the task, ties to the item listed first. The
// scores are compared as weight·T − E·W, in integers.
//
// The error is a *RequestError for an invalid strategy or a negative n.
func Distribute(strategy []StrategyItem, current map[string]int, n int) ([]string, error) {
	if err := ValidateProviderStrategy(strategy); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, requestErrorf("count", "the task count must not be negative, got %d", n)
	}
	d := newDistribution(strategy, current, false)
	out := make([]string, 0, n)
	for range n {
		i := d.pickOut()
		d.count[i]++
		out = append(out, d.items[i].Provider)
	}
	return out, nil
}

// ScaleIn chooses the capacity provider that loses each of n tasks, the
// mirror of Distribute (spec §3.4): each step takes a task from the
// provider whose E − weight·T/W is largest, where T is the total
// beyond-base count after the removal. The base provider is never taken
// below its base while another provider still has tasks. Ties go to the
// item listed last, so that scaling in undoes the tie-breaks of scaling
// out. Providers in current but not in the strategy count as weight 0
// items listed after the strategy (in name order), so they are drained
// first. Fewer than n names are returned when current runs out of tasks.
//
// The error is a *RequestError for an invalid strategy or a negative n.
func ScaleIn(strategy []StrategyItem, current map[string]int, n int) ([]string, error) {
	if err := ValidateProviderStrategy(strategy); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, requestErrorf("count", "the task count must not be negative, got %d", n)
	}
	d := newDistribution(strategy, current, true)
	var out []string
	for range n {
		i := d.pickIn()
		if i < 0 {
			break
		}
		d.count[i]--
		out = append(out, d.items[i].Provider)
	}
	return out, nil
}

// distribution is the running state of Distribute or ScaleIn.
type distribution struct {
	items []StrategyItem
	count []int64
	base  int   // index of the item with a base, or -1
	w     int64 // sum of weights
}

func newDistribution(strategy []StrategyItem, current map[string]int, extras bool) *distribution {
	d := &distribution{items: slices.Clone(strategy), base: -1}
	if extras {
		var names []string
		for name, n := range current {
			if n > 0 && !slices.ContainsFunc(strategy, func(it StrategyItem) bool { return it.Provider == name }) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			d.items = append(d.items, StrategyItem{Provider: name})
		}
	}
	d.count = make([]int64, len(d.items))
	for i, it := range d.items {
		d.count[i] = int64(max(current[it.Provider], 0))
		if it.Base > 0 {
			d.base = i
		}
		d.w += int64(it.Weight)
	}
	return d
}

// beyond returns item i's task count beyond its base.
func (d *distribution) beyond(i int) int64 {
	if i == d.base {
		return d.count[i] - int64(d.items[i].Base)
	}
	return d.count[i]
}

// pickOut returns the item that takes the next new task.
func (d *distribution) pickOut() int {
	if d.base >= 0 && d.count[d.base] < int64(d.items[d.base].Base) {
		return d.base
	}
	t := int64(1)
	for i := range d.items {
		t += d.beyond(i)
	}
	pick, best := -1, int64(0)
	for i, it := range d.items {
		if it.Weight == 0 {
			continue
		}
		score := int64(it.Weight)*t - d.beyond(i)*d.w
		if pick < 0 || score > best {
			pick, best = i, score
		}
	}
	return pick
}

// pickIn returns the item that loses the next task, or -1 when no item has
// a task.
func (d *distribution) pickIn() int {
	others := false
	for i, n := range d.count {
		if i != d.base && n > 0 {
			others = true
		}
	}
	t := int64(-1)
	for i := range d.items {
		t += max(d.beyond(i), 0)
	}
	pick, best := -1, int64(0)
	for i, it := range d.items {
		if d.count[i] == 0 || (i == d.base && others && d.beyond(i) <= 0) {
			continue
		}
		surplus := d.beyond(i)*d.w - int64(it.Weight)*t
		if pick < 0 || surplus >= best {
			pick, best = i, surplus
		}
	}
	return pick
}
