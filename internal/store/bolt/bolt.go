package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/berth-dev/berth/internal/store"
)

// Options tunes a Store. The zero value is valid: every zero field takes the
// default named in its comment.
type Options struct {
	// LogRetention is how many recent revisions keep their events in the
	// change log for Watch replay. Default 100,000.
	LogRetention int
	// MaxBatch caps the Updates in one group commit. Default 1,000.
	MaxBatch int
	// MaxBatchBytes caps the key and value bytes written by one group
	// commit; the Update that crosses it is the batch's last. Default 16 MiB.
	MaxBatchBytes int
	// WatchQueue is how many revisions a watcher may fall behind before it
	// is dropped. Default 1,024.
	WatchQueue int
	// WatchBuffer is the capacity of the channel Watch returns. Default 256.
	WatchBuffer int
	// OpenTimeout bounds the wait for the file lock held by another process.
	// Default 5s.
	OpenTimeout time.Duration
	// InitialMmapSize is passed to bbolt. While the file fits in it, a
	// commit never waits for long-running View calls to remap the file.
	// Default 0 (bbolt's default).
	InitialMmapSize int
}

// pageSize is the page size of new store files (see Open).
const pageSize = 8 << 10

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.LogRetention, 100_000)
	def(&o.MaxBatch, 1_000)
	def(&o.MaxBatchBytes, 16<<20)
	def(&o.WatchQueue, 1_024)
	def(&o.WatchBuffer, 256)
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = 5 * time.Second
	}
	return o
}

// Store is the bbolt-backed store.Store. Create it with Open; it is safe for
// concurrent use.
type Store struct {
	db   *bbolt.DB
	opts Options

	// closing is set first thing in Close; View, Rev and Watch check it.
	closing atomic.Bool

	// qmu guards the queue of pending Updates. queueClosed is set by Close
	// under qmu, so no request is queued after the committer's last look.
	qmu         sync.Mutex
	queue       []*request
	queueClosed bool
	// kick (capacity 1) wakes the committer after a request is queued or
	// the queue is closed.
	kick chan struct{}

	// Committer-owned: only the committer goroutine reads or writes these
	// after Open returns. They describe what is on disk.
	diskRev       store.Rev
	diskCompacted store.Rev
	// logArena holds the log records of the batch being committed: bbolt
	// keeps the values it is given until the transaction ends, so the
	// arena is reused from one batch to the next instead of allocating
	// every revision's record.
	logArena []byte

	// mu guards the published state. The committer updates rev and
	// compacted and fans events out to watchers under mu, after the commit
	// is durable; Watch registers under mu, so a new watcher sees either all
	// of a revision's events live or none of them (and replays it).
	mu          sync.Mutex
	rev         store.Rev
	compacted   store.Rev
	watchers    map[*watcher]struct{}
	watchClosed bool // set by Close; no watcher registers after it

	// done is closed by Close once watchers are closed; watcher goroutines
	// blocked on a slow consumer give up on it.
	done chan struct{}

	// Counters for Stats, written by the committer.
	commits, written atomic.Uint64

	commitWG sync.WaitGroup // the committer goroutine

	stopRelease chan struct{}  // closed by Close: stops releaseLoop
	releaseWG   sync.WaitGroup // releaseLoop (mapped.go)
	watchWG     sync.WaitGroup // one goroutine per watcher

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens the store file at path, creating it if needed (its directory
// must exist), and starts the committer. It waits up to Options.OpenTimeout
// for another process's lock on the file. The caller must Close the Store.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.OpenTimeout,
		// The freelist is not written on every commit: less I/O per group
		// commit, at the cost of a freelist rebuild (a scan of the file) when
		// the file is opened.
		NoFreelistSync: true,
		// The map freelist allocates in O(1) instead of scanning an array,
		// which matters once the change log has churned through many pages.
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: opts.InitialMmapSize,
		// New files get 8 KiB pages. A stored task is about 2 KiB and a
		// leaf node holds at least two entries, so with 4 KiB pages most
		// task leaves overflowed onto a second page: every commit then
		// allocated a fresh multi-page buffer per touched leaf (a fifth
		// of the server's allocations at 100,000 tasks) instead of taking
		// a pooled single page. The same bytes reach the disk. An existing
		// file keeps the page size it was created with.
		PageSize: pageSize,
		// NoSync stays false: every commit is fsynced.
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		opts:     opts,
		kick:     make(chan struct{}, 1),
		watchers: map[*watcher]struct{}{},
		done:     make(chan struct{}),

		stopRelease: make(chan struct{}),
	}
	if err := s.init(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.rev, s.compacted = s.diskRev, s.diskCompacted
	s.commitWG.Go(s.commitLoop)
	s.releaseWG.Go(s.releaseLoop)
	return s, nil
}

// init creates the buckets and loads the revisions.
func (s *Store) init() error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketKV, bucketLog} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		var err error
		if s.diskRev, err = decodeRev(meta.Get(metaRev)); err != nil {
			return err
		}
		s.diskCompacted, err = decodeRev(meta.Get(metaCompacted))
		return err
	})
	if err != nil {
		return fmt.Errorf("bolt: init: %w", err)
	}
	return nil
}

// Stats counts the work a Store has done since Open.
type Stats struct {
	// Commits is the number of durable bbolt commits (each one fsync).
	Commits uint64
	// Updates is the number of writing Updates those commits carried.
	// Updates/Commits is the average group-commit size.
	Updates uint64
}

// Stats returns the counters; they are read atomically one by one, so
// they may be a commit apart.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Updates: s.written.Load()}
}

// View runs fn on a bbolt read transaction. It never waits for Updates.
func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closing.Load() {
		return store.ErrClosed
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		r := &reader{kv: tx.Bucket(bucketKV)}
		defer func() { r.done = true }()
		return fn(r)
	})
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

// Rev returns the revision of the last durable, published commit. Every
// revision an Update has returned is <= Rev.
func (s *Store) Rev(ctx context.Context) (store.Rev, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.closing.Load() {
		return 0, store.ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev, nil
}

// Close shuts the store down. It is idempotent; every call returns the
// first call's result. The steps, in order:
//
//  1. Refuse new calls: they return store.ErrClosed.
//  2. Close the queue and wake the committer; it commits the Updates already
//     queued (their callers get normal results) and exits. Wait for it.
//  3. Close every watch channel and stop the watcher goroutines. Wait.
//  4. Close the bbolt file; it waits for running View calls.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true) // 1
		close(s.stopRelease)
		s.releaseWG.Wait()

		s.qmu.Lock() // 2
		s.queueClosed = true
		s.qmu.Unlock()
		s.wake()
		s.commitWG.Wait()

		s.mu.Lock() // 3
		s.watchClosed = true
		for w := range s.watchers {
			s.dropLocked(w)
		}
		s.mu.Unlock()
		close(s.done)
		s.watchWG.Wait()

		if err := s.db.Close(); err != nil { // 4
			s.closeErr = fmt.Errorf("bolt: close: %w", err)
		}
	})
	return s.closeErr
}

// wake nudges the committer without blocking.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
