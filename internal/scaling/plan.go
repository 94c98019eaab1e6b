package scaling

import (
	"math"
	"time"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/capacity"
	"github.com/berth-dev/berth/internal/control"
)

// memory is what the controller keeps of one provider between
// evaluations: the metric's history and the last scale-out (spec §4.5).
type memory struct {
	History      []capacity.Sample
	LastScaleOut time.Time
}

// Step is one evaluation of one provider: what was read, computed and
// decided. It is a pure function of its inputs (Evaluate).
type Step struct {
	Provider string
	Cluster  string
	Group    string
	Scaling  capacity.Scaling
	// Instances are the group's instances that count (not Terminating),
	// as scaling sees them.
	Instances []capacity.Instance
	Estimate  capacity.Estimate
	Metric    capacity.Metric
	Decision  capacity.Decision
	// Protection is what managed termination protection changes (empty
	// when it is disabled).
	Protection capacity.Protection
}

// evalInput is everything Evaluate depends on.
type evalInput struct {
	Provider     control.ProviderState
	Group        *autoscaling.Group
	Memory       memory
	Now          time.Time
	ScaleInAfter time.Duration
	// Type is the size of the group's instance type, ok false when it is
	// unknown.
	Type   capacity.InstanceType
	TypeOK bool
}

// evaluate computes one provider's step (spec §4.2–4.6):
//
//  1. the group's instances that are not Terminating are N; each is matched
//     to its container instance by EC2 instance id for its non-daemon task
//     count and free room. [impl] An instance not registered yet counts
//     as an empty instance of the group's type, so the estimate does not
//     launch again for tasks that the arriving instances will take; a
//     DRAINING one offers no room.
//  2. capacity.EstimateScaleOut over the tasks waiting for the provider,
//     then capacity.Reservation (M/N) and capacity.Decide (target
//     tracking, with the metric's history and the last scale-out).
//  3. With managed termination protection, capacity.Protect with the
//     surplus (N − the new desired capacity).
//
// [impl] The instance type is the group's (the built-in table); when it
// is unknown, the largest registered instance of the group, and with none
// an instance large enough for any task (so the waiting tasks ask for one
// instance and the step bounds decide).
func evaluate(in evalInput) Step {
	p, g := in.Provider, in.Group
	st := Step{Provider: p.Name, Group: p.Group, Scaling: capacity.ScalingFromWire(&p.ManagedScaling)}
	if len(p.Clusters) > 0 {
		st.Cluster = p.Clusters[0]
	}
	byID := make(map[string]control.ProviderInstance, len(p.Instances))
	for _, ci := range p.Instances {
		byID[ci.EC2InstanceID] = ci
	}
	typ := in.Type
	if !in.TypeOK {
		for _, ci := range p.Instances {
			typ.CPU, typ.Memory = max(typ.CPU, ci.CPU), max(typ.Memory, ci.Memory)
		}
		if typ.CPU == 0 || typ.Memory == 0 {
			typ = capacity.InstanceType{CPU: math.MaxInt32, Memory: math.MaxInt32}
		}
	}
	var rooms []capacity.Room
	for _, gi := range g.Instances {
		if gi.LifecycleState == autoscaling.StateTerminating {
			continue
		}
		ci, registered := byID[gi.ID]
		st.Instances = append(st.Instances, capacity.Instance{ID: gi.ID, LaunchTime: gi.LaunchTime, Tasks: ci.Tasks, Protected: gi.ProtectedFromScaleIn})
		switch {
		case !registered:
			rooms = append(rooms, capacity.Room{CPU: typ.CPU, Memory: typ.Memory})
		case ci.Status == "ACTIVE":
			rooms = append(rooms, capacity.Room{CPU: ci.FreeCPU, Memory: ci.FreeMemory, UsedPorts: ci.UsedPorts})
		}
	}
	waiting := make([]capacity.Task, 0, len(p.Waiting))
	for _, w := range p.Waiting {
		waiting = append(waiting, capacity.Task{CPU: w.CPU, Memory: w.Memory, Ports: w.Ports})
	}
	st.Estimate = capacity.EstimateScaleOut(waiting, rooms, typ)
	st.Metric = capacity.Reservation(len(st.Instances), capacity.Busy(st.Instances), st.Estimate, st.Scaling)
	st.Decision = capacity.Decide(capacity.Input{
		Cluster:      st.Cluster,
		Provider:     p.Name,
		Scaling:      st.Scaling,
		Group:        capacity.Group{Min: int(g.MinSize), Max: int(g.MaxSize), Desired: int(g.DesiredCapacity)},
		Instances:    st.Instances,
		Metric:       st.Metric,
		History:      in.Memory.History,
		LastScaleOut: in.Memory.LastScaleOut,
		Now:          in.Now,
		ScaleInAfter: in.ScaleInAfter,
	})
	if p.ManagedTerminationProtection {
		st.Protection = capacity.Protect(st.Instances, true, max(len(st.Instances)-st.Decision.Desired, 0))
	}
	return st
}

// remember is the provider's memory after a step applied at now: the
// metric recorded, and the scale-out if the step raised the desired
// capacity.
func remember(m memory, st Step, g *autoscaling.Group, now time.Time, keep time.Duration) memory {
	out := memory{History: capacity.Record(m.History, capacity.Sample{At: now, Value: st.Metric.Value}, keep), LastScaleOut: m.LastScaleOut}
	if st.Decision.ScaleOut(capacity.Group{Min: int(g.MinSize), Max: int(g.MaxSize), Desired: int(g.DesiredCapacity)}) {
		out.LastScaleOut = now
	}
	return out
}
