package e2e

import (
	"context"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/simfleet"
	"github.com/berth-dev/berth/internal/testkit"
)

// simCluster is a server with a fleet of simulated instances on it, and
// what the server says about each instance.
type simCluster struct {
	c       *ecs.Client
	cluster string
	// attrs are the instances' attributes, by container instance ARN, as
	// DescribeContainerInstances reports them.
	attrs map[string]map[string]string
}

// startSimCluster starts a server and a fleet of n simulated instances in
// cluster "placement" over three zones, with two instance types and the
// custom attribute stack=blue; every fifth instance also gets tier=gold
// through PutAttributes. It waits until all are connected.
func startSimCluster(t *testing.T, n int) *simCluster {
	t.Helper()
	m := startServer(t, options{})
	c := defaultClient(m)
	const cluster = "placement"
	testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))(t)

	f, err := simfleet.New(simfleet.Config{
		Endpoint: m.URL(), Cluster: cluster, Instances: n, DataDir: t.TempDir(),
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret",
		InstanceTypes: []string{"t3.large", "m5.xlarge"},
		Attributes:    map[string]string{"stack": "blue"},
		Speed:         20,
		Backoff:       agent.Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
	})
	select {
	case <-f.Ready():
	case err := <-done:
		done <- err
		t.Fatalf("fleet ended before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatalf("fleet not ready: %d of %d connected", f.Connected(), n)
	}

	sc := &simCluster{c: c, cluster: cluster, attrs: map[string]map[string]string{}}
	var gold []types.Attribute
	for _, in := range f.Instances() {
		if in.Index%5 == 0 {
			gold = append(gold, types.Attribute{Name: aws.String("tier"), Value: aws.String("gold"), TargetId: aws.String(in.ARN)})
		}
	}
	testkit.Must(c.PutAttributes(ctx(t), &ecs.PutAttributesInput{Cluster: aws.String(cluster), Attributes: gold}))(t)
	var arns []string
	for _, in := range f.Instances() {
		arns = append(arns, in.ARN)
	}
	for chunk := range slices.Chunk(arns, 100) {
		d := testkit.Must(c.DescribeContainerInstances(ctx(t), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: chunk}))(t)
		for _, ci := range d.ContainerInstances {
			if !ci.AgentConnected {
				t.Fatalf("instance %s not connected", aws.ToString(ci.ContainerInstanceArn))
			}
			a := map[string]string{}
			for _, at := range ci.Attributes {
				a[aws.ToString(at.Name)] = aws.ToString(at.Value)
			}
			sc.attrs[aws.ToString(ci.ContainerInstanceArn)] = a
		}
	}
	if len(sc.attrs) != n {
		t.Fatalf("%d instances described, want %d", len(sc.attrs), n)
	}
	return sc
}

// register registers a one-container task definition (family, memory MiB).
func (sc *simCluster) register(t *testing.T, family string, memory int32) {
	t.Helper()
	testkit.Must(sc.c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("berth/app:1"), Cpu: 64, Memory: aws.Int32(memory)}},
	}))(t)
}

// run calls RunTask and returns the tasks' ARNs and the failures.
func (sc *simCluster) run(t *testing.T, in *ecs.RunTaskInput) ([]string, []types.Failure) {
	t.Helper()
	in.Cluster = aws.String(sc.cluster)
	out := testkit.Must(sc.c.RunTask(ctx(t), in))(t)
	var arns []string
	for _, tk := range out.Tasks {
		arns = append(arns, aws.ToString(tk.TaskArn))
	}
	return arns, out.Failures
}

// placed waits until every task is RUNNING on the sim agents and returns
// the container instance of each, from DescribeTasks.
func (sc *simCluster) placed(t *testing.T, arns []string) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var where []string
		running := 0
		var last string
		for chunk := range slices.Chunk(arns, 100) {
			d := testkit.Must(sc.c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(sc.cluster), Tasks: chunk}))(t)
			if len(d.Failures) > 0 {
				t.Fatalf("DescribeTasks failures %+v", d.Failures)
			}
			for _, tk := range d.Tasks {
				where = append(where, aws.ToString(tk.ContainerInstanceArn))
				if s := aws.ToString(tk.LastStatus); s == "RUNNING" {
					running++
				} else {
					last = aws.ToString(tk.TaskArn) + " is " + s + " " + aws.ToString(tk.StoppedReason)
				}
			}
		}
		if running == len(arns) {
			return where
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks RUNNING after 30s (%s)", running, len(arns), last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopAll stops the tasks and waits until they are STOPPED, so that the
// next case starts on empty instances.
func (sc *simCluster) stopAll(t *testing.T, arns []string) {
	t.Helper()
	for _, arn := range arns {
		testkit.Must(sc.c.StopTask(ctx(t), &ecs.StopTaskInput{Cluster: aws.String(sc.cluster), Task: aws.String(arn)}))(t)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		stopped := 0
		for chunk := range slices.Chunk(arns, 100) {
			d := testkit.Must(sc.c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String(sc.cluster), Tasks: chunk}))(t)
			for _, tk := range d.Tasks {
				if aws.ToString(tk.LastStatus) == "STOPPED" {
					stopped++
				}
			}
		}
		if stopped == len(arns) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks STOPPED after 30s", stopped, len(arns))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count returns how many tasks each value of fn(instance) got.
func (sc *simCluster) count(where []string, fn func(arn string) string) map[string]int {
	out := map[string]int{}
	for _, arn := range where {
		out[fn(arn)]++
	}
	return out
}

// TestPlacement_Sim runs tasks with placement strategies and constraints
// on 30 simulated instances (3 zones, 2 instance types, custom
// attributes) and checks, through DescribeTasks and
// DescribeContainerInstances, where they landed and that they run.
func TestPlacement_Sim(t *testing.T) {
	t.Parallel()
	const n = 30
	sc := startSimCluster(t, n)
	sc.register(t, "big", 4096)  // four fit on a 16 GiB instance
	sc.register(t, "small", 128) // fits anywhere
	self := func(arn string) string { return arn }
	zone := func(arn string) string { return sc.attrs[arn]["ecs.availability-zone"] }

	t.Run("BinpackMemory", func(t *testing.T) {
		arns, failures := sc.run(t, &ecs.RunTaskInput{TaskDefinition: aws.String("big"), Count: aws.Int32(8),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}})
		if len(arns) != 8 || len(failures) != 0 {
			t.Fatalf("%d tasks, failures %+v", len(arns), failures)
		}
		per := sc.count(sc.placed(t, arns), self)
		if len(per) != 2 {
			t.Fatalf("binpack spread 8 tasks of 4 GiB over %d instances, want 2 (full ones): %v", len(per), per)
		}
		for arn, k := range per {
			if k != 4 {
				t.Errorf("instance %s got %d tasks, want 4", arn, k)
			}
		}
		sc.stopAll(t, arns)
	})

	t.Run("SpreadZone", func(t *testing.T) {
		arns, failures := sc.run(t, &ecs.RunTaskInput{TaskDefinition: aws.String("small"), Count: aws.Int32(9),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}})
		if len(arns) != 9 || len(failures) != 0 {
			t.Fatalf("%d tasks, failures %+v", len(arns), failures)
		}
		per := sc.count(sc.placed(t, arns), zone)
		if want := map[string]int{"us-east-1a": 3, "us-east-1b": 3, "us-east-1c": 3}; !maps.Equal(per, want) {
			t.Fatalf("per zone %v, want %v", per, want)
		}
		sc.stopAll(t, arns)
	})

	t.Run("SpreadInstanceID", func(t *testing.T) {
		arns, failures := sc.run(t, &ecs.RunTaskInput{TaskDefinition: aws.String("small"), Count: aws.Int32(10),
			PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}}})
		if len(arns) != 10 || len(failures) != 0 {
			t.Fatalf("%d tasks, failures %+v", len(arns), failures)
		}
		if per := sc.count(sc.placed(t, arns), self); len(per) != 10 {
			t.Fatalf("10 tasks on %d instances, want 10 distinct: %v", len(per), per)
		}
		sc.stopAll(t, arns)
	})

	t.Run("MemberOf", func(t *testing.T) {
		arns, failures := sc.run(t, &ecs.RunTaskInput{TaskDefinition: aws.String("small"), Count: aws.Int32(6),
			PlacementConstraints: []types.PlacementConstraint{
				{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.instance-type == t3.large")},
				{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:tier =~ go.* and attribute:stack in [blue, green]")},
			}})
		if len(arns) != 6 || len(failures) != 0 {
			t.Fatalf("%d tasks, failures %+v", len(arns), failures)
		}
		for _, arn := range sc.placed(t, arns) {
			if a := sc.attrs[arn]; a["ecs.instance-type"] != "t3.large" || a["tier"] != "gold" {
				t.Errorf("task on %s, which has %v", arn, a)
			}
		}
		sc.stopAll(t, arns)
	})

	t.Run("DistinctInstanceBeyondEligible", func(t *testing.T) {
		// Every fifth instance is gold: 6 are eligible for 8 tasks.
		arns, failures := sc.run(t, &ecs.RunTaskInput{TaskDefinition: aws.String("small"), Count: aws.Int32(8),
			Group: aws.String("distinct"),
			PlacementConstraints: []types.PlacementConstraint{
				{Type: types.PlacementConstraintTypeDistinctInstance},
				{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:tier == gold")},
			}})
		if len(arns) != 6 {
			t.Fatalf("%d tasks placed, want 6 (one per eligible instance); failures %+v", len(arns), failures)
		}
		if len(failures) == 0 {
			t.Fatal("no failures for the 2 tasks that could not be placed")
		}
		// As ECS does, each instance that could take no more is a failure
		// with its reason: the gold ones hold a task of the group
		// already, the others are not members.
		for _, f := range failures {
			arn := aws.ToString(f.Arn)
			want := "MemberOf placement constraint unsatisfied"
			if sc.attrs[arn]["tier"] == "gold" {
				want = "DistinctInstance placement constraint unsatisfied"
			}
			if got := aws.ToString(f.Reason); got != want {
				t.Errorf("failure on %s (%v): %q, want %q", arn, sc.attrs[arn], got, want)
			}
		}
		per := sc.count(sc.placed(t, arns), self)
		if len(per) != 6 {
			t.Fatalf("6 tasks on %d instances, want 6 distinct", len(per))
		}
		for arn := range per {
			if sc.attrs[arn]["tier"] != "gold" {
				t.Errorf("task on %s, which is not gold", arn)
			}
		}
		sc.stopAll(t, arns)
	})

	t.Run("MalformedExpression", func(t *testing.T) {
		for _, expr := range []string{"attribute:ecs.instance-type ==", "attribute:tier =~ (", "(attribute:stack == blue"} {
			_, err := sc.c.RunTask(ctx(t), &ecs.RunTaskInput{Cluster: aws.String(sc.cluster), TaskDefinition: aws.String("small"),
				PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String(expr)}}})
			wantErr[*types.InvalidParameterException](t, err)
			wantMsgContains(t, err, "expression")
		}
	})

	t.Run("ListContainerInstancesFilter", func(t *testing.T) {
		var want []string
		for arn, a := range sc.attrs {
			if a["ecs.availability-zone"] == "us-east-1b" && a["ecs.instance-type"] == "m5.xlarge" {
				want = append(want, arn)
			}
		}
		if len(want) != n/6 {
			t.Fatalf("%d instances in us-east-1b of type m5.xlarge, want %d", len(want), n/6)
		}
		var got []string
		var token *string
		for {
			l := testkit.Must(sc.c.ListContainerInstances(ctx(t), &ecs.ListContainerInstancesInput{Cluster: aws.String(sc.cluster),
				Filter:     aws.String("attribute:ecs.availability-zone == us-east-1b and attribute:ecs.instance-type == m5.xlarge"),
				MaxResults: aws.Int32(2), NextToken: token}))(t)
			got = append(got, l.ContainerInstanceArns...)
			if token = l.NextToken; token == nil {
				break
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("filtered instances\n got %v\nwant %v", got, want)
		}
		_, err := sc.c.ListContainerInstances(ctx(t), &ecs.ListContainerInstancesInput{Cluster: aws.String(sc.cluster), Filter: aws.String("attribute:stack ==")})
		wantErr[*types.InvalidParameterException](t, err)
	})
}
