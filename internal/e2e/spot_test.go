package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/fleet"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// startSpotServer is startServer (simulated Fargate fleet) with the
// fleet's Spot interruptions configured.
func startSpotServer(t *testing.T, spot fleet.Spot, auth api.AuthMode, creds string) *server.Main {
	t.Helper()
	m, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: auth, CredentialsFile: creds,
		FargateFleet: fleet.StartWithSpot(spot), FargateRuntime: "sim",
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return m
}

// spotAnswer is the administrative endpoint's answer (or error).
type spotAnswer struct {
	Interrupted []string `json:"interrupted"`
	Failures    []struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	} `json:"failures"`
	Type string `json:"__type"`
}

// interruptSpot posts body to the Spot interruption endpoint, signed with
// key/secret unless key is empty, and returns the status and answer.
func interruptSpot(t *testing.T, m *server.Main, key, secret string, body any) (int, spotAnswer) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, m.URL()+server.SpotInterruptionsPath, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		sum := sha256.Sum256(b)
		if err := v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "ecs", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out spotAnswer
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	return resp.StatusCode, out
}

// spotTaskDef registers a Fargate task definition whose container, with
// ignoreSigterm, ignores SIGTERM and has the longest stopTimeout (120 s),
// so only the end of the Spot warning stops it.
func spotTaskDef(t *testing.T, c *ecs.Client, family string, ignoreSigterm bool) string {
	t.Helper()
	cd := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("public.ecr.aws/berth/web:1"), Essential: aws.Bool(true)}
	if ignoreSigterm {
		cd.Environment = []types.KeyValuePair{{Name: aws.String("BERTH_SIM_IGNORE_SIGTERM"), Value: aws.String("1")}}
		cd.StopTimeout = aws.Int32(120)
	}
	td := testkit.Must(c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{cd},
	}))(t)
	return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
}

// runOn runs one task of td on a Fargate capacity provider and returns its ARN.
func runOn(t *testing.T, c *ecs.Client, cluster, td, provider string) string {
	t.Helper()
	out := testkit.Must(c.RunTask(ctx(t), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(td), NetworkConfiguration: subnets(),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String(provider), Weight: 1}}}))(t)
	if len(out.Tasks) != 1 {
		t.Fatalf("RunTask on %s: %+v", provider, out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// checkInterrupted checks a STOPPED task's Spot interruption.
func checkInterrupted(t *testing.T, task types.Task) {
	t.Helper()
	if task.StopCode != types.TaskStopCodeSpotInterruption || aws.ToString(task.StoppedReason) != "Your Spot Task was interrupted." ||
		aws.ToString(task.CapacityProviderName) != "FARGATE_SPOT" || task.StoppingAt == nil || task.StoppedAt == nil {
		t.Fatalf("task %s: stopCode %q, stoppedReason %q, provider %q, stoppingAt %v, stoppedAt %v", aws.ToString(task.TaskArn), task.StopCode,
			aws.ToString(task.StoppedReason), aws.ToString(task.CapacityProviderName), task.StoppingAt, task.StoppedAt)
	}
}

// TestSpotInterruption_Endpoint interrupts FARGATE_SPOT tasks through the
// administrative endpoint: they stop with stopCode SpotInterruption, one
// that ignores SIGTERM is killed when the (shortened) warning ends, and
// FARGATE tasks are never interrupted.
func TestSpotInterruption_Endpoint(t *testing.T) {
	t.Parallel()
	m := startSpotServer(t, fleet.Spot{Warning: time.Second}, "", "")
	c := defaultClient(m)
	testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("spot"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}}))(t)
	web := spotTaskDef(t, c, "spot-web", false)
	stubborn := spotTaskDef(t, c, "spot-stubborn", true)

	spotA, spotB := runOn(t, c, "spot", web, "FARGATE_SPOT"), runOn(t, c, "spot", web, "FARGATE_SPOT")
	spotStubborn := runOn(t, c, "spot", stubborn, "FARGATE_SPOT")
	onDemand := runOn(t, c, "spot", web, "FARGATE")
	for _, arn := range []string{spotA, spotB, spotStubborn, onDemand} {
		waitTask(t, c, "spot", arn, true)
	}

	t.Run("FargateIsNeverInterrupted", func(t *testing.T) {
		status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spot", "tasks": []string{onDemand}})
		if status != http.StatusOK || len(out.Interrupted) != 0 || len(out.Failures) != 1 || out.Failures[0].Reason != "NOT_SPOT" {
			t.Fatalf("status %d, answer %+v", status, out)
		}
	})
	t.Run("ErrClusterNotFound", func(t *testing.T) {
		status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "nope"})
		if status != http.StatusBadRequest || out.Type != "ClusterNotFoundException" {
			t.Fatalf("status %d, answer %+v", status, out)
		}
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spot", "taskz": []string{spotA}})
		if status != http.StatusBadRequest || out.Type != "InvalidParameterException" {
			t.Fatalf("status %d, answer %+v", status, out)
		}
	})
	t.Run("MissingTask", func(t *testing.T) {
		status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spot", "tasks": []string{"0123456789abcdef0123456789abcdef"}})
		if status != http.StatusOK || len(out.Failures) != 1 || out.Failures[0].Reason != "MISSING" {
			t.Fatalf("status %d, answer %+v", status, out)
		}
	})

	// The stubborn task by name; then every other Spot task of the cluster.
	status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spot", "tasks": []string{spotStubborn}})
	if status != http.StatusOK || !slices.Equal(out.Interrupted, []string{spotStubborn}) {
		t.Fatalf("status %d, answer %+v", status, out)
	}
	status, out = interruptSpot(t, m, "", "", map[string]any{"cluster": "spot"})
	slices.Sort(out.Interrupted)
	want := []string{spotA, spotB}
	slices.Sort(want)
	if status != http.StatusOK || !slices.Equal(out.Interrupted, want) {
		t.Fatalf("status %d, answer %+v, want %v interrupted", status, out, want)
	}

	for _, arn := range []string{spotA, spotB} {
		checkInterrupted(t, waitTask(t, c, "spot", arn, false))
	}
	// Its containers ignore SIGTERM and have a 120 s stopTimeout: the end
	// of the warning kills them.
	task := waitTask(t, c, "spot", spotStubborn, false)
	checkInterrupted(t, task)
	if ec := task.Containers[0].ExitCode; ec == nil || *ec != 137 {
		t.Fatalf("stubborn container exit code %v, want 137 (killed)", ec)
	}

	t.Run("AgainIsStopping", func(t *testing.T) {
		status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spot", "tasks": []string{spotA}})
		if status != http.StatusOK || len(out.Failures) != 1 || out.Failures[0].Reason != "STOPPING" {
			t.Fatalf("status %d, answer %+v", status, out)
		}
	})

	d := testkit.Must(c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("spot"), Tasks: []string{onDemand}}))(t)
	if tk := d.Tasks[0]; aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.DesiredStatus) != "RUNNING" || tk.StopCode != "" {
		t.Fatalf("FARGATE task: lastStatus %s desiredStatus %s stopCode %q", aws.ToString(tk.LastStatus), aws.ToString(tk.DesiredStatus), tk.StopCode)
	}
}

// TestSpotInterruption_Rate lets the fleet interrupt at a rate that makes
// an interruption certain at every draw: every FARGATE_SPOT task stops
// with stopCode SpotInterruption, and the FARGATE task keeps running.
func TestSpotInterruption_Rate(t *testing.T) {
	t.Parallel()
	m := startSpotServer(t, fleet.Spot{Warning: time.Second, Rate: 1e9, Interval: 50 * time.Millisecond, Seed: 1}, "", "")
	c := defaultClient(m)
	testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("rate"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}}))(t)
	web := spotTaskDef(t, c, "rate-web", false)
	onDemand := runOn(t, c, "rate", web, "FARGATE")
	waitTask(t, c, "rate", onDemand, true)
	spots := []string{runOn(t, c, "rate", web, "FARGATE_SPOT"), runOn(t, c, "rate", web, "FARGATE_SPOT")}
	for _, arn := range spots {
		task := waitTask(t, c, "rate", arn, false)
		checkInterrupted(t, task)
		if task.StartedAt == nil {
			t.Fatalf("task %s stopped without running: only RUNNING tasks are interrupted", arn)
		}
	}
	d := testkit.Must(c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("rate"), Tasks: []string{onDemand}}))(t)
	if tk := d.Tasks[0]; aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.DesiredStatus) != "RUNNING" {
		t.Fatalf("FARGATE task: lastStatus %s desiredStatus %s stopCode %q", aws.ToString(tk.LastStatus), aws.ToString(tk.DesiredStatus), tk.StopCode)
	}
}

// TestSpotInterruption_Auth checks that the endpoint is authenticated as
// the ECS API is, and acts in the caller's account.
func TestSpotInterruption_Auth(t *testing.T) {
	t.Parallel()
	m := startSpotServer(t, fleet.Spot{}, api.AuthSigV4, writeCredentials(t))
	a := client(m, "AKIDTEAMA", "secretA", "us-east-1")
	testkit.Must(a.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("auth"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}}))(t)

	if status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "auth"}); status != http.StatusForbidden || out.Type != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: status %d, answer %+v", status, out)
	}
	if status, out := interruptSpot(t, m, "AKIDTEAMA", "wrong", map[string]any{"cluster": "auth"}); status != http.StatusForbidden || out.Type != "InvalidSignatureException" {
		t.Fatalf("bad signature: status %d, answer %+v", status, out)
	}
	if status, out := interruptSpot(t, m, "AKIDTEAMA", "secretA", map[string]any{"cluster": "auth"}); status != http.StatusOK || len(out.Interrupted) != 0 {
		t.Fatalf("signed: status %d, answer %+v", status, out)
	}
	// Team B's account has no such cluster.
	if status, out := interruptSpot(t, m, "AKIDTEAMB", "secretB", map[string]any{"cluster": "auth"}); status != http.StatusBadRequest || out.Type != "ClusterNotFoundException" {
		t.Fatalf("other account: status %d, answer %+v", status, out)
	}
}
