package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
)

// agentResources is what an agent with 2 vCPU and 4 GiB registers.
func agentResources() []types.Resource {
	return []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 3900},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
		{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
	}
}

// agentAttributes is what a real agent registers: OS, architecture and its
// capabilities (placement checks task definitions' requiresAttributes
// against them).
func agentAttributes() []types.Attribute {
	attrs := []types.Attribute{
		{Name: aws.String("ecs.os-type"), Value: aws.String("linux")},
		{Name: aws.String("ecs.cpu-architecture"), Value: aws.String("x86_64")},
		{Name: aws.String("ecs.capability.task-eni")},
	}
	for _, c := range agent.Capabilities(agent.MaxDockerAPIVersion) {
		attrs = append(attrs, types.Attribute{Name: aws.String(c)})
	}
	return attrs
}

func registerInstance(t *testing.T, c *ecs.Client, cluster string) *types.ContainerInstance {
	t.Helper()
	out := testkit.Must(c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{
		Cluster:        aws.String(cluster),
		TotalResources: agentResources(),
		Attributes:     agentAttributes(),
		VersionInfo:    &types.VersionInfo{AgentVersion: aws.String("1.90.0"), AgentHash: aws.String("abc123"), DockerVersion: aws.String("28.2.2")},
		Tags:           []types.Tag{{Key: aws.String("host"), Value: aws.String("h1")}},
	}))(t)
	return out.ContainerInstance
}

func TestContainerInstances(t *testing.T) {
	m := startServer(t, options{})
	c := accountClient(m, "310000000001")
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("ci")}))(t)

	t.Run("ErrClusterNotFound", func(t *testing.T) {
		_, err := c.RegisterContainerInstance(cx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("nope"), TotalResources: agentResources()})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, "Cluster not found.")
	})

	ci := registerInstance(t, c, "ci")
	arn := aws.ToString(ci.ContainerInstanceArn)
	t.Run("Register", func(t *testing.T) {
		if !strings.HasPrefix(arn, "arn:aws:ecs:us-east-1:310000000001:container-instance/ci/") || len(arn)-strings.LastIndex(arn, "/")-1 != 32 {
			t.Fatalf("arn %s", arn)
		}
		for _, want := range agentAttributes() {
			if !slices.ContainsFunc(ci.Attributes, func(a types.Attribute) bool {
				return aws.ToString(a.Name) == aws.ToString(want.Name) && aws.ToString(a.Value) == aws.ToString(want.Value)
			}) {
				t.Fatalf("attribute %s not echoed: %+v", aws.ToString(want.Name), ci.Attributes)
			}
		}
		if aws.ToString(ci.Status) != "ACTIVE" || ci.AgentConnected || ci.RunningTasksCount != 0 {
			t.Fatalf("instance %+v", ci)
		}
		if len(ci.RegisteredResources) != 4 || len(ci.RemainingResources) != 4 || ci.RemainingResources[1].IntegerValue != 3900 {
			t.Fatalf("resources %+v / %+v", ci.RegisteredResources, ci.RemainingResources)
		}
		if aws.ToString(ci.VersionInfo.AgentVersion) != "1.90.0" || ci.RegisteredAt == nil {
			t.Fatalf("versionInfo/registeredAt %+v %v", ci.VersionInfo, ci.RegisteredAt)
		}
	})

	t.Run("ReRegisterKeepsARN", func(t *testing.T) {
		res := agentResources()
		res[1].IntegerValue = 3000
		out := testkit.Must(c.RegisterContainerInstance(cx, &ecs.RegisterContainerInstanceInput{
			Cluster: aws.String("ci"), ContainerInstanceArn: aws.String(arn), TotalResources: res, Attributes: agentAttributes(),
		}))(t)
		if aws.ToString(out.ContainerInstance.ContainerInstanceArn) != arn || out.ContainerInstance.RegisteredResources[1].IntegerValue != 3000 {
			t.Fatalf("re-register: %+v", out.ContainerInstance)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		id := arn[strings.LastIndex(arn, "/")+1:]
		d := testkit.Must(c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String("ci"), ContainerInstances: []string{id, "0123456789abcdef0123456789abcdef"},
			Include: []types.ContainerInstanceField{types.ContainerInstanceFieldTags, types.ContainerInstanceFieldContainerInstanceHealth},
		}))(t)
		if len(d.ContainerInstances) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
			t.Fatalf("describe: %+v %+v", d.ContainerInstances, d.Failures)
		}
		if !strings.HasSuffix(aws.ToString(d.Failures[0].Arn), "container-instance/ci/0123456789abcdef0123456789abcdef") {
			t.Fatalf("failure arn %s", aws.ToString(d.Failures[0].Arn))
		}
		got := d.ContainerInstances[0]
		if len(got.Tags) != 1 || got.HealthStatus == nil {
			t.Fatalf("include flags: tags %+v health %+v", got.Tags, got.HealthStatus)
		}
		_, err := c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("nope"), ContainerInstances: []string{id}})
		wantErr[*types.ClusterNotFoundException](t, err)
	})

	t.Run("AttributesOnARealInstance", func(t *testing.T) {
		testkit.Must(c.PutAttributes(cx, &ecs.PutAttributesInput{Cluster: aws.String("ci"), Attributes: []types.Attribute{
			{Name: aws.String("stack"), Value: aws.String("blue"), TargetId: aws.String(arn)},
		}}))(t)
		l := testkit.Must(c.ListAttributes(cx, &ecs.ListAttributesInput{Cluster: aws.String("ci"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")}))(t)
		if len(l.Attributes) != 1 || aws.ToString(l.Attributes[0].TargetId) != arn {
			t.Fatalf("list: %+v", l.Attributes)
		}
		d := testkit.Must(c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ci"), ContainerInstances: []string{arn}}))(t)
		if !slices.ContainsFunc(d.ContainerInstances[0].Attributes, func(a types.Attribute) bool { return aws.ToString(a.Name) == "stack" }) {
			t.Fatalf("custom attribute not described: %+v", d.ContainerInstances[0].Attributes)
		}
		testkit.Must(c.DeleteAttributes(cx, &ecs.DeleteAttributesInput{Cluster: aws.String("ci"), Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(arn)}}}))(t)
	})

	t.Run("DrainAndBack", func(t *testing.T) {
		u := testkit.Must(c.UpdateContainerInstancesState(cx, &ecs.UpdateContainerInstancesStateInput{
			Cluster: aws.String("ci"), ContainerInstances: []string{arn, "ffffffffffffffffffffffffffffffff"}, Status: types.ContainerInstanceStatusDraining,
		}))(t)
		if len(u.ContainerInstances) != 1 || aws.ToString(u.ContainerInstances[0].Status) != "DRAINING" || len(u.Failures) != 1 {
			t.Fatalf("drain: %+v %+v", u.ContainerInstances, u.Failures)
		}
		l := testkit.Must(c.ListContainerInstances(cx, &ecs.ListContainerInstancesInput{Cluster: aws.String("ci"), Status: types.ContainerInstanceStatusDraining}))(t)
		if len(l.ContainerInstanceArns) != 1 {
			t.Fatalf("list draining: %v", l.ContainerInstanceArns)
		}
		_, err := c.UpdateContainerInstancesState(cx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("ci"), ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatusRegistering})
		wantErr[*types.InvalidParameterException](t, err)
		testkit.Must(c.UpdateContainerInstancesState(cx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("ci"), ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatusActive}))(t)
	})

	t.Run("UpdateContainerAgent", func(t *testing.T) {
		_, err := c.UpdateContainerAgent(cx, &ecs.UpdateContainerAgentInput{Cluster: aws.String("ci"), ContainerInstance: aws.String(arn)})
		wantErr[*types.NoUpdateAvailableException](t, err)
	})

	t.Run("DiscoverPollEndpoint", func(t *testing.T) {
		d := testkit.Must(c.DiscoverPollEndpoint(cx, &ecs.DiscoverPollEndpointInput{Cluster: aws.String("ci"), ContainerInstance: aws.String(arn)}))(t)
		if aws.ToString(d.Endpoint) != m.URL() || aws.ToString(d.TelemetryEndpoint) != m.URL()+"/tcs" {
			t.Fatalf("endpoints %s %s (server %s)", aws.ToString(d.Endpoint), aws.ToString(d.TelemetryEndpoint), m.URL())
		}
	})

	t.Run("ErrDeleteClusterWithInstances", func(t *testing.T) {
		_, err := c.DeleteCluster(cx, &ecs.DeleteClusterInput{Cluster: aws.String("ci")})
		wantErr[*types.ClusterContainsContainerInstancesException](t, err)
		wantMsg(t, err, "The Cluster cannot be deleted while Container Instances are active or draining.")
		d := testkit.Must(c.DescribeClusters(cx, &ecs.DescribeClustersInput{Clusters: []string{"ci"}}))(t)
		if d.Clusters[0].RegisteredContainerInstancesCount != 1 {
			t.Fatalf("registeredContainerInstancesCount %d", d.Clusters[0].RegisteredContainerInstancesCount)
		}
	})

	t.Run("Deregister", func(t *testing.T) {
		out := testkit.Must(c.DeregisterContainerInstance(cx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ci"), ContainerInstance: aws.String(arn)}))(t)
		if aws.ToString(out.ContainerInstance.Status) != "INACTIVE" {
			t.Fatalf("status %s", aws.ToString(out.ContainerInstance.Status))
		}
		l := testkit.Must(c.ListContainerInstances(cx, &ecs.ListContainerInstancesInput{Cluster: aws.String("ci")}))(t)
		if len(l.ContainerInstanceArns) != 0 {
			t.Fatalf("INACTIVE listed by default: %v", l.ContainerInstanceArns)
		}
		d := testkit.Must(c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ci"), ContainerInstances: []string{arn}}))(t)
		if len(d.ContainerInstances) != 1 || aws.ToString(d.ContainerInstances[0].Status) != "INACTIVE" {
			t.Fatalf("INACTIVE instance must stay describable: %+v", d)
		}
		testkit.Must(c.DeleteCluster(cx, &ecs.DeleteClusterInput{Cluster: aws.String("ci")}))(t)
	})

	t.Run("ListPagination", func(t *testing.T) {
		testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("many")}))(t)
		want := map[string]bool{}
		for i := 0; i < 7; i++ {
			want[aws.ToString(registerInstance(t, c, "many").ContainerInstanceArn)] = true
		}
		p := ecs.NewListContainerInstancesPaginator(c, &ecs.ListContainerInstancesInput{Cluster: aws.String("many"), MaxResults: aws.Int32(3)})
		got := 0
		for p.HasMorePages() {
			for _, a := range testkit.Must(p.NextPage(cx))(t).ContainerInstanceArns {
				if !want[a] {
					t.Fatalf("unexpected or repeated %s", a)
				}
				delete(want, a)
				got++
			}
		}
		if got != 7 {
			t.Fatalf("paged %d instances, want 7", got)
		}
	})
}

// TestListContainerInstances_Filter: the cluster query language filters
// ListContainerInstances; a malformed expression is InvalidParameterException.
func TestListContainerInstances_Filter(t *testing.T) {
	m := startServer(t, options{})
	c := accountClient(m, "310000000002")
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("cql")}))(t)
	arns := map[string]string{}
	for _, az := range []string{"us-east-1a", "us-east-1b", "us-east-1a"} {
		out := testkit.Must(c.RegisterContainerInstance(cx, &ecs.RegisterContainerInstanceInput{
			Cluster: aws.String("cql"), TotalResources: agentResources(),
			Attributes: append(agentAttributes(), types.Attribute{Name: aws.String("ecs.availability-zone"), Value: aws.String(az)}),
		}))(t)
		arns[aws.ToString(out.ContainerInstance.ContainerInstanceArn)] = az
	}
	var first string
	for a := range arns {
		first = a
		break
	}
	testkit.Must(c.PutAttributes(cx, &ecs.PutAttributesInput{Cluster: aws.String("cql"), Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("blue"), TargetId: aws.String(first)}}}))(t)
	list := func(filter string) []string {
		t.Helper()
		return testkit.Must(c.ListContainerInstances(cx, &ecs.ListContainerInstancesInput{Cluster: aws.String("cql"), Filter: aws.String(filter)}))(t).ContainerInstanceArns
	}
	if got := list("attribute:ecs.availability-zone == us-east-1a"); len(got) != 2 {
		t.Fatalf("AZ a: %v", got)
	}
	if got := list("attribute:ecs.availability-zone in (us-east-1a, us-east-1b) and attribute:stack == blue"); len(got) != 1 || got[0] != first {
		t.Fatalf("stack blue: %v", got)
	}
	if got := list("agentConnected == true"); len(got) != 0 {
		t.Fatalf("connected: %v", got)
	}
	if got := list("attribute:ecs.os-type =~ lin.*"); len(got) != 3 {
		t.Fatalf("regex: %v", got)
	}
	_, err := c.ListContainerInstances(cx, &ecs.ListContainerInstancesInput{Cluster: aws.String("cql"), Filter: aws.String("attribute:ecs.availability-zone ==")})
	wantErr[*types.InvalidParameterException](t, err)
}
