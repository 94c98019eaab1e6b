package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// toolEnv is the environment of the aws CLI and boto3 against server url,
// with dummy credentials and no shared config.
func toolEnv(t *testing.T, url string) []string {
	home := t.TempDir()
	env := []string{
		"AWS_ENDPOINT_URL=" + url,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + home + "/config",
		"AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		"AWS_PAGER=",
		"HOME=" + home,
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "PYTHON") {
			env = append(env, kv)
		}
	}
	return env
}

// TestSmokeAWSCLI drives the server with the aws CLI (on the machine image):
// create a cluster, register a task definition, describe and list them.
func TestSmokeAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	m := startServer(t, options{})
	env := toolEnv(t, m.URL())
	aws := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"ecs"}, append(args, "--output", "json")...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws ecs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws ecs %s: output is not JSON: %s", args[0], out)
		}
		return v
	}
	c := aws("create-cluster", "--cluster-name", "cli-smoke")
	if got := c["cluster"].(map[string]any)["clusterArn"]; got != "arn:aws:ecs:us-east-1:000000000000:cluster/cli-smoke" {
		t.Fatalf("clusterArn %v", got)
	}
	td := aws("register-task-definition", "--family", "cli-web", "--container-definitions",
		`[{"name":"web","image":"nginx","memory":128,"portMappings":[{"containerPort":80}]}]`)
	if rev := td["taskDefinition"].(map[string]any)["revision"]; rev != float64(1) {
		t.Fatalf("revision %v", rev)
	}
	d := aws("describe-clusters", "--clusters", "cli-smoke", "missing")
	if n := len(d["clusters"].([]any)); n != 1 {
		t.Fatalf("clusters %d", n)
	}
	if f := d["failures"].([]any); len(f) != 1 || f[0].(map[string]any)["reason"] != "MISSING" {
		t.Fatalf("failures %v", f)
	}
	l := aws("list-clusters")
	if arns := l["clusterArns"].([]any); len(arns) != 1 {
		t.Fatalf("clusterArns %v", arns)
	}
	dt := aws("describe-task-definition", "--task-definition", "cli-web")
	if fam := dt["taskDefinition"].(map[string]any)["family"]; fam != "cli-web" {
		t.Fatalf("family %v", fam)
	}
	ltd := aws("list-task-definitions", "--family-prefix", "cli-web")
	if arns := ltd["taskDefinitionArns"].([]any); len(arns) != 1 {
		t.Fatalf("taskDefinitionArns %v", arns)
	}
	// A modelled error reaches the CLI by name.
	cmd := exec.Command("aws", "ecs", "describe-task-definition", "--task-definition", "nope")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ClientException") || !strings.Contains(string(out), "Unable to describe task definition.") {
		t.Fatalf("want ClientException, got %v: %s", err, out)
	}
}

const boto3Script = `
import boto3, botocore, sys
ecs = boto3.client("ecs")
c = ecs.create_cluster(clusterName="py-smoke")["cluster"]
assert c["clusterArn"] == "arn:aws:ecs:us-east-1:000000000000:cluster/py-smoke", c
td = ecs.register_task_definition(family="py-web", containerDefinitions=[
    {"name": "web", "image": "nginx", "memory": 128, "portMappings": [{"containerPort": 80}]}])["taskDefinition"]
assert td["revision"] == 1 and td["status"] == "ACTIVE", td
# registeredAt must parse as a timestamp (epoch seconds on the wire).
assert td["registeredAt"].year >= 2024, td["registeredAt"]
d = ecs.describe_clusters(clusters=["py-smoke", "missing"])
assert [x["clusterName"] for x in d["clusters"]] == ["py-smoke"], d
assert d["failures"][0]["reason"] == "MISSING", d
arns = [a for p in ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 1}) for a in p["clusterArns"]]
assert arns == ["arn:aws:ecs:us-east-1:000000000000:cluster/py-smoke"], arns
assert ecs.describe_task_definition(taskDefinition="py-web")["taskDefinition"]["family"] == "py-web"
assert len(ecs.list_task_definitions(familyPrefix="py-web")["taskDefinitionArns"]) == 1
try:
    ecs.describe_task_definition(taskDefinition="nope")
    sys.exit("expected ClientException")
except ecs.exceptions.ClientException as e:
    assert e.response["Error"]["Message"] == "Unable to describe task definition.", e.response
try:
    ecs.delete_cluster(cluster="missing")
    sys.exit("expected ClusterNotFoundException")
except ecs.exceptions.ClusterNotFoundException:
    pass
print("boto3 smoke ok")
`

// TestSmokeBoto3 drives the server with boto3 (on the machine image).
func TestSmokeBoto3(t *testing.T) {
	m := startServer(t, options{})
	cmd := exec.Command("python3", "-c", boto3Script)
	cmd.Env = toolEnv(t, m.URL())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 smoke ok") {
		t.Fatalf("boto3 smoke: %v\n%s", err, out)
	}
}
