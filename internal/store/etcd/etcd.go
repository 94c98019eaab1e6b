package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
)

// ErrTooManyConflicts is returned by Update when fn's reads kept changing
// under it for Options.MaxAttempts attempts.
var ErrTooManyConflicts = errors.New("etcd: too many conflicting attempts")

// Backoff bounds between conflicting attempts of one Update.
const (
	backoffBase = time.Millisecond
	backoffMax  = 50 * time.Millisecond
)

// Options tunes a Store. The zero value is valid: every zero field takes the
// default named in its comment.
type Options struct {
	// MaxAttempts bounds how often Update runs fn when commits conflict.
	// Default 100.
	MaxAttempts int
	// MaxCompares is the most per-key and per-range checks one commit
	// carries before it falls back to a whole-store check; keep it at or
	// below the server's --max-txn-ops. Default 128.
	MaxCompares int
	// PageSize is how many keys List fetches per request. Default 256.
	PageSize int
	// WatchQueue is how many live revisions a watcher may fall behind (on
	// top of its channel) before it is dropped. Default 1,024.
	WatchQueue int
	// WatchBuffer is the capacity of the channel Watch returns. Default 256.
	WatchBuffer int
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxAttempts, 100)
	def(&o.MaxCompares, 128)
	def(&o.PageSize, 256)
	def(&o.WatchQueue, 1_024)
	def(&o.WatchBuffer, 256)
	return o
}

// Store is the etcd-backed store.Store. Create it with New; it is safe for
// concurrent use.
type Store struct {
	cli      *clientv3.Client
	opts     Options
	kvPrefix string // prefix of every stored key: prefix + "k/"
	delKey   string // rewritten by every deleting commit: prefix + "m/del"

	// life is canceled by Close; watch goroutines end with it. It is the
	// one context a Store keeps.
	life     context.Context
	stopLife context.CancelFunc

	// mu orders Watch's goroutine start against Close's wait.
	mu     sync.Mutex
	closed atomic.Bool // set under mu by Close; read anywhere
	wg     sync.WaitGroup

	rngMu sync.Mutex
	rng   *rand.Rand // backoff jitter
}

var _ store.Store = (*Store)(nil)

// New returns a Store keeping its keys under prefix in the cluster behind
// cli. It checks that the cluster answers within ctx. The caller keeps
// ownership of cli and must close it after the Store.
func New(ctx context.Context, cli *clientv3.Client, prefix string, opts Options) (*Store, error) {
	if cli == nil {
		return nil, errors.New("etcd: nil client")
	}
	life, stop := context.WithCancel(context.Background())
	s := &Store{
		cli:      cli,
		opts:     opts.withDefaults(),
		kvPrefix: prefix + "k/",
		delKey:   prefix + "m/del",
		life:     life,
		stopLife: stop,
		rng:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(prefix)))),
	}
	if _, err := cli.Get(ctx, s.delKey, clientv3.WithCountOnly()); err != nil {
		stop()
		return nil, fmt.Errorf("etcd: connect: %w", err)
	}
	return s, nil
}

// check returns the error every call starts with, if any.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// View runs fn on reads at one revision (pinned by fn's first read).
func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	t := s.newTxn(ctx, true)
	err := fn(t)
	t.done = true
	if err != nil {
		return err
	}
	return t.err // a read failed and fn dropped the error
}

// Update runs fn optimistically and commits its writes with one etcd Txn
// that checks fn's reads; on conflict fn runs again. See the package
// comment. The returned error is fn's error as is, ErrTooManyConflicts,
// store.ErrClosed (checked between attempts), ctx's error, or a wrapped
// etcd error.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (store.Rev, error) {
	for attempt := 1; ; attempt++ {
		if err := s.check(ctx); err != nil {
			return 0, err
		}
		rev, retry, err := s.attempt(ctx, fn)
		if !retry {
			return rev, err
		}
		if attempt >= s.opts.MaxAttempts {
			return 0, fmt.Errorf("etcd: update: %w (%d)", ErrTooManyConflicts, attempt)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return 0, err
		}
	}
}

// attempt runs fn once and tries to commit. retry reports a conflict.
func (s *Store) attempt(ctx context.Context, fn func(store.Tx) error) (rev store.Rev, retry bool, err error) {
	t := s.newTxn(ctx, false)
	err = fn(t)
	t.done = true
	if t.err != nil && t.stale() {
		return 0, true, nil // the snapshot was compacted under fn: start over
	}
	if err != nil {
		return 0, false, err
	}
	if t.err != nil {
		return 0, false, t.err
	}
	if len(t.writes) == 0 {
		if t.rev != 0 {
			return store.Rev(t.rev), false, nil
		}
		rev, err := s.Rev(ctx)
		return rev, false, err
	}
	cmps, err := t.compares()
	if err != nil {
		if t.stale() {
			return 0, true, nil
		}
		return 0, false, err
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(t.ops()...).Commit()
	if err != nil {
		return 0, false, fmt.Errorf("etcd: commit: %w", err)
	}
	if !resp.Succeeded {
		return 0, true, nil
	}
	return store.Rev(resp.Header.Revision), false, nil
}

// backoff sleeps a jittered, exponentially growing time before attempt+1.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	ceiling := min(backoffMax, backoffBase<<min(attempt, 16))
	s.rngMu.Lock()
	d := time.Duration(s.rng.Int64N(int64(ceiling))) + 1
	s.rngMu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.life.Done():
		return store.ErrClosed
	}
}

// Rev returns etcd's current revision (a linearizable read).
func (s *Store) Rev(ctx context.Context) (store.Rev, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	resp, err := s.cli.Get(ctx, s.delKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("etcd: rev: %w", err)
	}
	return store.Rev(resp.Header.Revision), nil
}

// Close shuts the store down; it is idempotent and returns nil. The steps,
// in order:
//
//  1. Refuse new calls: they return store.ErrClosed. Updates in flight
//     finish their current attempt and stop before retrying.
//  2. Cancel the lifecycle context: every watch ends and its channel closes.
//  3. Wait for the watch goroutines.
//
// The client stays open; it belongs to the caller.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed.Store(true) // 1
	s.mu.Unlock()
	s.stopLife() // 2
	s.wg.Wait()  // 3
	return nil
}
