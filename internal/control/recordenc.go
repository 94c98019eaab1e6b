package control

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// appendTaskRecord appends r's stored form: exactly json.Marshal(r)'s bytes
// (the embedded task's members, then the record's own, in declaration
// order; TestAppendTaskRecordMatchesMarshal checks it), built on the
// generated encoder. Every RunTask and state change stores a task, and
// reflection-based marshalling of it was a noticeable part of each
// commit.
func appendTaskRecord(b []byte, r *taskRecord) []byte {
	e := openRecord(r.Task.AppendJSON(b), len(b), r.Cluster, r.ID)
	e.int64("reservedCpu", r.ReservedCPU)
	e.int64("reservedMemory", r.ReservedMemory)
	e.strings("reservedPorts", r.ReservedPorts)
	e.strings("reservedPortsUdp", r.ReservedPortsUDP)
	e.strings("essential", r.Essential)
	return append(e.b, '}')
}

// appendInstanceRecord appends r's stored form: exactly json.Marshal(r)'s
// bytes (TestAppendInstanceRecordMatchesMarshal). Every RunTask rewrites
// the record of the instance it charges, with its dozens of attributes.
func appendInstanceRecord(b []byte, r *instanceRecord) []byte {
	e := openRecord(r.ContainerInstance.AppendJSON(b), len(b), r.Cluster, r.ID)
	if r.PlatformDevices != nil {
		e.key("platformDevices")
		e.b = append(e.b, '[')
		for i := range r.PlatformDevices {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = r.PlatformDevices[i].AppendJSON(e.b)
		}
		e.b = append(e.b, ']')
	}
	if t := r.DeregisteredAt; t != nil {
		e.key("deregisteredAt")
		e.b = append(t.AppendFormat(append(e.b, '"'), time.RFC3339Nano), '"')
	}
	if u := &r.Reserved; u.CPU != 0 || u.Memory != 0 || u.Ports != nil || u.UDP != nil {
		e.key("reserved")
		sub := recordEncoder{b: append(e.b, '{'), first: true}
		sub.int64("cpu", u.CPU)
		sub.int64("memory", u.Memory)
		sub.strings("ports", u.Ports)
		sub.strings("udp", u.UDP)
		e.b = append(sub.b, '}')
	}
	if len(r.Groups) > 0 {
		e.key("groups")
		e.b = append(e.b, '{')
		for i, g := range slices.Sorted(maps.Keys(r.Groups)) {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(wire.AppendString(e.b, g), ':')
			e.b = strconv.AppendInt(e.b, int64(r.Groups[g]), 10)
		}
		e.b = append(e.b, '}')
	}
	return append(e.b, '}')
}

// recordEncoder appends a record's own members after its embedded part.
type recordEncoder struct {
	b     []byte
	first bool
}

// openRecord reopens the JSON object of a record's embedded structure,
// appended to b from start, and appends the members every record has
// first: its cluster and id.
func openRecord(b []byte, start int, cluster, id string) recordEncoder {
	e := recordEncoder{b: b[:len(b)-1], first: len(b)-start == len("{}")}
	e.key("cluster")
	e.b = wire.AppendString(e.b, cluster)
	e.key("id")
	e.b = wire.AppendString(e.b, id)
	return e
}

// int64 appends an omitempty integer member.
func (e *recordEncoder) int64(name string, v int64) {
	if v != 0 {
		e.key(name)
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

func (e *recordEncoder) key(name string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// strings appends an omitempty []string member.
func (e *recordEncoder) strings(name string, ss []string) {
	if len(ss) == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i, s := range ss {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = wire.AppendString(e.b, s)
	}
	e.b = append(e.b, ']')
}
