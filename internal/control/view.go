package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/berth-dev/berth/internal/store"
)

// item is one decoded record in the view. Objects in the view are immutable:
// readers may keep them, nobody mutates them.
type item struct {
	key    string
	obj    any
	modRev store.Rev
}

func itemLess(a, b item) bool { return a.key < b.key }

// entry is an item as byKey holds it: the map has the key.
type entry struct {
	obj    any
	modRev store.Rev
}

// view is the in-memory, ordered, decoded copy of the store that serves every
// read. It is fed only by the store's Watch, so it always reflects a prefix
// of the committed history; waitRev lets a writer read its own write.
//
//	store ──Watch──▶ run() ──apply──▶ tree (btree by key)
//	                                   ▲
//	Describe*/List* ── rlock ──────────┘
type view struct {
	decode func(key string, value []byte) (any, error)
	log    *slog.Logger
	// index follows the task records (taskindex.go); it is updated under
	// mu, before rev advances.
	index *taskIndex
	// intern shares repeated values between decoded task records.
	intern interner

	mu   sync.RWMutex
	tree *btree.BTreeG[item]
	// byKey holds the tree's items by key: point reads (DescribeTasks
	// reads ten tasks a call) cost one hash lookup instead of a descent
	// through a 100,000-item tree that misses the CPU caches at every
	// level. It shares the keys' bytes with the tree.
	byKey   map[string]entry
	rev     store.Rev
	changed chan struct{} // closed and replaced whenever rev advances
}

func newView(decode func(string, []byte) (any, error), log *slog.Logger) *view {
	v := &view{
		log:     log,
		index:   newTaskIndex(),
		tree:    btree.NewG(32, itemLess),
		byKey:   map[string]entry{},
		changed: make(chan struct{}),
	}
	v.decode = func(key string, value []byte) (any, error) {
		obj, err := decode(key, value)
		if r, ok := obj.(*taskRecord); ok {
			if err != nil {
				return nil, err
			}
			return v.intern.pack(r), nil
		}
		return obj, err
	}
	return v
}

// loadChunk is how many records load decodes at a time.
const loadChunk = 4096

// load replaces the view's content with a full listing of the store and
// returns the revision it reflects.
func (v *view) load(ctx context.Context, s store.Store) (store.Rev, error) {
	rev, err := s.Rev(ctx)
	if err != nil {
		return 0, fmt.Errorf("view: rev: %w", err)
	}
	tree := btree.NewG(32, itemLess)
	// Records are decoded in parallel, a chunk at a time (restart time at
	// 100,000 tasks is mostly JSON decoding), and inserted in key order.
	workers := runtime.GOMAXPROCS(0)
	chunk := make([]store.KV, 0, loadChunk)
	objs := make([]any, loadChunk)
	flush := func() {
		var wg sync.WaitGroup
		per := (len(chunk) + workers - 1) / workers
		for w := 0; w < len(chunk); w += per {
			wg.Go(func() {
				for i := w; i < min(w+per, len(chunk)); i++ {
					obj, err := v.decode(chunk[i].Key, chunk[i].Value)
					if err != nil {
						v.log.Warn("view: undecodable record skipped", "key", chunk[i].Key, "err", err)
						obj = nil
					}
					objs[i] = obj
				}
			})
		}
		wg.Wait()
		for i, kv := range chunk {
			if objs[i] != nil {
				tree.ReplaceOrInsert(item{key: kv.Key, obj: objs[i], modRev: kv.ModRev})
			}
			objs[i] = nil
		}
		chunk = chunk[:0]
	}
	err = s.View(ctx, func(r store.Reader) error {
		err := r.List("", "", func(kv store.KV) error {
			chunk = append(chunk, kv)
			if len(chunk) == loadChunk {
				flush()
			}
			return nil
		})
		flush() // inside the read: values may point into the store's pages
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("view: list: %w", err)
	}
	byKey := make(map[string]entry, tree.Len())
	tree.Ascend(func(it item) bool {
		byKey[it.key] = entry{it.obj, it.modRev}
		return true
	})
	v.mu.Lock()
	v.tree, v.byKey = tree, byKey
	v.index.reset()
	tree.Ascend(func(it item) bool {
		v.index.apply(it.key, nil, it.obj)
		return true
	})
	if rev > v.rev {
		v.rev = rev
	}
	close(v.changed)
	v.changed = make(chan struct{})
	v.mu.Unlock()
	return rev, nil
}

// run follows the store from rev until ctx ends, re-listing whenever the
// watch is lost. It is owned by Control and stopped by cancelling ctx.
func (v *view) run(ctx context.Context, s store.Store, rev store.Rev) {
	for ctx.Err() == nil {
		ch, err := s.Watch(ctx, "", rev)
		if err == nil {
			for ev := range ch {
				v.apply(ev)
				rev = ev.KV.ModRev
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, store.ErrCompacted) {
			v.log.Warn("view: watch failed; re-listing", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		// The watch ended (we fell behind, or history was compacted):
		// re-list and follow again from the listing's revision.
		t0 := time.Now()
		r, err := v.load(ctx, s)
		v.log.Warn("view: the store's watch ended (the view fell behind); re-listed", "rev", rev, "took", time.Since(t0))
		if err != nil {
			v.log.Warn("view: re-list failed", "err", err)
			continue
		}
		rev = r
	}
}

// apply folds one event into the view. Events at or below the revision an
// item already has are ignored, so a replay after a listing is harmless.
func (v *view) apply(ev store.Event) {
	var obj any
	if ev.Type == store.EventPut {
		obj = v.adopt(ev.Obj)
		if obj == nil {
			o, err := v.decode(ev.KV.Key, ev.KV.Value)
			if err != nil {
				v.log.Warn("view: undecodable record skipped", "key", ev.KV.Key, "err", err)
			}
			obj = o
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.byKey[ev.KV.Key]; !ok || old.modRev < ev.KV.ModRev {
		// The tree and the map both take the event's key: a map stores
		// the key of its last assignment, so the two share one copy.
		key := ev.KV.Key
		if obj == nil {
			v.tree.Delete(item{key: key})
			delete(v.byKey, key)
		} else {
			v.tree.ReplaceOrInsert(item{key: key, obj: obj, modRev: ev.KV.ModRev})
			v.byKey[key] = entry{obj, ev.KV.ModRev}
		}
		v.index.apply(key, old.obj, obj)
	}
	// Waiters wake only once the whole revision is applied: an Update that
	// wrote several keys is visible all at once (read-your-writes).
	if ev.Last && ev.KV.ModRev > v.rev {
		v.rev = ev.KV.ModRev
		close(v.changed)
		v.changed = make(chan struct{})
	}
}

// adopt returns the view's object for a record its writer handed over
// with the write (putShared, store.Event.Obj), or nil when there is none:
// the writer's task record packed (from a copy of the parts packing
// rewrites: the writer may still read its record), or its instance record
// as it is. Either is what decoding the stored value gives, up to empty
// values that the encoding omits (an empty map or list is nil once
// decoded), which no reader tells apart.
func (v *view) adopt(obj any) any {
	switch r := obj.(type) {
	case *taskRecord:
		return v.intern.pack(privateTask(r))
	case *instanceRecord:
		return r
	}
	return nil
}

// privateTask returns a copy of r that interning and packing may rewrite:
// its own top-level members, containers, container overrides and
// essential list; everything else is shared with r and only read.
func privateTask(r *taskRecord) *taskRecord {
	cp := *r
	cp.Containers = slices.Clone(r.Containers)
	if r.Overrides != nil {
		o := *r.Overrides
		o.ContainerOverrides = slices.Clone(o.ContainerOverrides)
		cp.Overrides = &o
	}
	cp.Essential = slices.Clone(r.Essential)
	return &cp
}

// waitRev blocks until the view reflects rev (read-your-writes).
func (v *view) waitRev(ctx context.Context, rev store.Rev) error {
	for {
		v.mu.RLock()
		cur, ch := v.rev, v.changed
		v.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// task returns the task record at key (unpacked: the caller may keep it),
// or nil.
func (v *view) task(key string) *taskRecord {
	if p, ok := v.get(key).(*packedTask); ok {
		return p.unpack()
	}
	return nil
}

// get returns the object at key, or nil. A task is a *packedTask.
func (v *view) get(key string) any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	it, ok := v.byKey[key]
	if !ok {
		return nil
	}
	return it.obj
}

// getEach sets objs[i] to the object at keys[i] (nil when there is none),
// under one read lock. The keys are only read during the call.
func (v *view) getEach(keys []string, objs []any) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for i, k := range keys {
		objs[i] = nil
		if it, ok := v.byKey[k]; ok {
			objs[i] = it.obj
		}
	}
}

// scan calls fn for the objects under prefix in key order (descending when
// desc), starting strictly after `after` ("" = from the start). fn returns
// false to stop. fn runs under the view's read lock and must not call back
// into the view.
func (v *view) scan(prefix, after string, desc bool, fn func(key string, obj any) bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	visit := func(it item) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false
		}
		if after != "" && it.key == after {
			return true
		}
		return fn(it.key, it.obj)
	}
	if !desc {
		start := prefix
		if after != "" && after > prefix {
			start = after
		}
		v.tree.AscendGreaterOrEqual(item{key: start}, visit)
		return
	}
	if after != "" {
		v.tree.DescendLessOrEqual(item{key: after}, visit)
		return
	}
	// The largest key with this prefix sorts below prefix+"\xff".
	v.tree.DescendLessOrEqual(item{key: prefix + "\xff"}, visit)
}

// count returns how many objects under prefix satisfy fn.
func (v *view) count(prefix string, fn func(obj any) bool) int {
	n := 0
	v.scan(prefix, "", false, func(_ string, obj any) bool {
		if fn(obj) {
			n++
		}
		return true
	})
	return n
}

// scanItems calls fn for the items under prefix in key order, with their
// revisions, and returns the view revision they reflect. fn runs under the
// view's read lock and must not call back into the view.
func (v *view) scanItems(prefix string, fn func(it item) bool) store.Rev {
	v.mu.RLock()
	defer v.mu.RUnlock()
	v.tree.AscendGreaterOrEqual(item{key: prefix}, func(it item) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false
		}
		return fn(it)
	})
	return v.rev
}

// read runs fn under the view's read lock with a getter and the view's
// revision, so what fn reads is one consistent state. fn must not call
// back into the view.
func (v *view) read(fn func(get func(key string) (item, bool), rev store.Rev)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	fn(func(key string) (item, bool) {
		e, ok := v.byKey[key]
		return item{key: key, obj: e.obj, modRev: e.modRev}, ok
	}, v.rev)
}

// at returns the object the view holds at key if it is the one of
// revision rev (nil otherwise: not there, another revision, or rev 0, not
// a committed one). It is shared: it must not be changed.
func (v *view) at(key string, rev store.Rev) any {
	if rev == 0 {
		return nil
	}
	v.mu.RLock()
	it, ok := v.byKey[key]
	v.mu.RUnlock()
	if !ok || it.modRev != rev {
		return nil
	}
	return it.obj
}

// instanceAt returns a copy, safe to change, of the instance record the
// view holds at key if it is the one of revision rev (nil otherwise: not
// there, another revision, or not a committed one).
func (v *view) instanceAt(key string, rev store.Rev) *instanceRecord {
	rec, _ := v.at(key, rev).(*instanceRecord)
	if rec == nil {
		return nil
	}
	cp := *rec
	// Placement charges Reserved (whose add copies its slices) and Groups
	// (changed in place): the copy gets its own map.
	cp.Groups = maps.Clone(rec.Groups)
	return &cp
}
