package taskdef

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// FuzzBuild decodes arbitrary bytes into a request and runs it through
// model validation and Build. Build must never panic, must answer only with
// *ecs.Error values of the two documented codes, and when it succeeds on a
// model-valid request its result must be self-consistent.
func FuzzBuild(f *testing.F) {
	for _, seed := range []string{
		`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128}]}`,
		`{"family":"web","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"1 vCPU","memory":"2 GB","containerDefinitions":[{"name":"app","image":"nginx","portMappings":[{"containerPort":80}]}]}`,
		`{"family":"w","containerDefinitions":[{"name":"a","image":"i","memory":6,"links":["b:x"],"volumesFrom":[{"sourceContainer":"b"}],"dependsOn":[{"containerName":"b","condition":"HEALTHY"}]},{"name":"b","image":"i","memoryReservation":6,"essential":false,"healthCheck":{"command":["CMD","true"]}}]}`,
		`{"family":"v","volumes":[{"name":"d","host":{"sourcePath":"/d"}},{"efsVolumeConfiguration":{"fileSystemId":"fs"}}],"containerDefinitions":[{"name":"a","image":"i","memory":8,"mountPoints":[{"sourceVolume":"d","containerPath":"/d"}]}]}`,
		`{"family":"p","networkMode":"host","requiresCompatibilities":["EXTERNAL","MANAGED_INSTANCES"],"containerDefinitions":[{"name":"a","image":"i","memory":8,"portMappings":[{"containerPortRange":"1-10"},{"containerPort":80,"hostPort":81,"protocol":"udp"}]}],"tags":[{"key":"aws:x","value":"y"}]}`,
		`{"family":"c","containerDefinitions":[{"name":"a","image":"i","memory":8,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`,
		`{}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req *wire.RegisterTaskDefinitionRequest
		if err := json.Unmarshal(data, &req); err != nil {
			t.Skip()
		}
		modelValid := req != nil && req.Validate() == nil
		td, err := Build(req)
		if err != nil {
			var e *ecs.Error
			if !errors.As(err, &e) {
				t.Fatalf("Build error %v is %T, not *ecs.Error", err, err)
			}
			if e.Code != ecs.ClientError && e.Code != ecs.InvalidParameter {
				t.Fatalf("Build error code %s: %s", e.Code, e.Message)
			}
			if td != nil {
				t.Fatalf("Build returned a definition with an error")
			}
			return
		}
		if !modelValid {
			return
		}
		checkBuilt(t, req, td)
	})
}

// checkBuilt asserts the invariants of a successful Build.
func checkBuilt(t *testing.T, req *wire.RegisterTaskDefinitionRequest, td *wire.TaskDefinition) {
	t.Helper()
	if !ValidFamily(wire.Val(td.Family)) || wire.Val(td.Family) != wire.Val(req.Family) {
		t.Fatalf("family %q from %q", wire.Val(td.Family), wire.Val(req.Family))
	}
	if n := len(td.ContainerDefinitions); n < 1 || n > MaxContainers || n != len(req.ContainerDefinitions) {
		t.Fatalf("%d containers from %d", n, len(req.ContainerDefinitions))
	}
	if td.TaskDefinitionArn != nil || td.Revision != nil || td.Status != nil {
		t.Fatalf("control-plane member set")
	}
	if len(td.Compatibilities) == 0 || td.Volumes == nil || td.PlacementConstraints == nil || td.RequiresAttributes == nil {
		t.Fatalf("defaults missing: %s", jsonOf(t, td))
	}
	if td.Cpu != nil {
		if _, ok := ParseCPU(*td.Cpu); !ok {
			t.Fatalf("stored cpu %q does not parse", *td.Cpu)
		}
	}
	essentials := 0
	for _, c := range td.ContainerDefinitions {
		if c.Cpu == nil || c.Essential == nil || c.PortMappings == nil || c.Environment == nil ||
			c.MountPoints == nil || c.VolumesFrom == nil || c.SystemControls == nil {
			t.Fatalf("container defaults missing: %s", jsonOf(t, c))
		}
		if *c.Essential {
			essentials++
		}
		for _, p := range c.PortMappings {
			if p.Protocol == nil {
				t.Fatalf("port mapping without protocol")
			}
		}
	}
	if essentials == 0 {
		t.Fatalf("no essential container accepted")
	}
	for _, lt := range req.RequiresCompatibilities {
		found := false
		for _, c := range td.Compatibilities {
			found = found || c == lt
		}
		if !found {
			t.Fatalf("required %s missing from compatibilities %v", lt, td.Compatibilities)
		}
	}
	// The result must not share memory with the request.
	before := jsonOf(t, req)
	td.ContainerDefinitions[0].Name = wire.Ptr("changed")
	if jsonOf(t, req) != before {
		t.Fatalf("result aliases the request")
	}
}
