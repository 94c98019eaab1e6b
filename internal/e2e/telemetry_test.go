package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/acs"
)

// TestTelemetryHealth: an agent publishes container health on its TCS
// session; DescribeTasks shows it on the container and rolled up on the task.
func TestTelemetryHealth(t *testing.T) {
	m := startServer(t, options{})
	const account = "410000000002"
	c := accountClient(m, account)
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("tcs")}))(t)
	arn := aws.ToString(registerInstance(t, c, "tcs").ContainerInstanceArn)
	testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("tcs-web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"), Memory: aws.Int32(64),
			HealthCheck: &types.HealthCheck{Command: []string{"CMD", "true"}}}},
	}))(t)
	ep := testkit.Must(c.DiscoverPollEndpoint(cx, &ecs.DiscoverPollEndpointInput{Cluster: aws.String("tcs")}))(t)
	dialAgentAs(t, aws.ToString(ep.Endpoint), "tcs", arn, account)
	waitConnected(t, c, "tcs", arn, true)
	taskARN := aws.ToString(testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("tcs"), TaskDefinition: aws.String("tcs-web")}))(t).Tasks[0].TaskArn)

	url := acs.TelemetryURL("ws"+strings.TrimPrefix(aws.ToString(ep.TelemetryEndpoint), "http"), acs.TelemetryParams{Cluster: "tcs", ContainerInstance: arn, AgentVersion: "1.90.0"})
	tcs, err := acs.DialTelemetry(cx, url, signedHeader(t, url, account))
	if err != nil {
		t.Fatalf("dial TCS: %v", err)
	}
	defer tcs.Close()
	err = tcs.Send(cx, &acs.PublishHealthRequest{
		Metadata: &acs.HealthMetadata{Cluster: "tcs", ContainerInstance: arn, MessageID: "h1", Fin: true},
		Tasks:    []acs.TaskHealth{{TaskARN: taskARN, Containers: []acs.ContainerHealth{{ContainerName: "web", HealthStatus: "HEALTHY"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("tcs"), Tasks: []string{taskARN}}))(t)
		if d.Tasks[0].HealthStatus == types.HealthStatusHealthy && d.Tasks[0].Containers[0].HealthStatus == types.HealthStatusHealthy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never reached the task: %s / %s", d.Tasks[0].HealthStatus, d.Tasks[0].Containers[0].HealthStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
