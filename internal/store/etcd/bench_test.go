package etcd_test

// Benchmarks of Updates against an in-process, single-member etcd (WAL
// fsynced). For comparison with the bbolt backend; run with:
//
//	go test -run '^$' -bench . -benchtime 5s ./internal/store/etcd/

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/etcd"
	"github.com/berth-dev/berth/internal/store/etcd/etcdtest"
)

func BenchmarkUpdateParallel(b *testing.B) {
	s, _ := mustNew(b, etcdtest.Start(b), etcd.Options{})
	ctx := b.Context()
	value := make([]byte, 1024)
	var seq atomic.Int64
	b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)) // 32 writers
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("bench/%05d", seq.Add(1)%10_000)
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}

func BenchmarkUpdateSerial(b *testing.B) {
	s, _ := mustNew(b, etcdtest.Start(b), etcd.Options{})
	ctx := b.Context()
	value := make([]byte, 1024)
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/%05d", i%10_000)
		i++
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
			b.Fatal(err)
		}
	}
}
