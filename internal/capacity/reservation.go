package capacity

import (
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// Scaling is a capacity provider's managed scaling (spec §4.8). A zero
// TargetCapacity, MinStep or MaxStep means its default; out-of-range
// values are brought into range.
type Scaling struct {
	Enabled bool
	// TargetCapacity is the metric's target, 1..100.
	TargetCapacity int
	// MinStep and MaxStep bound each scale-out (1..10000; scale-in is not
	// bound by them).
	MinStep int
	MaxStep int
	// Warmup is the instance warm-up period (0..10000 s).
	Warmup time.Duration
}

// Spec §4.8 defaults.
const (
	DefaultTargetCapacity = 100
	DefaultMinStep        = 1
	DefaultMaxStep        = 10000
	DefaultWarmup         = 300 * time.Second
	// DefaultScaleInAfter is how long the metric must stay below target,
	// and how long after a scale-out, before ECS scales in (§4.5).
	DefaultScaleInAfter = 15 * time.Minute
)

// ScalingFromWire reads a provider's managed scaling block: nil, or a
// status other than ENABLED, is disabled; absent fields take the §4.8
// defaults, and out-of-range values are brought into range.
func ScalingFromWire(ms *wire.ManagedScaling) Scaling {
	s := Scaling{TargetCapacity: DefaultTargetCapacity, MinStep: DefaultMinStep, MaxStep: DefaultMaxStep, Warmup: DefaultWarmup}
	if ms == nil {
		return s
	}
	s.Enabled = wire.Val(ms.Status) == wire.ManagedScalingStatusEnabled
	if ms.TargetCapacity != nil {
		s.TargetCapacity = int(*ms.TargetCapacity)
	}
	if ms.MinimumScalingStepSize != nil {
		s.MinStep = int(*ms.MinimumScalingStepSize)
	}
	if ms.MaximumScalingStepSize != nil {
		s.MaxStep = int(*ms.MaximumScalingStepSize)
	}
	if ms.InstanceWarmupPeriod != nil {
		s.Warmup = time.Duration(*ms.InstanceWarmupPeriod) * time.Second
	}
	return s.normal()
}

// normal gives zero fields their default and brings every field into its
// §4.8 range.
func (s Scaling) normal() Scaling {
	if s.TargetCapacity == 0 {
		s.TargetCapacity = DefaultTargetCapacity
	}
	if s.MinStep == 0 {
		s.MinStep = DefaultMinStep
	}
	if s.MaxStep == 0 {
		s.MaxStep = DefaultMaxStep
	}
	s.TargetCapacity = min(max(s.TargetCapacity, 1), 100)
	s.MinStep = min(max(s.MinStep, 1), 10000)
	s.MaxStep = min(max(s.MaxStep, s.MinStep), 10000)
	s.Warmup = max(s.Warmup, 0)
	return s
}

// Metric is one value of the CapacityProviderReservation metric.
type Metric struct {
	// Value is the metric, in percent.
	Value float64
	// Needed is M, the instances needed; Instances is N, the instances
	// running.
	Needed    int
	Instances int
	// AtTarget is set when the metric is held at the target whatever M
	// and N are: every waiting task is incompatible with the group's
	// instance type (§4.3 step 4).
	AtTarget bool
}

// Reservation computes the CapacityProviderReservation metric of spec
// §4.2 for one capacity provider in one cluster:
//
//	CPR = 100          if M = 0 and N = 0
//	CPR = 200          if M > 0 and N = 0   (scale from zero)
//	CPR = 100 × M / N  otherwise
//
// where N is instances (every instance of the group that is running,
// registered or not) and M the instances needed:
//
//   - no waiting task: M = busy, the instances running at least one
//     non-daemon task;
//   - waiting tasks (PROVISIONING for this provider, est from
//     EstimateScaleOut): M = N + step, where step is s.MinStep when the
//     estimate est.New is below it, else min(s.MaxStep, est.New). [impl]
//     Waiting tasks that all fit the free room of existing instances
//     (est.New = 0) make M = N: they wait only for placement, not for
//     instances.
//   - every waiting task incompatible (§4.3 step 4): the metric is the
//     target (AtTarget), so nothing scales.
//
// Waiting tasks are counted only when est has some (est.Compatible +
// est.Incompatible > 0).
func Reservation(instances, busy int, est Estimate, s Scaling) Metric {
	s = s.normal()
	n := max(instances, 0)
	m := Metric{Instances: n, Needed: min(max(busy, 0), n)}
	switch {
	case est.Compatible > 0 && est.New > 0:
		step := s.MinStep
		if est.New >= s.MinStep {
			step = min(s.MaxStep, est.New)
		}
		m.Needed = n + step
	case est.Compatible > 0:
		m.Needed = n
	case est.Incompatible > 0:
		m.Value, m.AtTarget = float64(s.TargetCapacity), true
		return m
	}
	switch {
	case m.Needed == 0 && n == 0:
		m.Value = 100
	case n == 0:
		m.Value = 200
	default:
		m.Value = 100 * float64(m.Needed) / float64(n)
	}
	return m
}
