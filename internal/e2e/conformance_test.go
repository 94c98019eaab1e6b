package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/server"
)

// botocoreModel is the part of the botocore ECS model the checks read.
type botocoreModel struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string                            `json:"type"`
	Members  map[string]struct{ Shape string } `json:"members"`
	Member   *struct{ Shape string }           `json:"member"`
	Value    *struct{ Shape string }           `json:"value"`
	Enum     []string                          `json:"enum"`
	Document bool                              `json:"document"`
}

// loadBotocoreModel reads the ECS model shipped in the machine's botocore.
// botocore is part of the machine image, so a missing one fails the test.
func loadBotocoreModel(t *testing.T) *botocoreModel {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		t.Fatalf("botocore is required for the model conformance test (python3 -c 'import botocore'): %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "data", "ecs", "2014-11-13", "service-2.json.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open model: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var m botocoreModel
	if err := json.NewDecoder(zr).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// rawCall posts a body to an operation and returns status and body.
func rawCall(t *testing.T, m *server.Main, prefix, op, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", m.URL()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", prefix+"."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s: response without x-amzn-RequestId", op)
	}
	return resp.StatusCode, b
}

// checkShape reports every member of v that the model's shape does not have
// or whose JSON type does not match.
func checkShape(m *botocoreModel, shapeName string, v any, path string, problems *[]string) {
	s, ok := m.Shapes[shapeName]
	if !ok {
		*problems = append(*problems, fmt.Sprintf("%s: unknown shape %s", path, shapeName))
		return
	}
	bad := func(want string) {
		*problems = append(*problems, fmt.Sprintf("%s: want %s (%s), got %T %v", path, want, shapeName, v, v))
	}
	switch s.Type {
	case "structure":
		if s.Document {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			bad("object")
			return
		}
		for k, mv := range obj {
			mem, ok := s.Members[k]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s: member not in model shape %s", path, k, shapeName))
				continue
			}
			if mv == nil {
				*problems = append(*problems, fmt.Sprintf("%s.%s: null emitted", path, k))
				continue
			}
			checkShape(m, mem.Shape, mv, path+"."+k, problems)
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			bad("list")
			return
		}
		for i, e := range arr {
			checkShape(m, s.Member.Shape, e, fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("map")
			return
		}
		for k, e := range obj {
			checkShape(m, s.Value.Shape, e, path+"."+k, problems)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("string")
			return
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			bad("one of " + strings.Join(s.Enum, "|"))
		}
	case "integer", "long":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			bad("integer")
		}
	case "double", "float":
		if _, ok := v.(float64); !ok {
			bad("number")
		}
	case "timestamp":
		if _, ok := v.(float64); !ok {
			bad("epoch seconds (number)")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("boolean")
		}
	default:
		bad(s.Type)
	}
}

// TestModelConformance checks the server against the botocore ECS model:
// every model operation is routed (an unimplemented one answers a modelled
// 4xx, never UnknownOperationException), and every member of every response
// of a scripted session exists in the operation's output shape with the
// right JSON type.
func TestModelConformance(t *testing.T) {
	model := loadBotocoreModel(t)
	m := startServer(t, options{})
	prefix := model.Metadata.TargetPrefix

	t.Run("EveryOperationRouted", func(t *testing.T) {
		if n := len(model.Operations); n != 77 {
			t.Logf("note: the machine's model has %d operations", n)
		}
		for op := range model.Operations {
			status, body := rawCall(t, m, prefix, op, "{}")
			var e struct {
				Type string `json:"__type"`
			}
			_ = json.Unmarshal(body, &e)
			if e.Type == "UnknownOperationException" || status >= 500 {
				t.Errorf("%s: status %d, body %s", op, status, body)
			}
		}
		status, body := rawCall(t, m, prefix, "NoSuchOperation", "{}")
		if status != 400 || !bytes.Contains(body, []byte(`"UnknownOperationException"`)) {
			t.Errorf("unknown target: status %d body %s", status, body)
		}
	})

	t.Run("ResponsesMatchOutputShapes", func(t *testing.T) {
		asg := "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:8d4e9d1f-1b6b-4d4c-9a0c-6f1c3c1f0a11:autoScalingGroupName/asg-conf"
		td := `{"family":"conf","containerDefinitions":[{"name":"web","image":"nginx","memory":128,"portMappings":[{"containerPort":80}],"healthCheck":{"command":["CMD","true"]}}],"tags":[{"key":"k","value":"v"}]}`
		fargateTD := `{"family":"conf-fargate","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":"busybox","essential":true}]}`
		calls := []struct{ op, body string }{
			{"CreateCapacityProvider", `{"name":"cp-conf","autoScalingGroupProvider":{"autoScalingGroupArn":"` + asg + `","managedScaling":{"status":"ENABLED"},"managedTerminationProtection":"ENABLED"},"tags":[{"key":"a","value":"b"}]}`},
			{"CreateCluster", `{"clusterName":"conf","tags":[{"key":"team","value":"x"}],"settings":[{"name":"containerInsights","value":"enabled"}],"capacityProviders":["cp-conf","FARGATE"],"defaultCapacityProviderStrategy":[{"capacityProvider":"cp-conf","weight":1,"base":1}],"serviceConnectDefaults":{"namespace":"svc.local"},"configuration":{"executeCommandConfiguration":{"logging":"DEFAULT"}}}`},
			{"CreateCluster", `{"clusterName":"conf2","capacityProviders":["FARGATE","FARGATE_SPOT"],"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1}]}`},
			{"DescribeClusters", `{"clusters":["conf","conf2","nope"],"include":["ATTACHMENTS","CONFIGURATIONS","SETTINGS","STATISTICS","TAGS"]}`},
			{"DescribeClusters", `{"clusters":["conf"]}`},
			{"ListClusters", `{"maxResults":1}`},
			{"UpdateCluster", `{"cluster":"conf","settings":[{"name":"containerInsights","value":"disabled"}]}`},
			{"UpdateClusterSettings", `{"cluster":"conf","settings":[{"name":"containerInsights","value":"enhanced"}]}`},
			{"PutClusterCapacityProviders", `{"cluster":"conf2","capacityProviders":["FARGATE"],"defaultCapacityProviderStrategy":[]}`},
			{"DescribeCapacityProviders", `{}`},
			{"DescribeCapacityProviders", `{"capacityProviders":["cp-conf","FARGATE","missing"],"include":["TAGS"]}`},
			{"UpdateCapacityProvider", `{"name":"cp-conf","autoScalingGroupProvider":{"managedScaling":{"targetCapacity":80}}}`},
			{"RegisterTaskDefinition", td},
			{"RegisterTaskDefinition", td},
			{"RegisterTaskDefinition", fargateTD},
			{"DescribeTaskDefinition", `{"taskDefinition":"conf","include":["TAGS"]}`},
			{"ListTaskDefinitions", `{"maxResults":1}`},
			{"ListTaskDefinitionFamilies", `{}`},
			{"DeregisterTaskDefinition", `{"taskDefinition":"conf:1"}`},
			{"DeleteTaskDefinitions", `{"taskDefinitions":["conf:1","conf:2","conf:99"]}`},
			{"PutAccountSetting", `{"name":"containerInsights","value":"enabled"}`},
			{"PutAccountSettingDefault", `{"name":"awsvpcTrunking","value":"enabled"}`},
			{"ListAccountSettings", `{"effectiveSettings":true}`},
			{"ListAccountSettings", `{}`},
			{"DeleteAccountSetting", `{"name":"containerInsights"}`},
			{"RegisterContainerInstance", `{"cluster":"conf","containerInstanceArn":"arn:aws:ecs:us-east-1:000000000000:container-instance/conf/00000000000000000000000000000abc","totalResources":[{"name":"CPU","type":"INTEGER","integerValue":1024},{"name":"MEMORY","type":"INTEGER","integerValue":2048},{"name":"PORTS","type":"STRINGSET","stringSetValue":["22"]}],"attributes":[{"name":"ecs.os-type","value":"linux"}],"versionInfo":{"agentVersion":"1.0.0"},"tags":[{"key":"k","value":"v"}]}`},
			{"DescribeContainerInstances", `{"cluster":"conf","containerInstances":["00000000000000000000000000000abc","ffffffffffffffffffffffffffffffff"],"include":["TAGS","CONTAINER_INSTANCE_HEALTH"]}`},
			{"ListContainerInstances", `{"cluster":"conf"}`},
			{"PutAttributes", `{"cluster":"conf","attributes":[{"name":"stack","value":"blue","targetId":"00000000000000000000000000000abc"}]}`},
			{"ListAttributes", `{"cluster":"conf","targetType":"container-instance"}`},
			{"DeleteAttributes", `{"cluster":"conf","attributes":[{"name":"stack","targetId":"00000000000000000000000000000abc"}]}`},
			{"UpdateContainerInstancesState", `{"cluster":"conf","containerInstances":["00000000000000000000000000000abc","ffffffffffffffffffffffffffffffff"],"status":"DRAINING"}`},
			{"DiscoverPollEndpoint", `{"cluster":"conf"}`},
			{"RunTask", `{"cluster":"conf","taskDefinition":"conf-fargate","launchType":"FARGATE","count":2,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"]}},"tags":[{"key":"k","value":"v"}]}`},
			{"RunTask", `{"cluster":"conf","taskDefinition":"conf","launchType":"EC2"}`},
			{"ListTasks", `{"cluster":"conf","launchType":"FARGATE"}`},
			{"DescribeTasks", `{"cluster":"conf","tasks":["0123456789abcdef0123456789abcdef"],"include":["TAGS"]}`},
			{"DeregisterContainerInstance", `{"cluster":"conf","containerInstance":"00000000000000000000000000000abc"}`},
			{"TagResource", `{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/conf","tags":[{"key":"x","value":"y"}]}`},
			{"ListTagsForResource", `{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/conf"}`},
			{"UntagResource", `{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/conf","tagKeys":["x"]}`},
			{"PutClusterCapacityProviders", `{"cluster":"conf","capacityProviders":[],"defaultCapacityProviderStrategy":[]}`},
			{"DeleteCapacityProvider", `{"capacityProvider":"cp-conf"}`},
			{"DeleteCluster", `{"cluster":"conf2"}`},
			{"DescribeClusters", `{"clusters":["conf2"]}`},
		}
		covered := map[string]bool{}
		for _, c := range calls {
			status, body := rawCall(t, m, prefix, c.op, c.body)
			if status != 200 {
				t.Errorf("%s %s: status %d: %s", c.op, c.body, status, body)
				continue
			}
			covered[c.op] = true
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Errorf("%s: invalid JSON: %v", c.op, err)
				continue
			}
			var problems []string
			checkShape(model, model.Operations[c.op].Output.Shape, v, c.op, &problems)
			for _, p := range problems {
				t.Error(p)
			}
		}
		t.Logf("checked the outputs of %d operations", len(covered))
	})
}
