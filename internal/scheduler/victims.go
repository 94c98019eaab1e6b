package scheduler

// VictimRequest asks which tasks of a group to stop when a service scales
// in (spec §6.3 scale-in column, §6.7).
type VictimRequest struct {
	// Count is the number of tasks to stop.
	Count int
	// Group is the service's task group ("service:<name>"); only tasks of
	// this group in Candidate.Tasks are considered.
	Group string
	// Strategies are the service's placement strategies; empty means the
	// service default (ServiceDefaultStrategies), whose mirror is §6.7:
	// the zone with the most tasks of the service, then the instance with
	// the most.
	Strategies []Strategy
	// Seed drives the random choices, as in Request.Seed.
	Seed uint64
}

// Victim is a task chosen to stop and the instance it runs on.
type Victim struct {
	TaskARN, InstanceARN string
}

// PickVictims chooses req.Count tasks of req.Group to stop, one at a time,
// each choice updating the counts the next one sees. Candidates of any
// status are considered (their Tasks list must hold the group's live
// tasks). Fewer victims are returned when the group has fewer tasks.
//
// Ranking, exactly (spec §6.3, §6.7 [impl]): tasks marked Preferred
// (unhealthy or not yet RUNNING) go first; then one key per strategy,
// compared in order, higher wins:
//   - binpack cpu|memory: the instance's remaining amount after the stop
//     (the instance that will have the most left loses the task);
//   - spread instanceId|host: tasks of the group on the instance;
//   - spread attribute:X: tasks of the group in the instance's X bucket;
//   - random: a pseudo-random priority from (Seed, step, task ARN);
//
// remaining ties go to that pseudo-random priority, then the lowest task
// ARN. Like Place, the result does not depend on the order of cands or of
// their tasks. The error is a *RequestError for an invalid strategy or a
// negative count.
func PickVictims(req VictimRequest, cands []Candidate) ([]Victim, error) {
	if req.Count < 0 {
		return nil, requestErrorf("count", "the task count must not be negative, got %d", req.Count)
	}
	strategies := req.Strategies
	if len(strategies) == 0 {
		strategies = ServiceDefaultStrategies()
	}
	ranks, err := compileStrategies(strategies)
	if err != nil {
		return nil, err
	}

	type host struct {
		c        *Candidate
		cpu, mem int64
		group    int64
		buckets  [MaxStrategies]int32
	}
	type task struct {
		t    *TaskInfo
		h    *host
		hash uint64
	}
	hosts := make([]host, len(cands))
	var tasks []task
	var counts [MaxStrategies][]int64
	var bk [MaxStrategies]bucketer
	for i := range cands {
		c := &cands[i]
		h := &hosts[i]
		h.c, h.cpu, h.mem = c, c.RemainingCPU, c.RemainingMemory
		for j := range c.Tasks {
			if t := &c.Tasks[j]; t.Group == req.Group {
				tasks = append(tasks, task{t: t, h: h, hash: fingerprint(t.ARN)})
				h.group++
			}
		}
		for r, rk := range ranks {
			if rk.kind != rankSpreadAttribute {
				continue
			}
			b := bk[r].bucket(c.Attributes[rk.attr])
			h.buckets[r] = b
			if int(b) == len(counts[r]) {
				counts[r] = append(counts[r], 0)
			}
			counts[r][b] += h.group
		}
	}

	// keys fills k with the task's keys (higher is better) for the step
	// whose salt is given; k[0] is the Preferred flag.
	keys := func(x *task, salt uint64, k *[MaxStrategies + 1]uint64) {
		k[0] = 0
		if x.t.Preferred {
			k[0] = 1
		}
		for r, rk := range ranks {
			var v uint64
			switch rk.kind {
			case rankBinpackCPU:
				v = orderedKey(x.h.cpu + x.t.CPU)
			case rankBinpackMemory:
				v = orderedKey(x.h.mem + x.t.Memory)
			case rankSpreadInstance:
				v = uint64(x.h.group)
			case rankSpreadAttribute:
				v = uint64(counts[r][x.h.buckets[r]])
			case rankRandom:
				v = mix64(x.hash ^ salt)
			}
			k[r+1] = v
		}
	}

	var out []Victim
	n := len(ranks) + 1
	for step := 0; step < req.Count && len(tasks) > 0; step++ {
		salt := taskSalt(req.Seed, step)
		best := 0
		var bkeys, k [MaxStrategies + 1]uint64
		keys(&tasks[0], salt, &bkeys)
		for i := 1; i < len(tasks); i++ {
			keys(&tasks[i], salt, &k)
			better, decided := false, false
			for j := range n {
				if k[j] != bkeys[j] {
					better, decided = k[j] > bkeys[j], true
					break
				}
			}
			if !decided {
				pa, pb := mix64(tasks[i].hash^salt), mix64(tasks[best].hash^salt)
				better = pa < pb || pa == pb && tasks[i].t.ARN < tasks[best].t.ARN
			}
			if better {
				best, bkeys = i, k
			}
		}
		x := tasks[best]
		out = append(out, Victim{TaskARN: x.t.ARN, InstanceARN: x.h.c.ARN})
		x.h.cpu += x.t.CPU
		x.h.mem += x.t.Memory
		x.h.group--
		for r, rk := range ranks {
			if rk.kind == rankSpreadAttribute {
				counts[r][x.h.buckets[r]]--
			}
		}
		tasks[best] = tasks[len(tasks)-1]
		tasks = tasks[:len(tasks)-1]
	}
	return out, nil
}
