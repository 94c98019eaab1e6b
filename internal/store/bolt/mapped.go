package bolt

import (
	"syscall"
	"time"

	"go.etcd.io/bbolt"
)

// releaseInterval is how often the store's file mapping is released.
const releaseInterval = 10 * time.Second

// releaseLoop releases the file mapping every releaseInterval until done
// is closed. It is started by Open and waited for by Close.
func (s *Store) releaseLoop() {
	t := time.NewTicker(releaseInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopRelease:
			return
		case <-t.C:
			s.releaseMapped()
		}
	}
}

// releaseMapped tells the kernel the process no longer needs the pages of
// the database file it has touched through bbolt's read-only mapping
// (madvise MADV_DONTNEED). The pages stay in the kernel's page cache; they
// just stop counting in the process's resident set, and the next access
// maps them again from the cache. Berth serves reads from its own decoded
// view, so after the initial listing and between commits the mapping is
// cold; without this the resident set of a server holding 100,000 tasks
// carries a second copy of the whole file.
//
// It runs inside a read transaction, which holds bbolt's mmap lock: the
// mapping cannot be replaced (remapped on growth) meanwhile.
func (s *Store) releaseMapped() {
	_ = s.db.View(func(tx *bbolt.Tx) error {
		base := s.db.Info().Data
		size := uintptr(tx.Size())
		page := uintptr(syscall.Getpagesize())
		size = size / page * page
		if base == 0 || size == 0 {
			return nil
		}
		// The raw syscall takes the address as an integer: the mapping is
		// not Go memory.
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, base, size, syscall.MADV_DONTNEED)
		return nil
	})
}
