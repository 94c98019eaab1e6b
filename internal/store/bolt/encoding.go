package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-dev/berth/internal/store"
)

// Bucket and meta key names.
var (
	bucketMeta = []byte("meta")
	bucketKV   = []byte("kv")
	bucketLog  = []byte("log")

	metaRev       = []byte("rev")
	metaCompacted = []byte("compacted")
)

// kvHeader is the size of the revision header in front of every value.
const kvHeader = 16

// errCorrupt reports bytes in the file that do not decode.
var errCorrupt = errors.New("bolt: corrupt record")

// revKey encodes a revision as a sortable 8-byte key.
func revKey(rev store.Rev) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(rev))
}

// decodeRev decodes an 8-byte revision; a nil slice is revision zero.
func decodeRev(b []byte) (store.Rev, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: revision of %d bytes", errCorrupt, len(b))
	}
	return store.Rev(binary.BigEndian.Uint64(b)), nil
}

// putHeader lays out a kv bucket value, createRev | modRev | value, in
// place: b holds the value after kvHeader bytes of room (overlay.Put
// copies it so), the revisions go into that room, and b is returned.
func putHeader(b []byte, createRev, modRev store.Rev) []byte {
	binary.BigEndian.PutUint64(b[0:8], uint64(createRev))
	binary.BigEndian.PutUint64(b[8:16], uint64(modRev))
	return b
}

// decodeValue decodes a kv bucket entry into a KV that owns its memory
// (bbolt's slices are only valid inside the transaction).
func decodeValue(key, b []byte) (store.KV, error) {
	if len(b) < kvHeader {
		return store.KV{}, fmt.Errorf("%w: value of key %q has %d bytes", errCorrupt, key, len(b))
	}
	return store.KV{
		Key:       string(key),
		Value:     append([]byte{}, b[kvHeader:]...),
		CreateRev: store.Rev(binary.BigEndian.Uint64(b[0:8])),
		ModRev:    store.Rev(binary.BigEndian.Uint64(b[8:16])),
	}, nil
}

// createRevOf returns the CreateRev stored in a kv bucket value.
func createRevOf(b []byte) store.Rev {
	if len(b) < kvHeader {
		return 0
	}
	return store.Rev(binary.BigEndian.Uint64(b[0:8]))
}

// appendEvents appends the log record of one revision to b:
//
//	uvarint count, then per event:
//	  type (1 byte) | uvarint len(key) | key | uvarint createRev
//	  and for puts: uvarint len(value) | value
//
// The revision itself is the record's key and every event's ModRev.
func appendEvents(b []byte, evs []store.Event) []byte {
	n := binary.MaxVarintLen64
	for _, ev := range evs {
		n += 1 + 3*binary.MaxVarintLen64 + len(ev.KV.Key) + len(ev.KV.Value)
	}
	b = slices.Grow(b, n)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for _, ev := range evs {
		b = append(b, byte(ev.Type))
		b = binary.AppendUvarint(b, uint64(len(ev.KV.Key)))
		b = append(b, ev.KV.Key...)
		b = binary.AppendUvarint(b, uint64(ev.KV.CreateRev))
		if ev.Type == store.EventPut {
			b = binary.AppendUvarint(b, uint64(len(ev.KV.Value)))
			b = append(b, ev.KV.Value...)
		}
	}
	return b
}

// decodeEvents decodes a log record, keeping only keys with the prefix. The
// returned events own their memory.
func decodeEvents(rev store.Rev, b []byte, prefix string, dst []store.Event) ([]store.Event, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: log record %d: %s", errCorrupt, rev, what)
	}
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return dst, bad("count")
	}
	b = b[n:]
	for range count {
		if len(b) < 1 {
			return dst, bad("type")
		}
		typ := store.EventType(b[0])
		b = b[1:]
		klen, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < klen {
			return dst, bad("key")
		}
		key := b[n : n+int(klen)]
		b = b[n+int(klen):]
		createRev, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, bad("create revision")
		}
		b = b[n:]
		var value []byte
		switch typ {
		case store.EventPut:
			vlen, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < vlen {
				return dst, bad("value")
			}
			value = b[n : n+int(vlen)]
			b = b[n+int(vlen):]
		case store.EventDelete:
		default:
			return dst, bad(fmt.Sprintf("event type %d", typ))
		}
		if !hasPrefix(key, prefix) {
			continue
		}
		ev := store.Event{Type: typ, KV: store.KV{Key: string(key), ModRev: rev}}
		if typ == store.EventPut {
			ev.KV.Value = append([]byte{}, value...)
			ev.KV.CreateRev = store.Rev(createRev)
		}
		dst = append(dst, ev)
	}
	return dst, nil
}

// hasPrefix reports whether key starts with prefix, without allocating.
func hasPrefix(key []byte, prefix string) bool {
	return len(key) >= len(prefix) && string(key[:len(prefix)]) == prefix
}
