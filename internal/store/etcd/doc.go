// Package etcd is the distributed store.Store backend, on an etcd v3
// cluster through go.etcd.io/etcd/client/v3.
//
//	Update(fn) ──▶ run fn on a txn ──reads at one revision──▶ etcd
//	                │ record what fn read, buffer what it wrote
//	                ▼
//	        Txn(If: nothing read changed, Then: writes) ──▶ etcd
//	                │ succeeded: return the txn's revision
//	                └ compare failed: back off (jittered), run fn again
//
// Contracts, beyond those of store.Store:
//
//   - The store revision is etcd's revision. It is store-wide only in the
//     sense etcd's is: writes by other users of the same cluster advance it
//     too, so revisions are strictly increasing but need not be consecutive.
//   - Keys live under prefix+"k/" and one bookkeeping key at prefix+"m/del"
//     (see below); nothing else under prefix may be written by others.
//   - Update is optimistic. Reads happen at one snapshot revision, pinned by
//     the first read. At commit, etcd checks that every key fn read still
//     has the revision fn saw (or is still absent) and that no key was
//     created or changed in any range fn listed; deletes of listed keys are
//     caught because the listed keys are checked one by one. If that is more
//     than Options.MaxCompares checks, the commit instead checks that no key
//     under the store's prefix changed and that nothing was deleted since
//     the snapshot: every deleting commit also rewrites prefix+"m/del".
//     On a failed check fn runs again, at most Options.MaxAttempts times,
//     after a jittered, growing backoff; then Update returns
//     ErrTooManyConflicts.
//   - Update is durable once etcd's quorum has committed it. A transport
//     error during the commit leaves the outcome unknown, as with any etcd
//     write; Update then returns the error.
//   - One Update may write at most the server's --max-txn-ops keys (128 by
//     default; one more if it deletes) within etcd's request size limit.
//   - Inside Update, a key written by the same fn reads back with its new
//     value and zero CreateRev and ModRev. Deleting a key reads it first,
//     so that deleting a missing key writes nothing.
//   - Watch is a native etcd watch from after+1. If etcd has compacted that
//     revision Watch returns store.ErrCompacted. Replayed history is paced
//     by the consumer. The channel is closed when ctx ends, the Store
//     closes, etcd cancels the watch (compaction, lost leader), or the
//     consumer falls Options.WatchQueue live revisions behind.
//   - Close does not close the client, which the caller owns.
package etcd
