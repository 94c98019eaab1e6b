package autoscaling

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
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

// resident is a Resident recorder whose first failN launches fail.
type resident struct {
	recorder
	failN int
}

func (r *resident) Resident() bool { return true }

func (r *resident) Launch(ctx context.Context, req Request) error {
	r.mu.Lock()
	fail := r.failN > 0
	r.failN--
	r.mu.Unlock()
	if fail {
		r.mu.Lock()
		r.calls = append(r.calls, "failed "+req.InstanceID)
		r.mu.Unlock()
		return errors.New("no capacity")
	}
	return r.recorder.Launch(ctx, req)
}

// TestController_ResumesResidentInstances: after a start, the InService
// instances of a Resident launcher are launched again, once (a failure is
// retried); those of other launchers are left alone.
func TestController_ResumesResidentInstances(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	group := func(name, launcher string, ids ...string) Group {
		g := Group{
			Name: name, ARN: "arn:" + name, Account: "123456789012", Region: "us-east-1", MaxSize: 5, DesiredCapacity: int32(len(ids)),
			AvailabilityZones: []string{"us-east-1a"}, Tags: []Tag{{Key: TagLauncher, Value: launcher}},
		}
		for _, id := range ids {
			g.Instances = append(g.Instances, Instance{ID: id, AvailabilityZone: "us-east-1a", LifecycleState: StateInService})
		}
		if _, err := s.Update(ctx, func(tx store.Tx) error { return putJSON(tx, keyGroup(g.Account, g.Region, g.Name), g) }); err != nil {
			t.Fatal(err)
		}
		return g
	}
	group("in-process", "res", "i-00000000000000001", "i-00000000000000002")
	group("hosts", "rec", "i-00000000000000003")
	res, rec := &resident{failN: 1}, &recorder{}
	c, err := StartController(ControllerConfig{Store: s, Launchers: map[string]Launcher{"res": res, "rec": rec},
		Resync: 10 * time.Millisecond, FailureRetry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res.mu.Lock()
		n := len(res.calls)
		res.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls = %v", res.calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // many passes: no more calls
	res.mu.Lock()
	defer res.mu.Unlock()
	slices.Sort(res.calls)
	if want := []string{"failed i-0000000000000000", "launch i-00000000000000001 default", "launch i-00000000000000002 default"}; len(res.calls) != 3 ||
		!strings.HasPrefix(res.calls[0], want[0]) || res.calls[1] != want[1] || res.calls[2] != want[2] {
		t.Errorf("resident calls = %v", res.calls)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 0 {
		t.Errorf("calls of a launcher that is not resident: %v", rec.calls)
	}
}
