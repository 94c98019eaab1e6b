package control

import (
	"strconv"

	"github.com/berth-dev/berth/internal/wire"
)

// appendTaskRecord appends r's stored form: exactly json.Marshal(r)'s bytes
// (the embedded task's members, then the record's own, in declaration
// order; TestAppendTaskRecordMatchesMarshal checks it), built on the
// generated encoder. Every RunTask and state change stores a task, and
// reflection-based marshalling of it was a noticeable part of each
// commit.
func appendTaskRecord(b []byte, r *taskRecord) []byte {
	start := len(b)
	b = r.Task.AppendJSON(b)
	b = b[:len(b)-1] // reopen the object
	e := recordEncoder{b: b, first: len(b)-start == 1}
	e.key("cluster")
	e.b = wire.AppendString(e.b, r.Cluster)
	e.key("id")
	e.b = wire.AppendString(e.b, r.ID)
	if r.ReservedCPU != 0 {
		e.key("reservedCpu")
		e.b = strconv.AppendInt(e.b, r.ReservedCPU, 10)
	}
	if r.ReservedMemory != 0 {
		e.key("reservedMemory")
		e.b = strconv.AppendInt(e.b, r.ReservedMemory, 10)
	}
	e.strings("reservedPorts", r.ReservedPorts)
	e.strings("reservedPortsUdp", r.ReservedPortsUDP)
	e.strings("essential", r.Essential)
	return append(e.b, '}')
}

// recordEncoder appends a record's own members after its embedded part.
type recordEncoder struct {
	b     []byte
	first bool
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
