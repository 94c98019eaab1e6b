package capacity

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Instance is one instance of the group as scaling sees it.
type Instance struct {
	ID         string
	LaunchTime time.Time
	// Tasks counts the non-daemon tasks on the instance (any not STOPPED);
	// DAEMON service tasks are left out, as ECS leaves them out (§4.5).
	Tasks int
	// Protected is the instance's current scale-in protection.
	Protected bool
}

// warmingUntil returns when the instance's warm-up ends, and whether that
// is still ahead of now.
func (in Instance) warmingUntil(now time.Time, warmup time.Duration) (time.Time, bool) {
	end := in.LaunchTime.Add(warmup)
	return end, now.Before(end)
}

// Group is the Auto Scaling group's size.
type Group struct {
	Min, Max, Desired int
}

// Sample is one past value of the metric.
type Sample struct {
	At    time.Time
	Value float64
}

// Input is everything Decide depends on.
type Input struct {
	// Cluster and Provider name the metric's dimensions in the reason.
	Cluster  string
	Provider string

	Scaling   Scaling
	Group     Group
	Instances []Instance
	// Metric is the metric now (Reservation).
	Metric Metric
	// History holds the earlier values, oldest first (Record keeps it).
	History []Sample
	// LastScaleOut is when the desired capacity was last raised (zero:
	// never).
	LastScaleOut time.Time
	Now          time.Time
	// ScaleInAfter is the scale-in evaluation period: how long the metric
	// must stay below target, and how long after a scale-out, before a
	// scale-in (0: DefaultScaleInAfter, ECS's 15 minutes).
	ScaleInAfter time.Duration
}

// Decision is what Decide returns.
type Decision struct {
	// Desired is the group's new desired capacity when Change is set, its
	// current one otherwise.
	Desired int
	Change  bool
	// Reason says why, in words: the Cause of the scaling activity when
	// Change is set, the reason for waiting otherwise.
	Reason string
}

// ScaleOut reports whether the decision raises the desired capacity of g.
func (d Decision) ScaleOut(g Group) bool { return d.Change && d.Desired > g.Desired }

// Decide is ECS's target tracking on the CapacityProviderReservation
// metric (spec §4.2–4.5), for one evaluation at in.Now:
//
//   - Managed scaling disabled, or the metric held at target (every
//     waiting task incompatible, §4.3 step 4): no change.
//   - Metric above target: scale out to ceil(100·M/target) instances —
//     from zero, ceil(200/target), which is 2 at the default target
//     (§4.2) — raising by at least MinStep and at most MaxStep (§4.8),
//     never above the group's max (a max of 0 never scales out, §4.1).
//     Scale-out waits while any instance is inside its warm-up period
//     (§4.3 step 7). [impl] M = N = 0 does not scale out whatever the
//     target: there is nothing to run.
//   - Metric below target: scale in only when every value of the last
//     ScaleInAfter was below target and the last scale-out is at least
//     ScaleInAfter ago (§4.5), to max(ceil(100·M/target), N − max(1,
//     ⌊(N−1)/2⌋)): at least one instance and less than half of the group
//     a step, never below what the tasks need (M counts every instance
//     with a non-daemon task) nor below the group's min. Warm-up does not
//     hold a scale-in back.
//   - Metric at target: no change.
//
// A decision that would not move the desired capacity in the wanted
// direction (a scale-out to no more than the current desired capacity, a
// scale-in to no less) is no change.
func Decide(in Input) Decision {
	s := in.Scaling.normal()
	after := in.ScaleInAfter
	if after <= 0 {
		after = DefaultScaleInAfter
	}
	g := in.Group
	keep := func(format string, args ...any) Decision {
		return Decision{Desired: g.Desired, Reason: fmt.Sprintf(format, args...)}
	}
	m := in.Metric
	n := m.Instances
	target := float64(s.TargetCapacity)
	switch {
	case !s.Enabled:
		return keep("Managed scaling is disabled.")
	case m.AtTarget:
		return keep("No waiting task fits an instance of the group's type: the metric is held at the target (%d).", s.TargetCapacity)
	case m.Value > target:
		return scaleOut(in, s, keep)
	case m.Value < target:
		return scaleIn(in, s, after, keep)
	}
	return keep("The metric is at its target (%d, %d of %d instances needed).", s.TargetCapacity, m.Needed, n)
}

func scaleOut(in Input, s Scaling, keep func(string, ...any) Decision) Decision {
	g, m := in.Group, in.Metric
	n := m.Instances
	if m.Needed == 0 && n == 0 {
		return keep("No task needs an instance and the group has none.")
	}
	if g.Max <= 0 {
		return keep("The metric is %s (target %d) but the group's maximum size is 0.", pct(m.Value), s.TargetCapacity)
	}
	var warming []string
	var until time.Time
	for _, it := range in.Instances {
		if end, ok := it.warmingUntil(in.Now, s.Warmup); ok {
			warming = append(warming, it.ID)
			until = later(until, end)
		}
	}
	if len(warming) > 0 {
		return keep("The metric is %s (target %d); scale-out waits for the warm-up of %s until %s.",
			pct(m.Value), s.TargetCapacity, strings.Join(warming, ", "), until.UTC().Format(time.RFC3339))
	}
	var want int
	if n == 0 {
		want = ceilDiv(200, s.TargetCapacity)
	} else {
		want = ceilDiv(100*m.Needed, s.TargetCapacity)
	}
	inc := min(max(want-n, s.MinStep), s.MaxStep)
	desired := min(n+inc, g.Max)
	desired = max(desired, g.Min)
	if desired <= g.Desired {
		return keep("The metric is %s (target %d); the desired capacity (%d) already covers the %d instances wanted.",
			pct(m.Value), s.TargetCapacity, g.Desired, desired)
	}
	return Decision{Desired: desired, Change: true, Reason: cause(in, s, g.Desired, desired)}
}

func scaleIn(in Input, s Scaling, after time.Duration, keep func(string, ...any) Decision) Decision {
	g, m := in.Group, in.Metric
	n := m.Instances
	if !in.LastScaleOut.IsZero() && in.Now.Sub(in.LastScaleOut) < after {
		return keep("The metric is %s (target %d); scale-in waits until %s, %s after the last scale-out.",
			pct(m.Value), s.TargetCapacity, in.LastScaleOut.Add(after).UTC().Format(time.RFC3339), after)
	}
	since := BelowSince(in.History, in.Now, float64(s.TargetCapacity))
	if in.Now.Sub(since) < after {
		return keep("The metric is %s (target %d), below target since %s; scale-in after %s below target.",
			pct(m.Value), s.TargetCapacity, since.UTC().Format(time.RFC3339), after)
	}
	needed := ceilDiv(100*m.Needed, s.TargetCapacity)
	desired := max(needed, n-max(1, (n-1)/2), g.Min)
	desired = min(desired, max(g.Max, 0))
	if desired >= g.Desired {
		return keep("The metric is %s (target %d); the %d instances needed leave nothing to scale in below the desired capacity (%d).",
			pct(m.Value), s.TargetCapacity, desired, g.Desired)
	}
	return Decision{Desired: desired, Change: true, Reason: cause(in, s, g.Desired, desired)}
}

// BelowSince returns the time from which the metric has been below target
// without a break: the oldest sample of the trailing run of history values
// below target, now when the last sample is not below target (or there is
// none). The current value is taken to be below target.
func BelowSince(history []Sample, now time.Time, target float64) time.Time {
	since := now
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Value >= target || history[i].At.After(since) {
			break
		}
		since = history[i].At
	}
	return since
}

// Record appends a sample to the history and drops the samples older than
// keep before it (keeping the newest of those, so BelowSince can still see
// that the run started before the window). The history given is not
// modified.
func Record(history []Sample, s Sample, keep time.Duration) []Sample {
	cut := s.At.Add(-keep)
	i := 0
	for i+1 < len(history) && history[i+1].At.Before(cut) {
		i++
	}
	out := make([]Sample, 0, len(history)-i+1)
	out = append(out, history[i:]...)
	return append(out, s)
}

// cause is the scaling activity's Cause, in the shape of ECS's target
// tracking activities.
func cause(in Input, s Scaling, from, to int) string {
	state := "AlarmHigh"
	if to < from {
		state = "AlarmLow"
	}
	return fmt.Sprintf("At %s a monitor alarm TargetTracking-%s-%s in state ALARM triggered policy ECSManagedAutoScalingPolicy-%s "+
		"changing the desired capacity from %d to %d: CapacityProviderReservation %s of capacity provider %s in cluster %s "+
		"(target %d, %d instances needed, %d running).",
		in.Now.UTC().Format(time.RFC3339), in.Provider, state, in.Provider, from, to,
		pct(in.Metric.Value), in.Provider, in.Cluster, s.TargetCapacity, in.Metric.Needed, in.Metric.Instances)
}

// pct formats a metric value: whole numbers without decimals.
func pct(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
