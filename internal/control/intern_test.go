package control

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestInternKeepsValues: a task record decoded through the view (values
// shared) encodes exactly as the same record decoded plainly, and two
// records share their repeated members.
func TestInternKeepsValues(t *testing.T) {
	raw := []byte(`{"availabilityZone":"us-east-1a","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/c","containerInstanceArn":"arn:aws:ecs:us-east-1:123456789012:container-instance/c/0f","containers":[{"containerArn":"arn:aws:ecs:us-east-1:123456789012:container/c/1/x","cpu":"64","healthStatus":"UNKNOWN","image":"busybox","lastStatus":"RUNNING","memory":"512","name":"app","taskArn":"arn:aws:ecs:us-east-1:123456789012:task/c/1"}],"cpu":"64","desiredStatus":"RUNNING","enableExecuteCommand":true,"group":"family:f","healthStatus":"UNKNOWN","lastStatus":"RUNNING","launchType":"EC2","memory":"512","overrides":{"containerOverrides":[{"name":"app"}]},"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/c/1","taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/f:1","cluster":"c","id":"1","essential":["app"]}`)
	v := newView(decodeRecord, nil)
	a, err := v.decode("ns/1/r/task/c/1", raw)
	noErr(t, err)
	b, err := v.decode("ns/1/r/task/c/2", raw)
	noErr(t, err)
	plain, err := decodeRecord("ns/1/r/task/c/1", raw)
	noErr(t, err)
	a, b = a.(*packedTask).unpack(), b.(*packedTask).unpack()
	ja, _ := json.Marshal(a)
	jp, _ := json.Marshal(plain)
	if !bytes.Equal(ja, jp) {
		t.Fatalf("interned record encodes differently:\n%s\n%s", ja, jp)
	}
	ra, rb := a.(*taskRecord), b.(*taskRecord)
	if ra.ContainerInstanceArn != rb.ContainerInstanceArn || ra.Containers[0].Image != rb.Containers[0].Image || ra.EnableExecuteCommand != rb.EnableExecuteCommand {
		t.Error("repeated members are not shared")
	}
	if ra.Overrides != rb.Overrides || &ra.Essential[0] != &rb.Essential[0] {
		t.Error("equal overrides or essential lists are not shared")
	}
	if ra.Containers[0].TaskArn != ra.TaskArn {
		t.Error("the container's task ARN is not the task's")
	}
}
