package control

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/berth-dev/berth/internal/wire"
)

// packedTask is how the view holds a task record. The tasks of a cluster
// are alike: their definition, cluster, group, overrides, sizes, container
// names, images and statuses are the same across thousands of tasks. A
// packed task keeps all of that in a template shared by every task with
// the same remainder (the record with the task's own members cleared, one
// copy per distinct remainder), and its own members beside it: the few the
// readers look at most as pointers (the view's interned values), the rest
// (timestamps, version, container ARNs and runtime ids) as a few
// pointer-free bytes. At 100,000 tasks this is a fifth of the memory a
// decoded record takes, and a fraction of the pointers the collector
// scans.
//
// unpack rebuilds the decoded record exactly (TestPackedTaskRoundTrip): a
// member that does not have its usual form (a container ARN that is not
// the task's own, a timestamp finer than the millisecond) simply stays in
// the template, which is then the task's alone. Packed tasks are
// immutable, like every object in the view; so are their templates.
type packedTask struct {
	tmpl *taskRecord
	// The members readers filter and index on, as decoded (interned).
	ContainerInstanceArn, AvailabilityZone, LastStatus, DesiredStatus *string
	// own holds the rest of the task's own members (see packer.pack).
	own string
}

// Flags of a packed task's own bytes: which members moved out of the
// template.
const (
	ownID         = 1 << iota // ID is the last segment of TaskArn
	ownVersion                // varint
	ownTimes                  // a byte of which timestamps follow, then each in ms (varint)
	ownContainers             // per container of the template: flags, then the members
	ownArnHex                 // TaskArn is the cluster's task ARN prefix + a 32-hex-digit id (16 bytes, first)
	ownArnRaw                 // TaskArn is a string (length, bytes; first)
)

// Flags of one container's own members.
const (
	ownCArnUUID    = 1 << iota // ContainerArn is the task's container ARN prefix + a UUID (16 bytes)
	ownCArnRest                // ContainerArn is that prefix + a string (length, bytes)
	ownCRuntimeHex             // RuntimeId is lowercase hex (length in bytes, bytes)
	ownCRuntimeRaw             // RuntimeId is a string (length, bytes)
	ownCTaskArn                // TaskArn is the task's
)

// taskTimes lists the timestamp members of a task, in a fixed order.
func taskTimes(t *wire.Task) [8]**wire.Time {
	return [8]**wire.Time{&t.CreatedAt, &t.PullStartedAt, &t.PullStoppedAt, &t.StartedAt,
		&t.ConnectivityAt, &t.StoppingAt, &t.StoppedAt, &t.ExecutionStoppedAt}
}

// packer turns decoded task records into packed ones and keeps the
// templates. It is used under the interner's lock.
type packer struct {
	templates map[string]*taskRecord // template JSON → template
	scratch   taskRecord
	conts     []wire.Container
	key, own  []byte
}

// maxTemplates bounds the template table: beyond it the table is started
// again (the templates stay with the tasks that use them), so tasks whose
// remainders are all distinct (each with its own dynamic host ports, say)
// cannot grow it without limit.
const maxTemplates = 1 << 12

// pack returns r as a packed task. r must not change afterwards (the
// template may share its slices and pointers).
func (pk *packer) pack(r *taskRecord) *packedTask {
	p := &packedTask{ContainerInstanceArn: r.ContainerInstanceArn,
		AvailabilityZone: r.AvailabilityZone, LastStatus: r.LastStatus, DesiredStatus: r.DesiredStatus}
	t := &pk.scratch
	*t = *r
	t.TaskArn, t.ContainerInstanceArn, t.AvailabilityZone, t.LastStatus, t.DesiredStatus = nil, nil, nil, nil, nil
	own := pk.own[:0]
	var flags byte
	own = append(own, 0)
	arn := wire.Val(r.TaskArn)
	if r.TaskArn != nil {
		if id, ok := cutTaskARNPrefix(arn, wire.Val(r.ClusterArn)); ok && len(id) == 32 && isLowerHex(id) {
			flags |= ownArnHex
			own, _ = hex.AppendDecode(own, []byte(id))
		} else {
			flags |= ownArnRaw
			own = binary.AppendUvarint(own, uint64(len(arn)))
			own = append(own, arn...)
		}
	}
	if r.TaskArn != nil && r.ID != "" && strings.HasSuffix(arn, "/"+r.ID) {
		flags |= ownID
		t.ID = ""
	}
	if r.Version != nil {
		flags |= ownVersion
		own = binary.AppendVarint(own, *r.Version)
		t.Version = nil
	}
	var which byte
	at := len(own)
	own = append(own, 0)
	for i, tp := range taskTimes(&t.Task) {
		if ms, ok := packableTime(*tp); ok {
			which |= 1 << i
			own = binary.AppendVarint(own, ms)
			*tp = nil
		}
	}
	if which != 0 {
		flags |= ownTimes
		own[at] = which
	} else {
		own = own[:at]
	}
	if len(r.Containers) > 0 && r.TaskArn != nil {
		flags |= ownContainers
		pk.conts = append(pk.conts[:0], r.Containers...)
		t.Containers = pk.conts
		for i := range t.Containers {
			c := &t.Containers[i]
			var cf byte
			at := len(own)
			own = append(own, 0)
			if rest, ok := cutContainerARNPrefix(wire.Val(c.ContainerArn), arn); ok && c.ContainerArn != nil {
				if u, ok := parseUUID(rest); ok {
					cf |= ownCArnUUID
					own = append(own, u[:]...)
				} else {
					cf |= ownCArnRest
					own = binary.AppendUvarint(own, uint64(len(rest)))
					own = append(own, rest...)
				}
				c.ContainerArn = nil
			}
			if c.RuntimeId != nil {
				if id := *c.RuntimeId; len(id)%2 == 0 && isLowerHex(id) {
					cf |= ownCRuntimeHex
					own = binary.AppendUvarint(own, uint64(len(id)/2))
					own, _ = hex.AppendDecode(own, []byte(id))
				} else {
					cf |= ownCRuntimeRaw
					own = binary.AppendUvarint(own, uint64(len(id)))
					own = append(own, id...)
				}
				c.RuntimeId = nil
			}
			if c.TaskArn != nil && *c.TaskArn == arn {
				cf |= ownCTaskArn
				c.TaskArn = nil
			}
			own[at] = cf
		}
	}
	own[0] = flags
	p.own = string(own)
	pk.own = own

	pk.key = appendTaskRecord(pk.key[:0], t)
	if tmpl, ok := pk.templates[string(pk.key)]; ok {
		p.tmpl = tmpl
	} else {
		tmpl := new(taskRecord)
		*tmpl = *t
		tmpl.Containers = slices.Clone(t.Containers)
		if pk.templates == nil || len(pk.templates) >= maxTemplates {
			pk.templates = map[string]*taskRecord{}
		}
		pk.templates[string(pk.key)] = tmpl
		p.tmpl = tmpl
	}
	clear(pk.conts) // the scratch must not keep the record's values alive
	pk.scratch = taskRecord{}
	return p
}

// ownValues are a packed task's own members as its own bytes hold them
// (readOwn), in memory that is reused from task to task.
type ownValues struct {
	flags   byte
	arn     []byte // the task's ARN (when flags has ownArnHex or ownArnRaw)
	version int64
	which   byte     // the timestamps present: bit i is taskTimes' i-th
	times   [8]int64 // in milliseconds, at their taskTimes index
	cflags  []byte   // per container of the template (ownContainers)
	buf     []byte   // the containers' ARNs and runtime ids
	spans   []span   // two per container, ARN then runtime id, in buf
}

// span is where a string is in a buffer (from < 0: no string).
type span struct{ from, to int }

// str returns the string at sp in buf.
func (sp span) str(buf []byte) string {
	if sp.to == sp.from {
		return ""
	}
	return unsafe.String(&buf[sp.from], sp.to-sp.from)
}

// readOwn reads p's own members into o.
func (p *packedTask) readOwn(o *ownValues) {
	var own string
	o.flags = p.own[0]
	o.arn, own = p.appendTaskArn(o.arn[:0])
	o.version, o.which = 0, 0
	if o.flags&ownVersion != 0 {
		v, n := readVarint(own)
		own = own[n:]
		o.version = v
	}
	if o.flags&ownTimes != 0 {
		o.which = own[0]
		own = own[1:]
		for i := range o.times {
			if o.which&(1<<i) != 0 {
				ms, n := readVarint(own)
				own = own[n:]
				o.times[i] = ms
			}
		}
	}
	o.cflags, o.buf, o.spans = o.cflags[:0], o.buf[:0], o.spans[:0]
	if o.flags&ownContainers == 0 {
		return
	}
	arn := unsafe.String(unsafe.SliceData(o.arn), len(o.arn))
	for range p.tmpl.Containers {
		cf := own[0]
		own = own[1:]
		o.cflags = append(o.cflags, cf)
		carn, runtime := span{-1, -1}, span{-1, -1}
		start := len(o.buf)
		switch {
		case cf&ownCArnUUID != 0:
			o.buf = appendContainerARNPrefix(o.buf, arn)
			o.buf = appendUUID(o.buf, own[:16])
			own = own[16:]
		case cf&ownCArnRest != 0:
			l, k := readUvarint(own)
			own = own[k:]
			o.buf = appendContainerARNPrefix(o.buf, arn)
			o.buf = append(o.buf, own[:l]...)
			own = own[l:]
		}
		if cf&(ownCArnUUID|ownCArnRest) != 0 {
			carn = span{start, len(o.buf)}
		}
		start = len(o.buf)
		switch {
		case cf&ownCRuntimeHex != 0:
			l, k := readUvarint(own)
			own = own[k:]
			o.buf = hex.AppendEncode(o.buf, []byte(own[:l]))
			own = own[l:]
		case cf&ownCRuntimeRaw != 0:
			l, k := readUvarint(own)
			own = own[k:]
			o.buf = append(o.buf, own[:l]...)
			own = own[l:]
		}
		if cf&(ownCRuntimeHex|ownCRuntimeRaw) != 0 {
			runtime = span{start, len(o.buf)}
		}
		o.spans = append(o.spans, carn, runtime)
	}
}

// unpack returns the task record p holds (a new one, which the caller may
// keep; its pointers are shared and must not be written through).
func (p *packedTask) unpack() *taskRecord {
	r := new(taskRecord)
	*r = *p.tmpl
	r.ContainerInstanceArn, r.AvailabilityZone, r.LastStatus, r.DesiredStatus =
		p.ContainerInstanceArn, p.AvailabilityZone, p.LastStatus, p.DesiredStatus
	var o ownValues // its buf becomes the containers' strings
	p.readOwn(&o)
	if o.flags&(ownArnHex|ownArnRaw) != 0 {
		// A copy: o.arn's array is larger than the ARN, and readers keep
		// the ARN (the agents' backend, for one, for every task sent).
		r.TaskArn = new(string)
		*r.TaskArn = string(o.arn)
	}
	arn := wire.Val(r.TaskArn)
	if o.flags&ownID != 0 {
		r.ID = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	if o.flags&ownVersion != 0 {
		r.Version = new(int64)
		*r.Version = o.version
	}
	if o.flags&ownTimes != 0 {
		times := make([]wire.Time, bits.OnesCount8(o.which))
		k := 0
		for i, tp := range taskTimes(&r.Task) {
			if o.which&(1<<i) != 0 {
				times[k].Time = time.UnixMilli(o.times[i]).UTC()
				*tp = &times[k]
				k++
			}
		}
	}
	if o.flags&ownContainers == 0 {
		return r
	}
	r.Containers = append([]wire.Container(nil), p.tmpl.Containers...)
	strs := make([]string, len(o.spans))
	for i, sp := range o.spans {
		if sp.from < 0 {
			continue
		}
		strs[i] = sp.str(o.buf)
		if c := &r.Containers[i/2]; i%2 == 0 {
			c.ContainerArn = &strs[i]
		} else {
			c.RuntimeId = &strs[i]
		}
	}
	for i, cf := range o.cflags {
		if cf&ownCTaskArn != 0 {
			r.Containers[i].TaskArn = r.TaskArn
		}
	}
	return r
}

// group and the other accessors read the members readers filter on
// without unpacking.
func (p *packedTask) group() string { return wire.Val(p.tmpl.Group) }

// taskArn returns the task's ARN ("" when it has none).
func (p *packedTask) taskArn() string {
	if p.own[0]&ownArnRaw != 0 {
		l, k := readUvarint(p.own[1:])
		return p.own[1+k : 1+k+int(l)]
	}
	b, _ := p.appendTaskArn(nil)
	return string(b)
}

// arnArena builds the ARNs of many packed tasks into shared buffers, one
// allocation for many strings (a ListTasks page, an instance's tasks).
type arnArena struct{ buf []byte }

// taskArn returns p's ARN, its bytes in the arena's buffer.
func (a *arnArena) taskArn(p *packedTask) string {
	if p.own[0]&ownArnHex == 0 {
		return p.taskArn() // shares the own bytes, or is ""
	}
	if cap(a.buf)-len(a.buf) < 256 {
		// A new buffer: the strings already cut keep the old one.
		a.buf = make([]byte, 0, max(4096, 2*cap(a.buf)))
	}
	// Appending never rewrites the bytes of strings cut before, even when
	// it moves the buffer.
	start := len(a.buf)
	a.buf, _ = p.appendTaskArn(a.buf)
	return unsafe.String(&a.buf[start], len(a.buf)-start)
}

// appendTaskArn appends the task's ARN to b and returns the own bytes
// that follow it (from the version on).
func (p *packedTask) appendTaskArn(b []byte) ([]byte, string) {
	own := p.own[1:]
	switch flags := p.own[0]; {
	case flags&ownArnHex != 0:
		cl := wire.Val(p.tmpl.ClusterArn)
		i := strings.Index(cl, ":cluster/")
		b = append(b, cl[:i]...)
		b = append(b, ":task/"...)
		b = append(b, cl[i+len(":cluster/"):]...)
		b = append(b, '/')
		b = hex.AppendEncode(b, []byte(own[:16]))
		own = own[16:]
	case flags&ownArnRaw != 0:
		l, k := readUvarint(own)
		b = append(b, own[k:k+int(l)]...)
		own = own[k+int(l):]
	}
	return b, own
}

// cutTaskARNPrefix returns what follows, in a task's ARN, the prefix its
// cluster's ARN gives ("arn:…:cluster/<name>" gives "arn:…:task/<name>/").
func cutTaskARNPrefix(arn, clusterARN string) (string, bool) {
	i := strings.Index(clusterARN, ":cluster/")
	if i < 0 {
		return "", false
	}
	rest, ok := strings.CutPrefix(arn, clusterARN[:i])
	if ok {
		rest, ok = strings.CutPrefix(rest, ":task/")
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, clusterARN[i+len(":cluster/"):])
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, "/")
	}
	return rest, ok
}

// packableTime reports whether t is what the wire decoder makes of a
// timestamp in milliseconds (UTC, whole milliseconds), and its value.
func packableTime(t *wire.Time) (int64, bool) {
	if t == nil {
		return 0, false
	}
	ms := t.UnixMilli()
	if time.UnixMilli(ms).UTC() != t.Time {
		return 0, false
	}
	return ms, true
}

// The ARNs of a task's containers begin with a prefix made from the task's
// ARN: "arn:…:task/<cluster>/<task id>" gives
// "arn:…:container/<cluster>/<task id>/".

// cutContainerARNPrefix returns what follows that prefix in arn.
func cutContainerARNPrefix(arn, taskARN string) (string, bool) {
	i := strings.Index(taskARN, ":task/")
	if i < 0 {
		return "", false
	}
	head, tail := taskARN[:i], taskARN[i+len(":task/"):]
	rest, ok := strings.CutPrefix(arn, head)
	if ok {
		rest, ok = strings.CutPrefix(rest, ":container/")
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, tail)
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, "/")
	}
	return rest, ok
}

// appendContainerARNPrefix appends the prefix (taskARN has ":task/": the
// packer only packs such tasks' container ARNs).
func appendContainerARNPrefix(b []byte, taskARN string) []byte {
	i := strings.Index(taskARN, ":task/")
	b = append(b, taskARN[:i]...)
	b = append(b, ":container/"...)
	b = append(b, taskARN[i+len(":task/"):]...)
	return append(b, '/')
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// parseUUID reads a lowercase 8-4-4-4-12 UUID.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if !isLowerHex(h) {
		return u, false
	}
	_, _ = hex.Decode(u[:], []byte(h))
	return u, true
}

// appendUUID appends the 8-4-4-4-12 form of the 16 bytes of u.
func appendUUID(b []byte, u string) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[u[i]>>4], digits[u[i]&15])
	}
	return b
}

// readVarint and readUvarint read a varint at the start of own bytes.
func readVarint(s string) (int64, int) {
	return binary.Varint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
}

func readUvarint(s string) (uint64, int) {
	return binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
}
