package taskdef

import (
	"encoding/json"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// Enum values used by the rules, spelled here so that a regeneration of
// package wire that renames its constants cannot change behaviour.
const (
	modeBridge = wire.NetworkMode("bridge")
	modeHost   = wire.NetworkMode("host")
	modeAwsvpc = wire.NetworkMode("awsvpc")
	modeNone   = wire.NetworkMode("none")

	compatEC2      = wire.Compatibility("EC2")
	compatFargate  = wire.Compatibility("FARGATE")
	compatExternal = wire.Compatibility("EXTERNAL")
	compatManaged  = wire.Compatibility("MANAGED_INSTANCES")
)

// Build validates req as ECS's RegisterTaskDefinition does and returns the
// task definition ECS would store and return, with ECS's defaults filled in,
// WITHOUT the members the control plane assigns: taskDefinitionArn,
// revision, status, registeredAt, registeredBy, deregisteredAt (all left
// nil). Tags are validated but not part of the result (ECS returns them
// beside the task definition). Errors are *ecs.Error.
//
// req is expected to have passed wire's model validation; Build does not
// rely on it for safety (any decoded request is handled without panicking)
// but reports model violations only where ECS has a rule of its own. The
// result shares no memory with req.
//
// The checks run in a fixed order and the first violation is reported:
// definition size, family, container list and container identity, volumes,
// task-level cpu/memory, each required launch type, container settings,
// container dependencies, essential containers, task totals, tags.
func Build(req *wire.RegisterTaskDefinitionRequest) (*wire.TaskDefinition, error) {
	if req == nil {
		return nil, clientErr(msgFamilyBlank)
	}
	in, e := copyRequest(req)
	if e != nil {
		return nil, e
	}
	d := &def{in: in}
	steps := [...]func() *ecs.Error{
		d.checkFamily,
		d.checkContainerList,
		d.checkVolumes,
		d.checkTaskSize,
		d.checkRequiredCompatibilities,
		d.checkContainers,
		d.checkDependencies,
		d.checkEssential,
		d.checkTotals,
	}
	for _, step := range steps {
		if e := step(); e != nil {
			return nil, e
		}
	}
	if err := ValidateTags(req.Tags); err != nil {
		return nil, err
	}
	return d.assemble(), nil
}

// def is a request under validation with what the checks learn about it.
type def struct {
	in *wire.RegisterTaskDefinitionRequest

	cpu, memory       int  // task-level values, when has*
	hasCPU, hasMemory bool // task-level cpu / memory given (and valid)

	containers map[string]*wire.ContainerDefinition // by name
	volumes    map[string]*wire.Volume              // named volumes by name
	portNames  map[string]bool                      // port mapping names seen
}

// mode is the network mode the rules apply: the given one, or bridge (the
// Linux default) when none is given.
func (d *def) mode() wire.NetworkMode {
	if d.in.NetworkMode == nil {
		return modeBridge
	}
	return *d.in.NetworkMode
}

// copyRequest checks the size of req's JSON encoding (tags excluded) and
// returns a deep copy of req made from that encoding.
func copyRequest(req *wire.RegisterTaskDefinitionRequest) (*wire.RegisterTaskDefinitionRequest, *ecs.Error) {
	shallow := *req
	shallow.Tags = nil
	raw, err := json.Marshal(&shallow)
	if err != nil {
		return nil, ecs.Errorf(ecs.ServerError, "Unable to encode the task definition: %v", err)
	}
	if len(raw) > MaxDefinitionSize {
		return nil, clientErrf(fmtTooLarge, len(raw))
	}
	in := new(wire.RegisterTaskDefinitionRequest)
	if err := json.Unmarshal(raw, in); err != nil {
		return nil, ecs.Errorf(ecs.ServerError, "Unable to decode the task definition: %v", err)
	}
	return in, nil
}

// checkFamily applies the family naming rule.
func (d *def) checkFamily() *ecs.Error {
	f := wire.Val(d.in.Family)
	switch {
	case f == "":
		return clientErr(msgFamilyBlank)
	case !nameChars(f):
		return clientErr(msgFamilyChars)
	case len(f) > maxNameLen:
		return clientErr(msgFamilyLength)
	}
	return nil
}

// checkContainerList checks the number of container definitions and each
// container's identity: a valid unique name and an image.
func (d *def) checkContainerList() *ecs.Error {
	cs := d.in.ContainerDefinitions
	switch {
	case len(cs) == 0:
		return clientErr(msgNoContainers)
	case len(cs) > MaxContainers:
		return clientErr(msgTooManyContainers)
	}
	d.containers = make(map[string]*wire.ContainerDefinition, len(cs))
	for i := range cs {
		c := &cs[i]
		name := wire.Val(c.Name)
		switch {
		case name == "":
			return clientErr(msgContainerNameBlank)
		case !ValidContainerName(name):
			return clientErr(msgContainerNameChars)
		case d.containers[name] != nil:
			return clientErrf(fmtDuplicateContainer, name)
		case wire.Val(c.Image) == "":
			return clientErr(msgContainerImageBlank)
		}
		d.containers[name] = c
	}
	return nil
}

// checkTaskSize parses task-level cpu and memory and checks ephemeral
// storage.
func (d *def) checkTaskSize() *ecs.Error {
	if d.in.Cpu != nil {
		v, ok := ParseCPU(*d.in.Cpu)
		if !ok {
			return clientErr(msgTaskCPU)
		}
		d.cpu, d.hasCPU = v, true
	}
	if d.in.Memory != nil {
		v, ok := ParseMemory(*d.in.Memory)
		if !ok {
			return clientErr(msgTaskMemory)
		}
		d.memory, d.hasMemory = v, true
	}
	if es := d.in.EphemeralStorage; es != nil {
		if n := wire.Val(es.SizeInGiB); n < 21 || n > 200 {
			return clientErr(msgEphemeralStorage)
		}
	}
	return nil
}

// checkRequiredCompatibilities checks the definition against every launch
// type in requiresCompatibilities.
func (d *def) checkRequiredCompatibilities() *ecs.Error {
	for _, lt := range d.in.RequiresCompatibilities {
		if e := d.incompatibility(lt); e != nil {
			return e
		}
	}
	return nil
}

// checkEssential requires at least one essential container (a container is
// essential unless it says otherwise).
func (d *def) checkEssential() *ecs.Error {
	for i := range d.in.ContainerDefinitions {
		if essential(&d.in.ContainerDefinitions[i]) {
			return nil
		}
	}
	return clientErr(msgNoEssential)
}

// checkTotals compares the containers' cpu and memory reservations with the
// task-level values.
func (d *def) checkTotals() *ecs.Error {
	var cpu, mem int64
	reservations := false
	for i := range d.in.ContainerDefinitions {
		c := &d.in.ContainerDefinitions[i]
		cpu += int64(wire.Val(c.Cpu))
		switch {
		case c.MemoryReservation != nil:
			mem += int64(*c.MemoryReservation)
			reservations = true
		case c.Memory != nil:
			mem += int64(*c.Memory)
		}
	}
	if d.hasCPU && cpu > int64(d.cpu) {
		return clientErr(msgSumCPU)
	}
	if d.hasMemory && mem > int64(d.memory) {
		if reservations {
			return clientErr(msgSumMemoryReservation)
		}
		return clientErr(msgSumMemory)
	}
	return nil
}

// essential reports whether c is essential; ECS's default is true.
func essential(c *wire.ContainerDefinition) bool {
	return c.Essential == nil || *c.Essential
}
