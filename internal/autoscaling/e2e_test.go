package autoscaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// startServer starts `berth server` on 127.0.0.1:0 with the exec launcher
// running script (if any).
func startServer(t *testing.T, script string) *server.Main {
	t.Helper()
	cfg := server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if script != "" {
		cfg.AutoScalingExecCommand = []string{script}
	}
	m, err := server.Start(context.Background(), cfg)
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

func client(m *server.Main, key string) *asg.Client {
	return asg.New(asg.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func wantType[T error](t *testing.T, err error) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("want %T, got %T: %v", target, err, err)
	}
}

// execScript writes a launcher script that logs every call to a file and
// fails launches of instances while the file "fail" exists.
func execScript(t *testing.T) (script, logPath string) {
	dir := t.TempDir()
	logPath = filepath.Join(dir, "calls.log")
	script = filepath.Join(dir, "launcher.sh")
	body := fmt.Sprintf(`#!/bin/sh
echo "$BERTH_ACTION $BERTH_INSTANCE_ID $BERTH_INSTANCE_TYPE $BERTH_AZ $BERTH_CLUSTER $BERTH_GROUP $BERTH_ENDPOINT" >> %[1]q
if [ -e %[2]q ] && [ "$BERTH_ACTION" = launch ]; then
  echo "no capacity for $BERTH_INSTANCE_TYPE" >&2
  exit 3
fi
exit 0
`, logPath, filepath.Join(dir, "fail"))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, logPath
}

func describe(t *testing.T, c *asg.Client, name string) types.AutoScalingGroup {
	t.Helper()
	out := testkit.Must(c.DescribeAutoScalingGroups(testCtx(t), &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}}))(t)
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe %s: %d groups", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// waitFor polls the group until ok holds.
func waitFor(t *testing.T, c *asg.Client, name string, what string, ok func(types.AutoScalingGroup) bool) types.AutoScalingGroup {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g := describe(t, c, name)
		if ok(g) {
			return g
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(g, "", " ")
			t.Fatalf("timed out waiting for %s; group:\n%s", what, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func inService(n int) func(types.AutoScalingGroup) bool {
	return func(g types.AutoScalingGroup) bool {
		c := 0
		for _, i := range g.Instances {
			if i.LifecycleState == types.LifecycleStateInService {
				c++
			}
		}
		return c == n && len(g.Instances) == n
	}
}

func TestAutoScaling_GroupLifecycle(t *testing.T) {
	script, logPath := execScript(t)
	m := startServer(t, script)
	c := client(m, "123456789012")
	ctx := testCtx(t)

	testkit.Must(c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName:  aws.String("web"),
		MinSize:               aws.Int32(0),
		MaxSize:               aws.Int32(5),
		DesiredCapacity:       aws.Int32(2),
		LaunchTemplate:        &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("berth-exec-web")},
		AvailabilityZones:     []string{"us-east-1a", "us-east-1b"},
		DefaultInstanceWarmup: aws.Int32(60),
		Tags: []types.Tag{
			{Key: aws.String("berth:instance-type"), Value: aws.String("m5.large")},
			{Key: aws.String("berth:cluster"), Value: aws.String("prod")},
			{Key: aws.String("team"), Value: aws.String("a"), PropagateAtLaunch: aws.Bool(true)},
		},
	}))(t)

	g := waitFor(t, c, "web", "2 InService", inService(2))
	if want := "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:"; !strings.HasPrefix(aws.ToString(g.AutoScalingGroupARN), want) ||
		!strings.HasSuffix(aws.ToString(g.AutoScalingGroupARN), ":autoScalingGroupName/web") {
		t.Errorf("ARN = %s", aws.ToString(g.AutoScalingGroupARN))
	}
	if aws.ToInt32(g.DesiredCapacity) != 2 || aws.ToInt32(g.MaxSize) != 5 || aws.ToInt32(g.DefaultInstanceWarmup) != 60 {
		t.Errorf("sizes: %+v", g)
	}
	if g.LaunchTemplate == nil || aws.ToString(g.LaunchTemplate.LaunchTemplateName) != "berth-exec-web" || aws.ToString(g.LaunchTemplate.Version) != "$Default" {
		t.Errorf("launch template: %+v", g.LaunchTemplate)
	}
	zones := map[string]int{}
	for _, in := range g.Instances {
		zones[aws.ToString(in.AvailabilityZone)]++
		if id := aws.ToString(in.InstanceId); len(id) != 19 || !strings.HasPrefix(id, "i-") {
			t.Errorf("instance id %q", id)
		}
		if aws.ToString(in.InstanceType) != "m5.large" || aws.ToString(in.HealthStatus) != "Healthy" {
			t.Errorf("instance %+v", in)
		}
	}
	if zones["us-east-1a"] != 1 || zones["us-east-1b"] != 1 {
		t.Errorf("zones not balanced: %v", zones)
	}
	if len(g.Tags) != 3 || aws.ToString(g.Tags[0].ResourceType) != "auto-scaling-group" {
		t.Errorf("tags: %+v", g.Tags)
	}
	calls, _ := os.ReadFile(logPath)
	if n := strings.Count(string(calls), "launch i-"); n != 2 || !strings.Contains(string(calls), " m5.large us-east-1") ||
		!strings.Contains(string(calls), " prod web "+m.URL()) {
		t.Errorf("launcher calls:\n%s", calls)
	}

	// Describe instances.
	di := testkit.Must(c.DescribeAutoScalingInstances(ctx, &asg.DescribeAutoScalingInstancesInput{}))(t)
	if len(di.AutoScalingInstances) != 2 || aws.ToString(di.AutoScalingInstances[0].AutoScalingGroupName) != "web" {
		t.Fatalf("DescribeAutoScalingInstances: %+v", di.AutoScalingInstances)
	}

	// Protect one instance, then scale in to 0: the protected one stays.
	protected := aws.ToString(g.Instances[0].InstanceId)
	testkit.Must(c.SetInstanceProtection(ctx, &asg.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String("web"), InstanceIds: []string{protected}, ProtectedFromScaleIn: aws.Bool(true),
	}))(t)
	testkit.Must(c.SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(0)}))(t)
	g = waitFor(t, c, "web", "only the protected instance left", func(g types.AutoScalingGroup) bool {
		return len(g.Instances) == 1 && aws.ToString(g.Instances[0].InstanceId) == protected
	})
	if !aws.ToBool(g.Instances[0].ProtectedFromScaleIn) {
		t.Errorf("instance lost its protection")
	}

	// SetDesiredCapacity bounds.
	_, err := c.SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(6)})
	wantCode(t, err, "ValidationError")

	// Update: raise min to 3; desired follows.
	testkit.Must(c.UpdateAutoScalingGroup(ctx, &asg.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(3)}))(t)
	g = waitFor(t, c, "web", "3 InService", inService(3))
	if aws.ToInt32(g.DesiredCapacity) != 3 || aws.ToInt32(g.MinSize) != 3 {
		t.Errorf("after update: desired %d min %d", aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MinSize))
	}

	// Terminate without decrement: a replacement is launched.
	victim := aws.ToString(g.Instances[1].InstanceId)
	term := testkit.Must(c.TerminateInstanceInAutoScalingGroup(ctx, &asg.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(victim), ShouldDecrementDesiredCapacity: aws.Bool(false),
	}))(t)
	if d := aws.ToString(term.Activity.Description); d != "Terminating EC2 instance: "+victim {
		t.Errorf("activity description %q", d)
	}
	waitFor(t, c, "web", "replacement", func(g types.AutoScalingGroup) bool {
		return inService(3)(g) && !slices.ContainsFunc(g.Instances, func(i types.Instance) bool { return aws.ToString(i.InstanceId) == victim })
	})
	// Decrementing below min is refused.
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &asg.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(protected), ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	wantCode(t, err, "ValidationError")
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &asg.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String("i-00000000000000000"), ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	wantCode(t, err, "ValidationError")

	// Activities: launches and terminations, newest first, successful.
	acts := testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")}))(t)
	var launches, terms int
	for _, a := range acts.Activities {
		d := aws.ToString(a.Description)
		switch {
		case strings.HasPrefix(d, "Launching a new EC2 instance: i-"):
			launches++
		case strings.HasPrefix(d, "Terminating EC2 instance: i-"):
			terms++
		}
		if a.StatusCode != types.ScalingActivityStatusCodeSuccessful && !strings.HasPrefix(d, "Terminating") {
			t.Errorf("activity %s: %s", d, a.StatusCode)
		}
		if a.StartTime == nil || aws.ToString(a.Cause) == "" {
			t.Errorf("activity without start time or cause: %+v", a)
		}
	}
	if launches != 5 || terms != 2 {
		t.Errorf("activities: %d launches, %d terminations", launches, terms)
	}
	for i := 1; i < len(acts.Activities); i++ {
		if acts.Activities[i].StartTime.After(*acts.Activities[i-1].StartTime) {
			t.Errorf("activities not newest first")
		}
	}
	page := testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web"), MaxRecords: aws.Int32(3)}))(t)
	if len(page.Activities) != 3 || page.NextToken == nil {
		t.Fatalf("activities page: %d, token %v", len(page.Activities), page.NextToken)
	}

	// Delete: refused while instances remain, then forced.
	_, err = c.DeleteAutoScalingGroup(ctx, &asg.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantType[*types.ResourceInUseFault](t, err)
	testkit.Must(c.DeleteAutoScalingGroup(ctx, &asg.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}))(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := testkit.Must(c.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}}))(t)
		if len(out.AutoScalingGroups) == 0 {
			break
		}
		if s := aws.ToString(out.AutoScalingGroups[0].Status); s != "Delete in progress" {
			t.Fatalf("status while deleting: %q", s)
		}
		if time.Now().After(deadline) {
			t.Fatal("group not deleted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	calls, _ = os.ReadFile(logPath)
	// Terminate is idempotent per instance and may be repeated (a pass
	// can re-issue one whose record has not been updated yet): count the
	// instances terminated.
	terminated := map[string]bool{}
	for _, l := range strings.Split(string(calls), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "terminate" {
			terminated[f[1]] = true
		}
	}
	if n := len(terminated); n != 5 {
		t.Errorf("%d instances terminated, want 5:\n%s", n, calls)
	}
	// Activities of the deleted group only with IncludeDeletedGroups.
	acts = testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")}))(t)
	if len(acts.Activities) != 0 {
		t.Errorf("activities of a deleted group: %d", len(acts.Activities))
	}
	acts = testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web"), IncludeDeletedGroups: aws.Bool(true)}))(t)
	if len(acts.Activities) < 10 {
		t.Errorf("activities with deleted groups: %d", len(acts.Activities))
	}
}

func TestAutoScaling_LaunchFailure(t *testing.T) {
	script, _ := execScript(t)
	if err := os.WriteFile(filepath.Join(filepath.Dir(script), "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m := startServer(t, script)
	c := client(m, "123456789012")
	ctx := testCtx(t)
	testkit.Must(c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("broken"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchConfigurationName: aws.String("whatever"),
		VPCZoneIdentifier:       aws.String("subnet-1,subnet-2"),
		Tags:                    []types.Tag{{Key: aws.String("berth:launcher"), Value: aws.String("exec")}},
	}))(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		acts := testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("broken")}))(t)
		if len(acts.Activities) > 0 && acts.Activities[0].StatusCode == types.ScalingActivityStatusCodeFailed {
			if msg := aws.ToString(acts.Activities[0].StatusMessage); !strings.Contains(msg, "no capacity for t3.medium") {
				t.Errorf("status message %q", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed activity")
		}
		time.Sleep(50 * time.Millisecond)
	}
	g := describe(t, c, "broken")
	if len(g.Instances) != 0 {
		t.Errorf("failed launch left instances: %+v", g.Instances)
	}
	if !slices.Equal(g.AvailabilityZones, []string{"us-east-1a", "us-east-1b"}) {
		t.Errorf("zones from subnets: %v", g.AvailabilityZones)
	}
	// The sim launcher is a registration point: it fails with a reason.
	testkit.Must(c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("simmed"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("berth-sim")},
		AvailabilityZones: []string{"us-east-1a"},
	}))(t)
	for {
		acts := testkit.Must(c.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("simmed")}))(t)
		if len(acts.Activities) > 0 && acts.Activities[0].StatusCode == types.ScalingActivityStatusCodeFailed {
			if msg := aws.ToString(acts.Activities[0].StatusMessage); !strings.Contains(msg, `"sim" is not available`) {
				t.Errorf("status message %q", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed activity for the sim launcher")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAutoScaling_Errors(t *testing.T) {
	m := startServer(t, "")
	c := client(m, "123456789012")
	ctx := testCtx(t)
	create := func(name string, min, max int32, desired *int32) error {
		_, err := c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(min), MaxSize: aws.Int32(max), DesiredCapacity: desired,
			LaunchConfigurationName: aws.String("lc"), AvailabilityZones: []string{"us-east-1a"},
		})
		return err
	}
	if err := create("g", 0, 2, nil); err != nil {
		t.Fatal(err)
	}
	wantType[*types.AlreadyExistsFault](t, create("g", 0, 2, nil))
	wantCode(t, create("h", 3, 2, nil), "ValidationError")
	wantCode(t, create("h", 0, 2, aws.Int32(3)), "ValidationError")
	_, err := c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("h"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1), AvailabilityZones: []string{"us-east-1a"},
	})
	wantCode(t, err, "ValidationError")
	_, err = c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("h"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1), LaunchConfigurationName: aws.String("lc"),
	})
	wantCode(t, err, "ValidationError")
	_, err = c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("h"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1), LaunchConfigurationName: aws.String("lc"),
		AvailabilityZones: []string{"us-east-1a"}, Tags: []types.Tag{{Key: aws.String("berth:launcher"), Value: aws.String("ec2")}},
	})
	wantCode(t, err, "ValidationError")
	_, err = c.UpdateAutoScalingGroup(ctx, &asg.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("nope"), MaxSize: aws.Int32(1)})
	wantCode(t, err, "ValidationError")
	_, err = c.SetInstanceProtection(ctx, &asg.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("g"), InstanceIds: []string{"i-1"}, ProtectedFromScaleIn: aws.Bool(true)})
	wantCode(t, err, "ValidationError")
	_, err = c.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{NextToken: aws.String("!!")})
	wantType[*types.InvalidNextToken](t, err)
	_, err = c.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError")
	_, err = c.DeleteAutoScalingGroup(ctx, &asg.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationError")
	// An empty group is deleted at once.
	testkit.Must(c.DeleteAutoScalingGroup(ctx, &asg.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("g")}))(t)
	out := testkit.Must(c.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{}))(t)
	if len(out.AutoScalingGroups) != 0 {
		t.Errorf("groups after delete: %d", len(out.AutoScalingGroups))
	}
}

func TestAutoScaling_PaginationAndAccounts(t *testing.T) {
	m := startServer(t, "")
	c := client(m, "111111111111")
	ctx := testCtx(t)
	for i := range 7 {
		testkit.Must(c.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(fmt.Sprintf("g%02d", i)), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
			LaunchConfigurationName: aws.String("lc"), AvailabilityZones: []string{"us-east-1a"},
			Tags: []types.Tag{{Key: aws.String("parity"), Value: aws.String([]string{"even", "odd"}[i%2])}},
		}))(t)
	}
	var names []string
	p := asg.NewDescribeAutoScalingGroupsPaginator(c, &asg.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out := testkit.Must(p.NextPage(ctx))(t)
		pages++
		for _, g := range out.AutoScalingGroups {
			names = append(names, aws.ToString(g.AutoScalingGroupName))
		}
	}
	if pages != 3 || !slices.Equal(names, []string{"g00", "g01", "g02", "g03", "g04", "g05", "g06"}) {
		t.Errorf("%d pages: %v", pages, names)
	}
	out := testkit.Must(c.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{
		Filters: []types.Filter{{Name: aws.String("tag:parity"), Values: []string{"odd"}}},
	}))(t)
	if len(out.AutoScalingGroups) != 3 {
		t.Errorf("tag filter: %d groups", len(out.AutoScalingGroups))
	}
	// Another account sees none of them.
	out = testkit.Must(client(m, "222222222222").DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{}))(t)
	if len(out.AutoScalingGroups) != 0 {
		t.Errorf("other account sees %d groups", len(out.AutoScalingGroups))
	}
}

// TestAutoScaling_AWSCLI runs the aws CLI's autoscaling commands against
// the server.
func TestAutoScaling_AWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	m := startServer(t, "")
	home := t.TempDir()
	env := []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		"AWS_PAGER=", "HOME=" + home, "PATH=" + os.Getenv("PATH"),
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("aws", append(append([]string{"autoscaling"}, args...), "--endpoint-url", m.URL(), "--output", "json")...)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	if out, err := run("create-auto-scaling-group", "--auto-scaling-group-name", "cli", "--min-size", "0", "--max-size", "3",
		"--launch-template", "LaunchTemplateName=berth-sim-cli,Version=1", "--availability-zones", "us-east-1a", "us-east-1b",
		"--tags", "Key=berth:cluster,Value=c1,PropagateAtLaunch=true"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	out, err := run("describe-auto-scaling-groups", "--auto-scaling-group-names", "cli")
	if err != nil {
		t.Fatalf("describe: %v\n%s", err, out)
	}
	var doc struct {
		AutoScalingGroups []struct {
			AutoScalingGroupName string
			AutoScalingGroupARN  string
			MinSize, MaxSize     int
			AvailabilityZones    []string
			LaunchTemplate       struct{ LaunchTemplateName, Version string }
			Tags                 []struct{ Key, Value string }
			Instances            []any
			CreatedTime          string
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("describe output: %v\n%s", err, out)
	}
	if len(doc.AutoScalingGroups) != 1 {
		t.Fatalf("describe: %s", out)
	}
	g := doc.AutoScalingGroups[0]
	if g.AutoScalingGroupName != "cli" || g.MaxSize != 3 || len(g.AvailabilityZones) != 2 || g.LaunchTemplate.Version != "1" ||
		len(g.Tags) != 1 || g.Tags[0].Value != "c1" || g.Instances == nil || g.CreatedTime == "" {
		t.Errorf("describe: %s", out)
	}
	out, err = run("describe-auto-scaling-groups", "--auto-scaling-group-names", "none")
	if err != nil || !strings.Contains(string(out), `"AutoScalingGroups": []`) {
		t.Errorf("describe of nothing: %v\n%s", err, out)
	}
	out, err = run("set-desired-capacity", "--auto-scaling-group-name", "cli", "--desired-capacity", "9")
	if err == nil || !strings.Contains(string(out), "ValidationError") || !strings.Contains(string(out), "above max value 3") {
		t.Errorf("set-desired-capacity above max: %v\n%s", err, out)
	}
}

// TestAutoScaling_SigV4: under --auth sigv4 the Query API verifies the
// signature over the form body, and the key's account owns the groups.
func TestAutoScaling_SigV4(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("AKIDGOOD goodsecret 333333333333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: api.AuthSigV4, CredentialsFile: creds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ctx := testCtx(t)
	mk := func(key, secret string) *asg.Client {
		return asg.New(asg.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}
	good := mk("AKIDGOOD", "goodsecret")
	testkit.Must(good.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("signed"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
		LaunchConfigurationName: aws.String("lc"), AvailabilityZones: []string{"us-east-1a"},
	}))(t)
	g := describe(t, good, "signed")
	if !strings.Contains(aws.ToString(g.AutoScalingGroupARN), ":333333333333:") {
		t.Errorf("ARN %s", aws.ToString(g.AutoScalingGroupARN))
	}
	_, err = mk("AKIDGOOD", "wrong").DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
	_, err = mk("AKIDUNKNOWN", "x").DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{})
	wantCode(t, err, "InvalidClientTokenId")
}
