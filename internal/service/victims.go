package service

import "github.com/berth-dev/berth/internal/scheduler"

// victimGroup is the task group given to scheduler.PickVictims: every
// task passed to it belongs to this service.
const victimGroup = "service"

// pick chooses n tasks of pool to stop with the scheduler's scale-in rule
// (§6.3, §6.7): tasks that are not healthy first, then the mirror of the
// service's placement strategies (by default the zone, then the instance,
// with the most tasks of the pool). Tasks without an instance (Fargate)
// are each their own host. Only the pool's tasks are counted, so the
// balance kept is the pool's own. The result is in stop order.
func (d *decider) pick(pool []*Task, n int) []*Task {
	if n <= 0 || len(pool) == 0 {
		return nil
	}
	if n >= len(pool) { // all of them: the order does not matter
		return pool
	}
	byID := make(map[string]*Task, len(pool))
	index := make(map[string]int)
	var cands []scheduler.Candidate
	for _, t := range pool {
		byID[t.ID] = t
		key, az := "task/"+t.ID, t.AvailabilityZone
		var cpu, mem int64
		if t.InstanceID != "" {
			key = "instance/" + t.InstanceID
			if in := d.inst[t.InstanceID]; in != nil {
				cpu, mem = in.RemainingCPU, in.RemainingMemory
				if in.AvailabilityZone != "" {
					az = in.AvailabilityZone
				}
			}
		}
		i, ok := index[key]
		if !ok {
			i = len(cands)
			index[key] = i
			cands = append(cands, scheduler.Candidate{
				ARN:             key,
				ID:              key,
				Status:          scheduler.StatusActive,
				Attributes:      map[string]string{scheduler.AttributeAZ: az},
				RemainingCPU:    cpu,
				RemainingMemory: mem,
			})
		}
		cands[i].Tasks = append(cands[i].Tasks, scheduler.TaskInfo{
			ARN:       t.ID,
			Group:     victimGroup,
			CPU:       t.CPU,
			Memory:    t.Memory,
			Preferred: !d.healthy(t),
		})
	}
	req := scheduler.VictimRequest{Count: n, Group: victimGroup, Strategies: d.spec.PlacementStrategies, Seed: d.seed()}
	victims, err := scheduler.PickVictims(req, cands)
	if err != nil { // an invalid strategy: use the service default
		req.Strategies = nil
		victims, _ = scheduler.PickVictims(req, cands)
	}
	out := make([]*Task, 0, len(victims))
	for _, v := range victims {
		out = append(out, byID[v.TaskARN])
	}
	return out
}
