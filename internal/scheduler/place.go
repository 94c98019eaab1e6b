package scheduler

import (
	"cmp"
	"slices"
	"strings"
)

// Checks in evaluation order (spec §6.2 table order, then the constraints
// of §6.4 in request order). A slot records the first check it fails; the
// order also defines the "closest matching instance".
const (
	checkOK uint8 = iota
	checkCPU
	checkMemory
	checkPorts
	checkPortsUDP
	checkPortLimit
	checkENI
	checkGPU
	checkAgent
	checkAttribute
	checkLocation
	checkConstraint // + i for Request.Constraints[i]

	// checkIneligible marks an instance that is not a candidate at all
	// (status other than ACTIVE): it gets no failure entry in Place.
	checkIneligible = 255
)

var checkReasons = [...]string{
	checkCPU:       ReasonCPU,
	checkMemory:    ReasonMemory,
	checkPorts:     ReasonPorts,
	checkPortsUDP:  ReasonPortsUDP,
	checkPortLimit: ReasonPorts,
	checkENI:       ReasonENI,
	checkGPU:       ReasonGPU,
	checkAgent:     ReasonAgent,
	checkAttribute: ReasonAttribute,
	checkLocation:  ReasonLocation,
}

func (cp *compiled) reason(check uint8) string {
	if check >= checkConstraint {
		if cp.constraints[check-checkConstraint].distinct {
			return ReasonDistinctInstance
		}
		return ReasonMemberOf
	}
	return checkReasons[check]
}

// slot is the scheduler's working copy of one candidate: the candidate plus
// what the plan being built has charged to it (Nomad's plan-aware context).
type slot struct {
	c       *Candidate
	cpu     int64 // remaining CPU after this plan's charges
	mem     int64 // remaining memory after this plan's charges
	enis    int   // remaining ENI slots after this plan's charges
	gpus    int   // GPUs this plan took (from the front of RemainingGPUs)
	placed  int   // tasks this plan put here
	group   int   // tasks of the request's group before this plan
	check   uint8 // first failing check, checkOK when the task fits
	hashed  bool
	hash    uint64               // fingerprint of the ARN, once hashed
	buckets [MaxStrategies]int32 // spread-by-attribute bucket per rank
}

// placer holds the state of one Place call.
type placer struct {
	cp    *compiled
	slots []slot
	// counts[r][b] is the number of tasks of the group in bucket b of the
	// spread-by-attribute rank r (including this plan's placements).
	counts [MaxStrategies][]int64
}

// Place chooses an instance for each of req.Count copies of a task (spec
// §6.1): it keeps the ACTIVE candidates, drops those that fail the resource
// and attribute checks (§6.2) or a constraint (§6.4), ranks the rest by the
// strategies (§6.3) and takes the best. Each placement is charged to the
// chosen instance before the next task is placed, so a plan never
// over-commits an instance. Placement stops at the first task that fits
// nowhere: the remaining tasks cannot fit either, and Plan.Failures
// records why each candidate was refused at that point.
//
// Place is a pure function: it does not modify cands, and the same req
// (including Seed) and the same candidates in any order give the same Plan.
// It returns a *RequestError for an invalid request, and no other error.
//
// Ranking, exactly (spec §6.3 [impl]): every feasible instance gets one key
// per strategy, compared lexicographically in strategy order, lower wins:
//   - binpack cpu|memory: the remaining amount (after this plan's charges);
//   - spread instanceId|host: tasks of req.Group on the instance;
//   - spread attribute:X: tasks of req.Group on all candidates (any status)
//     whose attribute X has the same value; instances without X form one
//     bucket with the value "";
//   - random: a pseudo-random priority drawn from (Seed, task index, ARN).
//
// Instances equal on every key are ordered by that same pseudo-random
// priority (ties random, §6.1 step 4), then by ARN. The priority depends
// on the ARN, not the input position, so no sort is needed for
// determinism, and it is drawn afresh for every task, so an unranked or
// random request is uniform over the feasible instances for each task.
func Place(req Request, cands []Candidate) (Plan, error) {
	cp, err := compile(&req)
	if err != nil {
		return Plan{}, err
	}
	var plan Plan
	if req.Count == 0 {
		return plan, nil
	}
	pl := &placer{cp: cp, slots: make([]slot, len(cands))}
	live := pl.init(cands)
	for t := range req.Count {
		if len(live) == 0 {
			plan.Unplaced = req.Count - t
			plan.Failures, plan.Closest = pl.failures()
			break
		}
		pos := pl.best(live, t)
		s := &pl.slots[live[pos]]
		plan.Placements = append(plan.Placements, pl.place(s, t))
		if s.check = cp.fit(s); s.check != checkOK {
			live[pos] = live[len(live)-1]
			live = live[:len(live)-1]
		}
	}
	return plan, nil
}

// init builds the slots and the spread buckets and returns the indexes of
// the feasible slots.
func (pl *placer) init(cands []Candidate) []int32 {
	cp := pl.cp
	var bk [MaxStrategies]bucketer
	live := make([]int32, 0, len(cands))
	for i := range cands {
		c := &cands[i]
		s := &pl.slots[i]
		s.c, s.cpu, s.mem, s.enis = c, c.RemainingCPU, c.RemainingMemory, c.RemainingENIs
		if cp.needGroup {
			s.group = c.TaskGroups[cp.req.Group]
		}
		for r, rk := range cp.ranks {
			if rk.kind != rankSpreadAttribute {
				continue
			}
			b := bk[r].bucket(c.Attributes[rk.attr])
			s.buckets[r] = b
			if int(b) == len(pl.counts[r]) {
				pl.counts[r] = append(pl.counts[r], 0)
			}
			pl.counts[r][b] += int64(s.group)
		}
		if c.Status != StatusActive {
			s.check = checkIneligible
			continue
		}
		if s.check = cp.fit(s); s.check == checkOK {
			live = append(live, int32(i))
		}
	}
	return live
}

// fit returns the first check s fails for one more task, or checkOK.
func (cp *compiled) fit(s *slot) uint8 {
	req, c := cp.req, s.c
	if s.cpu < req.CPU {
		return checkCPU
	}
	if s.mem < req.Memory {
		return checkMemory
	}
	// A task's fixed host ports conflict with themselves: once this plan
	// put one copy here, the next copy's ports are taken.
	if len(req.Ports) > 0 {
		if s.placed > 0 {
			return checkPorts
		}
		for _, p := range req.Ports {
			if c.UsedPorts[p] {
				return checkPorts
			}
		}
	}
	if len(req.PortsUDP) > 0 {
		if s.placed > 0 {
			return checkPortsUDP
		}
		for _, p := range req.PortsUDP {
			if c.UsedPortsUDP[p] {
				return checkPortsUDP
			}
		}
	}
	if n := len(req.Ports) + len(req.PortsUDP); n > 0 && len(c.UsedPorts)+len(c.UsedPortsUDP)+n > MaxReservedPorts {
		return checkPortLimit
	}
	if req.ENI && s.enis < 1 {
		return checkENI
	}
	if req.GPUs > 0 && len(c.RemainingGPUs)-s.gpus < req.GPUs {
		return checkGPU
	}
	if !c.AgentConnected {
		return checkAgent
	}
	for _, a := range req.RequiredAttributes {
		if v, ok := c.Attributes[a.Name]; !ok || (a.Value != "" && v != a.Value) {
			return checkAttribute
		}
	}
	if len(req.AvailabilityZones) > 0 && !slices.Contains(req.AvailabilityZones, c.Attributes[AttributeAZ]) {
		return checkLocation
	}
	for i, con := range cp.constraints {
		if con.distinct {
			if s.group+s.placed > 0 {
				return checkConstraint + uint8(i)
			}
			continue
		}
		v := view{c: c, running: c.RunningTasksCount + s.placed, group: req.Group, groupExtra: s.placed}
		if !con.expr.root.eval(&v) {
			return checkConstraint + uint8(i)
		}
	}
	return checkOK
}

// place charges one task to s and returns its placement.
func (pl *placer) place(s *slot, task int) Placement {
	req := pl.cp.req
	p := Placement{Task: task, ARN: s.c.ARN, ID: s.c.ID}
	if req.GPUs > 0 {
		p.GPUs = slices.Clone(s.c.RemainingGPUs[s.gpus : s.gpus+req.GPUs])
		s.gpus += req.GPUs
	}
	s.cpu -= req.CPU
	s.mem -= req.Memory
	if req.ENI {
		s.enis--
	}
	s.placed++
	for r, rk := range pl.cp.ranks {
		if rk.kind == rankSpreadAttribute {
			pl.counts[r][s.buckets[r]]++
		}
	}
	return p
}

// best returns the position in live of the best slot for task t: a single
// O(len(live)) scan comparing key vectors, each key computed only as far
// as needed to decide.
func (pl *placer) best(live []int32, t int) int {
	ranks := pl.cp.ranks
	salt := taskSalt(pl.cp.req.Seed, t)
	bestPos := 0
	best := &pl.slots[live[0]]
	var bk [MaxStrategies]uint64
	for r := range ranks {
		bk[r] = pl.key(best, r, salt)
	}
	for pos := 1; pos < len(live); pos++ {
		s := &pl.slots[live[pos]]
		better, decided := false, false
		for r := range ranks {
			k := pl.key(s, r, salt)
			if k != bk[r] {
				better, decided = k < bk[r], true
				if better {
					bk[r] = k
					for r2 := r + 1; r2 < len(ranks); r2++ {
						bk[r2] = pl.key(s, r2, salt)
					}
				}
				break
			}
		}
		if !decided {
			better = tieBefore(s, best, salt)
		}
		if better {
			bestPos, best = pos, s
		}
	}
	return bestPos
}

// key returns s's key under rank r: lower is better.
func (pl *placer) key(s *slot, r int, salt uint64) uint64 {
	switch pl.cp.ranks[r].kind {
	case rankBinpackCPU:
		return orderedKey(s.cpu)
	case rankBinpackMemory:
		return orderedKey(s.mem)
	case rankSpreadInstance:
		return uint64(s.group + s.placed)
	case rankSpreadAttribute:
		return uint64(pl.counts[r][s.buckets[r]])
	default: // rankRandom
		return s.priority(salt)
	}
}

// orderedKey maps an int64 to a uint64 with the same order.
func orderedKey(v int64) uint64 { return uint64(v) ^ 1<<63 }

// tieBefore orders two slots equal on every strategy key: by pseudo-random
// priority, then by ARN.
func tieBefore(a, b *slot, salt uint64) bool {
	pa, pb := a.priority(salt), b.priority(salt)
	if pa != pb {
		return pa < pb
	}
	return a.c.ARN < b.c.ARN
}

// priority is the slot's pseudo-random rank for the task whose salt is
// given: a function of the seed, the task index and the ARN only.
func (s *slot) priority(salt uint64) uint64 {
	if !s.hashed {
		s.hash, s.hashed = fingerprint(s.c.ARN), true
	}
	return mix64(s.hash ^ salt)
}

// failures lists every candidate's reason, sorted and de-duplicated, and
// the closest matching instance.
func (pl *placer) failures() ([]Failure, *Failure) {
	var out []Failure
	var closest *slot
	for i := range pl.slots {
		s := &pl.slots[i]
		if s.check == checkIneligible || s.check == checkOK {
			continue
		}
		out = append(out, Failure{ARN: s.c.ARN, Reason: pl.cp.reason(s.check)})
		if closest == nil || s.check > closest.check ||
			s.check == closest.check && (s.mem > closest.mem || s.mem == closest.mem && s.c.ARN < closest.c.ARN) {
			closest = s
		}
	}
	if closest == nil {
		return nil, nil
	}
	return sortFailures(out), &Failure{ARN: closest.c.ARN, Reason: pl.cp.reason(closest.check)}
}

func sortFailures(fs []Failure) []Failure {
	slices.SortFunc(fs, func(a, b Failure) int {
		return cmp.Or(strings.Compare(a.ARN, b.ARN), strings.Compare(a.Reason, b.Reason))
	})
	return slices.Compact(fs)
}

// bucketer numbers the distinct values of one spread attribute. Clusters
// have few zones, so a short slice scan beats a map until there are many.
type bucketer struct {
	names []string
	index map[string]int32
}

func (b *bucketer) bucket(v string) int32 {
	if b.index == nil {
		for i, n := range b.names {
			if n == v {
				return int32(i)
			}
		}
		b.names = append(b.names, v)
		if len(b.names) > 16 {
			b.index = make(map[string]int32, 64)
			for i, n := range b.names {
				b.index[n] = int32(i)
			}
		}
		return int32(len(b.names) - 1)
	}
	if i, ok := b.index[v]; ok {
		return i
	}
	i := int32(len(b.names))
	b.names = append(b.names, v)
	b.index[v] = i
	return i
}

// PlaceOn places one task on each target instance, bypassing the strategies
// (StartTask, spec §6.8): a target is a container instance ARN or ID. A
// target not among cands fails with MISSING, one that is not ACTIVE with
// INACTIVE; otherwise the resource and attribute checks and the
// constraints apply as in Place. A target listed twice gets two tasks.
// req.Count and req.Strategies are ignored (the strategies are still
// validated). Plan.Closest is always nil. The error is a *RequestError.
func PlaceOn(req Request, targets []string, cands []Candidate) (Plan, error) {
	cp, err := compile(&req)
	if err != nil {
		return Plan{}, err
	}
	cp.ranks = nil // StartTask bypasses the strategies
	var plan Plan
	slots := make(map[int]*slot, len(targets))
	for t, target := range targets {
		i := findCandidate(cands, target)
		if i < 0 {
			plan.Unplaced++
			plan.Failures = append(plan.Failures, Failure{ARN: target, Reason: ReasonMissing})
			continue
		}
		c := &cands[i]
		if c.Status != StatusActive {
			plan.Unplaced++
			plan.Failures = append(plan.Failures, Failure{ARN: c.ARN, Reason: ReasonInactive})
			continue
		}
		s := slots[i]
		if s == nil {
			s = &slot{c: c, cpu: c.RemainingCPU, mem: c.RemainingMemory, enis: c.RemainingENIs, group: c.TaskGroups[req.Group]}
			slots[i] = s
		}
		if check := cp.fit(s); check != checkOK {
			plan.Unplaced++
			plan.Failures = append(plan.Failures, Failure{ARN: c.ARN, Reason: cp.reason(check)})
			continue
		}
		pl := placer{cp: cp}
		plan.Placements = append(plan.Placements, pl.place(s, t))
	}
	plan.Failures = sortFailures(plan.Failures)
	return plan, nil
}

// findCandidate returns the index of the candidate whose ARN or ID is
// target (the lowest ARN if several match), or -1.
func findCandidate(cands []Candidate, target string) int {
	found := -1
	for i := range cands {
		if target != "" && (cands[i].ARN == target || cands[i].ID == target) {
			if found < 0 || cands[i].ARN < cands[found].ARN {
				found = i
			}
		}
	}
	return found
}
