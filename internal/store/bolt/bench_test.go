package bolt_test

// Benchmarks of durable Updates (every commit is fsynced). Run them with:
//
//	go test -run '^$' -bench . -benchtime 5s ./internal/store/bolt/
//
// BenchmarkUpdateParallel runs 32 writers whatever GOMAXPROCS is and
// reports "updates/s" (acknowledged, durable Updates per second) and
// "updates/commit" (how many Updates share one fsync).
// BenchmarkUpdateSerial is a lone writer: its ns/op is the latency of one
// durable Update with no one to share the fsync with.

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

const (
	benchWriters = 32
	benchKeys    = 10_000 // writers overwrite a fixed key space
)

func benchValue() []byte {
	v := make([]byte, 1024)
	for i := range v {
		v[i] = byte(i)
	}
	return v
}

func BenchmarkUpdateParallel(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
	ctx := b.Context()
	value := benchValue()
	var seq atomic.Int64
	// RunParallel starts parallelism × GOMAXPROCS goroutines.
	b.SetParallelism((benchWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	st0 := s.Stats()
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("bench/%05d", seq.Add(1)%benchKeys)
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	elapsed := time.Since(start)
	st1 := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(st1.Updates-st0.Updates)/float64(max(1, st1.Commits-st0.Commits)), "updates/commit")
}

func BenchmarkUpdateSerial(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
	ctx := b.Context()
	value := benchValue()
	i := 0
	start := time.Now()
	for b.Loop() {
		key := fmt.Sprintf("bench/%05d", i%benchKeys)
		i++
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "updates/s")
}
