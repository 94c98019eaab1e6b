// Package bolt is the embedded store.Store backend: one bbolt file, one
// store-wide revision, a change log for Watch replay, and group commit.
//
//	Update ──▶ queue ──▶ committer goroutine (one per Store)
//	                       │ 1. one bbolt read-write tx per batch
//	                       │ 2. run each fn on its own overlay, in order;
//	                       │    a failing fn discards only its overlay
//	                       │ 3. give each writing fn the next revision and
//	                       │    apply its overlay (kv + log buckets)
//	                       │ 4. commit once: one fsync for the whole batch
//	                       │ 5. publish events to watchers in revision order
//	                       ▼ 6. reply to the callers
//	                     Update returns (rev, err)
//
// Contracts, beyond those of store.Store:
//
//   - Update returns only after its change is fsynced. Updates that queue up
//     while a commit is in flight share the next commit, so concurrent
//     writers share fsyncs; a lone writer never waits for a batching delay.
//   - Update's fn runs on the committer goroutine, serially with every other
//     fn, against the latest state, so it never conflicts and in practice
//     runs exactly once. Callers must still assume it may run more than once
//     (store.Store says so). fn must be quick, must not block, and must not
//     call the Store (that would deadlock the committer).
//   - Inside Update, a key written by the same fn reads back with its new
//     value and zero CreateRev and ModRev: its revision is not known yet.
//     Deleting a key that does not exist writes nothing.
//   - Values passed to Put are copied. Values handed out by Get, List and
//     Watch are copies owned by the caller, except that the Value of a watch
//     Event is shared between watchers and must not be modified.
//   - Watch replays from the on-disk change log, which keeps the events of
//     the last Options.LogRetention revisions; an older `after` gets
//     store.ErrCompacted. A watcher whose queue (Options.WatchQueue
//     revisions) fills up is dropped: its channel is closed.
//   - Close stops accepting calls (they get store.ErrClosed), commits the
//     Updates already queued, stops the committer, closes every watch
//     channel, and closes the file, in that order.
//
// On-disk layout (all integers big-endian):
//
//	meta/"rev"        current revision (8 bytes)
//	meta/"compacted"  highest revision whose events were pruned (8 bytes)
//	kv/<key>          createRev (8) | modRev (8) | value
//	log/<rev (8)>     the events of one revision, see appendEvents
package bolt
