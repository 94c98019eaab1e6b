package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/runtime/sim"
)

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		api      string
		top      string
		excluded string
	}{
		{"1.41", capDockerAPI + "1.41", capDockerAPI + "1.42"},
		{"1.47", capDockerAPI + "1.44", capDockerAPI + "1.45"},
		{"garbage", capDockerAPI + "1.17", capDockerAPI + "1.18"},
	} {
		caps := Capabilities(tc.api)
		if !slices.Contains(caps, tc.top) || slices.Contains(caps, tc.excluded) || !slices.Contains(caps, "ecs.capability.container-ordering") {
			t.Errorf("Capabilities(%q) = %v", tc.api, caps)
		}
	}
}

func TestCheckEcho(t *testing.T) {
	sent := []types.Attribute{{Name: aws.String("a"), Value: aws.String("1")}, {Name: aws.String("flag")}}
	if err := checkEcho(sent, append(slices.Clone(sent), types.Attribute{Name: aws.String("extra")})); err != nil {
		t.Fatalf("echoed: %v", err)
	}
	for _, got := range [][]types.Attribute{
		{{Name: aws.String("a"), Value: aws.String("1")}},
		{{Name: aws.String("a"), Value: aws.String("2")}, {Name: aws.String("flag")}},
		{{Name: aws.String("a"), Value: aws.String("1")}, {Name: aws.String("flag"), Value: aws.String("x")}},
	} {
		if err := checkEcho(sent, got); !errors.Is(err, ErrAttributeMismatch) {
			t.Errorf("checkEcho(%v) = %v, want ErrAttributeMismatch", got, err)
		}
	}
}

func TestConfig_Attributes(t *testing.T) {
	c := Config{Capabilities: []string{"cap.b", "cap.a"}, Attributes: map[string]string{"zone": "lab", "ecs.os-type": "linux"}}
	attrs := c.attributes()
	var names []string
	for _, a := range attrs {
		names = append(names, aws.ToString(a.Name))
	}
	if !slices.IsSorted(names) || !slices.Equal(names, []string{"cap.a", "cap.b", "ecs.cpu-architecture", "ecs.os-type", "zone"}) {
		t.Fatalf("attributes %v", names)
	}
	if attrs[0].Value != nil || aws.ToString(attrs[4].Value) != "lab" {
		t.Fatalf("values %+v %+v", attrs[0], attrs[4])
	}
}

func TestRetriable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ClientException", &types.ClientException{}, false},
		{"InvalidParameter", fmt.Errorf("call: %w", &types.InvalidParameterException{}), false},
		{"AccessDenied", &types.AccessDeniedException{}, false},
		{"ClusterNotFound", &types.ClusterNotFoundException{}, false},
		{"BadKey", &smithy.GenericAPIError{Code: "UnrecognizedClientException"}, false},
		{"ServerException", &types.ServerException{}, true},
		{"Throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"Network", errors.New("connection refused"), true},
	} {
		if got := retriable(tc.err); got != tc.want {
			t.Errorf("%s: retriable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEC2Identity_Document(t *testing.T) {
	id := &EC2Identity{InstanceID: "i-0123456789abcdef0", InstanceType: "m5.large", AvailabilityZone: "eu-west-1b"}
	var doc map[string]string
	if err := json.Unmarshal([]byte(id.document("eu-west-1")), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"instanceId": "i-0123456789abcdef0", "instanceType": "m5.large", "availabilityZone": "eu-west-1b",
		"region": "eu-west-1", "architecture": cpuArchitecture(), "version": "2017-09-30",
	}
	if !maps.Equal(doc, want) {
		t.Errorf("document %v, want %v", doc, want)
	}
	id.Region = "us-west-2"
	if err := json.Unmarshal([]byte(id.document("eu-west-1")), &doc); err != nil || doc["region"] != "us-west-2" {
		t.Errorf("region %q (%v), want the identity's own", doc["region"], err)
	}
}

func TestConfig_EC2(t *testing.T) {
	c := Config{EC2: &EC2Identity{InstanceID: "i-0123456789abcdef0", InstanceType: "c5.large", AvailabilityZone: "us-east-1c"},
		Attributes: map[string]string{"ecs.availability-zone": "override"}}
	got := map[string]string{}
	for _, a := range c.attributes() {
		got[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if got["ecs.instance-type"] != "c5.large" || got["ecs.availability-zone"] != "override" {
		t.Errorf("attributes %v: want the type of the identity and the zone of Attributes", got)
	}
	rt, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	base := Config{Runtime: rt, ECS: ecs.New(ecs.Options{}), DataDir: "d"}
	for _, id := range []string{"", "i-123", "i-0123456789ABCDEF0", "x-0123456789abcdef0"} {
		cfg := base
		cfg.EC2 = &EC2Identity{InstanceID: id}
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("instance id %q accepted", id)
		}
	}
	for _, id := range []string{"i-0123abcd", "i-0123456789abcdef0"} {
		cfg := base
		cfg.EC2 = &EC2Identity{InstanceID: id}
		if _, err := cfg.withDefaults(); err != nil {
			t.Errorf("instance id %q: %v", id, err)
		}
	}
}
