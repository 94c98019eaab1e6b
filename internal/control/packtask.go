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

// unpack returns the task record p holds (a new one, which the caller may
// keep; its pointers are shared and must not be written through).
func (p *packedTask) unpack() *taskRecord {
	r := new(taskRecord)
	p.unpackInto(r, nil)
	return r
}

// unpackScratch is memory an unpacked record can use instead of its own:
// a record unpacked into a scratch is valid only until the scratch is
// used again (DescribeTasks encodes one record at a time).
type unpackScratch struct {
	rec     taskRecord
	arn     string
	arnBuf  []byte
	times   [8]wire.Time
	version int64
	conts   []wire.Container
	strs    []string
	spans   []span
	buf     []byte
}

// span is where a string is in a buffer (from < 0: no string).
type span struct{ from, to int }

// unpackInto sets *r to the record p holds, in sc's memory when sc is not
// nil.
func (p *packedTask) unpackInto(r *taskRecord, sc *unpackScratch) {
	*r = *p.tmpl
	r.ContainerInstanceArn, r.AvailabilityZone, r.LastStatus, r.DesiredStatus =
		p.ContainerInstanceArn, p.AvailabilityZone, p.LastStatus, p.DesiredStatus
	own := p.own
	flags := own[0]
	if sc != nil {
		var b []byte
		b, own = p.appendTaskArn(sc.arnBuf[:0])
		sc.arnBuf = b
		if flags&(ownArnHex|ownArnRaw) != 0 {
			sc.arn = ""
			if len(b) > 0 {
				sc.arn = unsafe.String(unsafe.SliceData(b), len(b))
			}
			r.TaskArn = &sc.arn
		}
	} else {
		var b []byte
		b, own = p.appendTaskArn(nil)
		if flags&(ownArnHex|ownArnRaw) != 0 {
			r.TaskArn = new(string)
			*r.TaskArn = string(b)
		}
	}
	arn := wire.Val(r.TaskArn)
	if flags&ownID != 0 {
		r.ID = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	if flags&ownVersion != 0 {
		v, n := readVarint(own)
		own = own[n:]
		if sc != nil {
			sc.version = v
			r.Version = &sc.version
		} else {
			r.Version = new(int64)
			*r.Version = v
		}
	}
	if flags&ownTimes != 0 {
		which := own[0]
		own = own[1:]
		var times []wire.Time
		if sc != nil {
			times = sc.times[:]
		} else {
			times = make([]wire.Time, bits.OnesCount8(which))
		}
		k := 0
		for i, tp := range taskTimes(&r.Task) {
			if which&(1<<i) != 0 {
				ms, n := readVarint(own)
				own = own[n:]
				times[k].Time = time.UnixMilli(ms).UTC()
				*tp = &times[k]
				k++
			}
		}
	}
	if flags&ownContainers == 0 {
		return
	}
	n := len(p.tmpl.Containers)
	var strs []string // each container's ARN and runtime id
	var buf []byte    // their bytes
	if sc != nil {
		sc.conts = append(sc.conts[:0], p.tmpl.Containers...)
		r.Containers = sc.conts
		sc.strs = slices.Grow(sc.strs[:0], 2*n)[:2*n]
		strs, buf = sc.strs, sc.buf[:0]
	} else {
		r.Containers = append([]wire.Container(nil), p.tmpl.Containers...)
		strs = make([]string, 2*n)
	}
	// The bytes are written first, then the strings are cut from them
	// (appending may move the buffer).
	var spans []span
	if sc != nil {
		sc.spans = slices.Grow(sc.spans[:0], 2*n)[:2*n]
		spans = sc.spans
	} else {
		spans = make([]span, 2*n)
	}
	for i := range r.Containers {
		cf := own[0]
		own = own[1:]
		start := len(buf)
		switch {
		case cf&ownCArnUUID != 0:
			buf = appendContainerARNPrefix(buf, arn)
			buf = appendUUID(buf, own[:16])
			own = own[16:]
		case cf&ownCArnRest != 0:
			l, k := readUvarint(own)
			own = own[k:]
			buf = appendContainerARNPrefix(buf, arn)
			buf = append(buf, own[:l]...)
			own = own[l:]
		}
		if cf&(ownCArnUUID|ownCArnRest) != 0 {
			spans[2*i] = span{start, len(buf)}
		} else {
			spans[2*i] = span{-1, -1}
		}
		start = len(buf)
		switch {
		case cf&ownCRuntimeHex != 0:
			l, k := readUvarint(own)
			own = own[k:]
			buf = hex.AppendEncode(buf, []byte(own[:l]))
			own = own[l:]
		case cf&ownCRuntimeRaw != 0:
			l, k := readUvarint(own)
			own = own[k:]
			buf = append(buf, own[:l]...)
			own = own[l:]
		}
		if cf&(ownCRuntimeHex|ownCRuntimeRaw) != 0 {
			spans[2*i+1] = span{start, len(buf)}
		} else {
			spans[2*i+1] = span{-1, -1}
		}
		if cf&ownCTaskArn != 0 {
			r.Containers[i].TaskArn = r.TaskArn
		}
	}
	if sc != nil {
		sc.buf = buf
	}
	for i, sp := range spans {
		if sp.from < 0 {
			continue
		}
		if sp.to == sp.from {
			strs[i] = ""
		} else {
			strs[i] = unsafe.String(&buf[sp.from], sp.to-sp.from)
		}
		if i%2 == 0 {
			r.Containers[i/2].ContainerArn = &strs[i]
		} else {
			r.Containers[i/2].RuntimeId = &strs[i]
		}
	}
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
