package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// rssFileKiB reads the file-backed part of this process's resident set.
func rssFileKiB(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Skip("no RssFile")
	return 0
}

// TestReleaseMapped: after the store's pages were read through the
// mapping, releasing it shrinks the resident set by about the data size,
// and every value still reads back intact.
func TestReleaseMapped(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "m.db"), bolt.Options{})
	ctx := context.Background()
	val := func(i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("%07d", i)), 1170) } // 8 KiB
	const n = 3000                                                                          // 24 MiB
	for i := 0; i < n; i += 100 {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < i+100; j++ {
				if err := tx.Put(fmt.Sprintf("k/%07d", j), val(j)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() {
		t.Helper()
		i := 0
		if err := s.View(ctx, func(r store.Reader) error {
			return r.List("k/", "", func(kv store.KV) error {
				if !bytes.Equal(kv.Value, val(i)) {
					return fmt.Errorf("value %d differs", i)
				}
				i++
				return nil
			})
		}); err != nil || i != n {
			t.Fatalf("read %d of %d: %v", i, n, err)
		}
	}
	readAll()
	before := rssFileKiB(t)
	s.ReleaseMapped()
	after := rssFileKiB(t)
	if before-after < 12*1024 {
		t.Errorf("RssFile %d KiB → %d KiB: want it at least 12 MiB smaller", before, after)
	}
	readAll()
}
