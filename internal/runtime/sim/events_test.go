package sim

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

func TestRuntime_Events(t *testing.T) {
	t.Run("SlowSubscriberDropped", func(t *testing.T) {
		r := newRuntime(t, Options{EventBuffer: 2})
		ctx := context.Background()
		slow, _ := r.Events(ctx)
		fast, _ := r.Events(ctx)
		var got []runtime.Event
		for i := range 5 {
			id := run(t, r, spec("app"+string(rune('a'+i))))
			got = append(got, drain(fast)...)
			if err := r.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
			got = append(got, drain(fast)...)
		}
		// The slow one got what fitted, then its channel was closed.
		n := 0
		for range slow {
			n++
		}
		if n != 2 {
			t.Errorf("slow subscriber received %d events before being dropped, want 2", n)
		}
		if len(got) != 15 { // start, die, destroy for each
			t.Errorf("fast subscriber received %d events, want 15", len(got))
		}
		if len(r.subs) != 1 {
			t.Errorf("subscribers = %d, want 1", len(r.subs))
		}
	})
	t.Run("ClosedWhenCtxEnds", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			ch, err := r.Events(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			synctest.Wait()
			if _, ok := <-ch; ok {
				t.Error("event channel still open after ctx ended")
			}
			if _, err := r.Events(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Events with an ended ctx = %v, want Canceled", err)
			}
		})
	})
	t.Run("ClosedByClose", func(t *testing.T) {
		r := newRuntime(t, Options{})
		ch, _ := r.Events(context.Background())
		r.Close()
		if _, ok := <-ch; ok {
			t.Error("event channel still open after Close")
		}
		if _, err := r.Events(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Events after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("OrderAndTimes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			ctx := context.Background()
			ch, _ := r.Events(ctx)
			start := time.Now()
			a := run(t, r, spec("a", "BERTH_SIM_RUN_SECONDS=2"))
			b := run(t, r, spec("b", "BERTH_SIM_RUN_SECONDS=1"))
			time.Sleep(3 * time.Second)
			want := []struct {
				typ runtime.EventType
				id  string
				at  time.Duration
			}{
				{runtime.EventStart, a, 0}, {runtime.EventStart, b, 0},
				{runtime.EventDie, b, time.Second}, {runtime.EventDie, a, 2 * time.Second},
			}
			got := drain(ch)
			if len(got) != len(want) {
				t.Fatalf("events = %+v", got)
			}
			for i, w := range want {
				if got[i].Type != w.typ || got[i].ID != w.id || got[i].Time.Sub(start) != w.at {
					t.Errorf("event %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	})
}
