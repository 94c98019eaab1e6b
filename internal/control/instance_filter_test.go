package control

import (
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// TestListContainerInstances_FilterUnderWrites lists with a filter while
// instances are written: the filter reads the view (custom attributes,
// tasks), which must not happen under the read lock of the listing's scan,
// or a writer waiting between the two read locks deadlocks both.
func TestListContainerInstances_FilterUnderWrites(t *testing.T) {
	t.Parallel()
	c := newTestControl(t)
	createCluster(t, c, "busy")
	var ids []string
	for range 4 {
		out, err := c.RegisterContainerInstance(testCtx(t), testNS, &wire.RegisterContainerInstanceRequest{
			Cluster: wire.Ptr("busy"),
			TotalResources: []wire.Resource{
				{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(1024))},
				{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(1024))},
			},
			Attributes: []wire.Attribute{{Name: wire.Ptr("ecs.instance-type"), Value: wire.Ptr("t3.large")}},
		})
		noErr(t, err)
		ids = append(ids, lastSegment(wire.Val(out.ContainerInstance.ContainerInstanceArn)))
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			noErr(t, c.SetAgentConnected(testCtx(t), testNS, "busy", ids[i%len(ids)], i%2 == 0))
		}
	})
	go func() {
		defer close(done)
		end := time.Now().Add(500 * time.Millisecond)
		for time.Now().Before(end) {
			out, err := c.ListContainerInstances(testCtx(t), testNS, &wire.ListContainerInstancesRequest{
				Cluster: wire.Ptr("busy"), Filter: wire.Ptr("attribute:ecs.instance-type == t3.large")})
			noErr(t, err)
			if len(out.ContainerInstanceArns) != len(ids) {
				t.Errorf("listed %d instances, want %d", len(out.ContainerInstanceArns), len(ids))
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ListContainerInstances with a filter did not return (deadlocked with the writer)")
	}
	close(stop)
	wg.Wait()
}
