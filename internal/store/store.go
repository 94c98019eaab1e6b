// Package store is Berth's revisioned key/value contract. It knows nothing
// about ECS: keys are strings, values are opaque bytes, and every committed
// change advances one store-wide revision.
//
//	control ──Update──▶ Store ──Watch──▶ view, controllers
//	                      │
//	               bolt (embedded) | etcd (distributed)
//
// Two backends implement it (store/bolt and store/etcd) and both must pass the
// conformance suite in store/storetest.
//
// Guarantees every backend gives:
//   - Update is serializable: fn sees a consistent snapshot plus its own
//     writes, and the transaction commits only if nothing it read changed
//     since; otherwise fn runs again. fn must therefore have no effects
//     outside the Tx it is given.
//   - Update returns only after the change is durable (fsynced or
//     acknowledged by an etcd quorum). Concurrent Updates may share one
//     durable commit (group commit).
//   - Revisions are strictly increasing; each committed Update that wrote
//     anything gets exactly one new revision, shared by all its writes.
//   - Watch delivers every change after the given revision, in revision
//     order, exactly once, until its context ends or the watcher falls too
//     far behind (the channel is then closed; the caller re-lists).
package store

import (
	"context"
	"errors"
)

// Rev is a store-wide revision. Zero means "nothing yet".
type Rev int64

// KV is one stored key with its value and revisions.
type KV struct {
	Key       string
	Value     []byte
	CreateRev Rev // revision at which the key was (last) created
	ModRev    Rev // revision of the last change to the key
}

// Reader reads one consistent snapshot.
type Reader interface {
	// Get returns the key, or ErrNotFound.
	Get(key string) (KV, error)
	// List calls fn for every key with the given prefix, in ascending key
	// order, starting after the key `after` (exclusive; "" starts at the
	// prefix). Returning ErrStop from fn ends the iteration without error.
	List(prefix, after string, fn func(KV) error) error
}

// Tx is a read-write transaction inside Update.
type Tx interface {
	Reader
	// Put writes value at key. Reads in the same Tx see the write.
	Put(key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
}

// EventType says what happened to a key.
type EventType int

const (
	// EventPut is a create or an update.
	EventPut EventType = iota + 1
	// EventDelete is a deletion; Value is nil.
	EventDelete
)

// Event is one committed change to one key. A watcher receives the events
// of one revision consecutively; Last marks the final one it receives for
// that revision, so a consumer knows when it has seen a whole revision
// (read-your-writes after a multi-key Update).
type Event struct {
	Type EventType
	KV   KV // for deletes, Key and ModRev (the deleting revision) only
	Last bool
	// Obj is the writer's decoded form of KV.Value when it gave one
	// (ObjPutter) and the event reaches a watcher of the process that
	// wrote it live; nil otherwise (a plain Put, a replay from the log,
	// another process). It is shared with the writer and every watcher
	// and must not be changed.
	Obj any
}

// ObjPutter is a Tx that can hand, beside a value, the writer's decoded
// form of it to the watchers of this process (Event.Obj), so that they
// need not decode the value again. The writer must not change obj, nor
// anything it points to, once it has been put.
type ObjPutter interface {
	PutObj(key string, value []byte, obj any) error
}

// Store is the contract both backends implement. All methods are safe for
// concurrent use.
type Store interface {
	// View runs fn on a consistent read-only snapshot and returns fn's error.
	View(ctx context.Context, fn func(Reader) error) error
	// Update runs fn in a serializable read-write transaction and returns the
	// revision the change was committed at (the current revision if fn wrote
	// nothing). fn MAY RUN MORE THAN ONCE (on conflict, or when a group commit
	// is retried); it must have no side effects outside tx. An error from fn
	// aborts the transaction and is returned as is.
	Update(ctx context.Context, fn func(Tx) error) (Rev, error)
	// Watch streams the events for keys under prefix with revision > after.
	// The channel is closed when ctx ends or the watcher falls behind; in the
	// latter case the caller re-lists (View + Rev) and watches again. If
	// `after` is older than the backend retains, Watch returns ErrCompacted.
	Watch(ctx context.Context, prefix string, after Rev) (<-chan Event, error)
	// Rev returns the store's current revision.
	Rev(ctx context.Context) (Rev, error)
	// Close releases the store. In-flight Updates either finish or fail.
	Close() error
}

var (
	// ErrNotFound is returned by Get for a missing key.
	ErrNotFound = errors.New("store: key not found")
	// ErrStop ends a List iteration early without an error.
	ErrStop = errors.New("store: stop iteration")
	// ErrCompacted means the requested watch revision is no longer retained.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store: closed")
)
