package sim

import (
	"errors"
	"testing"
	"time"
)

func TestParseKnobs(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		check   func(knobs) bool
		wantErr bool
	}{
		{"Defaults", []string{"PATH=/bin", "BERTH=1"}, func(k knobs) bool {
			return k.run == unset && k.exitCode == 0 && k.fail == failNone && k.health == healthGood && !k.ignoreTerm
		}, false},
		{"RunFractional", []string{"BERTH_SIM_RUN_SECONDS=0.25"}, func(k knobs) bool { return k.run == 250*time.Millisecond }, false},
		{"ExitCode", []string{"BERTH_SIM_EXIT_CODE=255"}, func(k knobs) bool { return k.exitCode == 255 }, false},
		{"FailStart", []string{"BERTH_SIM_FAIL=Start"}, func(k knobs) bool { return k.fail == failStart }, false},
		{"Flap", []string{"BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=2"}, func(k knobs) bool {
			return k.health == healthFlap && k.flap == 2*time.Second
		}, false},
		{"IgnoreTrue", []string{"BERTH_SIM_IGNORE_SIGTERM=true"}, func(k knobs) bool { return k.ignoreTerm }, false},
		{"Delays", []string{"BERTH_SIM_PULL_DELAY=1", "BERTH_SIM_CREATE_DELAY=2", "BERTH_SIM_START_DELAY=3", "BERTH_SIM_STOP_DELAY=4"},
			func(k knobs) bool {
				return k.pullDelay == time.Second && k.createDelay == 2*time.Second && k.startDelay == 3*time.Second && k.stopDelay == 4*time.Second
			}, false},
		{"OutputKeepsEquals", []string{"BERTH_SIM_OUTPUT=a=b"}, func(k knobs) bool { return k.output == "a=b" }, false},
		{"ErrNegativeSeconds", []string{"BERTH_SIM_RUN_SECONDS=-1"}, nil, true},
		{"ErrNaN", []string{"BERTH_SIM_RUN_SECONDS=NaN"}, nil, true},
		{"ErrHuge", []string{"BERTH_SIM_RUN_SECONDS=1e300"}, nil, true},
		{"ErrExitCodeRange", []string{"BERTH_SIM_EXIT_CODE=256"}, nil, true},
		{"ErrFailStep", []string{"BERTH_SIM_FAIL=stop"}, nil, true},
		{"ErrHealth", []string{"BERTH_SIM_HEALTH=sick"}, nil, true},
		{"ErrFlapZero", []string{"BERTH_SIM_FLAP_SECONDS=0"}, nil, true},
		{"ErrFlag", []string{"BERTH_SIM_OOM=maybe"}, nil, true},
		{"ErrUnknown", []string{"BERTH_SIM_RUNSECONDS=1"}, nil, true},
		{"ErrNoValue", []string{"BERTH_SIM_EXIT_CODE"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parseKnobs(tt.env)
			if tt.wantErr {
				if !errors.Is(err, errKnob) {
					t.Errorf("err = %v, want errKnob", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(k) {
				t.Errorf("knobs = %+v", k)
			}
		})
	}
}

func TestBehaviour_StopPlan(t *testing.T) {
	tests := []struct {
		name      string
		b         behaviour
		grace     time.Duration
		wantAfter time.Duration
		wantKind  exitKind
	}{
		{"Term", behaviour{StopDelay: time.Second}, 30 * time.Second, time.Second, exitTerm},
		{"TermAtGrace", behaviour{StopDelay: time.Second}, time.Second, time.Second, exitTerm},
		{"TooSlow", behaviour{StopDelay: 2 * time.Second}, time.Second, time.Second, exitKill},
		{"Ignored", behaviour{IgnoreTerm: true}, 30 * time.Second, 30 * time.Second, exitKill},
		{"NegativeGrace", behaviour{}, -time.Second, 0, exitTerm},
		{"ZeroGraceSlow", behaviour{StopDelay: 1}, 0, 0, exitKill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, kind := tt.b.stopPlan(tt.grace)
			if after != tt.wantAfter || kind != tt.wantKind {
				t.Errorf("stopPlan = %v, %d; want %v, %d", after, kind, tt.wantAfter, tt.wantKind)
			}
		})
	}
}

func TestBehaviour_ExitResult(t *testing.T) {
	tests := []struct {
		name     string
		b        behaviour
		k        exitKind
		wantCode int
		wantOOM  bool
	}{
		{"Natural", behaviour{ExitCode: 3}, exitNatural, 3, false},
		{"OOM", behaviour{ExitCode: 3, OOM: true}, exitNatural, 137, true},
		{"Term", behaviour{ExitCode: 3}, exitTerm, 143, false},
		{"Kill", behaviour{}, exitKill, 137, false},
		{"StartFailed", behaviour{}, exitFailed, 128, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, oom := tt.b.exitResult(tt.k)
			if code != tt.wantCode || oom != tt.wantOOM {
				t.Errorf("exitResult = %d, %v; want %d, %v", code, oom, tt.wantCode, tt.wantOOM)
			}
		})
	}
}
