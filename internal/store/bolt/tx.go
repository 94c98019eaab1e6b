package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/berth-dev/berth/internal/store"
)

var (
	// errTxDone is returned by a Reader or Tx used after its fn returned.
	errTxDone = errors.New("bolt: transaction already finished")
	// errEmptyKey is returned by Put for the empty key.
	errEmptyKey = errors.New("bolt: empty key")
)

// reader is the store.Reader of View: a bbolt read transaction's kv bucket.
// Within Update it reads the committer's read-write transaction instead,
// which includes the writes of earlier fns in the same batch.
type reader struct {
	kv   *bbolt.Bucket
	done bool // set when fn returns; bbolt memory is invalid after that
}

var _ store.Reader = (*reader)(nil)

func (r *reader) Get(key string) (store.KV, error) {
	if r.done {
		return store.KV{}, errTxDone
	}
	v := r.kv.Get([]byte(key))
	if v == nil {
		return store.KV{}, store.ErrNotFound
	}
	return decodeValue([]byte(key), v)
}

func (r *reader) List(prefix, after string, fn func(store.KV) error) error {
	if r.done {
		return errTxDone
	}
	return list(r.kv, nil, prefix, after, fn)
}

// write is one buffered change of an overlay; del means delete.
type write struct {
	value []byte
	// stored is value with kvHeader bytes of room in front, where apply
	// writes the revisions: the kv bucket's entry without another copy.
	stored []byte
	obj    any // the writer's decoded value (PutObj), or nil
	del    bool
}

// overlay is the store.Tx of one Update fn: the batch's read-write
// transaction underneath, plus this fn's own buffered writes on top. The
// committer applies it only if fn returns nil, so a failing fn leaves no
// trace.
type overlay struct {
	reader
	writes map[string]write
	keys   []string // sorted keys of writes
	bytes  int      // key and value bytes buffered, for the batch cap
}

var _ store.Tx = (*overlay)(nil)

func newOverlay(kv *bbolt.Bucket) *overlay {
	return &overlay{reader: reader{kv: kv}, writes: map[string]write{}}
}

func (o *overlay) Get(key string) (store.KV, error) {
	if o.done {
		return store.KV{}, errTxDone
	}
	if w, ok := o.writes[key]; ok {
		if w.del {
			return store.KV{}, store.ErrNotFound
		}
		return store.KV{Key: key, Value: bytes.Clone(w.value)}, nil
	}
	return o.reader.Get(key)
}

func (o *overlay) List(prefix, after string, fn func(store.KV) error) error {
	if o.done {
		return errTxDone
	}
	return list(o.kv, o, prefix, after, fn)
}

func (o *overlay) Put(key string, value []byte) error { return o.PutObj(key, value, nil) }

// PutObj is Put with the writer's decoded form of value, which the events
// of this write carry to the watchers (store.ObjPutter).
func (o *overlay) PutObj(key string, value []byte, obj any) error {
	if o.done {
		return errTxDone
	}
	if key == "" {
		return errEmptyKey
	}
	if len(key) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: put: key of %d bytes: %w", len(key), bolterrors.ErrKeyTooLarge)
	}
	if len(value) > bbolt.MaxValueSize-kvHeader {
		return fmt.Errorf("bolt: put: value of %d bytes: %w", len(value), bolterrors.ErrValueTooLarge)
	}
	stored := make([]byte, kvHeader+len(value))
	copy(stored[kvHeader:], value)
	o.set(key, write{value: stored[kvHeader:], stored: stored, obj: obj})
	return nil
}

func (o *overlay) Delete(key string) error {
	if o.done {
		return errTxDone
	}
	if key == "" {
		return nil
	}
	// Recorded even if the key is missing: whether the delete does anything
	// is decided when the overlay is applied.
	o.set(key, write{del: true})
	return nil
}

func (o *overlay) set(key string, w write) {
	if old, ok := o.writes[key]; ok {
		o.bytes -= len(key) + len(old.value)
	} else {
		i, _ := slices.BinarySearch(o.keys, key)
		o.keys = slices.Insert(o.keys, i, key)
	}
	o.writes[key] = w
	o.bytes += len(key) + len(w.value)
}

// list merges the kv bucket with an optional overlay and calls fn for each
// live key with the prefix after `after`, in key order. fn may write to the
// overlay while listing: the overlay position is re-found from the last key
// seen on every step.
func list(kv *bbolt.Bucket, o *overlay, prefix, after string, fn func(store.KV) error) error {
	bound, excl := prefix, false // next key must be >= bound (> if excl)
	if after >= prefix {
		bound, excl = after, true
	}
	c := kv.Cursor()
	bk, bv := c.Seek([]byte(bound))
	if excl && bk != nil && string(bk) == bound {
		bk, bv = c.Next()
	}
	for {
		baseOK := bk != nil && hasPrefix(bk, prefix)
		ovKey, ovOK := o.next(bound, excl, prefix)
		if !baseOK && !ovOK {
			return nil
		}
		var kv store.KV
		if ovOK && (!baseOK || ovKey <= string(bk)) {
			if baseOK && ovKey == string(bk) {
				bk, bv = c.Next()
			}
			bound, excl = ovKey, true
			w := o.writes[ovKey]
			if w.del {
				continue
			}
			kv = store.KV{Key: ovKey, Value: bytes.Clone(w.value)}
		} else {
			var err error
			if kv, err = decodeValue(bk, bv); err != nil {
				return err
			}
			bound, excl = kv.Key, true
			bk, bv = c.Next()
		}
		if err := fn(kv); err != nil {
			if errors.Is(err, store.ErrStop) {
				return nil
			}
			return err
		}
	}
}

// next returns the first buffered key with the prefix at or after bound
// (strictly after if excl). A nil overlay has none.
func (o *overlay) next(bound string, excl bool, prefix string) (string, bool) {
	if o == nil {
		return "", false
	}
	i, found := slices.BinarySearch(o.keys, bound)
	if found && excl {
		i++
	}
	if i < len(o.keys) && strings.HasPrefix(o.keys[i], prefix) {
		return o.keys[i], true
	}
	return "", false
}
