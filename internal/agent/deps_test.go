package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

func TestValidateTask(t *testing.T) {
	c := func(name string, deps ...string) acs.Container {
		out := acs.Container{Name: name}
		for _, d := range deps {
			n, cond, _ := strings.Cut(d, ":")
			out.DependsOn = append(out.DependsOn, acs.ContainerDependency{ContainerName: n, Condition: cond})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		containers []acs.Container
		want       string // "" = valid
	}{
		{"OK", []acs.Container{c("a"), c("b", "a:START", "c:healthy"), c("c")}, ""},
		{"ErrNoContainers", nil, "no containers"},
		{"ErrNoName", []acs.Container{c("")}, "no name"},
		{"ErrDuplicate", []acs.Container{c("a"), c("a")}, "two containers"},
		{"ErrUnknownDependency", []acs.Container{c("a", "z:START")}, "not another container"},
		{"ErrSelfDependency", []acs.Container{c("a", "a:START")}, "not another container"},
		{"ErrCondition", []acs.Container{c("a", "b:READY"), c("b")}, "unknown dependency condition"},
		{"ErrCycle", []acs.Container{c("a", "b:START"), c("b", "c:START"), c("c", "a:COMPLETE")}, "cycle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateTask(&acs.Task{ARN: testTaskARN, Containers: tc.containers})
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("validateTask = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEvalDeps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	code := func(n int) *int { return &n }
	running := containerState{Status: statusRunning, StartedAt: t0}
	healthy := containerState{Status: statusRunning, StartedAt: t0, Health: runtime.HealthHealthy}
	exited0 := containerState{Status: statusStopped, StartedAt: t0, ExitCode: code(0)}
	exited1 := containerState{Status: statusStopped, StartedAt: t0, ExitCode: code(1)}
	neverRan := containerState{Status: statusStopped}
	for _, tc := range []struct {
		name         string
		cond         string
		dep          containerState
		startTimeout int64
		now          time.Time
		want         depVerdict
	}{
		{"StartWaits", condStart, containerState{}, 0, t0, depWait},
		{"StartRunning", condStart, running, 0, t0, depReady},
		{"StartExitedCounts", condStart, exited1, 0, t0, depReady},
		{"StartNeverRan", condStart, neverRan, 0, t0, depFailed},
		{"CompleteWaits", condComplete, running, 0, t0, depWait},
		{"CompleteAnyCode", condComplete, exited1, 0, t0, depReady},
		{"CompleteNeverRan", condComplete, neverRan, 0, t0, depFailed},
		{"SuccessZero", condSuccess, exited0, 0, t0, depReady},
		{"SuccessNonZero", condSuccess, exited1, 0, t0, depFailed},
		{"HealthyWaits", condHealthy, running, 0, t0, depWait},
		{"Healthy", condHealthy, healthy, 0, t0, depReady},
		{"HealthyExited", condHealthy, exited0, 0, t0, depFailed},
		{"TimeoutPending", condHealthy, running, 10, t0.Add(9 * time.Second), depWait},
		{"TimeoutPassed", condHealthy, running, 10, t0.Add(10 * time.Second), depFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &acs.Task{Containers: []acs.Container{
				{Name: "dep", StartTimeout: tc.startTimeout},
				{Name: "app", DependsOn: []acs.ContainerDependency{{ContainerName: "dep", Condition: tc.cond}}},
			}}
			res := evalDeps(task, []containerState{tc.dep, {}}, 1, t0, tc.now)
			if res.verdict != tc.want {
				t.Fatalf("verdict %d (%q), want %d", res.verdict, res.reason, tc.want)
			}
			if tc.want == depWait && tc.startTimeout > 0 && !res.deadline.Equal(t0.Add(10*time.Second)) {
				t.Fatalf("deadline %v", res.deadline)
			}
			if tc.want == depWait && tc.cond == condHealthy && tc.dep.Status == statusRunning && len(res.healthOf) != 1 {
				t.Fatalf("healthOf %v", res.healthOf)
			}
		})
	}
}
