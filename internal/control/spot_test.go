package control

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// runSpot runs one task of family on "fg" on the FARGATE_SPOT provider.
func (f *fargateFixture) runSpot(t *testing.T, family string) wire.Task {
	t.Helper()
	out, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr(family), NetworkConfiguration: vpc("subnet-1"),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr(ProviderFargateSpot), Weight: wire.Ptr(int32(1))}}})
	noErr(t, err)
	if len(out.Tasks) != 1 {
		t.Fatalf("run: %+v", out)
	}
	return out.Tasks[0]
}

func TestControl_InterruptSpotTask(t *testing.T) {
	f := newFargateFixture(t)
	cx := testCtx(t)
	onDemand := f.runFargate(t, "fweb")
	provisioning := f.runSpot(t, "fweb")
	running := f.runSpot(t, "fweb")
	noErr(t, f.c.ProvisionFargateTask(cx, testNS, "fg", lastSegment(wire.Val(running.TaskArn)), "10.0.0.9", "02:00:00:00:00:09", "eni-9"))
	_, err := f.c.SubmitTaskStateChange(cx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("fg"), Task: running.TaskArn, Status: wire.Ptr("RUNNING")})
	noErr(t, err)

	t.Run("SpotTasksListsOnlySpot", func(t *testing.T) {
		list, _ := f.c.SpotTasks()
		if len(list) != 2 {
			t.Fatalf("SpotTasks = %+v, want the two FARGATE_SPOT tasks", list)
		}
		for _, st := range list {
			if st.ARN == wire.Val(onDemand.TaskArn) || st.Cluster != "fg" || st.Stopping || !st.InterruptedAt.IsZero() {
				t.Fatalf("SpotTasks entry %+v", st)
			}
		}
	})
	t.Run("ErrNotSpot", func(t *testing.T) {
		_, err := f.c.InterruptSpotTask(cx, testNS, "fg", wire.Val(onDemand.TaskArn))
		if ecs.CodeOf(err) != ecs.InvalidParameter {
			t.Fatalf("err %v, want InvalidParameterException", err)
		}
	})
	t.Run("Running", func(t *testing.T) {
		done, err := f.c.InterruptSpotTask(cx, testNS, "fg", wire.Val(running.TaskArn))
		noErr(t, err)
		task := f.describeIn(t, "fg", wire.Val(running.TaskArn))
		if !done || wire.Val(task.LastStatus) != "RUNNING" || wire.Val(task.DesiredStatus) != "STOPPED" ||
			wire.Val(task.StopCode) != wire.TaskStopCodeSpotInterruption || wire.Val(task.StoppedReason) != SpotInterruptionReason || task.StoppingAt == nil {
			t.Fatalf("done %v, task %+v", done, task)
		}
		list, _ := f.c.SpotTasks()
		for _, st := range list {
			if st.ARN == wire.Val(running.TaskArn) && (!st.Stopping || !st.InterruptedAt.Equal(task.StoppingAt.Time)) {
				t.Fatalf("SpotTasks entry %+v", st)
			}
		}
		// The agent's report keeps the stop code.
		_, err = f.c.SubmitTaskStateChange(cx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("fg"), Task: running.TaskArn, Status: wire.Ptr("STOPPED")})
		noErr(t, err)
		if task := f.describeIn(t, "fg", wire.Val(running.TaskArn)); wire.Val(task.StopCode) != wire.TaskStopCodeSpotInterruption || wire.Val(task.LastStatus) != "STOPPED" {
			t.Fatalf("after STOPPED: %+v", task)
		}
		if done, err := f.c.InterruptSpotTask(cx, testNS, "fg", wire.Val(running.TaskArn)); err != nil || done {
			t.Fatalf("again: done %v err %v", done, err)
		}
	})
	t.Run("ProvisioningStopsAtOnce", func(t *testing.T) {
		done, err := f.c.InterruptSpotTask(cx, testNS, "fg", wire.Val(provisioning.TaskArn))
		noErr(t, err)
		if task := f.describeIn(t, "fg", wire.Val(provisioning.TaskArn)); !done || wire.Val(task.LastStatus) != "STOPPED" || wire.Val(task.StopCode) != wire.TaskStopCodeSpotInterruption {
			t.Fatalf("done %v, task %+v", done, task)
		}
		if list, _ := f.c.SpotTasks(); len(list) != 0 {
			t.Fatalf("SpotTasks after both stopped: %+v", list)
		}
	})
	t.Run("ErrCount", func(t *testing.T) {
		if _, err := f.c.InterruptSpotTasks(cx, testNS, "fg", nil, -1); ecs.CodeOf(err) != ecs.InvalidParameter {
			t.Fatalf("err %v", err)
		}
	})
}
