package capacity

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// 4 vCPU / 16 GiB, the benchmark's instance type.
var m5xl = InstanceType{CPU: 4096, Memory: 16384}

func tasks(n int, cpu, mem int64, ports ...int) []Task {
	out := make([]Task, n)
	for i := range out {
		out[i] = Task{CPU: cpu, Memory: mem, Ports: ports}
	}
	return out
}

func TestEstimateScaleOut(t *testing.T) {
	cases := []struct {
		name    string
		waiting []Task
		rooms   []Room
		typ     InstanceType
		want    Estimate
	}{
		{"NoTasks", nil, nil, m5xl, Estimate{}},
		{"OneTaskNoInstances", tasks(1, 256, 512), nil, m5xl, Estimate{New: 1, Compatible: 1}},
		{"FourPerInstanceByCPU", tasks(10, 1024, 512), nil, m5xl, Estimate{New: 3, Compatible: 10}},
		{"ByMemory", tasks(40, 256, 3000), nil, m5xl, Estimate{New: 8, Compatible: 40}}, // 5 per instance
		{"FreeRoomFirst", tasks(6, 1024, 1024), []Room{{CPU: 2048, Memory: 8192}}, m5xl, Estimate{New: 1, Compatible: 6}},
		{"FreeRoomTakesAll", tasks(2, 1024, 1024), []Room{{CPU: 2048, Memory: 8192}}, m5xl, Estimate{New: 0, Compatible: 2}},
		{"HostPortOnePerInstance", tasks(3, 256, 256, 80), nil, m5xl, Estimate{New: 3, Compatible: 3}},
		{"HostPortUsedOnExisting", tasks(1, 256, 256, 80), []Room{{CPU: 4096, Memory: 16384, UsedPorts: []int{80}}}, m5xl, Estimate{New: 1, Compatible: 1}},
		{"HostPortFreeOnExisting", tasks(1, 256, 256, 80), []Room{{CPU: 4096, Memory: 16384, UsedPorts: []int{443}}}, m5xl, Estimate{New: 0, Compatible: 1}},
		{"IncompatibleCPU", tasks(2, 8192, 512), nil, m5xl, Estimate{Incompatible: 2}},
		{"IncompatibleMemory", append(tasks(2, 256, 32768), tasks(1, 256, 512)...), nil, m5xl, Estimate{New: 1, Compatible: 1, Incompatible: 2}},
		{"IncompatibleDuplicatePort", []Task{{CPU: 1, Memory: 1, Ports: []int{80, 80}}}, nil, m5xl, Estimate{Incompatible: 1}},
		// 3 big (3072) + 3 small (1024) pack as 3 instances of big+small,
		// which first-fit decreasing finds; in arrival order small tasks
		// first would need 4.
		{"Decreasing", append(tasks(3, 1024, 1024), tasks(3, 3072, 1024)...), nil, m5xl, Estimate{New: 3, Compatible: 6}},
		{"Thousand", tasks(1000, 256, 512), nil, m5xl, Estimate{New: 63, Compatible: 1000}}, // 16 per instance
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := EstimateScaleOut(c.waiting, c.rooms, c.typ); got != c.want {
				t.Fatalf("EstimateScaleOut = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestEstimateScaleOut_Determinism checks that the order of the waiting
// tasks does not change the estimate.
func TestEstimateScaleOut_Determinism(t *testing.T) {
	var waiting []Task
	waiting = append(waiting, tasks(17, 512, 2048)...)
	waiting = append(waiting, tasks(9, 2048, 1024, 8080)...)
	waiting = append(waiting, tasks(31, 256, 512)...)
	rooms := []Room{{CPU: 1024, Memory: 4096}, {CPU: 3000, Memory: 100, UsedPorts: []int{8080}}}
	want := EstimateScaleOut(waiting, rooms, m5xl)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		rng.Shuffle(len(waiting), func(i, j int) { waiting[i], waiting[j] = waiting[j], waiting[i] })
		if got := EstimateScaleOut(waiting, rooms, m5xl); got != want {
			t.Fatalf("shuffled: %+v, want %+v", got, want)
		}
	}
}

func TestReservation(t *testing.T) {
	def := Scaling{Enabled: true, TargetCapacity: 100, MinStep: 1, MaxStep: 10}
	cases := []struct {
		name            string
		instances, busy int
		est             Estimate
		s               Scaling
		want            Metric
	}{
		{"ZeroZero", 0, 0, Estimate{}, def, Metric{Value: 100}},
		{"FromZero", 0, 0, Estimate{New: 1, Compatible: 1}, def, Metric{Value: 200, Needed: 1}},
		{"FromZeroMany", 0, 0, Estimate{New: 25, Compatible: 100}, def, Metric{Value: 200, Needed: 10}},
		{"AllBusy", 4, 4, Estimate{}, def, Metric{Value: 100, Needed: 4, Instances: 4}},
		// §4.2 worked numbers.
		{"FourProvisioningNeedTwo", 4, 4, Estimate{New: 2, Compatible: 4}, def, Metric{Value: 150, Needed: 6, Instances: 4}},
		{"TwoEmptyOfTen", 10, 8, Estimate{}, def, Metric{Value: 80, Needed: 8, Instances: 10}},
		{"AllEmpty", 3, 0, Estimate{}, def, Metric{Value: 0, Instances: 3}},
		{"MinStepRaises", 4, 4, Estimate{New: 1, Compatible: 1}, Scaling{Enabled: true, TargetCapacity: 100, MinStep: 3, MaxStep: 10}, Metric{Value: 175, Needed: 7, Instances: 4}},
		{"MaxStepCaps", 4, 4, Estimate{New: 50, Compatible: 200}, def, Metric{Value: 350, Needed: 14, Instances: 4}},
		{"WaitingFitFreeRoom", 4, 2, Estimate{New: 0, Compatible: 3}, def, Metric{Value: 100, Needed: 4, Instances: 4}},
		{"AllIncompatible", 4, 1, Estimate{Incompatible: 5}, Scaling{Enabled: true, TargetCapacity: 75}, Metric{Value: 75, Needed: 1, Instances: 4, AtTarget: true}},
		{"SomeIncompatible", 2, 2, Estimate{New: 1, Compatible: 1, Incompatible: 5}, def, Metric{Value: 150, Needed: 3, Instances: 2}},
		{"BusyAboveInstancesClamped", 2, 5, Estimate{}, def, Metric{Value: 100, Needed: 2, Instances: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Reservation(c.instances, c.busy, c.est, c.s); got != c.want {
				t.Fatalf("Reservation = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestScalingFromWire(t *testing.T) {
	cases := []struct {
		name string
		in   *wire.ManagedScaling
		want Scaling
	}{
		{"Nil", nil, Scaling{TargetCapacity: 100, MinStep: 1, MaxStep: 10000, Warmup: 300 * time.Second}},
		{"Defaults", &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled)},
			Scaling{Enabled: true, TargetCapacity: 100, MinStep: 1, MaxStep: 10000, Warmup: 300 * time.Second}},
		{"Set", &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled), TargetCapacity: wire.Ptr(int32(90)),
			MinimumScalingStepSize: wire.Ptr(int32(2)), MaximumScalingStepSize: wire.Ptr(int32(5)), InstanceWarmupPeriod: wire.Ptr(int32(1))},
			Scaling{Enabled: true, TargetCapacity: 90, MinStep: 2, MaxStep: 5, Warmup: time.Second}},
		{"Disabled", &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusDisabled), TargetCapacity: wire.Ptr(int32(0))},
			Scaling{TargetCapacity: 100, MinStep: 1, MaxStep: 10000, Warmup: 300 * time.Second}},
		{"OutOfRange", &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled), TargetCapacity: wire.Ptr(int32(150)),
			MinimumScalingStepSize: wire.Ptr(int32(20000)), MaximumScalingStepSize: wire.Ptr(int32(3)), InstanceWarmupPeriod: wire.Ptr(int32(-1))},
			Scaling{Enabled: true, TargetCapacity: 100, MinStep: 10000, MaxStep: 10000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ScalingFromWire(c.in); got != c.want {
				t.Fatalf("ScalingFromWire = %+v, want %+v", got, c.want)
			}
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fleet returns n instances launched at launch, the first busy of them
// running a task.
func fleet(n, busy int, launch time.Time) []Instance {
	out := make([]Instance, n)
	for i := range out {
		out[i] = Instance{ID: "i-" + string(rune('a'+i)), LaunchTime: launch}
		if i < busy {
			out[i].Tasks = 1
		}
	}
	return out
}

// below returns samples every minute from start to end (exclusive) with
// the given value.
func samples(start, end time.Time, v float64) []Sample {
	var out []Sample
	for at := start; at.Before(end); at = at.Add(time.Minute) {
		out = append(out, Sample{At: at, Value: v})
	}
	return out
}

func TestDecide(t *testing.T) {
	on := Scaling{Enabled: true, TargetCapacity: 100, MinStep: 1, MaxStep: 10000, Warmup: 300 * time.Second}
	now := t0.Add(time.Hour)
	old := t0 // launched an hour ago: warm
	type tc struct {
		name      string
		s         Scaling
		g         Group
		instances []Instance
		est       Estimate
		history   []Sample
		lastOut   time.Time
		after     time.Duration
		want      int
		change    bool
		reasonHas string
	}
	cases := []tc{
		{name: "Disabled", s: Scaling{TargetCapacity: 100}, g: Group{Max: 10}, est: Estimate{New: 3, Compatible: 3},
			want: 0, reasonHas: "disabled"},
		{name: "ZeroInstancesNoTasks", s: on, g: Group{Max: 10}, want: 0, reasonHas: "at its target"},
		{name: "ZeroInstancesNoTasksTargetBelow100", s: Scaling{Enabled: true, TargetCapacity: 50}, g: Group{Max: 10}, want: 0, reasonHas: "No task"},
		// §4.2: from zero ECS launches 2 instances at the default target.
		{name: "ScaleFromZero", s: on, g: Group{Max: 10}, est: Estimate{New: 1, Compatible: 1}, want: 2, change: true, reasonHas: "from 0 to 2"},
		{name: "ScaleFromZeroManyTasks", s: on, g: Group{Max: 100}, est: Estimate{New: 10, Compatible: 40}, want: 2, change: true},
		{name: "ScaleFromZeroTarget50", s: Scaling{Enabled: true, TargetCapacity: 50}, g: Group{Max: 100}, est: Estimate{New: 1, Compatible: 1}, want: 4, change: true},
		{name: "ScaleFromZeroMaxStep1", s: Scaling{Enabled: true, TargetCapacity: 100, MaxStep: 1}, g: Group{Max: 10}, est: Estimate{New: 1, Compatible: 1}, want: 1, change: true},
		{name: "ScaleFromZeroMaxZero", s: on, g: Group{Max: 0}, est: Estimate{New: 1, Compatible: 1}, want: 0, reasonHas: "maximum size is 0"},
		{name: "ScaleFromZeroMax1", s: on, g: Group{Max: 1}, est: Estimate{New: 1, Compatible: 1}, want: 1, change: true},
		// §4.2 worked numbers: N=4, 2 more needed ⇒ 6.
		{name: "ScaleOut", s: on, g: Group{Max: 20, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 2, Compatible: 4}, want: 6, change: true, reasonHas: "from 4 to 6"},
		{name: "ScaleOutMinStep", s: Scaling{Enabled: true, TargetCapacity: 100, MinStep: 5, MaxStep: 10}, g: Group{Max: 20, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 2, Compatible: 4}, want: 9, change: true},
		{name: "ScaleOutMaxStep", s: Scaling{Enabled: true, TargetCapacity: 100, MinStep: 1, MaxStep: 3}, g: Group{Max: 20, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 9, Compatible: 30}, want: 7, change: true},
		{name: "ScaleOutCappedByMax", s: on, g: Group{Max: 5, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 9, Compatible: 30}, want: 5, change: true},
		{name: "ScaleOutAtMax", s: on, g: Group{Max: 4, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 9, Compatible: 30}, want: 4, reasonHas: "already covers"},
		{name: "ScaleOutRaisedToMin", s: on, g: Group{Min: 8, Max: 20, Desired: 4}, instances: fleet(4, 4, old), est: Estimate{New: 1, Compatible: 1}, want: 8, change: true},
		// §4.3 step 7: an instance inside its warm-up holds scale-out back.
		{name: "WarmupBlocksScaleOut", s: on, g: Group{Max: 20, Desired: 4}, instances: append(fleet(3, 3, old), Instance{ID: "i-new", LaunchTime: now.Add(-time.Minute), Tasks: 1}),
			est: Estimate{New: 2, Compatible: 4}, want: 4, reasonHas: "warm-up of i-new until 2026-03-01T13:04:00Z"},
		{name: "WarmupOverScaleOut", s: on, g: Group{Max: 20, Desired: 4}, instances: append(fleet(3, 3, old), Instance{ID: "i-new", LaunchTime: now.Add(-300 * time.Second), Tasks: 1}),
			est: Estimate{New: 2, Compatible: 4}, want: 6, change: true},
		{name: "WarmupZero", s: Scaling{Enabled: true, TargetCapacity: 100, Warmup: 0}, g: Group{Max: 20, Desired: 1}, instances: []Instance{{ID: "i-new", LaunchTime: now, Tasks: 1}},
			est: Estimate{New: 1, Compatible: 1}, want: 2, change: true},
		{name: "PendingLaunchCovers", s: on, g: Group{Max: 20, Desired: 6}, instances: fleet(4, 4, old), est: Estimate{New: 2, Compatible: 4}, want: 6, reasonHas: "already covers"},
		{name: "AllIncompatible", s: on, g: Group{Max: 20, Desired: 2}, instances: fleet(2, 0, old), est: Estimate{Incompatible: 3}, history: samples(t0, now, 0), want: 2, reasonHas: "held at the target"},
		{name: "AtTarget", s: on, g: Group{Max: 20, Desired: 3}, instances: fleet(3, 3, old), want: 3, reasonHas: "at its target"},
		// Target below 100: spare instances are kept (§4.4).
		{name: "Target90ScaleOut", s: Scaling{Enabled: true, TargetCapacity: 90}, g: Group{Max: 50, Desired: 10}, instances: fleet(10, 10, old), want: 12, change: true},
		{name: "Target90Steady", s: Scaling{Enabled: true, TargetCapacity: 90}, g: Group{Max: 50, Desired: 10}, instances: fleet(10, 9, old), want: 10, reasonHas: "at its target"},
		{name: "Target50ScaleOut", s: Scaling{Enabled: true, TargetCapacity: 50}, g: Group{Max: 50, Desired: 4}, instances: fleet(4, 3, old), want: 6, change: true},
		{name: "Target50ScaleIn", s: Scaling{Enabled: true, TargetCapacity: 50}, g: Group{Max: 50, Desired: 10}, instances: fleet(10, 2, old), history: samples(t0, now, 20), want: 6, change: true},
		{name: "Target50ScaleInToNeeded", s: Scaling{Enabled: true, TargetCapacity: 50}, g: Group{Max: 50, Desired: 6}, instances: fleet(6, 2, old), history: samples(t0, now, 33), want: 4, change: true},
		// §4.5: 15 minutes below target, and 15 minutes after a scale-out.
		{name: "ScaleIn", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), history: samples(now.Add(-15*time.Minute), now, 80), want: 8, change: true, reasonHas: "from 10 to 8"},
		{name: "ScaleInHalfAtMost", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 0, old), history: samples(t0, now, 0), want: 6, change: true},
		{name: "ScaleInOneAtLeast", s: on, g: Group{Max: 20, Desired: 2}, instances: fleet(2, 0, old), history: samples(t0, now, 0), want: 1, change: true},
		{name: "ScaleInToZero", s: on, g: Group{Max: 20, Desired: 1}, instances: fleet(1, 0, old), history: samples(t0, now, 0), want: 0, change: true},
		{name: "ScaleInNotBelowMin", s: on, g: Group{Min: 9, Max: 20, Desired: 10}, instances: fleet(10, 0, old), history: samples(t0, now, 0), want: 9, change: true},
		{name: "ScaleInAtMin", s: on, g: Group{Min: 10, Max: 20, Desired: 10}, instances: fleet(10, 0, old), history: samples(t0, now, 0), want: 10, reasonHas: "nothing to scale in"},
		{name: "ScaleInNotBelowBusy", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 9, old), history: samples(t0, now, 90), want: 9, change: true},
		{name: "ScaleInDelayBelow", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), history: samples(now.Add(-14*time.Minute), now, 80), want: 10, reasonHas: "below target since 2026-03-01T12:46:00Z"},
		{name: "ScaleInDelayBroken", s: on, g: Group{Max: 20, Desired: 10},
			instances: fleet(10, 8, old), history: append(append(samples(t0, now.Add(-5*time.Minute), 80), Sample{At: now.Add(-5 * time.Minute), Value: 100}), samples(now.Add(-4*time.Minute), now, 80)...),
			want: 10, reasonHas: "below target since"},
		{name: "ScaleInNoHistory", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), want: 10, reasonHas: "below target since"},
		{name: "ScaleInAfterScaleOut", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), history: samples(t0, now, 80), lastOut: now.Add(-10 * time.Minute),
			want: 10, reasonHas: "after the last scale-out"},
		{name: "ScaleInLongAfterScaleOut", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), history: samples(t0, now, 80), lastOut: now.Add(-15 * time.Minute), want: 8, change: true},
		{name: "ScaleInShortPeriod", s: on, g: Group{Max: 20, Desired: 10}, instances: fleet(10, 8, old), history: samples(now.Add(-3*time.Second), now, 80), after: 2 * time.Second, want: 8, change: true},
		{name: "ScaleInNotHeldByWarmup", s: on, g: Group{Max: 20, Desired: 3}, instances: []Instance{{ID: "i-a", LaunchTime: now.Add(-time.Second)}, {ID: "i-b", LaunchTime: old}, {ID: "i-c", LaunchTime: old}},
			history: samples(t0, now, 0), want: 2, change: true},
		{name: "ScaleInBelowDesiredAlready", s: on, g: Group{Max: 20, Desired: 8}, instances: fleet(10, 8, old), history: samples(t0, now, 80), want: 8, reasonHas: "nothing to scale in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := Input{
				Cluster: "prod", Provider: "cp",
				Scaling: c.s, Group: c.g, Instances: c.instances,
				Metric:  Reservation(len(c.instances), Busy(c.instances), c.est, c.s),
				History: c.history, LastScaleOut: c.lastOut, Now: now, ScaleInAfter: c.after,
			}
			d := Decide(in)
			if d.Desired != c.want || d.Change != c.change {
				t.Fatalf("Decide = %+v (metric %+v), want desired %d change %v", d, in.Metric, c.want, c.change)
			}
			if !strings.Contains(d.Reason, c.reasonHas) {
				t.Fatalf("reason %q, want it to contain %q", d.Reason, c.reasonHas)
			}
			if d.Change && !strings.Contains(d.Reason, "CapacityProviderReservation") {
				t.Fatalf("reason %q does not name the metric", d.Reason)
			}
			if d.Change && d.Desired < c.g.Min || d.Desired > max(c.g.Max, c.g.Desired) {
				t.Fatalf("desired %d outside [%d, %d]", d.Desired, c.g.Min, c.g.Max)
			}
			if d.Change && d.ScaleOut(c.g) != (d.Desired > c.g.Desired) {
				t.Fatalf("ScaleOut = %v", d.ScaleOut(c.g))
			}
			// Pure: the same input gives the same decision.
			if again := Decide(in); again != d {
				t.Fatalf("second call %+v, first %+v", again, d)
			}
		})
	}
}

// TestDecide_Converges drives a simulated group from zero to a steady
// state for a service of 40 tasks (4 per instance): the decisions,
// applied as an Auto Scaling group would, end at the 10 instances
// binpacking needs, in few steps and never above that.
func TestDecide_Converges(t *testing.T) {
	s := Scaling{Enabled: true, TargetCapacity: 100, MinStep: 1, MaxStep: 10000, Warmup: 10 * time.Second}
	typ := InstanceType{CPU: 4096, Memory: 16384}
	const total, perInstance = 40, 4
	g := Group{Max: 100}
	var instances []Instance
	var history []Sample
	var lastOut time.Time
	now := t0
	steps := 0
	for tick := 0; tick < 200; tick++ {
		now = now.Add(5 * time.Second)
		// Place as many tasks as the instances hold, in launch order.
		placed := 0
		for i := range instances {
			instances[i].Tasks = min(perInstance, total-placed)
			placed += instances[i].Tasks
		}
		rooms := make([]Room, len(instances))
		for i, in := range instances {
			rooms[i] = Room{CPU: typ.CPU - int64(in.Tasks)*1024, Memory: typ.Memory - int64(in.Tasks)*1024}
		}
		est := EstimateScaleOut(tasks(total-placed, 1024, 1024), rooms, typ)
		m := Reservation(len(instances), Busy(instances), est, s)
		d := Decide(Input{Scaling: s, Group: g, Instances: instances, Metric: m, History: history, LastScaleOut: lastOut, Now: now, ScaleInAfter: time.Minute})
		history = Record(history, Sample{At: now, Value: m.Value}, 2*time.Minute)
		if d.Change {
			steps++
			if d.ScaleOut(g) {
				lastOut = now
			}
			g.Desired = d.Desired
		}
		for len(instances) < g.Desired {
			instances = append(instances, Instance{ID: "i-" + string(rune('A'+len(instances))), LaunchTime: now})
		}
		if len(instances) > total/perInstance {
			t.Fatalf("tick %d: %d instances, more than the %d needed", tick, len(instances), total/perInstance)
		}
	}
	if len(instances) != total/perInstance || g.Desired != total/perInstance {
		t.Fatalf("ended with %d instances, desired %d; want %d", len(instances), g.Desired, total/perInstance)
	}
	if steps > 4 {
		t.Fatalf("%d scaling steps, want at most 4 (2 from zero, then the rest)", steps)
	}
}

func TestBelowSince(t *testing.T) {
	now := t0.Add(time.Hour)
	cases := []struct {
		name    string
		history []Sample
		want    time.Time
	}{
		{"Empty", nil, now},
		{"LastAbove", []Sample{{now.Add(-2 * time.Minute), 50}, {now.Add(-time.Minute), 100}}, now},
		{"AllBelow", samples(now.Add(-5*time.Minute), now, 50), now.Add(-5 * time.Minute)},
		{"RunAfterAbove", []Sample{{now.Add(-3 * time.Minute), 50}, {now.Add(-2 * time.Minute), 120}, {now.Add(-time.Minute), 50}}, now.Add(-time.Minute)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := BelowSince(c.history, now, 100); !got.Equal(c.want) {
				t.Fatalf("BelowSince = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	h := samples(t0, t0.Add(10*time.Minute), 50) // 12:00 … 12:09
	in := slices.Clone(h)
	out := Record(h, Sample{At: t0.Add(10 * time.Minute), Value: 60}, 3*time.Minute)
	if !slices.Equal(h, in) {
		t.Fatal("Record changed its argument")
	}
	// Kept: 12:06 (the newest before the 12:07 cut), 12:07, 12:08, 12:09, 12:10.
	if len(out) != 5 || !out[0].At.Equal(t0.Add(6*time.Minute)) || out[4].Value != 60 {
		t.Fatalf("Record = %+v", out)
	}
	if got := Record(nil, Sample{At: t0, Value: 1}, time.Minute); len(got) != 1 {
		t.Fatalf("Record(nil) = %+v", got)
	}
}

func TestProtect(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	instances := []Instance{
		{ID: "i-busy-new", LaunchTime: at(5), Tasks: 2, Protected: false},
		{ID: "i-busy-old", LaunchTime: at(0), Tasks: 1, Protected: true},
		{ID: "i-empty-mid", LaunchTime: at(3), Protected: true},
		{ID: "i-empty-old", LaunchTime: at(1), Protected: true},
		{ID: "i-empty-new", LaunchTime: at(4), Protected: false},
		{ID: "i-empty-b", LaunchTime: at(2)},
		{ID: "i-empty-a", LaunchTime: at(2), Protected: true},
	}
	cases := []struct {
		name    string
		managed bool
		surplus int
		want    Protection
	}{
		{"Disabled", false, 3, Protection{}},
		{"NoSurplus", true, 0, Protection{Protect: []string{"i-busy-new"}}},
		{"SurplusOldestFirst", true, 2, Protection{Protect: []string{"i-busy-new"}, Unprotect: []string{"i-empty-old", "i-empty-a"}, Terminate: []string{"i-empty-old", "i-empty-a"}}},
		{"TiesByID", true, 3, Protection{Protect: []string{"i-busy-new"}, Unprotect: []string{"i-empty-old", "i-empty-a"}, Terminate: []string{"i-empty-old", "i-empty-a", "i-empty-b"}}},
		// Busy instances are never given up, however large the surplus.
		{"SurplusBeyondEmpty", true, 7, Protection{Protect: []string{"i-busy-new"}, Unprotect: []string{"i-empty-old", "i-empty-a", "i-empty-mid"},
			Terminate: []string{"i-empty-old", "i-empty-a", "i-empty-b", "i-empty-mid", "i-empty-new"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(instances)
			got := Protect(instances, c.managed, c.surplus)
			if !slices.Equal(got.Protect, c.want.Protect) || !slices.Equal(got.Unprotect, c.want.Unprotect) || !slices.Equal(got.Terminate, c.want.Terminate) {
				t.Fatalf("Protect = %+v, want %+v", got, c.want)
			}
			if !slices.Equal(instances, before) {
				t.Fatal("Protect changed its argument")
			}
			// Order of the input does not matter.
			rev := slices.Clone(instances)
			slices.Reverse(rev)
			again := Protect(rev, c.managed, c.surplus)
			if !slices.Equal(again.Terminate, got.Terminate) || !slices.Equal(again.Protect, got.Protect) || !slices.Equal(again.Unprotect, got.Unprotect) {
				t.Fatalf("reversed input: %+v, want %+v", again, got)
			}
		})
	}
}

// TestDecide_ScaleInWithProtection follows a scale-in decision with
// managed termination protection: the instances given up are empty ones,
// and the group keeps every instance that runs a task.
func TestDecide_ScaleInWithProtection(t *testing.T) {
	now := t0.Add(time.Hour)
	instances := fleet(10, 0, t0)
	for _, i := range []int{1, 4, 8} { // busy instances among the oldest and the newest
		instances[i].Tasks = 2
		instances[i].Protected = true
	}
	for i := range instances {
		instances[i].LaunchTime = t0.Add(time.Duration(i) * time.Minute)
	}
	s := Scaling{Enabled: true}
	g := Group{Max: 10, Desired: 10}
	d := Decide(Input{Scaling: s, Group: g, Instances: instances, Metric: Reservation(10, Busy(instances), Estimate{}, s),
		History: samples(t0, now, 30), Now: now})
	if !d.Change || d.Desired != 6 {
		t.Fatalf("Decide = %+v, want a scale-in to 6", d)
	}
	p := Protect(instances, true, len(instances)-d.Desired)
	if want := []string{"i-a", "i-c", "i-d", "i-f"}; !slices.Equal(p.Terminate, want) {
		t.Fatalf("Terminate = %v, want %v", p.Terminate, want)
	}
	if len(p.Protect) != 0 || len(p.Unprotect) != 0 {
		t.Fatalf("Protect = %+v: nothing was protected to begin with but the busy instances", p)
	}
}
