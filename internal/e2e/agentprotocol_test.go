package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/testkit"
)

// fakeAgent is a scripted agent over a real ACS websocket.
type fakeAgent struct {
	t    *testing.T
	conn *acs.ClientConn
}

// agentURL is the ACS URL an agent builds from DiscoverPollEndpoint.
func agentURL(endpoint, cluster, instanceARN string) string {
	ws := "ws" + strings.TrimPrefix(endpoint, "http")
	return acs.SessionURL(ws, acs.Params{ClusterARN: cluster, ContainerInstanceARN: instanceARN, AgentVersion: "1.90.0", SeqNum: 1, ProtocolVersion: 2, SendCredentials: true})
}

// signedHeader signs a GET of url as the agent does (SigV4, service ecs,
// empty payload) with an access key that names the account.
func signedHeader(t *testing.T, url, account string) http.Header {
	t.Helper()
	req, err := http.NewRequest("GET", "http"+strings.TrimPrefix(url, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: account, SecretAccessKey: "secret"}, req, emptySHA256, "ecs", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req.Header
}

// dialAgentAs connects a scripted agent of the account's instance.
func dialAgentAs(t *testing.T, endpoint, cluster, instanceARN, account string) *fakeAgent {
	t.Helper()
	url := agentURL(endpoint, cluster, instanceARN)
	conn, err := acs.Dial(ctx(t), url, signedHeader(t, url, account))
	if err != nil {
		t.Fatalf("dial ACS: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &fakeAgent{t: t, conn: conn}
}

// nextPayload returns the next PayloadMessage, answering heartbeats and
// skipping manifests on the way.
func (a *fakeAgent) nextPayload() *acs.PayloadMessage {
	a.t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := a.conn.Recv(c)
		if err != nil {
			a.t.Fatalf("recv: %v", err)
		}
		switch m := m.(type) {
		case *acs.PayloadMessage:
			if err := a.conn.Send(c, &acs.AckRequest{MessageID: m.MessageID, Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN}); err != nil {
				a.t.Fatalf("ack: %v", err)
			}
			return m
		case *acs.HeartbeatMessage:
			_ = a.conn.Send(c, &acs.HeartbeatAckRequest{MessageID: m.MessageID})
		}
	}
}

// waitConnected polls DescribeContainerInstances until agentConnected is want.
func waitConnected(t *testing.T, c *ecs.Client, cluster, arn string, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := testkit.Must(c.DescribeContainerInstances(ctx(t), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{arn}}))(t)
		if d.ContainerInstances[0].AgentConnected == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agentConnected never became %v", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAgentProtocol drives the real server with a scripted agent over the
// ACS websocket: connection state, task payloads to start and to stop,
// acks, reconnection without duplicated tasks, stop verification, and the
// lifecycle reported through Submit*StateChange.
func TestAgentProtocol(t *testing.T) {
	m := startServer(t, options{})
	c := accountClient(m, "410000000001")
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("acs")}))(t)
	inst := registerInstance(t, c, "acs")
	arn := aws.ToString(inst.ContainerInstanceArn)
	testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("agent-web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Memory: aws.Int32(128),
			Environment:  []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
			DockerLabels: map[string]string{"team": "berth"},
		}},
	}))(t)

	// Before any session, the agent is not connected and nothing places.
	run := testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("acs"), TaskDefinition: aws.String("agent-web")}))(t)
	if len(run.Tasks) != 0 || len(run.Failures) != 1 || aws.ToString(run.Failures[0].Reason) != "AGENT" {
		t.Fatalf("without an agent: %+v", run)
	}

	ep := testkit.Must(c.DiscoverPollEndpoint(cx, &ecs.DiscoverPollEndpointInput{Cluster: aws.String("acs"), ContainerInstance: aws.String(arn)}))(t)
	// The agent signs its upgrade with the account's 12-digit key, which
	// puts the session in that account's namespace.
	agent := dialAgentAs(t, aws.ToString(ep.Endpoint), "acs", arn, "410000000001")
	waitConnected(t, c, "acs", arn, true)

	run = testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("acs"), TaskDefinition: aws.String("agent-web"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("web"), Command: []string{"serve", "--fast"}}}}}))(t)
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v", run)
	}
	taskARN := aws.ToString(run.Tasks[0].TaskArn)

	p := agent.nextPayload()
	if len(p.Tasks) != 1 || p.Tasks[0].ARN != taskARN || p.Tasks[0].DesiredStatus != "RUNNING" {
		t.Fatalf("payload: %+v", p)
	}
	ct := p.Tasks[0].Containers[0]
	if ct.Image != "nginx" || ct.Memory != 128 || ct.Environment["MODE"] != "test" || strings.Join(ct.Command, " ") != "serve --fast" ||
		ct.DockerConfig == nil || !strings.Contains(ct.DockerConfig.Config, `"team":"berth"`) || len(ct.PortMappings) != 1 || ct.ContainerARN == "" {
		t.Fatalf("compiled container: %+v %+v", ct, ct.DockerConfig)
	}

	// The agent reports RUNNING.
	testkit.Must(c.SubmitTaskStateChange(cx, &ecs.SubmitTaskStateChangeInput{Cluster: aws.String("acs"), Task: aws.String(taskARN), Status: aws.String("RUNNING"),
		Containers: []types.ContainerStateChange{{ContainerName: aws.String("web"), Status: aws.String("RUNNING"), RuntimeId: aws.String("cid-1"),
			NetworkBindings: []types.NetworkBinding{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(32768), BindIP: aws.String("0.0.0.0"), Protocol: types.TransportProtocolTcp}}}}}))(t)
	d := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("acs"), Tasks: []string{taskARN}}))(t)
	if aws.ToString(d.Tasks[0].LastStatus) != "RUNNING" || aws.ToInt32(d.Tasks[0].Containers[0].NetworkBindings[0].HostPort) != 32768 {
		t.Fatalf("after RUNNING: %+v", d.Tasks[0])
	}

	// The agent drops; agentConnected goes false, and it comes back.
	_ = agent.conn.Close()
	waitConnected(t, c, "acs", arn, false)
	agent = dialAgentAs(t, aws.ToString(ep.Endpoint), "acs", arn, "410000000001")
	waitConnected(t, c, "acs", arn, true)
	p = agent.nextPayload()
	if len(p.Tasks) != 1 || p.Tasks[0].ARN != taskARN || p.Tasks[0].DesiredStatus != "RUNNING" {
		t.Fatalf("payload after reconnect: %+v", p)
	}
	l := testkit.Must(c.ListTasks(cx, &ecs.ListTasksInput{Cluster: aws.String("acs")}))(t)
	if len(l.TaskArns) != 1 {
		t.Fatalf("tasks duplicated by the reconnect: %v", l.TaskArns)
	}

	// Stop verification: the server wants its task, not an unknown one.
	unknown := "arn:aws:ecs:us-east-1:410000000001:task/acs/ffffffffffffffffffffffffffffffff"
	if err := agent.conn.Send(cx, &acs.TaskStopVerificationMessage{MessageID: "verify-1", StopCandidates: []acs.TaskIdentifier{{TaskARN: taskARN}, {TaskARN: unknown}}}); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := agent.conn.Recv(cx)
		if err != nil {
			t.Fatal(err)
		}
		if ack, ok := msg.(*acs.TaskStopVerificationAck); ok {
			if ack.MessageID != "verify-1" || len(ack.StopTasks) != 1 || ack.StopTasks[0].TaskARN != unknown {
				t.Fatalf("stop verification ack: %+v", ack)
			}
			break
		}
	}

	// StopTask reaches the agent as desiredStatus STOPPED.
	testkit.Must(c.StopTask(cx, &ecs.StopTaskInput{Cluster: aws.String("acs"), Task: aws.String(taskARN), Reason: aws.String("done")}))(t)
	p = agent.nextPayload()
	if len(p.Tasks) != 1 || p.Tasks[0].DesiredStatus != "STOPPED" {
		t.Fatalf("stop payload: %+v", p)
	}
	testkit.Must(c.SubmitTaskStateChange(cx, &ecs.SubmitTaskStateChangeInput{Cluster: aws.String("acs"), Task: aws.String(taskARN), Status: aws.String("STOPPED"),
		Containers: []types.ContainerStateChange{{ContainerName: aws.String("web"), Status: aws.String("STOPPED"), ExitCode: aws.Int32(143)}}}))(t)
	d = testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("acs"), Tasks: []string{taskARN}}))(t)
	task := d.Tasks[0]
	if aws.ToString(task.LastStatus) != "STOPPED" || task.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(task.StoppedReason) != "done" ||
		aws.ToInt32(task.Containers[0].ExitCode) != 143 {
		t.Fatalf("stopped task: %+v", task)
	}

	// A deregistered instance's agent is refused.
	_ = agent.conn.Close()
	waitConnected(t, c, "acs", arn, false)
	testkit.Must(c.DeregisterContainerInstance(cx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("acs"), ContainerInstance: aws.String(arn)}))(t)
	url := agentURL(aws.ToString(ep.Endpoint), "acs", arn)
	_, err := acs.Dial(cx, url, signedHeader(t, url, "410000000001"))
	var inactive *acs.InactiveInstanceException
	if !errors.As(err, &inactive) {
		t.Fatalf("dial for an INACTIVE instance: %v", err)
	}
}
