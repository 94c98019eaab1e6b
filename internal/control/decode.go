package control

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// Fast decoding of the hot records. Task and container instance records are
// decoded on every commit that touches them (into the view) and inside
// write transactions, and encoding/json's reflection dominated that cost.
// decodeJSON decodes them with wire's Decoder: the extra members here, the
// embedded model structure's members through its generated
// DecodeJSONField.
//
// The contract is wire's: for a zero record, the result (value and error)
// is exactly json.Unmarshal's. Anything the fast path is not sure about
// (invalid JSON, wrong types, case-folded or repeated composite members, …)
// resets the record and decodes it again with json.Unmarshal.

// unmarshalRecord decodes b into v as json.Unmarshal(b, v) does, by the
// fast path for zero task and instance records (json.Unmarshal into a
// non-zero value merges, which the fast path does not do).
func unmarshalRecord(b []byte, v any) error {
	switch r := v.(type) {
	case *taskRecord:
		if reflect.ValueOf(r).Elem().IsZero() {
			return r.decodeJSON(b)
		}
	case *instanceRecord:
		if reflect.ValueOf(r).Elem().IsZero() {
			return r.decodeJSON(b)
		}
	}
	return json.Unmarshal(b, v)
}

// decodeJSON decodes b into r, a zero record, exactly as json.Unmarshal.
func (r *taskRecord) decodeJSON(b []byte) error {
	d := wire.NewDecoder(b)
	if r.decodeFast(&d) == nil && d.End() == nil {
		return nil
	}
	*r = taskRecord{}
	return json.Unmarshal(b, r)
}

func (r *taskRecord) decodeFast(d *wire.Decoder) error {
	ok, err := d.Object()
	if !ok || err != nil {
		return err
	}
	for {
		key, more, err := d.Key()
		if !more || err != nil {
			return err
		}
		// The record's own members first: encoding/json matches exact
		// names before folded ones, and an outer member hides an embedded
		// one of the same name.
		switch string(key) {
		case "cluster":
			err = d.String(&r.Cluster)
		case "id":
			err = d.String(&r.ID)
		case "reservedCpu":
			err = d.Int64(&r.ReservedCPU)
		case "reservedMemory":
			err = d.Int64(&r.ReservedMemory)
		case "reservedPorts":
			err = d.Strings(&r.ReservedPorts)
		case "reservedPortsUdp":
			err = d.Strings(&r.ReservedPortsUDP)
		case "essential":
			err = d.Strings(&r.Essential)
		default:
			var handled bool
			if handled, err = r.Task.DecodeJSONField(d, key); handled || err != nil {
				break
			}
			if wire.FoldsTo(key, "cluster", "id", "reservedCpu", "reservedMemory", "reservedPorts", "reservedPortsUdp", "essential") {
				return d.Fallback()
			}
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// decodeJSON decodes b into r, a zero record, exactly as json.Unmarshal.
func (r *instanceRecord) decodeJSON(b []byte) error {
	d := wire.NewDecoder(b)
	if r.decodeFast(&d) == nil && d.End() == nil {
		return nil
	}
	*r = instanceRecord{}
	return json.Unmarshal(b, r)
}

func (r *instanceRecord) decodeFast(d *wire.Decoder) error {
	ok, err := d.Object()
	if !ok || err != nil {
		return err
	}
	reserved := false
	for {
		key, more, err := d.Key()
		if !more || err != nil {
			return err
		}
		switch string(key) {
		case "cluster":
			err = d.String(&r.Cluster)
		case "id":
			err = d.String(&r.ID)
		case "platformDevices":
			err = r.decodePlatformDevices(d)
		case "deregisteredAt":
			err = decodeTimePtr(d, &r.DeregisteredAt)
		case "reserved":
			if reserved {
				return d.Fallback() // repeated: encoding/json would merge
			}
			reserved = true
			err = r.Reserved.decodeFast(d)
		case "groups":
			err = decodeGroups(d, &r.Groups)
		default:
			var handled bool
			if handled, err = r.ContainerInstance.DecodeJSONField(d, key); handled || err != nil {
				break
			}
			if wire.FoldsTo(key, "cluster", "id", "platformDevices", "deregisteredAt", "reserved", "groups") {
				return d.Fallback()
			}
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// decodePlatformDevices decodes the (rare) member with encoding/json
// itself: decoding the value alone into a nil slice is what Unmarshal does
// with it in place.
func (r *instanceRecord) decodePlatformDevices(d *wire.Decoder) error {
	if d.Null() {
		r.PlatformDevices = nil
		return nil
	}
	if r.PlatformDevices != nil {
		return d.Fallback() // repeated: encoding/json would decode into the old elements
	}
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	if json.Unmarshal(raw, &r.PlatformDevices) != nil {
		return d.Fallback()
	}
	return nil
}

// decodeTimePtr hands the value to time.Time's UnmarshalJSON as
// encoding/json does (null sets nil without calling it).
func decodeTimePtr(d *wire.Decoder, p **time.Time) error {
	if d.Null() {
		*p = nil
		return nil
	}
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	t := new(time.Time)
	if t.UnmarshalJSON(raw) != nil {
		return d.Fallback()
	}
	*p = t
	return nil
}

// decodeGroups decodes an object of counts: null sets nil, a null count
// is 0, the last of repeated keys wins.
func decodeGroups(d *wire.Decoder, p *map[string]int) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p != nil {
		return d.Fallback() // repeated: encoding/json would merge
	}
	ok, err := d.Object()
	if !ok || err != nil {
		return d.Fallback() // not an object (null was handled above)
	}
	m := map[string]int{}
	for {
		key, more, err := d.MapKey()
		if err != nil {
			return err
		}
		if !more {
			*p = m
			return nil
		}
		var n int
		if err := d.Int(&n); err != nil {
			return err
		}
		m[key] = n
	}
}

// decodeFast decodes an object into u (null leaves it as it is).
func (u *usage) decodeFast(d *wire.Decoder) error {
	ok, err := d.Object()
	if !ok || err != nil {
		return err
	}
	for {
		key, more, err := d.Key()
		if !more || err != nil {
			return err
		}
		switch string(key) {
		case "cpu":
			err = d.Int64(&u.CPU)
		case "memory":
			err = d.Int64(&u.Memory)
		case "ports":
			err = d.Strings(&u.Ports)
		case "udp":
			err = d.Strings(&u.UDP)
		default:
			if wire.FoldsTo(key, "cpu", "memory", "ports", "udp") {
				return d.Fallback()
			}
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}
