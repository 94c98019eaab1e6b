package sim

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

func TestHealthPlan_At(t *testing.T) {
	const (
		U = runtime.HealthUnknown
		H = runtime.HealthHealthy
		X = runtime.HealthUnhealthy
	)
	s := time.Second
	hc := &runtime.HealthCheck{Test: []string{"CMD", "true"}, Interval: 10 * s, Retries: 3}
	knobsWith := func(env ...string) knobs {
		k, err := parseKnobs(env)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tests := []struct {
		name     string
		plan     healthPlan
		elapsed  time.Duration
		want     runtime.Health
		wantNext time.Duration
	}{
		{"NoCheck", newHealthPlan(knobsWith(), nil), time.Hour, U, -1},
		{"NoneTest", newHealthPlan(knobsWith(), &runtime.HealthCheck{Test: []string{"NONE"}}), time.Hour, U, -1},
		{"HealthyBeforeFirstCheck", newHealthPlan(knobsWith(), hc), 9 * s, U, 10 * s},
		{"HealthyAtFirstCheck", newHealthPlan(knobsWith(), hc), 10 * s, H, -1},
		{"HealthyDefaultInterval", newHealthPlan(knobsWith(), &runtime.HealthCheck{}), 29 * s, U, 30 * s},
		{"HealthyAfterKnob", newHealthPlan(knobsWith("BERTH_SIM_HEALTHY_AFTER=2.5"), hc), 2500 * time.Millisecond, H, -1},
		{"HealthyThenDegrades", newHealthPlan(knobsWith("BERTH_SIM_UNHEALTHY_AFTER=60"), hc), 30 * s, H, 60 * s},
		{"HealthyDegraded", newHealthPlan(knobsWith("BERTH_SIM_UNHEALTHY_AFTER=60"), hc), 60 * s, X, -1},
		{"UnhealthyAfterRetries", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=unhealthy"), hc), 29 * s, U, 30 * s},
		{"UnhealthyAtRetries", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=unhealthy"), hc), 30 * s, X, -1},
		{"UnhealthyStartPeriod", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=unhealthy"),
			&runtime.HealthCheck{Interval: 10 * s, Retries: 2, StartPeriod: 25 * s}), 39 * s, U, 40 * s},
		{"UnhealthyKnob", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=unhealthy", "BERTH_SIM_UNHEALTHY_AFTER=1"), hc), s, X, -1},
		{"UnhealthyAfterHealthy", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=unhealthy", "BERTH_SIM_HEALTHY_AFTER=5"), hc), 5 * s, H, 30 * s},
		{"TieUnhealthyWins", newHealthPlan(knobsWith("BERTH_SIM_UNHEALTHY_AFTER=10"), hc), 10 * s, X, -1},
		{"FlapUnknown", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=flap"), hc), 0, U, 10 * s},
		{"FlapFirstHealthy", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=flap"), hc), 10 * s, H, 40 * s},
		{"FlapThenUnhealthy", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=flap"), hc), 40 * s, X, 70 * s},
		{"FlapKnob", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=1", "BERTH_SIM_HEALTHY_AFTER=0"), hc), 2500 * time.Millisecond, H, 3 * s},
		{"Scaled", newHealthPlan(knobsWith(), hc).scaled(10), s, H, -1},
		{"FlapScaledFloor", newHealthPlan(knobsWith("BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=0.001"), hc).scaled(1e6), 10*time.Microsecond + time.Millisecond, X, 10*time.Microsecond + 2*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next := tt.plan.at(tt.elapsed)
			if got != tt.want || next != tt.wantNext {
				t.Errorf("at(%v) = %s, %v; want %s, %v", tt.elapsed, got, next, tt.want, tt.wantNext)
			}
		})
	}
}

func TestRuntime_Health(t *testing.T) {
	hc := &runtime.HealthCheck{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Retries: 3}
	type change struct {
		at time.Duration
		h  runtime.Health
	}
	tests := []struct {
		name  string
		env   []string
		check *runtime.HealthCheck
		want  []change // health events within the first 41 s
		final runtime.Health
	}{
		{"Healthy", nil, hc, []change{{5 * time.Second, runtime.HealthHealthy}}, runtime.HealthHealthy},
		{"Unhealthy", []string{"BERTH_SIM_HEALTH=unhealthy"}, hc, []change{{15 * time.Second, runtime.HealthUnhealthy}}, runtime.HealthUnhealthy},
		{"Flap", []string{"BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=10"}, hc, []change{
			{5 * time.Second, runtime.HealthHealthy},
			{15 * time.Second, runtime.HealthUnhealthy},
			{25 * time.Second, runtime.HealthHealthy},
			{35 * time.Second, runtime.HealthUnhealthy},
		}, runtime.HealthUnhealthy},
		{"HealthyAfterZero", []string{"BERTH_SIM_HEALTHY_AFTER=0"}, hc, []change{{0, runtime.HealthHealthy}}, runtime.HealthHealthy},
		{"NoHealthCheck", []string{"BERTH_SIM_HEALTH=unhealthy"}, nil, nil, runtime.HealthUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRuntime(t, Options{})
				ctx := context.Background()
				evs, _ := r.Events(ctx)
				s := spec("app", append(tt.env, "BERTH_SIM_RUN_SECONDS=41")...)
				s.HealthCheck = tt.check
				start := time.Now()
				id := run(t, r, s)
				if _, err := r.Wait(ctx, id); err != nil {
					t.Fatal(err)
				}
				var got []change
				for _, ev := range drain(evs) {
					if ev.Type == runtime.EventHealth {
						if ev.ID != id {
							t.Errorf("health event for %s", ev.ID)
						}
						got = append(got, change{ev.Time.Sub(start), ev.Health})
					}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("health changes = %v, want %v", got, tt.want)
				}
				// An exited container keeps its last health.
				if st := inspect(t, r, id); st.Health != tt.final {
					t.Errorf("final health = %s, want %s", st.Health, tt.final)
				}
			})
		})
	}
}
