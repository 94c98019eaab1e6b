package autoscaling

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func putGroup(t *testing.T, s store.Store, g Group) {
	t.Helper()
	if _, err := s.Update(context.Background(), func(tx store.Tx) error { return putJSON(tx, keyGroup(g.Account, g.Region, g.Name), g) }); err != nil {
		t.Fatal(err)
	}
}

func activities(t *testing.T, s store.Store, g Group) []Activity {
	t.Helper()
	var out []Activity
	err := s.View(context.Background(), func(r store.Reader) error {
		return r.List(keyActivityPrefix(g.Account, g.Region)+g.Name+"/", "", func(kv store.KV) error {
			var a Activity
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGroups: SetDesiredCapacity clamps to the bounds and records the
// cause, which the launch activities then start with; SetInstanceProtection
// skips instances that are gone; a missing group is ErrGroupNotFound.
func TestGroups(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	g := Group{Name: "g", ARN: "arn:g", Account: "123456789012", Region: "us-east-1", MinSize: 1, MaxSize: 3, DesiredCapacity: 1,
		AvailabilityZones: []string{"us-east-1a"}, Tags: []Tag{{Key: TagLauncher, Value: "rec"}},
		Instances: []Instance{{ID: "i-1", AvailabilityZone: "us-east-1a", LifecycleState: StateInService}}}
	putGroup(t, s, g)
	gs := NewGroups(s, nil)

	set, changed, err := gs.SetDesiredCapacity(ctx, g.Account, g.Region, "g", 5, "At 2024 a monitor alarm fired.")
	if err != nil || set != 3 || !changed {
		t.Fatalf("SetDesiredCapacity: %d %v %v", set, changed, err)
	}
	if set, changed, err := gs.SetDesiredCapacity(ctx, g.Account, g.Region, "g", 3, "again"); err != nil || set != 3 || changed {
		t.Fatalf("repeated SetDesiredCapacity: %d %v %v", set, changed, err)
	}
	got, err := gs.Get(ctx, g.Account, g.Region, "g")
	if err != nil || got.DesiredCapacity != 3 || got.DesiredCause != "At 2024 a monitor alarm fired." {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if err := gs.SetInstanceProtection(ctx, g.Account, g.Region, "g", []string{"i-1", "i-gone"}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := gs.Get(ctx, g.Account, g.Region, "g"); !got.Instances[0].ProtectedFromScaleIn {
		t.Fatalf("protection: %+v", got.Instances)
	}
	if _, err := gs.Get(ctx, g.Account, g.Region, "nope"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if _, _, err := gs.SetDesiredCapacity(ctx, g.Account, g.Region, "nope", 1, ""); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("SetDesiredCapacity missing: %v", err)
	}
	if err := gs.SetInstanceProtection(ctx, g.Account, g.Region, "nope", []string{"i-1"}, true); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("SetInstanceProtection missing: %v", err)
	}

	rec := &recorder{}
	c, err := StartController(ControllerConfig{Store: s, Launchers: map[string]Launcher{"rec": rec}, Resync: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitGroup(t, s, g, func(g *Group) bool { return len(g.Instances) == 3 && g.Instances[2].LifecycleState == StateInService })
	n := 0
	for _, a := range activities(t, s, g) {
		if strings.HasPrefix(a.Description, "Launching") {
			n++
			if !strings.HasPrefix(a.Cause, "At 2024 a monitor alarm fired.  At ") {
				t.Fatalf("launch cause: %q", a.Cause)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d launch activities", n)
	}
}

func waitGroup(t *testing.T, s store.Store, g Group, ok func(*Group) bool) *Group {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got *Group
		err := s.View(context.Background(), func(r store.Reader) error {
			var err error
			got, err = getGroup(r, keyGroup(g.Account, g.Region, g.Name))
			return err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("group never got there: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hook is a TerminationHook that holds terminations until released.
type hook struct {
	mu      sync.Mutex
	held    map[string]bool
	release chan struct{}
}

func (h *hook) BeforeTerminate(ctx context.Context, req Request) error {
	h.mu.Lock()
	h.held[req.InstanceID] = true
	h.mu.Unlock()
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestController_TerminationHook: a terminating instance waits for the
// hook (its activity WaitingForTerminateLifecycleAction, no launcher
// call), and is terminated once the hook returns.
func TestController_TerminationHook(t *testing.T) {
	s := openStore(t)
	g := Group{Name: "g", ARN: "arn:g", Account: "123456789012", Region: "us-east-1", MinSize: 0, MaxSize: 2, DesiredCapacity: 0,
		AvailabilityZones: []string{"us-east-1a"}, Tags: []Tag{{Key: TagLauncher, Value: "rec"}},
		Instances: []Instance{{ID: "i-1", AvailabilityZone: "us-east-1a", LifecycleState: StateInService}}}
	putGroup(t, s, g)
	rec := &recorder{}
	h := &hook{held: map[string]bool{}, release: make(chan struct{})}
	c, err := StartController(ControllerConfig{Store: s, Launchers: map[string]Launcher{"rec": rec}, Resync: 20 * time.Millisecond, TerminationHook: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		acts := activities(t, s, g)
		if len(acts) == 1 && acts[0].StatusCode == ActivityWaitingForTerminateLifecycleAction {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("activities: %+v", acts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	rec.mu.Lock()
	calls := len(rec.calls)
	rec.mu.Unlock()
	if calls != 0 {
		t.Fatalf("launcher called while the hook holds the termination: %v", rec.calls)
	}
	close(h.release)
	waitGroup(t, s, g, func(g *Group) bool { return len(g.Instances) == 0 })
	if acts := activities(t, s, g); acts[0].StatusCode != ActivitySuccessful {
		t.Fatalf("activity after release: %+v", acts[0])
	}
}
