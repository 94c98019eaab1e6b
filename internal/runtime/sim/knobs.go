package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// knobPrefix starts every environment variable the simulator reads.
const knobPrefix = "BERTH_SIM_"

// The knob names (see doc.go).
const (
	knobRunSeconds     = "BERTH_SIM_RUN_SECONDS"
	knobExitCode       = "BERTH_SIM_EXIT_CODE"
	knobOOM            = "BERTH_SIM_OOM"
	knobFail           = "BERTH_SIM_FAIL"
	knobHealth         = "BERTH_SIM_HEALTH"
	knobHealthyAfter   = "BERTH_SIM_HEALTHY_AFTER"
	knobUnhealthyAfter = "BERTH_SIM_UNHEALTHY_AFTER"
	knobFlapSeconds    = "BERTH_SIM_FLAP_SECONDS"
	knobIgnoreSIGTERM  = "BERTH_SIM_IGNORE_SIGTERM"
	knobPullDelay      = "BERTH_SIM_PULL_DELAY"
	knobCreateDelay    = "BERTH_SIM_CREATE_DELAY"
	knobStartDelay     = "BERTH_SIM_START_DELAY"
	knobStopDelay      = "BERTH_SIM_STOP_DELAY"
	knobOutput         = "BERTH_SIM_OUTPUT"
)

// failStep is the step BERTH_SIM_FAIL makes fail.
type failStep uint8

const (
	failNone failStep = iota
	failPull
	failCreate
	failStart
)

// healthMode is the BERTH_SIM_HEALTH script.
type healthMode uint8

const (
	healthGood healthMode = iota // "healthy", the default
	healthBad                    // "unhealthy"
	healthFlap                   // "flap"
)

// unset marks a duration knob that was not given.
const unset time.Duration = -1

// knobs are a container's BERTH_SIM_* variables, parsed and checked but not
// yet combined with the health check, the Runtime's timings or its speed.
// Durations are at Speed 1; unset ones are -1.
type knobs struct {
	run            time.Duration
	exitCode       int
	oom            bool
	fail           failStep
	health         healthMode
	healthyAfter   time.Duration
	unhealthyAfter time.Duration
	flap           time.Duration
	ignoreTerm     bool
	pullDelay      time.Duration
	createDelay    time.Duration
	startDelay     time.Duration
	stopDelay      time.Duration
	output         string
}

// errKnob reports a malformed BERTH_SIM_* variable; Create wraps it with
// runtime.ErrCreate.
var errKnob = errors.New("bad simulator setting")

// parseKnobs reads the BERTH_SIM_* entries of env ("KEY=value"); the last
// occurrence of a key wins, as in Docker. Other variables are ignored; an
// unknown BERTH_SIM_ key or a malformed value is an error wrapping errKnob,
// so that a typo fails loudly instead of silently running the default.
func parseKnobs(env []string) (knobs, error) {
	k := knobs{
		run:            unset,
		healthyAfter:   unset,
		unhealthyAfter: unset,
		flap:           unset,
		pullDelay:      unset,
		createDelay:    unset,
		startDelay:     unset,
		stopDelay:      unset,
	}
	for _, kv := range env {
		if !strings.HasPrefix(kv, knobPrefix) {
			continue
		}
		key, val, _ := strings.Cut(kv, "=")
		var err error
		switch key {
		case knobRunSeconds:
			k.run, err = parseSeconds(val)
		case knobExitCode:
			k.exitCode, err = strconv.Atoi(strings.TrimSpace(val))
			if err == nil && (k.exitCode < 0 || k.exitCode > 255) {
				err = errors.New("not in 0..255")
			}
		case knobOOM:
			k.oom, err = parseFlag(val)
		case knobFail:
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "", "none":
				k.fail = failNone
			case "pull":
				k.fail = failPull
			case "create":
				k.fail = failCreate
			case "start":
				k.fail = failStart
			default:
				err = errors.New("want pull, create or start")
			}
		case knobHealth:
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "", "healthy":
				k.health = healthGood
			case "unhealthy":
				k.health = healthBad
			case "flap":
				k.health = healthFlap
			default:
				err = errors.New("want healthy, unhealthy or flap")
			}
		case knobHealthyAfter:
			k.healthyAfter, err = parseSeconds(val)
		case knobUnhealthyAfter:
			k.unhealthyAfter, err = parseSeconds(val)
		case knobFlapSeconds:
			k.flap, err = parseSeconds(val)
			if err == nil && k.flap == 0 {
				err = errors.New("must be positive")
			}
		case knobIgnoreSIGTERM:
			k.ignoreTerm, err = parseFlag(val)
		case knobPullDelay:
			k.pullDelay, err = parseSeconds(val)
		case knobCreateDelay:
			k.createDelay, err = parseSeconds(val)
		case knobStartDelay:
			k.startDelay, err = parseSeconds(val)
		case knobStopDelay:
			k.stopDelay, err = parseSeconds(val)
		case knobOutput:
			k.output = val
		default:
			err = errors.New("unknown setting")
		}
		if err != nil {
			return knobs{}, fmt.Errorf("%w: %s=%q: %w", errKnob, key, val, err)
		}
	}
	return k, nil
}

// maxSeconds bounds duration knobs well inside time.Duration's range.
const maxSeconds = 100 * 365 * 24 * 3600

// parseSeconds parses a non-negative, possibly fractional number of seconds.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, errors.New("not a number of seconds")
	}
	if f < 0 || math.IsNaN(f) || f > maxSeconds {
		return 0, errors.New("not in 0..100 years")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseFlag parses a boolean knob ("1", "true", "yes", "0", "false", "no").
func parseFlag(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("want 1 or 0")
}

// behaviour is what a created container will do, with every duration
// already resolved against the Runtime's timings and divided by its speed.
// It is persisted in snapshots, so the fields are exported to encoding/json.
type behaviour struct {
	// Run is how long the container runs before exiting on its own; -1
	// means until stopped.
	Run        time.Duration `json:"run"`
	ExitCode   int           `json:"exitCode,omitempty"`
	OOM        bool          `json:"oom,omitempty"`
	FailStart  bool          `json:"failStart,omitempty"`
	IgnoreTerm bool          `json:"ignoreTerm,omitempty"`
	StartDelay time.Duration `json:"startDelay,omitempty"`
	StopDelay  time.Duration `json:"stopDelay,omitempty"`
	Health     healthPlan    `json:"health"`
	Output     string        `json:"output,omitempty"`
}

// behaviour combines the knobs with the container's health check, the
// Runtime's timings and its speed.
func (k knobs) behaviour(hc *runtime.HealthCheck, t Timings, speed float64) behaviour {
	or := func(d, def time.Duration) time.Duration {
		if d == unset {
			return def
		}
		return d
	}
	b := behaviour{
		Run:        scale(k.run, speed),
		ExitCode:   k.exitCode,
		OOM:        k.oom,
		FailStart:  k.fail == failStart,
		IgnoreTerm: k.ignoreTerm,
		StartDelay: scale(or(k.startDelay, t.Start), speed),
		StopDelay:  scale(or(k.stopDelay, t.Stop), speed),
		Health:     newHealthPlan(k, hc).scaled(speed),
		Output:     k.output,
	}
	return b
}

// createTime is how long Create takes for these knobs: the create step,
// plus BERTH_SIM_PULL_DELAY when given (Pull cannot see the environment, so
// a scripted pull time is spent here; see doc.go).
func (k knobs) createTime(t Timings, speed float64) time.Duration {
	d := t.Create
	if k.createDelay != unset {
		d = k.createDelay
	}
	if k.pullDelay != unset {
		d += k.pullDelay
	}
	return scale(d, speed)
}

// exitKind says why a container exits (or will exit).
type exitKind uint8

const (
	exitNone    exitKind = iota
	exitNatural          // BERTH_SIM_RUN_SECONDS elapsed
	exitTerm             // honoured SIGTERM: 143
	exitKill             // SIGKILL after the grace, or Remove: 137
	exitFailed           // Start failed: 128
)

// Exit codes of the ways a container ends other than on its own.
const (
	codeSIGTERM     = 128 + 15
	codeSIGKILL     = 128 + 9
	codeStartFailed = 128
)

// exitResult maps how a container ended to its exit code and OOM flag.
func (b behaviour) exitResult(k exitKind) (code int, oom bool) {
	switch k {
	case exitNatural:
		if b.OOM {
			return codeSIGKILL, true
		}
		return b.ExitCode, false
	case exitTerm:
		return codeSIGTERM, false
	case exitKill:
		return codeSIGKILL, false
	default:
		return codeStartFailed, false
	}
}

// stopPlan decides what a running container does when sent SIGTERM with
// the given (already scaled) grace: it exits with 143 after its stop delay
// when it honours the signal and the delay fits in the grace; otherwise it
// is killed (137) when the grace ends.
func (b behaviour) stopPlan(grace time.Duration) (after time.Duration, k exitKind) {
	if grace < 0 {
		grace = 0
	}
	if b.IgnoreTerm || b.StopDelay > grace {
		return grace, exitKill
	}
	return b.StopDelay, exitTerm
}
