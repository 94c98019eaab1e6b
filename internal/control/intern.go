package control

import (
	"strings"
	"sync"
	"unique"

	"github.com/berth-dev/berth/internal/wire"
)

// interner shares the view's repeated values between task records: the
// pointers of low-cardinality members (cluster, instance and definition
// ARNs, statuses, sizes, images, names) point at one copy per value. At
// 100,000 tasks this is most of what a decoded task would otherwise hold
// twice. It is safe because view objects are immutable: nothing writes
// through a record's pointers (records are changed by assigning new
// pointers, in copies decoded inside transactions).
type interner struct {
	mu    sync.Mutex
	ptrs  map[any]any // value (of its own type) → *value
	bools [2]bool     // false, true
	// overrides shares equal task overrides (keyed by their JSON) and
	// essential equal lists of essential containers (keyed by the names).
	overrides map[string]*wire.TaskOverride
	essential map[string][]string
	// pk packs the view's task records (packtask.go).
	pk packer
}

// pack shares a decoded task record's repeated values and returns its
// packed form, which the view holds.
func (in *interner) pack(r *taskRecord) *packedTask {
	in.task(r)
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.pk.pack(r)
}

// maxInterned bounds the table: beyond it values are no longer shared
// (the table is started again), so a stream of distinct values cannot grow
// it without limit.
const maxInterned = 1 << 16

func internPtr[T ~string](in *interner, p *T) *T {
	if p == nil {
		return nil
	}
	if q, ok := in.ptrs[*p]; ok {
		return q.(*T)
	}
	if len(in.ptrs) >= maxInterned {
		in.ptrs = map[any]any{}
	}
	v := T(unique.Make(string(*p)).Value())
	in.ptrs[v] = &v
	return &v
}

// task shares a decoded task record's repeated values.
func (in *interner) task(r *taskRecord) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ptrs == nil {
		in.ptrs = map[any]any{}
		in.bools[1] = true
		in.overrides = map[string]*wire.TaskOverride{}
		in.essential = map[string][]string{}
	}
	t := &r.Task
	r.Cluster = unique.Make(r.Cluster).Value()
	t.AvailabilityZone = internPtr(in, t.AvailabilityZone)
	t.CapacityProviderName = internPtr(in, t.CapacityProviderName)
	t.ClusterArn = internPtr(in, t.ClusterArn)
	t.Connectivity = internPtr(in, t.Connectivity)
	t.ContainerInstanceArn = internPtr(in, t.ContainerInstanceArn)
	t.Cpu = internPtr(in, t.Cpu)
	t.DesiredStatus = internPtr(in, t.DesiredStatus)
	if b := t.EnableExecuteCommand; b != nil {
		t.EnableExecuteCommand = &in.bools[0]
		if *b {
			t.EnableExecuteCommand = &in.bools[1]
		}
	}
	t.Group = internPtr(in, t.Group)
	t.HealthStatus = internPtr(in, t.HealthStatus)
	t.LastStatus = internPtr(in, t.LastStatus)
	t.LaunchType = internPtr(in, t.LaunchType)
	t.Memory = internPtr(in, t.Memory)
	t.PlatformFamily = internPtr(in, t.PlatformFamily)
	t.PlatformVersion = internPtr(in, t.PlatformVersion)
	t.StartedBy = internPtr(in, t.StartedBy)
	t.StopCode = internPtr(in, t.StopCode)
	t.TaskDefinitionArn = internPtr(in, t.TaskDefinitionArn)
	for i := range t.Containers {
		c := &t.Containers[i]
		c.Cpu = internPtr(in, c.Cpu)
		c.HealthStatus = internPtr(in, c.HealthStatus)
		c.Image = internPtr(in, c.Image)
		c.LastStatus = internPtr(in, c.LastStatus)
		c.Memory = internPtr(in, c.Memory)
		c.MemoryReservation = internPtr(in, c.MemoryReservation)
		c.Name = internPtr(in, c.Name)
		if c.TaskArn != nil && t.TaskArn != nil && *c.TaskArn == *t.TaskArn {
			c.TaskArn = t.TaskArn
		}
	}
	if o := t.Overrides; o != nil {
		// Most tasks of a definition carry the same overrides (one
		// entry per container, names only): one copy serves them all.
		key := string(o.AppendJSON(nil))
		if shared, ok := in.overrides[key]; ok {
			t.Overrides = shared
		} else {
			for i := range o.ContainerOverrides {
				o.ContainerOverrides[i].Name = internPtr(in, o.ContainerOverrides[i].Name)
			}
			if len(in.overrides) >= maxInterned {
				in.overrides = map[string]*wire.TaskOverride{}
			}
			in.overrides[key] = o
		}
	}
	if len(r.Essential) > 0 {
		key := strings.Join(r.Essential, "\x00")
		if shared, ok := in.essential[key]; ok {
			r.Essential = shared
		} else {
			for i, e := range r.Essential {
				r.Essential[i] = unique.Make(e).Value()
			}
			if len(in.essential) >= maxInterned {
				in.essential = map[string][]string{}
			}
			in.essential[key] = r.Essential
		}
	}
}
