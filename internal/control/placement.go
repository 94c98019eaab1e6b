package control

import (
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// Placement outside the transaction.
//
// RunTask places from the view, not from the store: reading and decoding
// every instance record of a 5,000-instance cluster inside the store's
// single committer would cap RunTask at a few calls per second. Instead:
//
//  1. Under the cluster's placement lock, the scheduler's candidates are
//     read from the view (each instance's scheduler.Candidate is cached by
//     the revisions of its instance and attributes records), the
//     reservations of placements still in flight (not yet visible in the
//     view) are charged on top, Place runs, and the plan's own
//     reservations are registered as in flight.
//  2. The transaction re-reads only the chosen instances and checks that
//     each still takes the task (ACTIVE, agent connected, CPU, memory and
//     ports free) before charging it. A check that fails means another
//     writer got there first: the transaction is abandoned with
//     errStalePlacement and RunTask places again (three times, then inside
//     the transaction as StartTask does).
//  3. Once the view shows the commit, the in-flight entry is dropped.
//
// Resources are therefore never over-committed. What the check does not
// re-verify is the spread and distinctInstance picture of the cluster
// against concurrent writers of other processes (a second server on etcd);
// within one server the in-flight entries make concurrent RunTasks see each
// other. ECS documents placement as best effort in the same way.
type placements struct {
	mu       sync.Mutex
	clusters map[string]*clusterPlacement // nsPrefix + cluster
}

// clusterPlacement is one cluster's cached candidates and in-flight
// reservations. Everything in it is guarded by mu, which is held while a
// plan is computed, so concurrent placements in a cluster are serialised
// (each takes well under a millisecond at 5,000 instances).
type clusterPlacement struct {
	mu       sync.Mutex
	cands    []scheduler.Candidate
	revs     []candRevs     // parallel to cands
	index    map[string]int // instance ID → position in cands
	inflight map[*inflight]struct{}
	scratch  scheduler.Scratch // Place's working memory, reused under mu

	// dirty holds the IDs of instances whose instance or attributes
	// record changed since the last refresh, and stale asks for a full
	// rebuild. The view marks them (touch) under its own lock; dmu guards
	// only them, so marking never waits for a placement.
	dmu   sync.Mutex
	dirty map[string]struct{}
	stale bool
}

type candRevs struct{ inst, attr store.Rev }

// inflight is the reservations of one placement from its plan until the
// view shows its commit (rev, once known).
type inflight struct {
	rev     store.Rev
	charges map[string]*charge // instance ID
}

type charge struct {
	cpu, memory int64
	ports, udp  []int
	groups      map[string]int
	tasks       int
}

// errStalePlacement abandons a RunTask transaction whose plan no longer
// fits an instance; RunTask places again.
var errStalePlacement = errors.New("control: placement is stale")

func (p *placements) cluster(ns ecs.Namespace, cluster string) *clusterPlacement {
	key := nsPrefix(ns) + cluster
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clusters == nil {
		p.clusters = map[string]*clusterPlacement{}
	}
	cp := p.clusters[key]
	if cp == nil {
		cp = &clusterPlacement{index: map[string]int{}, inflight: map[*inflight]struct{}{}, dirty: map[string]struct{}{}, stale: true}
		p.clusters[key] = cp
	}
	return cp
}

// touch marks an instance of a cluster (clusterKey = nsPrefix + cluster)
// changed; "" for id marks every cluster stale (the view was re-listed).
// The view calls it under its lock.
func (p *placements) touch(clusterKey, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != "" {
		if cp := p.clusters[clusterKey]; cp != nil {
			cp.dmu.Lock()
			cp.dirty[id] = struct{}{}
			cp.dmu.Unlock()
		}
		return
	}
	for _, cp := range p.clusters {
		cp.dmu.Lock()
		cp.stale = true
		cp.dmu.Unlock()
	}
}

// drain takes the marks.
func (cp *clusterPlacement) drain() (map[string]struct{}, bool) {
	cp.dmu.Lock()
	defer cp.dmu.Unlock()
	d, stale := cp.dirty, cp.stale
	cp.dirty, cp.stale = map[string]struct{}{}, false
	return d, stale
}

// plannedPlacement is the outcome of placing from the view.
type plannedPlacement struct {
	cluster   string
	empty     bool // the cluster has no instances
	plan      scheduler.Plan
	err       error
	cp        *clusterPlacement
	in        *inflight
	providers []string // each task's capacity provider
}

// done drops the placement's in-flight reservations.
func (pp *plannedPlacement) done() {
	if pp == nil || pp.in == nil {
		return
	}
	pp.cp.mu.Lock()
	delete(pp.cp.inflight, pp.in)
	pp.cp.mu.Unlock()
	pp.in = nil
}

// committed records the revision that made the placement durable: from
// the moment the view reaches it, the view itself carries the charges.
func (pp *plannedPlacement) committed(rev store.Rev) {
	if pp == nil || pp.in == nil {
		return
	}
	pp.cp.mu.Lock()
	pp.in.rev = rev
	pp.cp.mu.Unlock()
}

// placeFromView computes a plan for req in a cluster from the view and
// registers its reservations as in flight. res is charged per placed task.
func (c *Control) placeFromView(ns ecs.Namespace, cluster string, req scheduler.Request, res reservation, providers []string) *plannedPlacement {
	cp := c.placements.cluster(ns, cluster)
	cp.mu.Lock()
	defer cp.mu.Unlock()
	pp := &plannedPlacement{cluster: cluster, cp: cp, providers: providers}
	viewRev := c.refreshCandidates(ns, cluster, cp)
	if len(cp.cands) == 0 {
		pp.empty = true
		return pp
	}
	// Charge the placements in flight that the view does not show yet, on
	// copies of the candidates (the cache keeps the view's picture).
	type saved struct {
		i int
		c scheduler.Candidate
	}
	var restore []saved
	for in := range cp.inflight {
		if in.rev != 0 && in.rev <= viewRev {
			continue
		}
		for id, ch := range in.charges {
			i, ok := cp.index[id]
			if !ok {
				continue
			}
			restore = append(restore, saved{i, cp.cands[i]})
			cp.cands[i] = charged(cp.cands[i], ch)
		}
	}
	// Restore in reverse, so an instance charged twice gets its original.
	defer func() {
		for k := len(restore) - 1; k >= 0; k-- {
			cp.cands[restore[k].i] = restore[k].c
		}
	}()
	req.Scratch = &cp.scratch // under cp.mu
	plan, err := placeByProvider(ns, req, cp.cands, providers, func(p string) (map[string]bool, bool) { return c.providerMembers(ns, p) })
	if err != nil {
		pp.err = ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
		return pp
	}
	pp.plan = plan
	in := &inflight{charges: map[string]*charge{}}
	for _, p := range plan.Placements {
		id := lastSegment(p.ARN)
		ch := in.charges[id]
		if ch == nil {
			ch = &charge{groups: map[string]int{}}
			in.charges[id] = ch
		}
		ch.cpu += res.cpu
		ch.memory += res.memory
		ch.ports = append(ch.ports, atoiAll(res.ports)...)
		ch.udp = append(ch.udp, atoiAll(res.udp)...)
		ch.groups[req.Group]++
		ch.tasks++
	}
	if len(in.charges) > 0 {
		cp.inflight[in] = struct{}{}
		pp.in = in
	}
	return pp
}

// refreshCandidates brings the cluster's cached candidates up to date with
// the view and returns the view revision they reflect. Only instances the
// view marked changed are rebuilt; a full rebuild (a scan of the
// cluster's instances) happens the first time, after a re-listing, and
// when an instance joins or leaves.
func (c *Control) refreshCandidates(ns ecs.Namespace, cluster string, cp *clusterPlacement) store.Rev {
	var rev store.Rev
	full := false
	c.view.read(func(get func(string) (item, bool), r store.Rev) {
		rev = r
		dirty, stale := cp.drain()
		if stale {
			full = true
			return
		}
		for id := range dirty {
			it, ok := get(keyInstance(ns, cluster, id))
			rec, _ := it.obj.(*instanceRecord)
			i, known := cp.index[id]
			if !ok || rec == nil || wire.Val(rec.Status) == instanceInactive || !known {
				if known || (rec != nil && wire.Val(rec.Status) != instanceInactive) {
					full = true // the instance set changed
					return
				}
				continue
			}
			at, _ := get(keyAttrs(ns, cluster, id))
			revs := candRevs{inst: it.modRev, attr: at.modRev}
			if cp.revs[i] == revs {
				continue
			}
			cd := &candidate{rec: rec}
			if ar, ok := at.obj.(*attributesRecord); ok {
				cd.custom = ar.Attributes
			}
			cp.cands[i], cp.revs[i] = schedCandidate(cd), revs
		}
	})
	if full {
		rev = c.rebuildCandidates(ns, cluster, cp)
	}
	return rev
}

// rebuildCandidates rebuilds every candidate of the cluster from the view.
func (c *Control) rebuildCandidates(ns ecs.Namespace, cluster string, cp *clusterPlacement) store.Rev {
	type inst struct {
		rec *instanceRecord
		rev store.Rev
	}
	var insts []inst
	attrs := map[string]item{}
	// Marks made from here on are for changes this scan may or may not
	// see: they stay, and cost at most a needless rebuild of the entry.
	cp.drain()
	rev := c.view.scanItems(keyInstancePrefix(ns, cluster), func(it item) bool {
		if r, ok := it.obj.(*instanceRecord); ok && wire.Val(r.Status) != instanceInactive {
			insts = append(insts, inst{r, it.modRev})
		}
		return true
	})
	c.view.scanItems(nsPrefix(ns)+"attr/"+cluster+"/", func(it item) bool {
		if a, ok := it.obj.(*attributesRecord); ok {
			attrs[a.InstanceID] = it
		}
		return true
	})
	cp.cands = make([]scheduler.Candidate, 0, len(insts))
	cp.revs = make([]candRevs, 0, len(insts))
	cp.index = make(map[string]int, len(insts))
	for _, in := range insts {
		a := attrs[in.rec.ID]
		cd := &candidate{rec: in.rec}
		if ar, ok := a.obj.(*attributesRecord); ok {
			cd.custom = ar.Attributes
		}
		cp.index[in.rec.ID] = len(cp.cands)
		cp.cands = append(cp.cands, schedCandidate(cd))
		cp.revs = append(cp.revs, candRevs{inst: in.rev, attr: a.modRev})
	}
	return rev
}

// charged returns a copy of a candidate with an in-flight charge applied.
func charged(sc scheduler.Candidate, ch *charge) scheduler.Candidate {
	sc.RemainingCPU -= ch.cpu
	sc.RemainingMemory -= ch.memory
	sc.RunningTasksCount += ch.tasks
	if len(ch.ports) > 0 {
		sc.UsedPorts = cloneAdd(sc.UsedPorts, ch.ports)
	}
	if len(ch.udp) > 0 {
		sc.UsedPortsUDP = cloneAdd(sc.UsedPortsUDP, ch.udp)
	}
	groups := make(map[string]int, len(sc.TaskGroups)+len(ch.groups))
	for g, n := range sc.TaskGroups {
		groups[g] = n
	}
	for g, n := range ch.groups {
		groups[g] += n
	}
	sc.TaskGroups = groups
	return sc
}

func cloneAdd(m map[int]bool, add []int) map[int]bool {
	out := make(map[int]bool, len(m)+len(add))
	for k, v := range m {
		out[k] = v
	}
	for _, p := range add {
		out[p] = true
	}
	return out
}

func atoiAll(ss []string) []int {
	var out []int
	for _, s := range ss {
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// takes reports whether an instance record, as stored now, still takes a
// task of reservation r: ACTIVE, agent connected, and CPU, memory and the
// task's fixed host ports free.
func takes(rec *instanceRecord, r reservation) bool {
	if wire.Val(rec.Status) != "ACTIVE" || !wire.Val(rec.AgentConnected) {
		return false
	}
	var agentPorts, agentUDP []string
	for _, res := range rec.RegisteredResources {
		switch wire.Val(res.Name) {
		case "CPU":
			if int64(wire.Val(res.IntegerValue))-rec.Reserved.CPU < r.cpu {
				return false
			}
		case "MEMORY":
			if int64(wire.Val(res.IntegerValue))-rec.Reserved.Memory < r.memory {
				return false
			}
		case "PORTS":
			agentPorts = res.StringSetValue
		case "PORTS_UDP":
			agentUDP = res.StringSetValue
		}
	}
	// Host ports (few per task; this runs in the store's committer, so no
	// sets are built): free when neither the agent nor a task holds them.
	free := func(want []string, held ...[]string) bool {
		for _, p := range want {
			for _, h := range held {
				if slices.Contains(h, p) {
					return false
				}
			}
		}
		return true
	}
	return free(r.ports, agentPorts, rec.Reserved.Ports) && free(r.udp, agentUDP, rec.Reserved.UDP)
}
