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

// slot is the scheduler's working copy of one candidate: what the plan
// being built has charged to it (Nomad's plan-aware context). It holds no
// pointers, so the slot array is cheap to allocate and invisible to the
// garbage collector's scan.
type slot struct {
	cpu    int64  // remaining CPU after this plan's charges
	mem    int64  // remaining memory after this plan's charges
	hash   uint64 // fingerprint of the ARN, once hashed
	idx    int32  // index of the candidate in the input
	placed int32  // tasks this plan put here
	group  int32  // tasks of the request's group before this plan
	gpus   int32  // GPUs this plan took (from the front of RemainingGPUs)
	enis   int32  // remaining ENI slots after this plan's charges
	check  uint8  // first failing check, checkOK when the task fits
	hashed bool
}

// placer holds the state of one Place call.
type placer struct {
	cp    *compiled
	cands []Candidate
	slots []slot
	// keys holds len(cp.ranks) strategy keys per slot (lower is better):
	// the key itself for binpack and spread by instance, the bucket index
	// for spread by attribute (whose key, the bucket's task count,
	// changes with every placement in the bucket); unused for random.
	keys []uint64
	nr   int // len(cp.ranks)
	// counts[r][b] is the number of tasks of the group in bucket b of the
	// spread-by-attribute rank r (including this plan's placements).
	counts   [MaxStrategies][]int64
	indirect [MaxStrategies]bool // rank r's key is counts[r][its key]
	random   [MaxStrategies]bool // rank r's key is the random priority
	view     view                // reused for memberOf evaluation
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
	return place(req, cands, true)
}

// place is Place; with sticky false it scans for every task, even where
// the winner is known without a scan (see stickyBest): the tests compare
// the two.
func place(req Request, cands []Candidate, sticky bool) (Plan, error) {
	cp, err := compile(&req)
	if err != nil {
		return Plan{}, err
	}
	var plan Plan
	if req.Count == 0 {
		return plan, nil
	}
	pl := newPlacer(cp, cands)
	sticky = sticky && pl.stickyBest()
	live := pl.init()
	pos := -1 // the winner of the last task while it stays the best
	for t := range req.Count {
		if len(live) == 0 {
			plan.Unplaced = req.Count - t
			plan.Failures, plan.Closest = pl.failures()
			break
		}
		if pos < 0 || !sticky {
			pos = pl.best(live, t)
		}
		s := &pl.slots[live[pos]]
		plan.Placements = append(plan.Placements, pl.place(s, t))
		if s.check = pl.fit(s); s.check != checkOK {
			live[pos] = live[len(live)-1]
			live = live[:len(live)-1]
			pos = -1
		}
	}
	return plan, nil
}

// stickyBest reports whether the instance that won a task is sure to win
// the next one as long as it still fits: the first strategy is binpack on
// a resource the task takes a positive amount of. The winner had the
// lowest first key (remaining amount), and its charge lowered that key
// while no other instance's changed, so it is now strictly the lowest,
// whatever the later strategies and the tie-breaking say. Place then
// scans the candidates once per instance it fills instead of once per
// task: a RunTask of 10 binpacked tasks usually scans once.
func (pl *placer) stickyBest() bool {
	if len(pl.cp.ranks) == 0 {
		return false
	}
	switch pl.cp.ranks[0].kind {
	case rankBinpackCPU:
		return pl.cp.req.CPU > 0
	case rankBinpackMemory:
		return pl.cp.req.Memory > 0
	}
	return false
}

func newPlacer(cp *compiled, cands []Candidate) *placer {
	pl := &placer{cp: cp, cands: cands, nr: len(cp.ranks)}
	pl.view.group = cp.req.Group
	for _, con := range cp.constraints {
		if !con.distinct && con.expr.hasRegexp() {
			pl.view.memo = &memo{}
			break
		}
	}
	for r, rk := range cp.ranks {
		pl.indirect[r] = rk.kind == rankSpreadAttribute
		pl.random[r] = rk.kind == rankRandom
	}
	return pl
}

// init builds the slots and the spread buckets in one pass over the
// candidates and returns the indexes of the feasible slots.
func (pl *placer) init() []int32 {
	cp := pl.cp
	var live []int32
	if sc := cp.req.Scratch; sc != nil {
		sc.slots = grow(sc.slots, len(pl.cands))
		sc.keys = grow(sc.keys, len(pl.cands)*pl.nr)
		sc.live = grow(sc.live, len(pl.cands))[:0]
		pl.slots, pl.keys, live = sc.slots, sc.keys, sc.live
	} else {
		pl.slots = make([]slot, len(pl.cands))
		pl.keys = make([]uint64, len(pl.cands)*pl.nr)
		live = make([]int32, 0, len(pl.cands))
	}
	// Every slot needs its hash when every comparison is random (random
	// rank, or ties with no strategy); otherwise it is hashed on a tie.
	hashAll := len(cp.ranks) == 0 || slices.ContainsFunc(cp.ranks, func(r rank) bool { return r.kind == rankRandom })
	var bk [MaxStrategies]bucketer
	for i := range pl.cands {
		c := &pl.cands[i]
		s := &pl.slots[i]
		s.idx, s.cpu, s.mem, s.enis = int32(i), c.RemainingCPU, c.RemainingMemory, int32(c.RemainingENIs)
		if cp.needGroup {
			s.group = int32(c.TaskGroups[cp.req.Group])
		}
		for r, rk := range cp.ranks {
			if rk.kind != rankSpreadAttribute {
				continue
			}
			b := bk[r].bucket(c.Attributes[rk.attr])
			pl.keys[i*pl.nr+r] = uint64(b)
			if int(b) == len(pl.counts[r]) {
				pl.counts[r] = append(pl.counts[r], 0)
			}
			pl.counts[r][b] += int64(s.group)
		}
		if c.Status != StatusActive {
			s.check = checkIneligible
			continue
		}
		if s.check = pl.fit(s); s.check == checkOK {
			live = append(live, int32(i))
			pl.refreshKeys(s)
			switch {
			case c.Fingerprint != 0:
				s.hash, s.hashed = c.Fingerprint, true
			case hashAll:
				s.hash, s.hashed = Fingerprint(c.ARN), true
			}
		}
	}
	return live
}

// refreshKeys recomputes the keys of s that its own charges change.
func (pl *placer) refreshKeys(s *slot) {
	k := pl.keys[int(s.idx)*pl.nr:]
	for r, rk := range pl.cp.ranks {
		switch rk.kind {
		case rankBinpackCPU:
			k[r] = orderedKey(s.cpu)
		case rankBinpackMemory:
			k[r] = orderedKey(s.mem)
		case rankSpreadInstance:
			k[r] = uint64(s.group + s.placed)
		}
	}
}

// fit returns the first check s fails for one more task, or checkOK.
func (pl *placer) fit(s *slot) uint8 {
	cp, req, c := pl.cp, pl.cp.req, &pl.cands[s.idx]
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
	if req.GPUs > 0 && len(c.RemainingGPUs)-int(s.gpus) < req.GPUs {
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
		v := &pl.view
		v.c, v.running, v.groupExtra = c, c.RunningTasksCount+int(s.placed), int(s.placed)
		if !con.expr.root.eval(v) {
			return checkConstraint + uint8(i)
		}
	}
	return checkOK
}

// place charges one task to s and returns its placement.
func (pl *placer) place(s *slot, task int) Placement {
	req, c := pl.cp.req, &pl.cands[s.idx]
	p := Placement{Task: task, ARN: c.ARN, ID: c.ID}
	if req.GPUs > 0 {
		p.GPUs = slices.Clone(c.RemainingGPUs[s.gpus : int(s.gpus)+req.GPUs])
		s.gpus += int32(req.GPUs)
	}
	s.cpu -= req.CPU
	s.mem -= req.Memory
	if req.ENI {
		s.enis--
	}
	s.placed++
	for r := range pl.cp.ranks {
		if pl.indirect[r] {
			pl.counts[r][pl.keys[int(s.idx)*pl.nr+r]]++
		}
	}
	pl.refreshKeys(s)
	return p
}

// best returns the position in live of the best slot for task t, in one
// O(len(live)) scan. Most candidates lose on the first key, so the scan
// compares that alone and looks further only on a tie.
func (pl *placer) best(live []int32, t int) int {
	salt := taskSalt(pl.cp.req.Seed, t)
	bestPos := 0
	best := &pl.slots[live[0]]
	if len(pl.cp.ranks) == 0 {
		for pos := 1; pos < len(live); pos++ {
			if s := &pl.slots[live[pos]]; pl.tieBefore(s, best, salt) {
				bestPos, best = pos, s
			}
		}
		return bestPos
	}
	b0 := pl.key(best, 0, salt)
	for pos := 1; pos < len(live); pos++ {
		s := &pl.slots[live[pos]]
		k0 := pl.key(s, 0, salt)
		if k0 > b0 || k0 == b0 && !pl.before(s, best, salt) {
			continue
		}
		bestPos, best, b0 = pos, s, k0
	}
	return bestPos
}

// key returns s's key under rank r: lower is better.
func (pl *placer) key(s *slot, r int, salt uint64) uint64 {
	switch {
	case pl.indirect[r]:
		return uint64(pl.counts[r][pl.keys[int(s.idx)*pl.nr+r]])
	case pl.random[r]:
		return mix64(s.hash ^ salt)
	}
	return pl.keys[int(s.idx)*pl.nr+r]
}

// before orders two slots equal on the first key: by the remaining keys,
// then by pseudo-random priority, then by ARN.
func (pl *placer) before(a, b *slot, salt uint64) bool {
	for r := 1; r < pl.nr; r++ {
		if ka, kb := pl.key(a, r, salt), pl.key(b, r, salt); ka != kb {
			return ka < kb
		}
	}
	return pl.tieBefore(a, b, salt)
}

// orderedKey maps an int64 to a uint64 with the same order.
func orderedKey(v int64) uint64 { return uint64(v) ^ 1<<63 }

// tieBefore orders two slots equal on every strategy key: by pseudo-random
// priority, then by ARN.
func (pl *placer) tieBefore(a, b *slot, salt uint64) bool {
	pa, pb := pl.priority(a, salt), pl.priority(b, salt)
	if pa != pb {
		return pa < pb
	}
	return pl.cands[a.idx].ARN < pl.cands[b.idx].ARN
}

// priority is the slot's pseudo-random rank for the task whose salt is
// given: a function of the seed, the task index and the ARN only.
func (pl *placer) priority(s *slot, salt uint64) uint64 {
	if !s.hashed {
		s.hash, s.hashed = Fingerprint(pl.cands[s.idx].ARN), true
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
		arn := pl.cands[s.idx].ARN
		out = append(out, Failure{ARN: arn, Reason: pl.cp.reason(s.check)})
		if closest == nil || s.check > closest.check ||
			s.check == closest.check && (s.mem > closest.mem || s.mem == closest.mem && arn < pl.cands[closest.idx].ARN) {
			closest = s
		}
	}
	if closest == nil {
		return nil, nil
	}
	return sortFailures(out), &Failure{ARN: pl.cands[closest.idx].ARN, Reason: pl.cp.reason(closest.check)}
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
	pl := newPlacer(cp, cands)
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
			s = &slot{idx: int32(i), cpu: c.RemainingCPU, mem: c.RemainingMemory, enis: int32(c.RemainingENIs), group: int32(c.TaskGroups[req.Group])}
			slots[i] = s
		}
		if check := pl.fit(s); check != checkOK {
			plan.Unplaced++
			plan.Failures = append(plan.Failures, Failure{ARN: c.ARN, Reason: cp.reason(check)})
			continue
		}
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
