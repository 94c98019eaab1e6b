package sim

import (
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// ECS's health-check defaults, used where the container's HealthCheck
// leaves a field zero.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthRetries  = 3
)

// minFlap bounds a flapping container's phase after scaling, so that a
// large speed-up cannot turn one container into an event storm.
const minFlap = time.Millisecond

// healthPlan is a container's scripted health as a function of the time
// elapsed since it started. Times are offsets from the start; -1 means
// never. It is persisted in snapshots.
type healthPlan struct {
	// Checked is false when the container has no health check: its health
	// stays UNKNOWN.
	Checked bool `json:"checked,omitempty"`
	// HealthyAt and UnhealthyAt are when the container turns HEALTHY and
	// UNHEALTHY; when both have passed, the later one holds.
	HealthyAt   time.Duration `json:"healthyAt"`
	UnhealthyAt time.Duration `json:"unhealthyAt"`
	// Flap, when positive, makes the container alternate between HEALTHY
	// and UNHEALTHY every Flap from HealthyAt on (UnhealthyAt is unused).
	Flap time.Duration `json:"flap,omitempty"`
}

// newHealthPlan builds the plan for the knobs and the container's health
// check, at Speed 1:
//   - healthy: HEALTHY at BERTH_SIM_HEALTHY_AFTER (default: the first check,
//     one interval after the start); UNHEALTHY at BERTH_SIM_UNHEALTHY_AFTER
//     if given;
//   - unhealthy: UNHEALTHY at BERTH_SIM_UNHEALTHY_AFTER (default: when the
//     retries-th failed check past the start period completes); HEALTHY at
//     BERTH_SIM_HEALTHY_AFTER if given;
//   - flap: HEALTHY at BERTH_SIM_HEALTHY_AFTER (default one interval), then
//     alternating every BERTH_SIM_FLAP_SECONDS (default interval × retries).
//
// A nil health check, or Docker's ["NONE"] test, means no health at all.
func newHealthPlan(k knobs, hc *runtime.HealthCheck) healthPlan {
	if hc == nil || (len(hc.Test) > 0 && hc.Test[0] == "NONE") {
		return healthPlan{HealthyAt: -1, UnhealthyAt: -1}
	}
	interval := hc.Interval
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	retries := hc.Retries
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	p := healthPlan{Checked: true, HealthyAt: k.healthyAfter, UnhealthyAt: k.unhealthyAfter}
	switch k.health {
	case healthGood:
		if p.HealthyAt == unset {
			p.HealthyAt = interval
		}
	case healthBad:
		if p.UnhealthyAt == unset {
			// Checks run every interval from one interval after the
			// start; failures inside the start period do not count.
			first := max(1, (hc.StartPeriod+interval-1)/interval)
			p.UnhealthyAt = (first + time.Duration(retries) - 1) * interval
		}
	case healthFlap:
		if p.HealthyAt == unset {
			p.HealthyAt = interval
		}
		p.UnhealthyAt = unset
		p.Flap = k.flap
		if p.Flap == unset {
			p.Flap = interval * time.Duration(retries)
		}
	}
	return p
}

// scaled divides the plan's times by speed.
func (p healthPlan) scaled(speed float64) healthPlan {
	p.HealthyAt = scale(p.HealthyAt, speed)
	p.UnhealthyAt = scale(p.UnhealthyAt, speed)
	if p.Flap > 0 {
		p.Flap = max(scale(p.Flap, speed), minFlap)
	}
	return p
}

// at returns the health elapsed after the start, and the elapsed time of
// the next change (-1: none).
func (p healthPlan) at(elapsed time.Duration) (h runtime.Health, next time.Duration) {
	if !p.Checked {
		return runtime.HealthUnknown, -1
	}
	if p.Flap > 0 {
		if p.HealthyAt < 0 {
			return runtime.HealthUnknown, -1
		}
		if elapsed < p.HealthyAt {
			return runtime.HealthUnknown, p.HealthyAt
		}
		n := (elapsed - p.HealthyAt) / p.Flap
		next = p.HealthyAt + (n+1)*p.Flap
		if n%2 == 0 {
			return runtime.HealthHealthy, next
		}
		return runtime.HealthUnhealthy, next
	}
	h, next = runtime.HealthUnknown, -1
	var since time.Duration = -1 // when the current status began
	for _, c := range [...]struct {
		at time.Duration
		h  runtime.Health
	}{{p.HealthyAt, runtime.HealthHealthy}, {p.UnhealthyAt, runtime.HealthUnhealthy}} {
		switch {
		case c.at < 0:
		case c.at <= elapsed:
			// The later transition wins; on a tie UNHEALTHY (listed
			// second) does.
			if c.at >= since {
				h, since = c.h, c.at
			}
		case next < 0 || c.at < next:
			next = c.at
		}
	}
	return h, next
}
