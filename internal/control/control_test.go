package control

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/wire"
)

// These tests cover what the end-to-end suite cannot reach yet: outcomes
// that need container instance, service or task records, which only later
// operations (RegisterContainerInstance, CreateService, RunTask) create.
// They seed such records directly in the store, at the keys and with the
// JSON members control reads.

var testNS = ecs.Namespace{Partition: "aws", Account: "123456789012", Region: "us-east-1", Principal: "arn:aws:iam::123456789012:root"}

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newTestControl opens a bolt store in a temporary directory and a Control
// on it; both are closed at cleanup.
func newTestControl(t testing.TB) *Control {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(testCtx(t), Config{Store: s})
	if err != nil {
		_ = s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// seed writes a raw JSON record at key through store.Update and waits until
// the view reflects it.
func seed(t testing.TB, c *Control, key, value string) {
	t.Helper()
	rev, err := c.store.Update(testCtx(t), func(tx store.Tx) error { return tx.Put(key, []byte(value)) })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.view.waitRev(testCtx(t), rev); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code ecs.Code, msg string) {
	t.Helper()
	if got := ecs.CodeOf(err); got != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if msg != "" && err.(*ecs.Error).Message != msg {
		t.Fatalf("message:\n got %q\nwant %q", err.(*ecs.Error).Message, msg)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func createCluster(t testing.TB, c *Control, name string) {
	t.Helper()
	_, err := c.CreateCluster(testCtx(t), testNS, &wire.CreateClusterRequest{ClusterName: wire.Ptr(name)})
	noErr(t, err)
}

func attr(name, value, target string) wire.Attribute {
	a := wire.Attribute{Name: wire.Ptr(name), TargetId: wire.Ptr(target)}
	if value != "" {
		a.Value = wire.Ptr(value)
	}
	return a
}

func testInstanceARN(cluster, id string) string {
	return testNS.ARN("container-instance/" + cluster + "/" + id)
}

// listAll pages through ListAttributes with page size n.
func listAll(t *testing.T, c *Control, in wire.ListAttributesRequest, n int32) []wire.Attribute {
	t.Helper()
	in.MaxResults = wire.Ptr(n)
	var out []wire.Attribute
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not terminate")
		}
		resp, err := c.ListAttributes(testCtx(t), testNS, &in)
		noErr(t, err)
		if len(resp.Attributes) > int(n) {
			t.Fatalf("page of %d with maxResults %d", len(resp.Attributes), n)
		}
		out = append(out, resp.Attributes...)
		if resp.NextToken == nil {
			return out
		}
		in.NextToken = resp.NextToken
	}
}

// attrStrings renders attributes as "name=value@instance-ARN".
func attrStrings(attrs []wire.Attribute) []string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = wire.Val(a.Name) + "=" + wire.Val(a.Value) + "@" + wire.Val(a.TargetId)
		if wire.Val(a.TargetType) != wire.TargetTypeContainerInstance {
			out[i] += " (targetType " + string(wire.Val(a.TargetType)) + ")"
		}
	}
	return out
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	c := newTestControl(t)
	ctx := testCtx(t)
	const (
		i1 = "11111111111111111111111111111111"
		i2 = "22222222222222222222222222222222"
		i3 = "33333333333333333333333333333333" // in cluster "other"
	)
	createCluster(t, c, "attrs")
	createCluster(t, c, "other")
	seed(t, c, keyInstancePrefix(testNS, "attrs")+i1, `{"status":"ACTIVE"}`)
	seed(t, c, keyInstancePrefix(testNS, "attrs")+i2, `{"status":"ACTIVE"}`)
	seed(t, c, keyInstancePrefix(testNS, "other")+i3, `{"status":"ACTIVE"}`)
	cluster := wire.Ptr("attrs")
	listReq := wire.ListAttributesRequest{Cluster: cluster, TargetType: wire.Ptr(wire.TargetTypeContainerInstance)}

	t.Run("PutAndList", func(t *testing.T) {
		in := []wire.Attribute{attr("stack", "prod", i1), attr("zone", "a", testInstanceARN("attrs", i1)), attr("gpu", "", i1), attr("stack", "dev", i2)}
		resp, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: in})
		noErr(t, err)
		if len(resp.Attributes) != len(in) {
			t.Fatalf("response %+v", resp.Attributes)
		}
		want := []string{
			"gpu=@" + testInstanceARN("attrs", i1),
			"stack=prod@" + testInstanceARN("attrs", i1),
			"zone=a@" + testInstanceARN("attrs", i1),
			"stack=dev@" + testInstanceARN("attrs", i2),
		}
		for _, n := range []int32{1, 2, 3, 100} {
			if got := attrStrings(listAll(t, c, listReq, n)); !slices.Equal(got, want) {
				t.Fatalf("maxResults %d:\n got %v\nwant %v", n, got, want)
			}
		}
		resp2, err := c.ListAttributes(ctx, testNS, &listReq)
		noErr(t, err)
		if len(resp2.Attributes) != 4 || resp2.NextToken != nil {
			t.Fatalf("default page: %+v", resp2)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		in := listReq
		in.AttributeName = wire.Ptr("stack")
		want := []string{"stack=prod@" + testInstanceARN("attrs", i1), "stack=dev@" + testInstanceARN("attrs", i2)}
		if got := attrStrings(listAll(t, c, in, 1)); !slices.Equal(got, want) {
			t.Fatalf("name filter: %v", got)
		}
		in.AttributeValue = wire.Ptr("dev")
		if got := attrStrings(listAll(t, c, in, 1)); !slices.Equal(got, want[1:]) {
			t.Fatalf("name+value filter: %v", got)
		}
		in = listReq
		in.AttributeValue = wire.Ptr("dev")
		_, err := c.ListAttributes(ctx, testNS, &in)
		wantCode(t, err, ecs.InvalidParameter, "")
	})

	t.Run("ErrTokenWithOtherFilter", func(t *testing.T) {
		in := listReq
		in.MaxResults = wire.Ptr(int32(1))
		resp, err := c.ListAttributes(ctx, testNS, &in)
		noErr(t, err)
		other := listReq
		other.AttributeName = wire.Ptr("stack")
		other.NextToken = resp.NextToken
		_, err = c.ListAttributes(ctx, testNS, &other)
		wantCode(t, err, ecs.InvalidParameter, "Invalid nextToken.")
		other = listReq
		other.Cluster = wire.Ptr("other")
		other.NextToken = resp.NextToken
		_, err = c.ListAttributes(ctx, testNS, &other)
		wantCode(t, err, ecs.InvalidParameter, "Invalid nextToken.")
	})

	t.Run("Overwrite", func(t *testing.T) {
		_, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("stack", "staging", i1)}})
		noErr(t, err)
		in := listReq
		in.AttributeName = wire.Ptr("stack")
		got := attrStrings(listAll(t, c, in, 100))
		if !slices.Equal(got, []string{"stack=staging@" + testInstanceARN("attrs", i1), "stack=dev@" + testInstanceARN("attrs", i2)}) {
			t.Fatalf("%v", got)
		}
	})

	t.Run("ErrAttributeLimit", func(t *testing.T) {
		// i2 has 1 custom attribute; 9 more reach the limit of 10.
		var nine []wire.Attribute
		for i := range 9 {
			nine = append(nine, attr(fmt.Sprintf("k%d", i), "v", i2))
		}
		_, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: nine})
		noErr(t, err)
		// Overwriting at the limit is fine.
		_, err = c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("k0", "w", i2)}})
		noErr(t, err)
		// An eleventh is refused, and the whole call with it.
		_, err = c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{
			attr("fresh", "x", i1), attr("k8", "changed", i2), attr("eleventh", "x", i2),
		}})
		wantCode(t, err, ecs.AttributeLimitExceeded, "You can apply up to 10 custom attributes to a resource.")
		in := listReq
		in.AttributeName = wire.Ptr("fresh")
		if got := listAll(t, c, in, 100); len(got) != 0 {
			t.Fatalf("a refused call stored part of its attributes: %v", attrStrings(got))
		}
		in.AttributeName = wire.Ptr("k8")
		if got := listAll(t, c, in, 100); len(got) != 1 || wire.Val(got[0].Value) != "v" {
			t.Fatalf("a refused call changed an attribute: %v", attrStrings(got))
		}
	})

	t.Run("ErrEcsPrefix", func(t *testing.T) {
		for _, name := range []string{"ecs.instance-type", "ECS.os-type", "ecs.capability.foo"} {
			_, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr(name, "x", i1)}})
			wantCode(t, err, ecs.InvalidParameter, "Attributes beginning with 'ecs.' are managed by Amazon ECS and cannot be changed.")
			_, err = c.DeleteAttributes(ctx, testNS, &wire.DeleteAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr(name, "", i1)}})
			wantCode(t, err, ecs.InvalidParameter, "Attributes beginning with 'ecs.' are managed by Amazon ECS and cannot be changed.")
		}
	})

	t.Run("ErrTargetNotFound", func(t *testing.T) {
		for _, target := range []string{
			i3,                           // an instance of another cluster, by ID
			testInstanceARN("other", i3), // and by ARN
			testInstanceARN("other", i1), // an ARN naming another cluster
			"44444444444444444444444444444444",
			testNS.ARN("task/attrs/" + i1),
		} {
			_, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("x", "y", target)}})
			wantCode(t, err, ecs.TargetNotFound, "Could not find target "+target+". You can view your available container instances with ListContainerInstances.")
			_, err = c.DeleteAttributes(ctx, testNS, &wire.DeleteAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("x", "", target)}})
			wantCode(t, err, ecs.TargetNotFound, "")
		}
		// The instance of "other" is reachable through its own cluster.
		_, err := c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: wire.Ptr("other"), Attributes: []wire.Attribute{attr("x", "y", i3)}})
		noErr(t, err)
		// A refused call with a good and a bad target stores nothing.
		_, err = c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("partial", "y", i1), attr("partial", "y", i3)}})
		wantCode(t, err, ecs.TargetNotFound, "")
		in := listReq
		in.AttributeName = wire.Ptr("partial")
		if got := listAll(t, c, in, 100); len(got) != 0 {
			t.Fatalf("%v", attrStrings(got))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		resp, err := c.DeleteAttributes(ctx, testNS, &wire.DeleteAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{
			attr("stack", "", i1), attr("never-set", "", i1), attr("zone", "", testInstanceARN("attrs", i1)),
		}})
		noErr(t, err)
		if len(resp.Attributes) != 3 {
			t.Fatalf("response %+v", resp.Attributes)
		}
		in := listReq
		got := attrStrings(listAll(t, c, in, 100))
		for _, s := range got {
			if s == "stack=staging@"+testInstanceARN("attrs", i1) || s == "zone=a@"+testInstanceARN("attrs", i1) {
				t.Fatalf("deleted attribute still listed: %v", got)
			}
		}
		if !slices.Contains(got, "gpu=@"+testInstanceARN("attrs", i1)) || !slices.Contains(got, "stack=dev@"+testInstanceARN("attrs", i2)) {
			t.Fatalf("other attributes lost: %v", got)
		}
		// With room again, a new attribute fits on i2 after deleting one.
		_, err = c.DeleteAttributes(ctx, testNS, &wire.DeleteAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("k1", "", i2)}})
		noErr(t, err)
		_, err = c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: cluster, Attributes: []wire.Attribute{attr("eleventh", "x", i2)}})
		noErr(t, err)
	})

	t.Run("ErrInactiveCluster", func(t *testing.T) {
		createCluster(t, c, "gone")
		_, err := c.DeleteCluster(ctx, testNS, &wire.DeleteClusterRequest{Cluster: wire.Ptr("gone")})
		noErr(t, err)
		seed(t, c, keyInstancePrefix(testNS, "gone")+i1, `{"status":"INACTIVE"}`)
		_, err = c.PutAttributes(ctx, testNS, &wire.PutAttributesRequest{Cluster: wire.Ptr("gone"), Attributes: []wire.Attribute{attr("x", "y", i1)}})
		wantCode(t, err, ecs.InvalidParameter, ecs.MsgClusterInactive)
	})
}

// TestDeleteClusterContains checks DeleteCluster's refusals while the
// cluster has container instances, services or tasks, in that order of
// checks, with ECS's messages, and the cluster counts derived from them.
func TestDeleteClusterContains(t *testing.T) {
	t.Parallel()
	c := newTestControl(t)
	ctx := testCtx(t)
	createCluster(t, c, "busy")
	instance := keyInstancePrefix(testNS, "busy") + "0123456789abcdef0123456789abcdef"
	service := keyServicePrefix(testNS, "busy") + "web"
	task := keyTaskPrefix(testNS, "busy") + "fedcba9876543210fedcba9876543210"
	del := func() (*wire.DeleteClusterResponse, error) {
		return c.DeleteCluster(ctx, testNS, &wire.DeleteClusterRequest{Cluster: wire.Ptr("busy")})
	}
	describe := func() wire.Cluster {
		t.Helper()
		resp, err := c.DescribeClusters(ctx, testNS, &wire.DescribeClustersRequest{
			Clusters: []string{"busy"}, Include: []wire.ClusterField{wire.ClusterFieldStatistics},
		})
		noErr(t, err)
		if len(resp.Clusters) != 1 {
			t.Fatalf("%+v", resp)
		}
		return resp.Clusters[0]
	}
	stat := func(cl wire.Cluster, name string) string {
		for _, kv := range cl.Statistics {
			if wire.Val(kv.Name) == name {
				return wire.Val(kv.Value)
			}
		}
		t.Fatalf("statistic %s missing from %+v", name, cl.Statistics)
		return ""
	}
	counts := func(cl wire.Cluster) string {
		return fmt.Sprintf("instances=%d services=%d running=%d pending=%d",
			wire.Val(cl.RegisteredContainerInstancesCount), wire.Val(cl.ActiveServicesCount),
			wire.Val(cl.RunningTasksCount), wire.Val(cl.PendingTasksCount))
	}

	// Each check in turn, one record at a time.
	steps := []struct {
		key, value string
		code       ecs.Code
		msg        string
		counts     string
	}{
		{instance, `{"status":"ACTIVE"}`, ecs.ClusterContainsContainerInstances, ecs.MsgContainsInstances, "instances=1 services=0 running=0 pending=0"},
		{instance, `{"status":"DRAINING"}`, ecs.ClusterContainsContainerInstances, ecs.MsgContainsInstances, "instances=1 services=0 running=0 pending=0"},
		{instance, `{"status":"REGISTERING"}`, ecs.ClusterContainsContainerInstances, ecs.MsgContainsInstances, "instances=0 services=0 running=0 pending=0"},
		{instance, `{"status":"INACTIVE"}`, "", "", "instances=0 services=0 running=0 pending=0"},
		{service, `{"status":"ACTIVE","launchType":"FARGATE"}`, ecs.ClusterContainsServices, ecs.MsgContainsServices, "instances=0 services=1 running=0 pending=0"},
		{service, `{"status":"DRAINING","launchType":"FARGATE"}`, ecs.ClusterContainsServices, ecs.MsgContainsServices, "instances=0 services=0 running=0 pending=0"},
		{service, `{"status":"INACTIVE","launchType":"FARGATE"}`, "", "", "instances=0 services=0 running=0 pending=0"},
		{task, `{"lastStatus":"RUNNING","launchType":"EC2"}`, ecs.ClusterContainsTasks, ecs.MsgContainsTasks, "instances=0 services=0 running=1 pending=0"},
		{task, `{"lastStatus":"PENDING","launchType":"EC2"}`, ecs.ClusterContainsTasks, ecs.MsgContainsTasks, "instances=0 services=0 running=0 pending=1"},
		{task, `{"lastStatus":"PROVISIONING","launchType":"EC2"}`, ecs.ClusterContainsTasks, ecs.MsgContainsTasks, "instances=0 services=0 running=0 pending=0"},
		{task, `{"lastStatus":"DEPROVISIONING","launchType":"EC2"}`, ecs.ClusterContainsTasks, ecs.MsgContainsTasks, "instances=0 services=0 running=0 pending=0"},
		{task, `{"lastStatus":"STOPPED","launchType":"EC2"}`, "", "", "instances=0 services=0 running=0 pending=0"},
	}
	for i, st := range steps {
		seed(t, c, st.key, st.value)
		if got := counts(describe()); got != st.counts {
			t.Fatalf("step %d (%s): counts %s, want %s", i, st.value, got, st.counts)
		}
		if st.code == "" {
			continue // this record no longer blocks; the next step adds the next kind
		}
		_, err := del()
		wantCode(t, err, st.code, st.msg)
	}
	// Order: instances are reported before services, services before tasks.
	seed(t, c, instance, `{"status":"ACTIVE"}`)
	seed(t, c, service, `{"status":"ACTIVE"}`)
	seed(t, c, task, `{"lastStatus":"RUNNING"}`)
	_, err := del()
	wantCode(t, err, ecs.ClusterContainsContainerInstances, ecs.MsgContainsInstances)
	seed(t, c, instance, `{"status":"INACTIVE"}`)
	_, err = del()
	wantCode(t, err, ecs.ClusterContainsServices, ecs.MsgContainsServices)
	seed(t, c, service, `{"status":"INACTIVE"}`)
	_, err = del()
	wantCode(t, err, ecs.ClusterContainsTasks, ecs.MsgContainsTasks)
	seed(t, c, task, `{"lastStatus":"STOPPED"}`)
	if cl := describe(); wire.Val(cl.Status) != "ACTIVE" {
		t.Fatalf("refused deletes changed the cluster: %s", wire.Val(cl.Status))
	}
	resp, err := del()
	noErr(t, err)
	if wire.Val(resp.Cluster.Status) != "INACTIVE" {
		t.Fatalf("status %s", wire.Val(resp.Cluster.Status))
	}

	t.Run("Statistics", func(t *testing.T) {
		createCluster(t, c, "stats")
		tp, sp := keyTaskPrefix(testNS, "stats"), keyServicePrefix(testNS, "stats")
		seed(t, c, tp+"a", `{"lastStatus":"RUNNING","launchType":"FARGATE"}`)
		seed(t, c, tp+"b", `{"lastStatus":"RUNNING","capacityProviderName":"FARGATE_SPOT"}`)
		seed(t, c, tp+"c", `{"lastStatus":"PENDING","launchType":"EC2"}`)
		seed(t, c, tp+"d", `{"lastStatus":"RUNNING","launchType":"EXTERNAL"}`)
		seed(t, c, tp+"e", `{"lastStatus":"STOPPED","launchType":"EC2"}`)
		seed(t, c, sp+"s1", `{"status":"ACTIVE","launchType":"EC2"}`)
		seed(t, c, sp+"s2", `{"status":"DRAINING","capacityProviderStrategy":[{"capacityProvider":"FARGATE"}]}`)
		resp, err := c.DescribeClusters(ctx, testNS, &wire.DescribeClustersRequest{
			Clusters: []string{"stats"}, Include: []wire.ClusterField{wire.ClusterFieldStatistics},
		})
		noErr(t, err)
		cl := resp.Clusters[0]
		want := map[string]string{
			"runningEC2TasksCount": "0", "runningFargateTasksCount": "2", "runningExternalTasksCount": "1",
			"pendingEC2TasksCount": "1", "pendingFargateTasksCount": "0", "pendingExternalTasksCount": "0",
			"activeEC2ServiceCount": "1", "activeFargateServiceCount": "0", "activeExternalServiceCount": "0",
			"drainingEC2ServiceCount": "0", "drainingFargateServiceCount": "1", "drainingExternalServiceCount": "0",
		}
		for name, v := range want {
			if got := stat(cl, name); got != v {
				t.Errorf("%s = %s, want %s", name, got, v)
			}
		}
		if got := counts(cl); got != "instances=0 services=1 running=3 pending=1" {
			t.Errorf("counts %s", got)
		}
	})
}

// TestCapacityProviderInUse checks the refusals that depend on tasks and
// services using a capacity provider (spec §3.5, §2.5).
func TestCapacityProviderInUse(t *testing.T) {
	t.Parallel()
	c := newTestControl(t)
	ctx := testCtx(t)
	_, err := c.CreateCapacityProvider(ctx, testNS, &wire.CreateCapacityProviderRequest{
		Name: wire.Ptr("cp"),
		AutoScalingGroupProvider: &wire.AutoScalingGroupProvider{
			AutoScalingGroupArn: wire.Ptr("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/asg"),
		},
	})
	noErr(t, err)
	_, err = c.CreateCluster(ctx, testNS, &wire.CreateClusterRequest{ClusterName: wire.Ptr("c"), CapacityProviders: []string{"cp", "FARGATE"}})
	noErr(t, err)
	putProviders := func(providers ...string) error {
		_, err := c.PutClusterCapacityProviders(ctx, testNS, &wire.PutClusterCapacityProvidersRequest{
			Cluster: wire.Ptr("c"), CapacityProviders: providers, DefaultCapacityProviderStrategy: []wire.CapacityProviderStrategyItem{},
		})
		return err
	}
	task := keyTaskPrefix(testNS, "c") + "t1"
	service := keyServicePrefix(testNS, "c") + "web"

	seed(t, c, task, `{"lastStatus":"RUNNING","capacityProviderName":"cp"}`)
	wantCode(t, putProviders("FARGATE"), ecs.ResourceInUse, "The specified capacity provider is in use and cannot be removed.")
	// Keeping the provider is fine; removing an unused one too.
	noErr(t, putProviders("cp"))
	noErr(t, putProviders("cp", "FARGATE"))
	seed(t, c, task, `{"lastStatus":"STOPPED","capacityProviderName":"cp"}`)
	seed(t, c, service, `{"status":"ACTIVE","capacityProviderStrategy":[{"capacityProvider":"cp"}]}`)
	wantCode(t, putProviders("FARGATE"), ecs.ResourceInUse, "")
	_, err = c.DeleteCapacityProvider(ctx, testNS, &wire.DeleteCapacityProviderRequest{CapacityProvider: wire.Ptr("cp")})
	wantCode(t, err, ecs.ClientError, "The capacity provider cannot be deleted because it is associated with cluster: c. Remove the capacity provider from the cluster and try again.")
	seed(t, c, service, `{"status":"INACTIVE","capacityProviderStrategy":[{"capacityProvider":"cp"}]}`)
	noErr(t, putProviders())

	// A service of another cluster naming the provider blocks its deletion.
	seed(t, c, keyServicePrefix(testNS, "elsewhere")+"api", `{"status":"ACTIVE","capacityProviderStrategy":[{"capacityProvider":"cp"}]}`)
	_, err = c.DeleteCapacityProvider(ctx, testNS, &wire.DeleteCapacityProviderRequest{CapacityProvider: wire.Ptr("cp")})
	wantCode(t, err, ecs.ClientError, "The capacity provider cannot be deleted because it is in use by a service.")
	seed(t, c, keyServicePrefix(testNS, "elsewhere")+"api", `{"status":"INACTIVE","capacityProviderStrategy":[{"capacityProvider":"cp"}]}`)
	resp, err := c.DeleteCapacityProvider(ctx, testNS, &wire.DeleteCapacityProviderRequest{CapacityProvider: wire.Ptr("cp")})
	noErr(t, err)
	if wire.Val(resp.CapacityProvider.Status) != wire.CapacityProviderStatusInactive {
		t.Fatalf("status %s", wire.Val(resp.CapacityProvider.Status))
	}
}

// TestPageTokenBoundToNamespace checks that a page token is refused in
// another account or region (it names a key of its own namespace).
func TestPageTokenBoundToNamespace(t *testing.T) {
	t.Parallel()
	c := newTestControl(t)
	ctx := testCtx(t)
	other := testNS
	other.Account = "000000000001"
	eu := testNS
	eu.Region = "eu-west-1"
	for _, ns := range []ecs.Namespace{testNS, other, eu} {
		for _, name := range []string{"a", "b", "c"} {
			_, err := c.CreateCluster(ctx, ns, &wire.CreateClusterRequest{ClusterName: wire.Ptr(name)})
			noErr(t, err)
		}
	}
	first, err := c.ListClusters(ctx, testNS, &wire.ListClustersRequest{MaxResults: wire.Ptr(int32(1))})
	noErr(t, err)
	for _, ns := range []ecs.Namespace{other, eu} {
		_, err := c.ListClusters(ctx, ns, &wire.ListClustersRequest{NextToken: first.NextToken})
		wantCode(t, err, ecs.InvalidParameter, "Invalid nextToken.")
	}
	cps, err := c.DescribeCapacityProviders(ctx, testNS, &wire.DescribeCapacityProvidersRequest{MaxResults: wire.Ptr(int32(1))})
	noErr(t, err)
	_, err = c.DescribeCapacityProviders(ctx, eu, &wire.DescribeCapacityProvidersRequest{NextToken: cps.NextToken})
	wantCode(t, err, ecs.InvalidParameter, "Invalid nextToken.")
	settings, err := c.ListAccountSettings(ctx, testNS, &wire.ListAccountSettingsRequest{MaxResults: wire.Ptr(int32(1)), EffectiveSettings: wire.Ptr(true)})
	noErr(t, err)
	euRoot := eu
	_, err = c.ListAccountSettings(ctx, euRoot, &wire.ListAccountSettingsRequest{NextToken: settings.NextToken, EffectiveSettings: wire.Ptr(true)})
	wantCode(t, err, ecs.InvalidParameter, "Invalid nextToken.")
	// In its own namespace the token continues.
	next, err := c.ListClusters(ctx, testNS, &wire.ListClustersRequest{NextToken: first.NextToken})
	noErr(t, err)
	if got := next.ClusterArns; !slices.Equal(got, []string{testNS.ClusterARN("b"), testNS.ClusterARN("c")}) {
		t.Fatalf("%v", got)
	}
}
