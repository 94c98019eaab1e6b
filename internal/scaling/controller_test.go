package scaling

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/capacity"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

var ns = ecs.Namespace{Partition: "aws", Account: "123456789012", Region: "us-east-1"}

// m5xl is an m5.xlarge: 4 vCPU, 16 GiB.
var m5xl = capacity.InstanceType{CPU: 4096, Memory: 16384}

func provider(target int32, protect bool, instances []control.ProviderInstance, waiting int) control.ProviderState {
	p := control.ProviderState{
		Namespace: ns, Name: "cp", Group: "grp", Clusters: []string{"c"},
		ManagedScaling: wire.ManagedScaling{
			Status: wire.Ptr(wire.ManagedScalingStatusEnabled), TargetCapacity: wire.Ptr(target),
			MinimumScalingStepSize: wire.Ptr(int32(1)), MaximumScalingStepSize: wire.Ptr(int32(10000)), InstanceWarmupPeriod: wire.Ptr(int32(60)),
		},
		ManagedTerminationProtection: protect, ManagedDraining: true,
		Instances: instances,
	}
	for i := range waiting {
		p.Waiting = append(p.Waiting, control.WaitingTask{Cluster: "c", TaskID: fmt.Sprint(i), CPU: 1024, Memory: 4096})
	}
	return p
}

// ci is a registered container instance with tasks of 1 vCPU / 4 GiB.
func ci(id string, tasks int) control.ProviderInstance {
	return control.ProviderInstance{EC2InstanceID: id, Status: "ACTIVE", AgentConnected: true, Tasks: tasks,
		CPU: 4096, Memory: 16384, FreeCPU: 4096 - int64(tasks)*1024, FreeMemory: 16384 - int64(tasks)*4096}
}

func group(desired int32, instances ...autoscaling.Instance) *autoscaling.Group {
	return &autoscaling.Group{Name: "grp", MinSize: 0, MaxSize: 20, DesiredCapacity: desired, Instances: instances}
}

func gi(id string, age time.Duration, protected bool) autoscaling.Instance {
	return autoscaling.Instance{ID: id, LifecycleState: autoscaling.StateInService, LaunchTime: t0.Add(-age), ProtectedFromScaleIn: protected}
}

func below(d time.Duration) memory {
	var m memory
	for at := t0.Add(-d); at.Before(t0); at = at.Add(time.Minute) {
		m.History = append(m.History, capacity.Sample{At: at, Value: 50})
	}
	return m
}

// TestEvaluate: one evaluation of one provider, in the cases of spec
// §4.2–4.6.
func TestEvaluate(t *testing.T) {
	cases := []struct {
		name       string
		p          control.ProviderState
		g          *autoscaling.Group
		mem        memory
		typeOK     bool
		metric     float64
		desired    int  // the decision's desired capacity
		change     bool // whether it changes
		protect    []string
		unprotect  []string
		reasonPart string
	}{
		{
			name: "FromZero", p: provider(100, true, nil, 40), g: group(0), typeOK: true,
			metric: 200, desired: 2, change: true, reasonPart: "changing the desired capacity from 0 to 2",
		},
		{
			name: "NothingAtAll", p: provider(100, true, nil, 0), g: group(0), typeOK: true,
			metric: 100, desired: 0,
		},
		{
			name: "WarmUpHoldsScaleOut",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 4), ci("i-b", 4)}, 12),
			g:    group(2, gi("i-a", 10*time.Second, true), gi("i-b", 10*time.Second, true)), typeOK: true,
			metric: 250, desired: 2, reasonPart: "warm-up",
		},
		{
			// 12 tasks of 1 vCPU need 3 m5.xlarge: M = 2 + 3.
			name: "ScaleOutByEstimate",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 4), ci("i-b", 4)}, 12),
			g:    group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true)), typeOK: true,
			metric: 250, desired: 5, change: true,
		},
		{
			// An instance still launching is room for 4 of the tasks.
			name: "LaunchingInstanceIsRoom",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 4)}, 4),
			g:    group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true)), typeOK: true,
			metric: 100, desired: 2,
		},
		{
			// A DRAINING instance offers no room.
			name: "DrainingIsNoRoom",
			p: provider(100, true, []control.ProviderInstance{ci("i-a", 1),
				{EC2InstanceID: "i-b", Status: "DRAINING", CPU: 4096, Memory: 16384, FreeCPU: 4096, FreeMemory: 16384}}, 3),
			g: group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true)), typeOK: true,
			metric: 100, desired: 2,
		},
		{
			name:   "UnknownTypeUsesRegistered",
			p:      provider(100, true, []control.ProviderInstance{ci("i-a", 4)}, 8),
			g:      group(1, gi("i-a", time.Hour, true)),
			metric: 300, desired: 3, change: true,
		},
		{
			// 1 busy of 4, below target for less than the period.
			name: "ScaleInWaits",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0), ci("i-c", 0), ci("i-d", 0)}, 0),
			g:    group(4, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true), gi("i-c", time.Hour, true), gi("i-d", time.Hour, true)),
			mem:  below(5 * time.Minute), typeOK: true,
			metric: 25, desired: 4, reasonPart: "below target since",
		},
		{
			// Below target for the whole period: at most half the group a
			// step (4 − 1), the oldest empty instance unprotected.
			name: "ScaleInProtectsBusy",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0), ci("i-c", 0), ci("i-d", 0)}, 0),
			g:    group(4, gi("i-a", time.Hour, false), gi("i-b", 2*time.Hour, true), gi("i-c", time.Hour, true), gi("i-d", time.Hour, true)),
			mem:  below(20 * time.Minute), typeOK: true,
			metric: 25, desired: 3, change: true, protect: []string{"i-a"}, unprotect: []string{"i-b"},
			reasonPart: "AlarmLow",
		},
		{
			name: "ScaleInAfterScaleOutWaits",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0)}, 0),
			g:    group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true)),
			mem:  memory{History: below(20 * time.Minute).History, LastScaleOut: t0.Add(-time.Minute)}, typeOK: true,
			metric: 50, desired: 2, reasonPart: "after the last scale-out",
		},
		{
			// Target 50: one busy instance wants two.
			name: "TargetBelow100KeepsSpare",
			p:    provider(50, true, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0)}, 0),
			g:    group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true)),
			mem:  below(20 * time.Minute), typeOK: true,
			metric: 50, desired: 2,
		},
		{
			name: "NoManagedTerminationProtection",
			p:    provider(100, false, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0)}, 0),
			g:    group(2, gi("i-a", time.Hour, false), gi("i-b", time.Hour, false)),
			mem:  below(20 * time.Minute), typeOK: true,
			metric: 50, desired: 1, change: true,
		},
		{
			// Terminating instances do not count.
			name: "TerminatingNotCounted",
			p:    provider(100, true, []control.ProviderInstance{ci("i-a", 4)}, 0),
			g: group(1, gi("i-a", time.Hour, true),
				autoscaling.Instance{ID: "i-b", LifecycleState: autoscaling.StateTerminating, LaunchTime: t0.Add(-time.Hour)}),
			typeOK: true, metric: 100, desired: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := evaluate(evalInput{Provider: tc.p, Group: tc.g, Memory: tc.mem, Now: t0, ScaleInAfter: 15 * time.Minute, Type: m5xl, TypeOK: tc.typeOK})
			if st.Metric.Value != tc.metric || st.Decision.Desired != tc.desired || st.Decision.Change != tc.change {
				t.Fatalf("metric %v desired %d change %v (%s); want %v %d %v", st.Metric.Value, st.Decision.Desired, st.Decision.Change,
					st.Decision.Reason, tc.metric, tc.desired, tc.change)
			}
			if !slices.Equal(st.Protection.Protect, tc.protect) || !slices.Equal(st.Protection.Unprotect, tc.unprotect) {
				t.Fatalf("protection %+v; want protect %v unprotect %v", st.Protection, tc.protect, tc.unprotect)
			}
			if !strings.Contains(st.Decision.Reason, tc.reasonPart) {
				t.Fatalf("reason %q does not say %q", st.Decision.Reason, tc.reasonPart)
			}
		})
	}
}

// fakeCluster and fakeGroups record the controller's calls.
type fakeCluster struct {
	mu        sync.Mutex
	providers []control.ProviderState
	records   []control.ScalingRecord
}

func (f *fakeCluster) ManagedProviders() []control.ProviderState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.providers)
}

func (f *fakeCluster) RecordManagedScaling(_ context.Context, _ ecs.Namespace, _, _ string, r control.ScalingRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, r)
	return nil
}

type fakeGroups struct {
	mu    sync.Mutex
	g     *autoscaling.Group
	calls []string
}

func (f *fakeGroups) Get(_ context.Context, _, _, name string) (*autoscaling.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.g == nil || f.g.Name != name {
		return nil, autoscaling.ErrGroupNotFound
	}
	g := *f.g
	g.Instances = slices.Clone(f.g.Instances)
	return &g, nil
}

func (f *fakeGroups) SetDesiredCapacity(_ context.Context, _, _, _ string, desired int32, cause string) (int32, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("desired %d", desired))
	changed := f.g.DesiredCapacity != desired
	f.g.DesiredCapacity, f.g.DesiredCause = desired, cause
	return desired, changed, nil
}

func (f *fakeGroups) SetInstanceProtection(_ context.Context, _, _, _ string, ids []string, protected bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	f.calls = append(f.calls, fmt.Sprintf("protect %v %v", ids, protected))
	for i := range f.g.Instances {
		if slices.Contains(ids, f.g.Instances[i].ID) {
			f.g.Instances[i].ProtectedFromScaleIn = protected
		}
	}
	return nil
}

// TestController_Evaluate: the controller keeps the metric's history
// between evaluations (a scale-in comes only after ScaleInAfter below
// target), applies protection before the desired capacity, records the
// metric, and records a missing group as a failure.
func TestController_Evaluate(t *testing.T) {
	now := t0
	cl := &fakeCluster{providers: []control.ProviderState{provider(100, true, []control.ProviderInstance{ci("i-a", 2), ci("i-b", 0)}, 0)}}
	gs := &fakeGroups{g: group(2, gi("i-a", time.Hour, true), gi("i-b", time.Hour, true))}
	c, err := New(Config{Cluster: cl, Groups: gs, Now: func() time.Time { return now }, ScaleInAfter: 3 * time.Minute,
		InstanceType: func(string) (capacity.InstanceType, bool) { return m5xl, true }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		steps, err := c.Evaluate(ctx)
		if err != nil || len(steps) != 1 || steps[0].Decision.Change {
			t.Fatalf("evaluation %d: %+v %v", i, steps, err)
		}
		now = now.Add(time.Minute)
	}
	steps, err := c.Evaluate(ctx)
	if err != nil || len(steps) != 1 || !steps[0].Decision.Change || steps[0].Decision.Desired != 1 {
		t.Fatalf("scale-in evaluation: %+v %v", steps, err)
	}
	want := []string{"protect [i-b] false", "desired 1"}
	if !slices.Equal(gs.calls, want) {
		t.Fatalf("calls %v, want %v", gs.calls, want)
	}
	if !strings.Contains(gs.g.DesiredCause, "TargetTracking-cp-AlarmLow") {
		t.Fatalf("cause %q", gs.g.DesiredCause)
	}
	if len(cl.records) != 4 || cl.records[3].Metric != 50 {
		t.Fatalf("records %+v", cl.records)
	}

	gs.g = nil
	if _, err := c.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if r := cl.records[len(cl.records)-1]; !strings.Contains(r.Failure, "grp was not found") {
		t.Fatalf("missing group recorded as %+v", r)
	}

	// Managed scaling disabled, or no cluster: not evaluated.
	p := provider(100, true, nil, 3)
	p.ManagedScaling.Status = wire.Ptr(wire.ManagedScalingStatusDisabled)
	q := provider(100, true, nil, 3)
	q.Clusters = nil
	cl.providers = []control.ProviderState{p, q}
	if steps, err := c.Evaluate(ctx); err != nil || len(steps) != 0 {
		t.Fatalf("disabled: %+v %v", steps, err)
	}
}

// TestController_StartClose: the loop evaluates every interval and stops
// on Close.
func TestController_StartClose(t *testing.T) {
	cl := &fakeCluster{providers: []control.ProviderState{provider(100, true, nil, 4)}}
	gs := &fakeGroups{g: group(0)}
	c, err := Start(Config{Cluster: cl, Groups: gs, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		gs.mu.Lock()
		d := gs.g.DesiredCapacity
		gs.mu.Unlock()
		if d == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never scaled out from zero")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// drainControl answers DrainForTermination with a task count that drops.
type drainControl struct {
	mu    sync.Mutex
	tasks int
	calls int
}

func (d *drainControl) DrainForTermination(context.Context, ecs.Namespace, string, string) (control.DrainState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	st := control.DrainState{Managed: true, Tasks: d.tasks}
	if d.tasks > 0 {
		d.tasks--
	}
	return st, nil
}

// TestDrainer: the termination waits until the instance has no task left,
// or until MaxWait.
func TestDrainer(t *testing.T) {
	ctx := context.Background()
	dc := &drainControl{tasks: 3}
	d := &Drainer{Control: dc, Poll: time.Millisecond}
	if err := d.BeforeTerminate(ctx, autoscaling.Request{Account: ns.Account, Region: ns.Region, Group: "grp", InstanceID: "i-a"}); err != nil {
		t.Fatal(err)
	}
	if dc.calls != 4 {
		t.Fatalf("%d calls, want 4", dc.calls)
	}
	dc = &drainControl{tasks: 1 << 30}
	d = &Drainer{Control: dc, Poll: time.Millisecond, MaxWait: 20 * time.Millisecond}
	if err := d.BeforeTerminate(ctx, autoscaling.Request{InstanceID: "i-a"}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	d = &Drainer{Control: &drainControl{tasks: 1 << 30}, Poll: time.Millisecond}
	if err := d.BeforeTerminate(cctx, autoscaling.Request{InstanceID: "i-a"}); err == nil {
		t.Fatal("a cancelled wait returned nil")
	}
}
