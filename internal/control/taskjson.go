package control

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/berth-dev/berth/internal/wire"
)

// taskPlans writes DescribeTasks' task JSON straight from packed tasks.
//
// The tasks that share a template differ only in their own members and in
// the four the packed task holds as pointers, so their JSON is the same
// text with those values in different places. A plan is that text for
// one template and one shape (which own members and pointers a task has;
// they decide which JSON members appear): the literal bytes, and the
// holes where the values go. Writing a task through its plan copies the
// literal bytes and encodes a dozen values, where unpacking it and
// encoding the record (the way without a plan) walks every member of the
// template; at 100,000 tasks that was a third of a DescribeTasks call.
//
// A plan is made from the JSON of the template with a sentinel in every
// hole, encoded by the record's own AppendJSON. It is kept only if every
// sentinel is found exactly where it is expected and a second record,
// with other sentinels, encodes to the same bytes through the plan as
// through AppendJSON; otherwise the shape is remembered as having no
// plan, and its tasks are unpacked and encoded as before. The output is
// the same either way (TestTaskPlanMatchesAppendJSON).
type taskPlans struct {
	mu    sync.RWMutex
	plans map[planKey]*taskPlan // a nil plan: the shape has none
}

// maxPlans bounds the table like maxTemplates bounds the templates: beyond
// it, the table is started again.
const maxPlans = 1 << 12

type planKey struct {
	tmpl  *taskRecord
	shape string
}

// taskPlan is the JSON of the tasks of one template and shape.
type taskPlan struct {
	text  string     // the literal bytes
	holes []planHole // in order of their offsets in text
}

type planHole struct {
	at   int // where in text the value goes
	kind holeKind
	idx  int // the timestamp's taskTimes index, the pointer's or the container's
	// plain: the value never needs escaping (hex digits, UUIDs, ARNs
	// made of them and of a plain cluster ARN), so it is copied as is.
	plain bool
}

type holeKind uint8

const (
	holeTaskArn holeKind = iota
	holeVersion
	holeTime
	holePointer // the packed task's pointers: instance ARN, zone, last and desired status
	holeContainerArn
	holeRuntimeID
)

// planScratch is the memory one DescribeTasks answer writes its tasks with.
type planScratch struct {
	own   ownValues
	shape []byte
}

// taskValues are the values a plan's holes take.
type taskValues struct {
	own  *ownValues
	ptrs [4]*string
}

func (p *packedTask) pointers() [4]*string {
	return [4]*string{p.ContainerInstanceArn, p.AvailabilityZone, p.LastStatus, p.DesiredStatus}
}

// appendShape appends what decides which members a task's JSON has.
func appendShape(b []byte, v *taskValues, withTags bool) []byte {
	var ptrs byte
	for i, s := range v.ptrs {
		if s != nil {
			ptrs |= 1 << i
		}
	}
	if withTags {
		ptrs |= 1 << 4
	}
	b = append(b, v.own.flags, v.own.which, ptrs)
	return append(b, v.own.cflags...)
}

// appendTask appends the JSON of p as DescribeTasks describes it.
func (tp *taskPlans) appendTask(b []byte, p *packedTask, withTags bool, sc *planScratch) []byte {
	p.readOwn(&sc.own)
	v := taskValues{own: &sc.own, ptrs: p.pointers()}
	sc.shape = appendShape(sc.shape[:0], &v, withTags)
	tp.mu.RLock()
	plan, known := tp.plans[planKey{p.tmpl, unsafe.String(unsafe.SliceData(sc.shape), len(sc.shape))}]
	tp.mu.RUnlock()
	if !known {
		plan = makePlan(p.tmpl, &v, withTags)
		tp.mu.Lock()
		if tp.plans == nil || len(tp.plans) >= maxPlans {
			tp.plans = map[planKey]*taskPlan{}
		}
		tp.plans[planKey{p.tmpl, string(sc.shape)}] = plan
		tp.mu.Unlock()
	}
	if plan == nil {
		t := taskOut(p.unpack(), withTags)
		return t.AppendJSON(b)
	}
	return plan.append(b, &v)
}

// append appends the JSON of the task with values v.
func (pl *taskPlan) append(b []byte, v *taskValues) []byte {
	from := 0
	for _, h := range pl.holes {
		b = append(b, pl.text[from:h.at]...)
		b = h.appendValue(b, v)
		from = h.at
	}
	return append(b, pl.text[from:]...)
}

// appendValue appends the hole's value as the record's AppendJSON does.
func (h planHole) appendValue(b []byte, v *taskValues) []byte {
	o := v.own
	if h.plain {
		b = append(b, '"')
		switch h.kind {
		case holeTaskArn:
			b = append(b, o.arn...)
		case holeContainerArn:
			sp := o.spans[2*h.idx]
			b = append(b, o.buf[sp.from:sp.to]...)
		default: // holeRuntimeID
			sp := o.spans[2*h.idx+1]
			b = append(b, o.buf[sp.from:sp.to]...)
		}
		return append(b, '"')
	}
	switch h.kind {
	case holeTaskArn:
		return wire.AppendString(b, span{0, len(o.arn)}.str(o.arn))
	case holeVersion:
		return strconv.AppendInt(b, o.version, 10)
	case holeTime:
		return wire.AppendTimeMillis(b, o.times[h.idx])
	case holePointer:
		return wire.AppendString(b, *v.ptrs[h.idx])
	case holeContainerArn:
		return wire.AppendString(b, o.spans[2*h.idx].str(o.buf))
	default: // holeRuntimeID
		return wire.AppendString(b, o.spans[2*h.idx+1].str(o.buf))
	}
}

// makePlan returns the plan of the tasks of tmpl with the shape of v, or
// nil when the sentinels do not make one (see taskPlans).
func makePlan(tmpl *taskRecord, v *taskValues, withTags bool) *taskPlan {
	recA, valsA, holesA := sentinelTask(tmpl, v, 0)
	out := taskOut(recA, withTags).AppendJSON(nil)
	type found struct {
		at, end int
		h       planHole
	}
	var all []found
	for _, h := range holesA {
		val := h.appendValue(nil, valsA)
		want := 1
		if h.kind == holeTaskArn { // the containers may repeat it
			for _, cf := range v.own.cflags {
				if cf&ownCTaskArn != 0 {
					want++
				}
			}
		}
		n := 0
		for i := 0; ; {
			j := bytes.Index(out[i:], val)
			if j < 0 {
				break
			}
			all = append(all, found{i + j, i + j + len(val), h})
			i += j + len(val)
			n++
		}
		if n != want {
			return nil
		}
	}
	slices.SortFunc(all, func(a, b found) int { return cmp.Compare(a.at, b.at) })
	plan := &taskPlan{}
	var text []byte
	from := 0
	for _, f := range all {
		if f.at < from {
			return nil // overlapping sentinels
		}
		text = append(text, out[from:f.at]...)
		h := f.h
		h.at = len(text)
		plan.holes = append(plan.holes, h)
		from = f.end
	}
	plan.text = string(append(text, out[from:]...))
	// The check: other sentinels, through the plan and through AppendJSON.
	recB, valsB, _ := sentinelTask(tmpl, v, 1)
	if !bytes.Equal(plan.append(nil, valsB), taskOut(recB, withTags).AppendJSON(nil)) {
		return nil
	}
	return plan
}

// sentinelTask returns the record of template tmpl with sentinel values
// (of set, 0 or 1) in the holes v's shape has, the values, and the holes.
// No sentinel's JSON is part of another's.
func sentinelTask(tmpl *taskRecord, v *taskValues, set int) (*taskRecord, *taskValues, []planHole) {
	r := new(taskRecord)
	*r = *tmpl
	o := &ownValues{flags: v.own.flags, which: v.own.which, cflags: slices.Clone(v.own.cflags)}
	vals := &taskValues{own: o}
	var holes []planHole
	// Sentinels are plain, as plain holes' values are: the checks of
	// makePlan catch a template that holds one.
	sentinel := func(k int) string {
		return "berth-sentinel-" + strconv.Itoa(set) + "-" + strconv.Itoa(k)
	}
	arnPlain := o.flags&ownArnHex != 0 && isPlainJSON(wire.Val(tmpl.ClusterArn))
	if o.flags&(ownArnHex|ownArnRaw) != 0 {
		o.arn = []byte(sentinel(0))
		r.TaskArn = wire.Ptr(string(o.arn))
		holes = append(holes, planHole{kind: holeTaskArn, plain: arnPlain})
	}
	if o.flags&ownVersion != 0 {
		o.version = -7_000_000_000_000_000_001 - int64(set)
		r.Version = wire.Ptr(o.version)
		holes = append(holes, planHole{kind: holeVersion})
	}
	for i, tp := range taskTimes(&r.Task) {
		if o.which&(1<<i) != 0 {
			// Three decimals, none zero: no time's JSON is part of another's.
			o.times[i] = -8_100_000_000_111 - int64(set)*1000 - int64(i)
			*tp = &wire.Time{Time: time.UnixMilli(o.times[i]).UTC()}
			holes = append(holes, planHole{kind: holeTime, idx: i})
		}
	}
	ptrs := [4]**string{&r.ContainerInstanceArn, &r.AvailabilityZone, &r.LastStatus, &r.DesiredStatus}
	for i, s := range v.ptrs {
		if s != nil {
			vals.ptrs[i] = wire.Ptr(sentinel(1 + i))
			*ptrs[i] = vals.ptrs[i]
			holes = append(holes, planHole{kind: holePointer, idx: i})
		}
	}
	if o.flags&ownContainers != 0 {
		r.Containers = slices.Clone(tmpl.Containers)
		for i, cf := range o.cflags {
			c := &r.Containers[i]
			carn, runtime := span{-1, -1}, span{-1, -1}
			if cf&(ownCArnUUID|ownCArnRest) != 0 {
				start := len(o.buf)
				o.buf = append(o.buf, sentinel(10+2*i)...)
				carn = span{start, len(o.buf)}
				c.ContainerArn = wire.Ptr(sentinel(10 + 2*i))
				holes = append(holes, planHole{kind: holeContainerArn, idx: i, plain: arnPlain && cf&ownCArnUUID != 0})
			}
			if cf&(ownCRuntimeHex|ownCRuntimeRaw) != 0 {
				start := len(o.buf)
				o.buf = append(o.buf, sentinel(11+2*i)...)
				runtime = span{start, len(o.buf)}
				c.RuntimeId = wire.Ptr(sentinel(11 + 2*i))
				holes = append(holes, planHole{kind: holeRuntimeID, idx: i, plain: cf&ownCRuntimeHex != 0})
			}
			if cf&ownCTaskArn != 0 {
				c.TaskArn = r.TaskArn
			}
			o.spans = append(o.spans, carn, runtime)
		}
	}
	return r, vals, holes
}

// isPlainJSON reports whether s is written in JSON as it is, in quotes.
func isPlainJSON(s string) bool {
	b := wire.AppendString(nil, s)
	return len(b) == len(s)+2 && string(b[1:len(b)-1]) == s
}
