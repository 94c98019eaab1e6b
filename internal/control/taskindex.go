package control

import (
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/wire"
)

// taskIndex is a secondary index over the view's task records, kept in step
// with it: the view calls apply for every task record it changes, under its
// own lock and before its revision advances, so a reader that waited for a
// revision finds the index at least as new.
//
// It answers, without scanning a cluster's tasks:
//   - the live (not STOPPED) tasks on each container instance (the agent
//     sessions, instance counters, the query language's task:group);
//   - each cluster's running and pending counts by launch type
//     (DescribeClusters).
//
// And it tells a subscriber (the agent sessions) which instances' tasks
// changed.
type taskIndex struct {
	mu         sync.RWMutex
	byInstance map[string]map[string]*packedTask // instance ARN → task key → record
	clusters   map[string]*taskCounts            // nsPrefix + cluster
	// byGroup holds every task (any status) by nsPrefix + cluster + "|" +
	// group: a service's tasks are its group "service:<name>".
	byGroup map[string]map[string]*packedTask
	// services holds every service record by key.
	services map[string]*serviceRecord

	// notify, when set (before the view starts), is called with the ARN
	// of an instance whose tasks changed. It runs under the view's lock
	// and must be quick and must not call back into Control.
	notify func(instanceARN string)
	// instanceChanged, when set (before the view starts), is called with
	// the cluster key (nsPrefix + cluster) and ID of each container
	// instance whose instance or attributes record changed, and with
	// ("", "") when the view is re-listed. Same rules as notify.
	instanceChanged func(clusterKey, id string)
}

// taskCounts are a cluster's task counts: [0] running, [1] pending, by
// launch type (as DescribeClusters counts them).
type taskCounts struct {
	byLaunch map[string][2]int
}

func newTaskIndex() *taskIndex {
	x := &taskIndex{}
	x.init()
	return x
}

func (x *taskIndex) init() {
	x.byInstance = map[string]map[string]*packedTask{}
	x.clusters = map[string]*taskCounts{}
	x.byGroup = map[string]map[string]*packedTask{}
	x.services = map[string]*serviceRecord{}
}

// reset empties the index (the view is re-listing).
func (x *taskIndex) reset() {
	x.mu.Lock()
	x.init()
	x.mu.Unlock()
	if x.instanceChanged != nil {
		x.instanceChanged("", "")
	}
}

// apply moves a task key from its old record to its new one (either nil).
func (x *taskIndex) apply(key string, old, new any) {
	if x.instanceChanged != nil {
		switch k := kindOf(key); k {
		case "ci", "attr":
			// ns/<acct>/<region>/<kind>/<cluster>/<id>
			rest := key[len(nsOf(key))+len(k)+1:]
			if cluster, id, ok := strings.Cut(rest, "/"); ok {
				x.instanceChanged(nsOf(key)+cluster, id)
			}
			return
		}
	}
	if so, sn := isService(old), isService(new); so || sn {
		x.mu.Lock()
		if r, ok := new.(*serviceRecord); ok {
			x.services[key] = r
		} else {
			delete(x.services, key)
		}
		x.mu.Unlock()
		return
	}
	o, _ := old.(*packedTask)
	n, _ := new.(*packedTask)
	if o == nil && n == nil {
		return
	}
	x.mu.Lock()
	x.remove(key, o)
	x.add(key, n)
	x.mu.Unlock()
	if x.notify != nil && agentVisible(o, n) {
		if o != nil && o.ContainerInstanceArn != nil {
			x.notify(*o.ContainerInstanceArn)
		}
		if n != nil && n.ContainerInstanceArn != nil && (o == nil || wire.Val(o.ContainerInstanceArn) != *n.ContainerInstanceArn) {
			x.notify(*n.ContainerInstanceArn)
		}
	}
}

// agentVisible reports whether a task's change from o to n (nil: absent)
// can change what its instance's agent session is sent: the session sends
// each task whose desired status it has not sent, and forgets the tasks
// that stopped or left. A change of anything else (the task going from
// PENDING to RUNNING, which every task does once) wakes no session; the
// sessions' periodic full sync covers anything else regardless.
func agentVisible(o, n *packedTask) bool {
	if o == nil || n == nil {
		return true
	}
	return wire.Val(o.ContainerInstanceArn) != wire.Val(n.ContainerInstanceArn) ||
		wire.Val(o.DesiredStatus) != wire.Val(n.DesiredStatus) ||
		(wire.Val(o.LastStatus) == taskStopped) != (wire.Val(n.LastStatus) == taskStopped)
}

func clusterOfTaskKey(key string) string {
	// ns/<acct>/<region>/task/<cluster>/<id> → ns/<acct>/<region>/<cluster>
	i := strings.Index(key, "/task/")
	j := strings.LastIndexByte(key, '/')
	if i < 0 || j <= i+6 {
		return ""
	}
	return key[:i+1] + key[i+6:j]
}

func isService(obj any) bool {
	_, ok := obj.(*serviceRecord)
	return ok
}

func groupKey(taskKey string, r *packedTask) string {
	return clusterOfTaskKey(taskKey) + "|" + r.group()
}

func (x *taskIndex) remove(key string, r *packedTask) {
	if r == nil {
		return
	}
	if g := x.byGroup[groupKey(key, r)]; g != nil {
		delete(g, key)
		if len(g) == 0 {
			delete(x.byGroup, groupKey(key, r))
		}
	}
	if arn := wire.Val(r.ContainerInstanceArn); arn != "" {
		if m := x.byInstance[arn]; m != nil {
			delete(m, key)
			if len(m) == 0 {
				delete(x.byInstance, arn)
			}
		}
	}
	x.count(key, r, -1)
}

func (x *taskIndex) add(key string, r *packedTask) {
	if r == nil {
		return
	}
	gk := groupKey(key, r)
	g := x.byGroup[gk]
	if g == nil {
		g = map[string]*packedTask{}
		x.byGroup[gk] = g
	}
	g[key] = r
	if arn := wire.Val(r.ContainerInstanceArn); arn != "" && wire.Val(r.LastStatus) != taskStopped {
		m := x.byInstance[arn]
		if m == nil {
			m = map[string]*packedTask{}
			x.byInstance[arn] = m
		}
		m[key] = r
	}
	x.count(key, r, 1)
}

func (x *taskIndex) count(key string, r *packedTask, d int) {
	i := 0
	switch wire.Val(r.LastStatus) {
	case taskRunning:
	case taskPending:
		i = 1
	default:
		return
	}
	ck := clusterOfTaskKey(key)
	tc := x.clusters[ck]
	if tc == nil {
		tc = &taskCounts{byLaunch: map[string][2]int{}}
		x.clusters[ck] = tc
	}
	launch := launchTypeOf(string(wire.Val(r.tmpl.LaunchType)), wire.Val(r.tmpl.CapacityProviderName))
	v := tc.byLaunch[launch]
	v[i] += d
	tc.byLaunch[launch] = v
}

// instanceTasks returns the live tasks on an instance (in no order).
func (x *taskIndex) instanceTasks(instanceARN string) []*packedTask {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := x.byInstance[instanceARN]
	out := make([]*packedTask, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

// clusterCounts returns a copy of a cluster's running/pending counts by
// launch type.
func (x *taskIndex) clusterCounts(clusterKey string) map[string][2]int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := map[string][2]int{}
	if tc := x.clusters[clusterKey]; tc != nil {
		for k, v := range tc.byLaunch {
			if v != [2]int{} {
				out[k] = v
			}
		}
	}
	return out
}

// groupTasks returns every task (any status) of a task group in a
// cluster, sorted by key, unpacked. clusterKey is nsPrefix + cluster.
func (x *taskIndex) groupTasks(clusterKey, group string) []*taskRecord {
	x.mu.RLock()
	g := x.byGroup[clusterKey+"|"+group]
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	packed := make([]*packedTask, len(keys))
	for i, k := range keys {
		packed[i] = g[k]
	}
	x.mu.RUnlock()
	out := make([]*taskRecord, len(packed))
	for i, p := range packed {
		out[i] = p.unpack()
	}
	return out
}

// serviceRecords returns every service record with its key, sorted by key.
func (x *taskIndex) serviceRecords() ([]string, []*serviceRecord) {
	x.mu.RLock()
	keys := make([]string, 0, len(x.services))
	for k := range x.services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	recs := make([]*serviceRecord, len(keys))
	for i, k := range keys {
		recs[i] = x.services[k]
	}
	x.mu.RUnlock()
	return keys, recs
}
