package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
)

var (
	// errTxDone is returned by a Reader or Tx used after its fn returned.
	errTxDone = errors.New("etcd: transaction already finished")
	// errEmptyKey is returned by Put for the empty key.
	errEmptyKey = errors.New("etcd: empty key")
	// errReadOnly is returned by writes through View's Reader.
	errReadOnly = errors.New("etcd: read-only transaction")
)

// write is one buffered change; del means delete.
type write struct {
	value []byte
	del   bool
}

// keyRange is a listed etcd key range [start, end).
type keyRange struct{ start, end string }

// txn is the Reader of View and the Tx of one Update attempt. It reads
// through to etcd at one revision, remembers what it read, and buffers its
// writes for the commit.
type txn struct {
	s *Store
	// ctx is the caller's: a txn lives only for one call of fn.
	ctx      context.Context
	readOnly bool
	done     bool
	err      error // the first failed read, kept in case fn drops it

	rev    int64                // snapshot revision; 0 until the first read
	reads  map[string]int64     // etcd key -> ModRevision seen, 0 if absent
	cache  map[string]*store.KV // Get results, nil if absent
	ranges []keyRange           // listed ranges

	writes map[string]write // by user key
	keys   []string         // sorted user keys of writes
}

var _ store.Tx = (*txn)(nil)

func (s *Store) newTxn(ctx context.Context, readOnly bool) *txn {
	return &txn{
		s: s, ctx: ctx, readOnly: readOnly,
		reads: map[string]int64{}, cache: map[string]*store.KV{}, writes: map[string]write{},
	}
}

// fail records the first read error and returns err wrapped.
func (t *txn) fail(op string, err error) error {
	err = fmt.Errorf("etcd: %s: %w", op, err)
	if t.err == nil {
		t.err = err
	}
	return err
}

// stale reports whether the failed read hit a compacted snapshot, which a
// fresh attempt fixes.
func (t *txn) stale() bool {
	return errors.Is(t.err, rpctypes.ErrCompacted)
}

// get runs a range read at the snapshot revision, pinning it on first use.
func (t *txn) get(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	resp, err := t.s.cli.Get(t.ctx, key, opts...)
	if err != nil {
		return nil, err
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, nil
}

func (t *txn) kv(kv *mvccpb.KeyValue) store.KV {
	return store.KV{
		Key:       strings.TrimPrefix(string(kv.Key), t.s.kvPrefix),
		Value:     kv.Value, // the response is not shared: no copy needed
		CreateRev: store.Rev(kv.CreateRevision),
		ModRev:    store.Rev(kv.ModRevision),
	}
}

// base reads key at the snapshot, ignoring this txn's writes.
func (t *txn) base(key string) (*store.KV, error) {
	if kv, ok := t.cache[key]; ok {
		return kv, nil
	}
	ek := t.s.kvPrefix + key
	resp, err := t.get(ek)
	if err != nil {
		return nil, t.fail("get "+key, err)
	}
	var kv *store.KV
	if len(resp.Kvs) > 0 {
		x := t.kv(resp.Kvs[0])
		kv = &x
		t.reads[ek] = resp.Kvs[0].ModRevision
	} else {
		t.reads[ek] = 0
	}
	t.cache[key] = kv
	return kv, nil
}

func (t *txn) Get(key string) (store.KV, error) {
	if t.done {
		return store.KV{}, errTxDone
	}
	if w, ok := t.writes[key]; ok {
		if w.del {
			return store.KV{}, store.ErrNotFound
		}
		return store.KV{Key: key, Value: bytes.Clone(w.value)}, nil
	}
	kv, err := t.base(key)
	if err != nil {
		return store.KV{}, err
	}
	if kv == nil {
		return store.KV{}, store.ErrNotFound
	}
	x := *kv
	x.Value = bytes.Clone(kv.Value)
	return x, nil
}

func (t *txn) Put(key string, value []byte) error {
	if t.done {
		return errTxDone
	}
	if t.readOnly {
		return errReadOnly
	}
	if key == "" {
		return errEmptyKey
	}
	t.set(key, write{value: bytes.Clone(value)})
	return nil
}

func (t *txn) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	if t.readOnly {
		return errReadOnly
	}
	if key == "" {
		return nil
	}
	kv, err := t.base(key)
	if err != nil {
		return err
	}
	if kv == nil { // missing underneath: undo any buffered put, write nothing
		if _, ok := t.writes[key]; ok {
			delete(t.writes, key)
			i, _ := slices.BinarySearch(t.keys, key)
			t.keys = slices.Delete(t.keys, i, i+1)
		}
		return nil
	}
	t.set(key, write{del: true})
	return nil
}

func (t *txn) set(key string, w write) {
	if _, ok := t.writes[key]; !ok {
		i, _ := slices.BinarySearch(t.keys, key)
		t.keys = slices.Insert(t.keys, i, key)
	}
	t.writes[key] = w
}

// List merges etcd's keys, fetched in pages at the snapshot revision, with
// this txn's writes.
func (t *txn) List(prefix, after string, fn func(store.KV) error) error {
	if t.done {
		return errTxDone
	}
	bound, excl := prefix, false // next key must be >= bound (> if excl)
	if after >= prefix {
		bound, excl = after, true
	}
	start := t.s.kvPrefix + bound
	if excl {
		start += "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(t.s.kvPrefix + prefix)
	t.ranges = append(t.ranges, keyRange{start, end})

	p := pager{t: t, next: start, end: end, more: true}
	for {
		base, baseOK, err := p.peek()
		if err != nil {
			return err
		}
		ovKey, ovOK := t.nextWrite(bound, excl, prefix)
		if !baseOK && !ovOK {
			return nil
		}
		var kv store.KV
		if ovOK && (!baseOK || ovKey <= base.Key) {
			if baseOK && ovKey == base.Key {
				p.pop()
			}
			bound, excl = ovKey, true
			w := t.writes[ovKey]
			if w.del {
				continue
			}
			kv = store.KV{Key: ovKey, Value: bytes.Clone(w.value)}
		} else {
			kv = base // fetched for this List alone: the caller may keep it
			bound, excl = kv.Key, true
			p.pop()
		}
		if err := fn(kv); err != nil {
			if errors.Is(err, store.ErrStop) {
				return nil
			}
			return err
		}
	}
}

// nextWrite returns the first buffered key with the prefix at or after
// bound (strictly after if excl).
func (t *txn) nextWrite(bound string, excl bool, prefix string) (string, bool) {
	i, found := slices.BinarySearch(t.keys, bound)
	if found && excl {
		i++
	}
	if i < len(t.keys) && strings.HasPrefix(t.keys[i], prefix) {
		return t.keys[i], true
	}
	return "", false
}

// pager walks an etcd key range at the snapshot revision, a page at a time,
// recording every key it sees as read.
type pager struct {
	t         *txn
	next, end string
	more      bool
	page      []store.KV
}

func (p *pager) peek() (store.KV, bool, error) {
	if len(p.page) == 0 && p.more {
		resp, err := p.t.get(p.next, clientv3.WithRange(p.end), clientv3.WithLimit(int64(p.t.s.opts.PageSize)))
		if err != nil {
			return store.KV{}, false, p.t.fail("list", err)
		}
		p.more = resp.More
		for _, kv := range resp.Kvs {
			p.page = append(p.page, p.t.kv(kv))
			p.t.reads[string(kv.Key)] = kv.ModRevision
		}
		if n := len(resp.Kvs); n > 0 {
			p.next = string(resp.Kvs[n-1].Key) + "\x00"
		} else {
			p.more = false
		}
	}
	if len(p.page) == 0 {
		return store.KV{}, false, nil
	}
	return p.page[0], true, nil
}

func (p *pager) pop() { p.page = p.page[1:] }

// compares returns the checks that make the commit fail if anything fn read
// changed since the snapshot revision.
func (t *txn) compares() ([]clientv3.Cmp, error) {
	if t.rev == 0 { // blind writes: nothing to check
		return nil, nil
	}
	unchangedSince := t.rev + 1 // every key in a range must have ModRevision < this
	if len(t.reads)+len(t.ranges) <= t.s.opts.MaxCompares {
		cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
		for k, mod := range t.reads {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
		}
		for _, r := range t.ranges {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start).WithRange(r.end), "<", unchangedSince))
		}
		return cmps, nil
	}
	// Too many to check one by one: nothing under the prefix may have been
	// created or changed, and nothing deleted (every deleting commit
	// rewrites delKey).
	resp, err := t.s.cli.Get(t.ctx, t.s.delKey, clientv3.WithRev(t.rev))
	if err != nil {
		return nil, t.fail("read delete marker", err)
	}
	var delMod int64
	if len(resp.Kvs) > 0 {
		delMod = resp.Kvs[0].ModRevision
	}
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(t.s.kvPrefix).WithPrefix(), "<", unchangedSince),
		clientv3.Compare(clientv3.ModRevision(t.s.delKey), "=", delMod),
	}, nil
}

// ops returns the buffered writes as etcd operations, in key order, plus
// the delete marker if anything is deleted.
func (t *txn) ops() []clientv3.Op {
	ops := make([]clientv3.Op, 0, len(t.keys)+1)
	deletes := false
	for _, k := range t.keys {
		w := t.writes[k]
		if w.del {
			deletes = true
			ops = append(ops, clientv3.OpDelete(t.s.kvPrefix+k))
		} else {
			ops = append(ops, clientv3.OpPut(t.s.kvPrefix+k, string(w.value)))
		}
	}
	if deletes {
		ops = append(ops, clientv3.OpPut(t.s.delKey, ""))
	}
	return ops
}
