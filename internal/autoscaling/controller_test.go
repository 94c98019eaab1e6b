package autoscaling

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// recorder is a Launcher that records its calls.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) Launch(_ context.Context, req Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "launch "+req.InstanceID+" "+req.Cluster)
	return nil
}

func (r *recorder) Terminate(_ context.Context, req Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "terminate "+req.InstanceID)
	return nil
}

// TestController_RepeatsUnfinishedCalls: instances left Pending or
// Terminating by a previous server get their launcher calls again.
func TestController_RepeatsUnfinishedCalls(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := Group{
		Name: "g", ARN: "arn:g", Account: "123456789012", Region: "us-east-1", MinSize: 0, MaxSize: 2, DesiredCapacity: 1,
		AvailabilityZones: []string{"us-east-1a"}, Tags: []Tag{{Key: TagLauncher, Value: "rec"}, {Key: TagCluster, Value: "c"}},
		Instances: []Instance{
			{ID: "i-00000000000000001", AvailabilityZone: "us-east-1a", LifecycleState: StatePending},
			{ID: "i-00000000000000002", AvailabilityZone: "us-east-1a", LifecycleState: StateTerminating},
		},
	}
	ctx := context.Background()
	if _, err := s.Update(ctx, func(tx store.Tx) error { return putJSON(tx, keyGroup(g.Account, g.Region, g.Name), g) }); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c, err := StartController(ControllerConfig{Store: s, Launchers: map[string]Launcher{"rec": rec}, Resync: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got Group
		err := s.View(ctx, func(r store.Reader) error {
			kv, err := r.Get(keyGroup(g.Account, g.Region, g.Name))
			if err != nil {
				return err
			}
			return json.Unmarshal(kv.Value, &got)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Instances) == 1 && got.Instances[0].LifecycleState == StateInService {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group did not settle: %+v", got.Instances)
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := map[string]bool{"launch i-00000000000000001 c": true, "terminate i-00000000000000002": true}
	if len(rec.calls) != 2 || !want[rec.calls[0]] || !want[rec.calls[1]] {
		t.Errorf("calls = %v", rec.calls)
	}
}
