package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// taskRecord is a stored task. The Reserved* members are what it holds on
// its container instance while it is not STOPPED (spec §9.2); their JSON
// names are shared with statusRecord.
//
// Lifecycle (spec §2.1), driven by what agents report:
//
//	PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
//	  (awsvpc)                                                                                   ▲
//	  └─────────────── StopTask / failure short-circuits to STOPPED ────────────────────────────┘
type taskRecord struct {
	wire.Task
	Cluster          string   `json:"cluster"`
	ID               string   `json:"id"`
	ReservedCPU      int64    `json:"reservedCpu,omitempty"`
	ReservedMemory   int64    `json:"reservedMemory,omitempty"`
	ReservedPorts    []string `json:"reservedPorts,omitempty"`
	ReservedPortsUDP []string `json:"reservedPortsUdp,omitempty"`
	// Essential lists the essential containers (for EssentialContainerExited).
	Essential []string `json:"essential,omitempty"`
}

// Task states.
const (
	taskProvisioning = "PROVISIONING"
	taskPending      = "PENDING"
	taskRunning      = "RUNNING"
	taskStopped      = "STOPPED"
)

// taskStateOrder ranks lastStatus values; reports never move a task back.
var taskStateOrder = map[string]int{
	"PROVISIONING": 0, "PENDING": 1, "ACTIVATING": 2, "RUNNING": 3,
	"DEACTIVATING": 4, "STOPPING": 5, "DEPROVISIONING": 6, "STOPPED": 7, "DELETED": 8,
}

func keyTask(ns ecs.Namespace, cluster, id string) string {
	return "ns/" + ns.Account + "/" + ns.Region + "/task/" + cluster + "/" + id // keyTaskPrefix + id, one allocation
}

// appendKeyTask appends keyTask(ns, cluster, id) to b.
func appendKeyTask(b []byte, ns ecs.Namespace, cluster, id string) []byte {
	for _, s := range [...]string{"ns/", ns.Account, "/", ns.Region, "/task/", cluster, "/", id} {
		b = append(b, s...)
	}
	return b
}

func taskARN(ns ecs.Namespace, cluster, id string) string {
	return ns.ARN("task/" + cluster + "/" + id)
}

// MaxRunTaskCount is ECS's limit of tasks per RunTask call.
const MaxRunTaskCount = 10

// reservation is what one task of a definition takes from an instance.
type reservation struct {
	cpu, memory int64
	ports, udp  []string
}

// taskReservation computes spec §9.2's reservation of a task definition
// with overrides: task-level cpu/memory when set, else the sum over the
// containers (memoryReservation before memory); fixed host ports in bridge
// and host network modes.
func taskReservation(td *wire.TaskDefinition, ov *wire.TaskOverride) reservation {
	var r reservation
	cpu, mem := wire.Val(td.Cpu), wire.Val(td.Memory)
	if ov != nil {
		if ov.Cpu != nil {
			cpu = *ov.Cpu
		}
		if ov.Memory != nil {
			mem = *ov.Memory
		}
	}
	for _, cd := range td.ContainerDefinitions {
		ccpu, cmem, cres := int64(wire.Val(cd.Cpu)), int64(wire.Val(cd.Memory)), int64(wire.Val(cd.MemoryReservation))
		if co := containerOverride(ov, wire.Val(cd.Name)); co != nil {
			if co.Cpu != nil {
				ccpu = int64(*co.Cpu)
			}
			if co.Memory != nil {
				cmem = int64(*co.Memory)
			}
			if co.MemoryReservation != nil {
				cres = int64(*co.MemoryReservation)
			}
		}
		r.cpu += ccpu
		if cres > 0 {
			r.memory += cres
		} else {
			r.memory += cmem
		}
		mode := wire.Val(td.NetworkMode)
		if mode == "" || mode == wire.NetworkModeBridge || mode == wire.NetworkModeHost {
			for _, pm := range cd.PortMappings {
				hp := wire.Val(pm.HostPort)
				if mode == wire.NetworkModeHost && hp == 0 {
					hp = wire.Val(pm.ContainerPort)
				}
				if hp == 0 {
					continue
				}
				if wire.Val(pm.Protocol) == wire.TransportProtocolUdp {
					r.udp = append(r.udp, strconv.Itoa(int(hp)))
				} else {
					r.ports = append(r.ports, strconv.Itoa(int(hp)))
				}
			}
		}
	}
	if n, err := strconv.ParseInt(cpu, 10, 64); err == nil && cpu != "" {
		r.cpu = n
	}
	if n, err := strconv.ParseInt(mem, 10, 64); err == nil && mem != "" {
		r.memory = n
	}
	return r
}

func containerOverride(ov *wire.TaskOverride, name string) *wire.ContainerOverride {
	if ov == nil {
		return nil
	}
	for i := range ov.ContainerOverrides {
		if wire.Val(ov.ContainerOverrides[i].Name) == name {
			return &ov.ContainerOverrides[i]
		}
	}
	return nil
}

// candidate is an instance record as placement reads it inside a
// transaction, with its custom attributes; dirty marks a record placement
// charged, to be written back.
type candidate struct {
	rec    *instanceRecord
	custom []wire.Attribute
	dirty  bool
}

// loadCandidates reads a cluster's instances (not INACTIVE) with what
// their tasks hold (each record's Reserved totals and task groups) and
// their custom attributes, inside t, so placement and commit are one
// serializable transaction that reads no task records. A record the view
// holds at the same revision is copied from the view instead of decoded:
// this runs in the store's committer, and a cluster has thousands of them.
func (c *Control) loadCandidates(t tx, ns ecs.Namespace, cluster string) ([]*candidate, error) {
	var cands []*candidate
	err := t.List(keyInstancePrefix(ns, cluster), "", func(kv store.KV) error {
		rec := c.view.instanceAt(kv.Key, kv.ModRev)
		if rec == nil {
			rec = new(instanceRecord)
			if err := json.Unmarshal(kv.Value, rec); err != nil {
				return err
			}
		}
		if wire.Val(rec.Status) == instanceInactive {
			return nil
		}
		cands = append(cands, &candidate{rec: rec})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cd := range cands {
		var custom attributesRecord
		if _, err := t.get(keyAttrs(ns, cluster, cd.rec.ID), &custom); err != nil {
			return nil, err
		}
		cd.custom = custom.Attributes
	}
	return cands, nil
}

// place charges a task's reservation and group to the instance record.
func (cd *candidate) place(r reservation, group string) {
	cd.rec.Reserved.add(r)
	if cd.rec.Groups == nil {
		cd.rec.Groups = map[string]int{}
	}
	cd.rec.Groups[group]++
	cd.dirty = true
}

// schedCandidate describes an instance for the scheduler: remaining
// resources are registered minus reserved; used ports are the agent's
// reserved set plus the tasks' fixed host ports.
func schedCandidate(cd *candidate) scheduler.Candidate {
	r := cd.rec
	sc := scheduler.Candidate{
		ARN: wire.Val(r.ContainerInstanceArn), ID: r.ID, Status: wire.Val(r.Status),
		AgentConnected: wire.Val(r.AgentConnected), EC2InstanceID: wire.Val(r.Ec2InstanceId),
		Attributes: map[string]string{}, UsedPorts: map[int]bool{}, UsedPortsUDP: map[int]bool{},
		TaskGroups: map[string]int{},
	}
	sc.Fingerprint = scheduler.Fingerprint(sc.ARN)
	for g, n := range r.Groups {
		if n > 0 {
			sc.TaskGroups[g] = n
			sc.RunningTasksCount += n
		}
	}
	if r.VersionInfo != nil {
		sc.AgentVersion = wire.Val(r.VersionInfo.AgentVersion)
	}
	if r.RegisteredAt != nil {
		sc.RegisteredAt = r.RegisteredAt.Time
	}
	for _, a := range mergeAttributes(r.Attributes, cd.custom) {
		sc.Attributes[wire.Val(a.Name)] = wire.Val(a.Value)
	}
	addPorts := func(m map[int]bool, ps []string) {
		for _, p := range ps {
			if n, err := strconv.Atoi(p); err == nil {
				m[n] = true
			}
		}
	}
	for _, res := range r.RegisteredResources {
		switch wire.Val(res.Name) {
		case "CPU":
			sc.RemainingCPU = int64(wire.Val(res.IntegerValue)) - r.Reserved.CPU
		case "MEMORY":
			sc.RemainingMemory = int64(wire.Val(res.IntegerValue)) - r.Reserved.Memory
		case "PORTS":
			addPorts(sc.UsedPorts, res.StringSetValue)
		case "PORTS_UDP":
			addPorts(sc.UsedPortsUDP, res.StringSetValue)
		case "GPU":
			sc.RemainingGPUs = append(sc.RemainingGPUs, res.StringSetValue...)
		}
	}
	addPorts(sc.UsedPorts, r.Reserved.Ports)
	addPorts(sc.UsedPortsUDP, r.Reserved.UDP)
	return sc
}

// placementRequest builds the scheduler request of a RunTask or StartTask:
// the reservation, the definition's required attributes, the request's
// strategies (default: spread across availability zones, then instances)
// and the request's and the
// definition's constraints. The seed derives from the request, so the same
// request places the same way.
func placementRequest(td *taskDefRecord, res reservation, count int, group string, strategies []wire.PlacementStrategy, constraints []wire.PlacementConstraint, seed string) scheduler.Request {
	req := scheduler.Request{Count: count, CPU: res.cpu, Memory: res.memory, Group: group}
	for _, p := range res.ports {
		if n, err := strconv.Atoi(p); err == nil {
			req.Ports = append(req.Ports, n)
		}
	}
	for _, p := range res.udp {
		if n, err := strconv.Atoi(p); err == nil {
			req.PortsUDP = append(req.PortsUDP, n)
		}
	}
	for _, a := range td.RequiresAttributes {
		req.RequiredAttributes = append(req.RequiredAttributes, scheduler.Attribute{Name: wire.Val(a.Name), Value: wire.Val(a.Value)})
	}
	for _, s := range strategies {
		req.Strategies = append(req.Strategies, scheduler.Strategy{Type: string(wire.Val(s.Type)), Field: wire.Val(s.Field)})
	}
	if len(req.Strategies) == 0 {
		// With no strategy, ECS spreads tasks across availability zones
		// (and then instances), for RunTask as for services.
		req.Strategies = scheduler.ServiceDefaultStrategies()
	}
	for _, pc := range constraints {
		req.Constraints = append(req.Constraints, scheduler.Constraint{Type: string(wire.Val(pc.Type)), Expression: wire.Val(pc.Expression)})
	}
	for _, pc := range td.PlacementConstraints {
		req.Constraints = append(req.Constraints, scheduler.Constraint{Type: string(wire.Val(pc.Type)), Expression: wire.Val(pc.Expression)})
	}
	h := fnv.New64a()
	h.Write([]byte(seed))
	req.Seed = h.Sum64()
	return req
}

// schedule runs the scheduler over the candidates (on the named targets
// for StartTask); a request it refuses (bad strategy, malformed
// expression) is InvalidParameterException.
func schedule(req scheduler.Request, cands []*candidate, targets []string) (scheduler.Plan, map[string]*candidate, error) {
	scs := make([]scheduler.Candidate, len(cands))
	byARN := make(map[string]*candidate, len(cands))
	for i, cd := range cands {
		scs[i] = schedCandidate(cd)
		byARN[scs[i].ARN] = cd
	}
	var plan scheduler.Plan
	var err error
	if targets != nil {
		plan, err = scheduler.PlaceOn(req, targets, scs)
	} else {
		plan, err = scheduler.Place(req, scs)
	}
	if err != nil {
		return plan, nil, ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
	}
	return plan, byARN, nil
}

// taskProviders returns the capacity provider of each of count new tasks:
// "" for all when the request used a launch type, else the distribution of
// the effective strategy (the request's, or the cluster's default).
func taskProviders(cl *clusterRecord, in *wire.RunTaskRequest, provider string, count int) ([]string, error) {
	out := make([]string, count)
	if provider == "" {
		return out, nil
	}
	strategy := in.CapacityProviderStrategy
	if len(strategy) == 0 {
		strategy = cl.DefaultCapacityProviderStrategy
	}
	items := make([]scheduler.StrategyItem, len(strategy))
	for i, it := range strategy {
		items[i] = scheduler.StrategyItem{Provider: wire.Val(it.CapacityProvider), Base: int(wire.Val(it.Base)), Weight: int(wire.Val(it.Weight))}
	}
	dist, err := scheduler.Distribute(items, map[string]int{}, count)
	if err != nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
	}
	copy(out, dist)
	return out, nil
}

// planFailures renders a plan's failures.
func planFailures(plan scheduler.Plan) []wire.Failure {
	out := make([]wire.Failure, 0, len(plan.Failures))
	for _, f := range plan.Failures {
		out = append(out, wire.Failure{Arn: wire.Ptr(f.ARN), Reason: wire.Ptr(f.Reason)})
	}
	return out
}

// saveCandidates writes back the instance records placement charged.
func saveCandidates(t tx, ns ecs.Namespace, cands []*candidate) error {
	return writeCandidates(ns, cands, t.put)
}

// shareCandidates is saveCandidates for the caller's last change to the
// records: they go to the view as they are (putShared).
func shareCandidates(t tx, ns ecs.Namespace, cands []*candidate) error {
	return writeCandidates(ns, cands, t.putShared)
}

func writeCandidates(ns ecs.Namespace, cands []*candidate, put func(string, any) error) error {
	for _, cd := range cands {
		if cd.dirty {
			if err := put(keyInstance(ns, cd.rec.Cluster, cd.rec.ID), cd.rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseTask returns what a task holds when it stops: its reservation on
// its instance, or, for a Fargate task, its place in the fleet's list.
func releaseTask(t tx, ns ecs.Namespace, rec *taskRecord) error {
	if isFargate(rec) {
		return t.Delete(keyFleet(ns, rec.Cluster, rec.ID))
	}
	if rec.ContainerInstanceArn == nil {
		return nil
	}
	inst := new(instanceRecord)
	key := keyInstance(ns, rec.Cluster, lastSegment(wire.Val(rec.ContainerInstanceArn)))
	found, err := t.get(key, inst)
	if err != nil || !found {
		return err
	}
	inst.Reserved.remove(reservation{cpu: rec.ReservedCPU, memory: rec.ReservedMemory, ports: rec.ReservedPorts, udp: rec.ReservedPortsUDP})
	if g := wire.Val(rec.Group); inst.Groups[g] > 0 {
		inst.Groups[g]--
		if inst.Groups[g] == 0 {
			delete(inst.Groups, g)
		}
	}
	return t.put(key, inst)
}

// resolveLaunch applies spec §3.3 to a request: its launch type, else its
// strategy, else the cluster's default strategy, else EC2. It validates the
// strategy (§3.2) and returns the launch type and the capacity provider
// each new task uses. Provider distribution beyond the first usable item is
// the placement engine's (next issue); here the first item with weight > 0
// (or a base) is used.
func resolveLaunch(cl *clusterRecord, launchType wire.LaunchType, strategy []wire.CapacityProviderStrategyItem) (wire.LaunchType, string, error) {
	if launchType != "" && len(strategy) > 0 {
		return "", "", ecs.Errorf(ecs.InvalidParameter, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if launchType != "" {
		return launchType, "", nil
	}
	explicit := len(strategy) > 0
	if !explicit {
		strategy = cl.DefaultCapacityProviderStrategy
	}
	if len(strategy) == 0 {
		return wire.LaunchTypeEc2, "", nil
	}
	if err := validateStrategyShape(strategy); err != nil {
		return "", "", err
	}
	pick := ""
	for _, it := range strategy {
		name := wire.Val(it.CapacityProvider)
		if !slices.Contains(cl.CapacityProviders, name) {
			return "", "", ecs.Errorf(ecs.InvalidParameter, "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if pick == "" && (wire.Val(it.Base) > 0 || wire.Val(it.Weight) > 0) {
			pick = name
		}
	}
	if !slices.ContainsFunc(strategy, func(it wire.CapacityProviderStrategyItem) bool { return wire.Val(it.Weight) > 0 }) {
		where := "the default capacity provider strategy"
		if explicit {
			where = "the capacity provider strategy"
		}
		return "", "", ecs.Errorf(ecs.InvalidParameter, "There are no capacity providers with a weight value greater than zero defined in %s. At least one capacity provider must have a weight value greater than zero specified. Update the cluster's default capacity provider strategy or specify a valid capacity provider strategy and try again.", where)
	}
	if isFargateProvider(pick) {
		return wire.LaunchTypeFargate, pick, nil
	}
	return wire.LaunchTypeEc2, pick, nil
}

// newTask builds a task record for a definition placed on an instance (nil
// for Fargate, whose fleet places it).
func (c *Control) newTask(ns ecs.Namespace, cluster string, td *taskDefRecord, opts taskOptions, inst *instanceRecord, now time.Time) *taskRecord {
	id := newTaskID(now)
	arn := taskARN(ns, cluster, id)
	rec := &taskRecord{Cluster: cluster, ID: id}
	t := &rec.Task
	t.TaskArn = wire.Ptr(arn)
	t.ClusterArn = wire.Ptr(ns.ClusterARN(cluster))
	t.TaskDefinitionArn = td.TaskDefinitionArn
	t.LaunchType = wire.Ptr(opts.launchType)
	if opts.provider != "" {
		t.CapacityProviderName = wire.Ptr(opts.provider)
	}
	t.CreatedAt = wire.NewTime(now)
	t.DesiredStatus = wire.Ptr(taskRunning)
	t.LastStatus = wire.Ptr(taskPending)
	if wire.Val(td.NetworkMode) == wire.NetworkModeAwsvpc {
		t.LastStatus = wire.Ptr(taskProvisioning)
	}
	t.Group = wire.Ptr(opts.group)
	if opts.startedBy != "" {
		t.StartedBy = wire.Ptr(opts.startedBy)
	}
	t.Version = wire.Ptr(int64(1))
	t.HealthStatus = wire.Ptr(wire.HealthStatusUnknown)
	t.EnableExecuteCommand = wire.Ptr(opts.execCommand)
	t.Attachments = []wire.Attachment{}
	t.Overrides = normaliseOverrides(td, opts.overrides)
	res := taskReservation(&td.TaskDefinition, opts.overrides)
	t.Cpu = wire.Ptr(strconv.FormatInt(res.cpu, 10))
	t.Memory = wire.Ptr(strconv.FormatInt(res.memory, 10))
	if inst != nil {
		t.ContainerInstanceArn = inst.ContainerInstanceArn
		for _, a := range inst.Attributes {
			if wire.Val(a.Name) == "ecs.availability-zone" {
				t.AvailabilityZone = a.Value
			}
		}
		rec.ReservedCPU, rec.ReservedMemory, rec.ReservedPorts, rec.ReservedPortsUDP = res.cpu, res.memory, res.ports, res.udp
	}
	for _, cd := range td.ContainerDefinitions {
		name := wire.Val(cd.Name)
		ct := wire.Container{
			ContainerArn:      wire.Ptr(ns.ARN("container/" + cluster + "/" + id + "/" + uuidFrom(id+"/"+name))),
			TaskArn:           wire.Ptr(arn),
			Name:              cd.Name,
			Image:             cd.Image,
			LastStatus:        wire.Ptr(taskPending),
			HealthStatus:      wire.Ptr(wire.HealthStatusUnknown),
			Cpu:               wire.Ptr(strconv.Itoa(int(wire.Val(cd.Cpu)))),
			NetworkInterfaces: []wire.NetworkInterface{},
		}
		if cd.Memory != nil {
			ct.Memory = wire.Ptr(strconv.Itoa(int(*cd.Memory)))
		}
		if cd.MemoryReservation != nil {
			ct.MemoryReservation = wire.Ptr(strconv.Itoa(int(*cd.MemoryReservation)))
		}
		t.Containers = append(t.Containers, ct)
		if wire.Val(cd.Essential) {
			rec.Essential = append(rec.Essential, name)
		}
	}
	tags := slices.Clone(opts.tags)
	if opts.propagate == wire.PropagateTagsTaskDefinition {
		tags = ecs.MergeTags(td.Tags, tags)
	}
	if opts.managedTags {
		tags = append(tags, wire.Tag{Key: wire.Ptr("aws:ecs:clusterName"), Value: wire.Ptr(cluster)})
	}
	t.Tags = tags
	return rec
}

// uuidFrom derives a stable UUID-shaped id from s.
func uuidFrom(s string) string {
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// normaliseOverrides returns the overrides as ECS shows them on a task: a
// containerOverrides entry per container (name only when not overridden)
// and an empty inferenceAcceleratorOverrides.
func normaliseOverrides(td *taskDefRecord, ov *wire.TaskOverride) *wire.TaskOverride {
	out := wire.TaskOverride{InferenceAcceleratorOverrides: []wire.InferenceAcceleratorOverride{}}
	if ov != nil {
		out = *ov
		if out.InferenceAcceleratorOverrides == nil {
			out.InferenceAcceleratorOverrides = []wire.InferenceAcceleratorOverride{}
		}
	}
	out.ContainerOverrides = nil
	for _, cd := range td.ContainerDefinitions {
		if co := containerOverride(ov, wire.Val(cd.Name)); co != nil {
			out.ContainerOverrides = append(out.ContainerOverrides, *co)
		} else {
			out.ContainerOverrides = append(out.ContainerOverrides, wire.ContainerOverride{Name: cd.Name})
		}
	}
	return &out
}

// taskOptions are the per-request settings shared by RunTask and StartTask.
type taskOptions struct {
	launchType  wire.LaunchType
	provider    string
	group       string
	startedBy   string
	overrides   *wire.TaskOverride
	tags        []wire.Tag
	propagate   wire.PropagateTags
	managedTags bool
	execCommand bool
}

// checkTaskRequest validates what RunTask and StartTask share and returns
// the (ACTIVE) task definition.
func (c *Control) checkTaskRequest(ns ecs.Namespace, tdRef string, ov *wire.TaskOverride, startedBy, group *string, tags []wire.Tag, propagate *wire.PropagateTags) (*taskDefRecord, error) {
	td, err := c.lookupTaskDef(ns, tdRef)
	if err != nil {
		return nil, err
	}
	if wire.Val(td.Status) != wire.TaskDefinitionStatusActive {
		return nil, ecs.Errorf(ecs.InvalidParameter, "TaskDefinition is inactive")
	}
	if s := wire.Val(startedBy); len(s) > 128 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '/' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "startedBy can have up to 128 letters, numbers, hyphens, underscores and forward slashes.")
	}
	if len(wire.Val(group)) > 255 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "group can have up to 255 characters.")
	}
	if ov != nil {
		if b, _ := json.Marshal(ov); len(b) > 8192 {
			return nil, ecs.Errorf(ecs.InvalidParameter, "Container overrides must not exceed 8192 characters.")
		}
		for _, co := range ov.ContainerOverrides {
			if !slices.ContainsFunc(td.ContainerDefinitions, func(cd wire.ContainerDefinition) bool { return wire.Val(cd.Name) == wire.Val(co.Name) }) {
				return nil, ecs.Errorf(ecs.InvalidParameter, "Override for container named %s is not a container in the TaskDefinition.", wire.Val(co.Name))
			}
		}
	}
	if err := ecs.ValidateTags(tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	if wire.Val(propagate) == wire.PropagateTagsService {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The propagateTags value SERVICE is only valid for tasks started by a service.")
	}
	return td, nil
}

// requestHash is the canonical hash of a RunTask request minus its token,
// for idempotency (spec §10.5).
func requestHash(in *wire.RunTaskRequest) string {
	cp := *in
	cp.ClientToken = nil
	b, _ := json.Marshal(cp)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RunTask starts count (1–10) tasks of a definition. EC2 and EXTERNAL tasks
// are placed on the cluster's ACTIVE instances whose agent is connected and
// whose remaining CPU, memory and ports fit; tasks that fit nowhere come
// back as failures (one per instance and reason). A cluster without
// instances is InvalidParameterException "No Container Instances were found
// in your cluster.". FARGATE tasks (by launch type, or by the FARGATE or
// FARGATE_SPOT capacity provider) are validated by checkFargateRequest and
// all created PROVISIONING, with no container instance, for the fleet to
// run (see fargate.go); platformVersion is refused for other launch types.
// A clientToken already used in this cluster with the same request returns
// the original tasks; with another request it is ConflictException naming
// them.
func (c *Control) RunTask(ctx context.Context, ns ecs.Namespace, in *wire.RunTaskRequest) (*wire.RunTaskResponse, error) {
	count := int(wire.Val(in.Count))
	if in.Count == nil {
		count = 1
	}
	if count < 1 || count > MaxRunTaskCount {
		return nil, ecs.Errorf(ecs.InvalidParameter, "count must be between 1 and %d.", MaxRunTaskCount)
	}
	if tok := wire.Val(in.ClientToken); len(tok) > 64 || strings.ContainsFunc(tok, func(r rune) bool { return r < 33 || r > 126 }) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "clientToken can have up to 64 ASCII characters between 33 and 126.")
	}
	td, err := c.checkTaskRequest(ns, wire.Val(in.TaskDefinition), in.Overrides, in.StartedBy, in.Group, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	hash := requestHash(in)
	now := c.nowUTC()
	out := &wire.RunTaskResponse{Tasks: []wire.Task{}, Failures: []wire.Failure{}}
	res := taskReservation(&td.TaskDefinition, in.Overrides)
	group := wire.Val(in.Group)
	if group == "" {
		group = "family:" + wire.Val(td.Family)
	}
	// Placement runs from the view with the plan verified in the
	// transaction (placement.go); after three stale plans it runs inside
	// the transaction, which is always exact.
	for attempt := 0; ; attempt++ {
		var pre *plannedPlacement
		if attempt < 3 {
			pre = c.prePlace(ns, in, td, res, group, count, hash)
		}
		rev, err := c.store.Update(ctx, func(stx store.Tx) error {
			return c.runTaskTx(c.tx(stx), ns, in, td, pre, res, group, count, hash, now, out)
		})
		if errors.Is(err, errStalePlacement) {
			pre.done()
			continue
		}
		if err != nil {
			pre.done()
			return nil, err
		}
		pre.committed(rev)
		err = c.view.waitRev(ctx, rev)
		pre.done()
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// prePlace places a RunTask's tasks from the view when it is an EC2 (or
// EXTERNAL) launch in an ACTIVE cluster the view knows; nil otherwise (the
// transaction then decides, and reports any error).
func (c *Control) prePlace(ns ecs.Namespace, in *wire.RunTaskRequest, td *taskDefRecord, res reservation, group string, count int, hash string) *plannedPlacement {
	name, err := clusterName(ns, in.Cluster)
	if err != nil {
		return nil
	}
	cl, _ := c.view.get(keyCluster(ns, name)).(*clusterRecord)
	if cl == nil || wire.Val(cl.Status) == statusInactive {
		return nil
	}
	launch, provider, err := resolveLaunch(cl, wire.Val(in.LaunchType), in.CapacityProviderStrategy)
	if err != nil || launch == wire.LaunchTypeFargate {
		return nil
	}
	providers, err := taskProviders(cl, in, provider, count)
	if err != nil {
		return nil
	}
	req := placementRequest(td, res, count, group, in.PlacementStrategy, in.PlacementConstraints, hash)
	return c.placeFromView(ns, name, req, res, providers)
}

// runTaskTx is RunTask's transaction. With pre (a plan made from the
// view) it re-reads and checks only the chosen instances; without, it
// places over every instance record of the cluster. It MAY RUN MORE THAN
// ONCE.
func (c *Control) runTaskTx(t tx, ns ecs.Namespace, in *wire.RunTaskRequest, td *taskDefRecord, pre *plannedPlacement, res reservation, group string, count int, hash string, now time.Time, out *wire.RunTaskResponse) error {
	out.Tasks, out.Failures = []wire.Task{}, []wire.Failure{}
	cl, err := activeClusterShared(t, ns, in.Cluster) // read only
	if err != nil {
		return err
	}
	cluster := wire.Val(cl.ClusterName)
	if tok := wire.Val(in.ClientToken); tok != "" {
		rec, prior, err := tasksWithToken(t, ns, cluster, tok, now)
		if err != nil {
			return err
		}
		if rec != nil {
			if rec.RequestHash != hash {
				arns := make([]string, len(prior))
				for i, p := range prior {
					arns[i] = wire.Val(p.TaskArn)
				}
				return &ecs.Error{Code: ecs.Conflict, Message: "The specified client token has already been used in a request with different parameters.", ResourceIDs: arns}
			}
			for _, p := range prior {
				out.Tasks = append(out.Tasks, p.Task)
			}
			return nil
		}
	}
	launch, provider, err := resolveLaunch(cl, wire.Val(in.LaunchType), in.CapacityProviderStrategy)
	if err != nil {
		return err
	}
	if !taskDefSupports(td, launch) {
		return ecs.Errorf(ecs.InvalidParameter, "Task definition does not support launch_type %s.", launch)
	}
	fargate := launch == wire.LaunchTypeFargate
	var fg fargateRequest
	switch {
	case fargate:
		if fg, err = checkFargateRequest(in, td); err != nil {
			return err
		}
	case in.PlatformVersion != nil:
		return ecs.Errorf(ecs.InvalidParameter, "The platform version must be null when specifying an %s launch type.", launch)
	case wire.Val(td.NetworkMode) == wire.NetworkModeAwsvpc && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil):
		return ecs.Errorf(ecs.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	opts := taskOptions{launchType: launch, provider: provider, group: group, startedBy: wire.Val(in.StartedBy),
		overrides: in.Overrides, tags: in.Tags, propagate: wire.Val(in.PropagateTags),
		managedTags: wire.Val(in.EnableECSManagedTags), execCommand: wire.Val(in.EnableExecuteCommand)}
	// With a capacity provider strategy (the request's or the cluster
	// default), each task's provider follows the base/weight
	// distribution of spec §3.4, the base counted per RunTask call.
	providers, err := taskProviders(cl, in, provider, count)
	if err != nil {
		return err
	}
	var cands []*candidate
	if fargate {
		// The fleet takes every Fargate task: no placement, no failures.
		for i := 0; i < count; i++ {
			opts.provider = providers[i]
			rec := c.newTask(ns, cluster, td, opts, nil, now)
			setFargate(rec, ns, td, fg)
			if err := t.put(keyTask(ns, cluster, rec.ID), rec); err != nil {
				return err
			}
			if err := t.put(keyFleet(ns, cluster, rec.ID), fleetRecord{}); err != nil {
				return err
			}
			out.Tasks = append(out.Tasks, rec.Task)
		}
	} else {
		// The plan, and the instance record each placement charges: with
		// a plan made from the view (pre), the chosen instances are read
		// here and must still take the task; otherwise placement runs over
		// every instance record of the cluster, read here.
		var plan scheduler.Plan
		var instanceOf func(p scheduler.Placement) (*candidate, error)
		if pre != nil && pre.cluster == cluster {
			if !slices.Equal(pre.providers, providers) {
				return errStalePlacement // the cluster's default strategy changed
			}
			if pre.empty && !c.allScaling(ns, providers) {
				return ecs.Errorf(ecs.InvalidParameter, "No Container Instances were found in your cluster.")
			}
			if pre.err != nil {
				return pre.err
			}
			plan = pre.plan
			if pre.empty {
				plan = scheduler.Plan{Unplaced: count}
			}
			byID := map[string]*candidate{}
			instanceOf = func(p scheduler.Placement) (*candidate, error) {
				id := lastSegment(p.ARN)
				cd := byID[id]
				if cd == nil {
					cd = &candidate{rec: new(instanceRecord)}
					found, err := t.get(keyInstance(ns, cluster, id), cd.rec)
					if err != nil {
						return nil, err
					}
					if !found {
						return nil, errStalePlacement
					}
					byID[id] = cd
					cands = append(cands, cd)
				}
				if !takes(cd.rec, res) {
					return nil, errStalePlacement
				}
				return cd, nil
			}
		} else {
			cands, err = c.loadCandidates(t, ns, cluster)
			if err != nil {
				return err
			}
			if len(cands) == 0 && !c.allScaling(ns, providers) {
				return ecs.Errorf(ecs.InvalidParameter, "No Container Instances were found in your cluster.")
			}
			req := placementRequest(td, res, count, group, in.PlacementStrategy, in.PlacementConstraints, hash)
			scs := make([]scheduler.Candidate, len(cands))
			byARN := make(map[string]*candidate, len(cands))
			for i, cd := range cands {
				scs[i] = schedCandidate(cd)
				byARN[scs[i].ARN] = cd
			}
			plan, err = placeByProvider(ns, req, scs, providers, func(p string) (map[string]bool, bool) { return c.providerMembers(ns, p) })
			if err != nil {
				return ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
			}
			instanceOf = func(p scheduler.Placement) (*candidate, error) { return byARN[p.ARN], nil }
		}
		for _, p := range plan.Placements {
			cd, err := instanceOf(p)
			if err != nil {
				return err
			}
			cd.place(res, group)
			opts.provider = providers[p.Task]
			rec := c.newTask(ns, cluster, td, opts, cd.rec, now)
			if err := t.putShared(keyTask(ns, cluster, rec.ID), rec); err != nil { // rec is only read from here on
				return err
			}
			out.Tasks = append(out.Tasks, rec.Task)
		}
		if plan.Unplaced > 0 {
			if err := c.unplaced(t, ns, cluster, td, opts, res, plan, providers, in, now, out); err != nil {
				return err
			}
		}
	}
	if tok := wire.Val(in.ClientToken); tok != "" && len(out.Tasks) > 0 {
		rec := tokenRecord{RequestHash: hash, CreatedAt: now}
		for _, task := range out.Tasks {
			rec.TaskIDs = append(rec.TaskIDs, lastSegment(wire.Val(task.TaskArn)))
		}
		if err := t.put(keyToken(ns, cluster, tok), rec); err != nil {
			return err
		}
	}
	return shareCandidates(t, ns, cands)
}

// unplaced handles the tasks a RunTask plan left unplaced: those of a
// provider with managed scaling wait for capacity (PROVISIONING, returned
// in tasks); for the others the plan's failures are returned.
func (c *Control) unplaced(t tx, ns ecs.Namespace, cluster string, td *taskDefRecord, opts taskOptions, res reservation, plan scheduler.Plan, providers []string, in *wire.RunTaskRequest, now time.Time, out *wire.RunTaskResponse) error {
	waiting, left, err := c.waitForCapacity(t, ns, cluster, td, opts, res, plan, providers, in.PlacementStrategy, in.PlacementConstraints, now)
	if err != nil {
		return err
	}
	for _, w := range waiting {
		out.Tasks = append(out.Tasks, w.Task)
	}
	if len(left) > 0 {
		out.Failures = planFailures(plan)
	}
	return nil
}

func failureList(set map[[2]string]bool) []wire.Failure {
	keys := make([][2]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	out := make([]wire.Failure, 0, len(keys))
	for _, k := range keys {
		out = append(out, wire.Failure{Arn: wire.Ptr(k[0]), Reason: wire.Ptr(k[1])})
	}
	return out
}

// taskDefSupports reports whether a definition may run with a launch type:
// FARGATE needs FARGATE in requiresCompatibilities; EC2 and EXTERNAL need
// the definition to be compatible with them.
func taskDefSupports(td *taskDefRecord, launch wire.LaunchType) bool {
	if launch == wire.LaunchTypeFargate && !slices.Contains(td.RequiresCompatibilities, wire.CompatibilityFargate) {
		return false
	}
	return slices.Contains(td.Compatibilities, wire.Compatibility(launch)) || len(td.Compatibilities) == 0
}

// tokenRecord binds a RunTask client token to its request and tasks.
type tokenRecord struct {
	RequestHash string    `json:"requestHash"`
	TaskIDs     []string  `json:"taskIds"`
	CreatedAt   time.Time `json:"createdAt"`
}

// TokenTTL is how long a RunTask client token is remembered (spec §10.5).
const TokenTTL = 24 * time.Hour

func keyToken(ns ecs.Namespace, cluster, token string) string {
	return nsPrefix(ns) + "tok/" + cluster + "/" + token
}

// tasksWithToken returns the token's record and the tasks it started that
// still exist, or nil when the token is unused (or expired) in the cluster.
func tasksWithToken(t tx, ns ecs.Namespace, cluster, token string, now time.Time) (*tokenRecord, []*taskRecord, error) {
	tok := new(tokenRecord)
	found, err := t.get(keyToken(ns, cluster, token), tok)
	if err != nil || !found || now.Sub(tok.CreatedAt) > TokenTTL {
		return nil, nil, err
	}
	var out []*taskRecord
	for _, id := range tok.TaskIDs {
		rec := new(taskRecord)
		found, err := t.get(keyTask(ns, cluster, id), rec)
		if err != nil {
			return nil, nil, err
		}
		if found {
			out = append(out, rec)
		}
	}
	return tok, out, nil
}

// StartTask starts one task of a definition on each named instance (up to
// 10), bypassing placement strategies but not resources: problems are
// per-instance failures (MISSING, INACTIVE, AGENT, RESOURCE:*).
func (c *Control) StartTask(ctx context.Context, ns ecs.Namespace, in *wire.StartTaskRequest) (*wire.StartTaskResponse, error) {
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "containerInstances must name between 1 and 10 container instances.")
	}
	td, err := c.checkTaskRequest(ns, wire.Val(in.TaskDefinition), in.Overrides, in.StartedBy, in.Group, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	now := c.nowUTC()
	out := &wire.StartTaskResponse{}
	err = c.update(ctx, func(t tx) error {
		out.Tasks, out.Failures = []wire.Task{}, []wire.Failure{}
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		if wire.Val(td.NetworkMode) == wire.NetworkModeAwsvpc && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil) {
			return ecs.Errorf(ecs.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
		cands, err := c.loadCandidates(t, ns, cluster)
		if err != nil {
			return err
		}
		group := wire.Val(in.Group)
		if group == "" {
			group = "family:" + wire.Val(td.Family)
		}
		opts := taskOptions{launchType: wire.LaunchTypeEc2, group: group, startedBy: wire.Val(in.StartedBy),
			overrides: in.Overrides, tags: in.Tags, propagate: wire.Val(in.PropagateTags),
			managedTags: wire.Val(in.EnableECSManagedTags), execCommand: wire.Val(in.EnableExecuteCommand)}
		res := taskReservation(&td.TaskDefinition, in.Overrides)
		// StartTask names its instances (ID or ARN): one task on each,
		// no strategies, but resources, attributes and the definition's
		// constraints still apply (scheduler.PlaceOn).
		targets := make([]string, len(in.ContainerInstances))
		for i, ref := range in.ContainerInstances {
			targets[i] = ref
			if id, ok := instanceRef(ns, cluster, ref); ok {
				targets[i] = instanceARN(ns, cluster, id)
			}
		}
		req := placementRequest(td, res, len(targets), group, nil, nil, wire.Val(td.TaskDefinitionArn)+strings.Join(targets, ","))
		plan, byARN, err := schedule(req, cands, targets)
		if err != nil {
			return err
		}
		for _, p := range plan.Placements {
			cd := byARN[p.ARN]
			cd.place(res, group)
			rec := c.newTask(ns, cluster, td, opts, cd.rec, now)
			if err := t.put(keyTask(ns, cluster, rec.ID), rec); err != nil {
				return err
			}
			out.Tasks = append(out.Tasks, rec.Task)
		}
		out.Failures = planFailures(plan)
		return saveCandidates(t, ns, cands)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errUnchanged tells updateTask that fn changed nothing to write.
var errUnchanged = errors.New("control: unchanged")

// updateTask reads a task of an ACTIVE cluster inside one transaction, lets
// fn change it, and writes it back with its version advanced (unless fn
// returns errUnchanged). It returns the task as stored. fn MAY RUN MORE
// THAN ONCE.
func (c *Control) updateTask(ctx context.Context, ns ecs.Namespace, clusterRef, taskRef *string, fn func(t tx, rec *taskRecord) error) (*taskRecord, error) {
	var out *taskRecord
	err := c.update(ctx, func(t tx) error {
		cl, err := activeClusterShared(t, ns, clusterRef) // read only
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		rec, err := storedTask(t, ns, cluster, wire.Val(taskRef))
		if err != nil {
			return err
		}
		out = rec
		wasStopped := wire.Val(rec.LastStatus) == taskStopped
		switch err := fn(t, rec); {
		case errors.Is(err, errUnchanged):
			return nil
		case err != nil:
			return err
		}
		if !wasStopped && wire.Val(rec.LastStatus) == taskStopped {
			if err := releaseTask(t, ns, rec); err != nil {
				return err
			}
		}
		*rec.Version++
		// The callers only read the record from here on.
		return t.putShared(keyTask(ns, cluster, rec.ID), rec)
	})
	return out, err
}

// storedTask reads a task inside t.
func storedTask(t tx, ns ecs.Namespace, cluster, ref string) (*taskRecord, error) {
	parent, id, ok := ecs.ResolveName(ns, ref, "task")
	rec := new(taskRecord)
	if ok && (parent == "" || parent == cluster) && validID(id) {
		found, err := t.get(keyTask(ns, cluster, id), rec)
		if err != nil {
			return nil, err
		}
		ok = found
	} else {
		ok = false
	}
	if !ok {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The referenced task was not found.")
	}
	return rec, nil
}

// StopTask asks for a task to stop: desiredStatus STOPPED, stopCode
// UserInitiated and the reason (default "Task stopped by user"); the agent
// (or the Fargate fleet) stops its containers and reports STOPPED. A task
// that never reached its agent (no instance, or the instance is gone) or
// is still PROVISIONING stops at once. StopTask removes the task's tags,
// as ECS does.
func (c *Control) StopTask(ctx context.Context, ns ecs.Namespace, in *wire.StopTaskRequest) (*wire.StopTaskResponse, error) {
	if len(wire.Val(in.Reason)) > 1024 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "reason can have up to 1024 characters.")
	}
	now := c.nowUTC()
	out, err := c.updateTask(ctx, ns, in.Cluster, in.Task, func(t tx, rec *taskRecord) error {
		if wire.Val(rec.DesiredStatus) == taskStopped {
			return errUnchanged
		}
		reason := wire.Val(in.Reason)
		if reason == "" {
			reason = "Task stopped by user"
		}
		rec.DesiredStatus = wire.Ptr(taskStopped)
		rec.StopCode = wire.Ptr(wire.TaskStopCodeUserInitiated)
		rec.StoppedReason = wire.Ptr(reason)
		rec.Tags = nil
		orphan := rec.ContainerInstanceArn == nil && !isFargate(rec)
		if rec.ContainerInstanceArn != nil {
			inst := new(instanceRecord)
			found, err := t.get(keyInstance(ns, rec.Cluster, lastSegment(wire.Val(rec.ContainerInstanceArn))), inst)
			if err != nil {
				return err
			}
			orphan = !found || wire.Val(inst.Status) == instanceInactive
		}
		if orphan || wire.Val(rec.LastStatus) == taskProvisioning {
			markStopped(rec, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.StopTaskResponse{Task: taskOut(out, false)}, nil
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// markStopped moves a task to STOPPED with its timestamps; containers that
// have not stopped are marked STOPPED too, and an ENI attachment DELETED.
func markStopped(rec *taskRecord, now time.Time) {
	deleteENI(rec)
	rec.LastStatus = wire.Ptr(taskStopped)
	rec.DesiredStatus = wire.Ptr(taskStopped)
	if rec.StoppingAt == nil {
		rec.StoppingAt = wire.NewTime(now)
	}
	rec.StoppedAt = wire.NewTime(now)
	if rec.ExecutionStoppedAt == nil {
		rec.ExecutionStoppedAt = wire.NewTime(now)
	}
	for i := range rec.Containers {
		if wire.Val(rec.Containers[i].LastStatus) != taskStopped {
			rec.Containers[i].LastStatus = wire.Ptr(taskStopped)
		}
	}
}

// taskOut renders a task; tags only when asked.
func taskOut(rec *taskRecord, withTags bool) *wire.Task {
	t := rec.Task
	t.Tags = nil
	if withTags {
		t.Tags = ecs.TagsOrEmpty(rec.Tags)
	}
	return &t
}

// DescribeTasks describes tasks of a cluster (up to 100) by id or ARN;
// unknown ones are MISSING failures; an unknown cluster is
// ClusterNotFoundException. STOPPED tasks stay describable while retained.
func (c *Control) DescribeTasks(ctx context.Context, ns ecs.Namespace, in *wire.DescribeTasksRequest) (*wire.DescribeTasksResponse, error) {
	d, err := c.DescribeTasksAnswer(ctx, ns, in)
	if err != nil {
		return nil, err
	}
	out := &wire.DescribeTasksResponse{Tasks: make([]wire.Task, 0, len(d.recs)), Failures: d.failures}
	for _, p := range d.recs {
		out.Tasks = append(out.Tasks, *taskOut(p.unpack(), d.withTags))
	}
	return out, nil
}

// DescribeTasksAnswer is DescribeTasks as the API serves it: the tasks
// stay the view's records until they are encoded (DescribedTasks), instead
// of being copied into a response first. The reads of a large cluster are
// mostly DescribeTasks, and those copies were half of what each one
// allocated.
func (c *Control) DescribeTasksAnswer(ctx context.Context, ns ecs.Namespace, in *wire.DescribeTasksRequest) (*DescribedTasks, error) {
	if len(in.Tasks) > 100 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The number of tasks to describe must be 100 or fewer.")
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	d := &DescribedTasks{recs: make([]*packedTask, 0, len(in.Tasks)), failures: []wire.Failure{}, plans: &c.taskPlans, scratch: &c.planScratch,
		withTags: slices.Contains(in.Include, wire.TaskFieldTags)}
	// The tasks' keys are made in one buffer and looked up together: one
	// lock, and a few allocations instead of one per task.
	keys := make([]string, len(in.Tasks))
	objs := make([]any, len(in.Tasks))
	buf := make([]byte, 0, len(in.Tasks)*100)
	for i, ref := range in.Tasks {
		if parent, id, ok := ecs.ResolveName(ns, ref, "task"); ok && (parent == "" || parent == cluster) {
			start := len(buf)
			buf = appendKeyTask(buf, ns, cluster, id)
			// Appending may move buf; the keys cut before keep the old array.
			keys[i] = unsafe.String(&buf[start], len(buf)-start)
		}
	}
	c.view.getEach(keys, objs)
	for i, ref := range in.Tasks {
		if rec, found := objs[i].(*packedTask); found && keys[i] != "" {
			d.recs = append(d.recs, rec)
			continue
		}
		arn := ref
		if _, id, ok := ecs.ResolveName(ns, ref, "task"); ok && validID(id) {
			arn = taskARN(ns, cluster, id)
		}
		d.failures = append(d.failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
	}
	// Each task's own bytes are read once now, so that their cache misses
	// (the tasks are scattered over the heap) overlap, instead of being
	// waited for one by one while the answer is encoded.
	var touch byte
	for _, p := range d.recs {
		touch ^= p.own[0]
	}
	d.touched = touch
	return d, nil
}

// DescribedTasks is a DescribeTasks answer: its AppendJSON writes exactly
// the bytes of the wire.DescribeTasksResponse DescribeTasks returns
// (TestDescribedTasksMatchesResponse).
type DescribedTasks struct {
	recs     []*packedTask // the view's: shared, never modified
	plans    *taskPlans
	scratch  *sync.Pool // of *planScratch
	failures []wire.Failure
	withTags bool
	touched  byte // see DescribeTasksAnswer
}

// AppendJSON appends the answer's JSON (failures and tasks are never nil).
func (d *DescribedTasks) AppendJSON(b []byte) []byte {
	b = append(b, `{"failures":[`...)
	for i := range d.failures {
		if i > 0 {
			b = append(b, ',')
		}
		b = d.failures[i].AppendJSON(b)
	}
	b = append(b, `],"tasks":[`...)
	sc, _ := d.scratch.Get().(*planScratch)
	if sc == nil {
		sc = new(planScratch)
	}
	for i, p := range d.recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = d.plans.appendTask(b, p, d.withTags, sc)
	}
	d.scratch.Put(sc)
	return append(b, "]}"...)
}

// ListTasks lists task ARNs of a cluster filtered by container instance,
// family, service name, startedBy, launch type and desiredStatus (default
// RUNNING; PENDING never matches, as in ECS). family and serviceName
// together are refused. Paginated 1–100, default 100.
func (c *Control) ListTasks(ctx context.Context, ns ecs.Namespace, in *wire.ListTasksRequest) (*wire.ListTasksResponse, error) {
	if in.Family != nil && in.ServiceName != nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "family and serviceName cannot both be specified.")
	}
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	if in.ServiceName != nil {
		if c.view.get(keyServicePrefix(ns, cluster)+*in.ServiceName) == nil {
			return nil, ecs.Errorf(ecs.ServiceNotFound, "Service not found.")
		}
	}
	desired := string(wire.Val(in.DesiredStatus))
	if desired == "" {
		desired = taskRunning
	}
	instanceARNFilter := ""
	if in.ContainerInstance != nil {
		if id, ok := instanceRef(ns, cluster, *in.ContainerInstance); ok {
			instanceARNFilter = instanceARN(ns, cluster, id)
		} else {
			instanceARNFilter = "-" // matches nothing
		}
	}
	filter := strings.Join([]string{desired, instanceARNFilter, wire.Val(in.Family), wire.Val(in.ServiceName), wire.Val(in.StartedBy), string(wire.Val(in.LaunchType))}, "|")
	// A page's ARNs fit the arena's first buffer (ids of 32 hex digits).
	arena := arnArena{buf: make([]byte, 0, n*(len(taskARN(ns, cluster, ""))+32)+256)}
	arns, next, err := page(c, "ListTasks", filter, in.NextToken, n, keyTaskPrefix(ns, cluster), false, func(_ string, obj any) (string, bool) {
		r, ok := obj.(*packedTask)
		if !ok || wire.Val(r.DesiredStatus) != desired {
			return "", false
		}
		switch {
		case instanceARNFilter != "" && wire.Val(r.ContainerInstanceArn) != instanceARNFilter,
			in.Family != nil && !strings.HasPrefix(wire.Val(r.tmpl.TaskDefinitionArn), ns.ARN("task-definition/"+*in.Family+":")),
			in.ServiceName != nil && r.group() != "service:"+*in.ServiceName,
			in.StartedBy != nil && wire.Val(r.tmpl.StartedBy) != *in.StartedBy,
			in.LaunchType != nil && wire.Val(r.tmpl.LaunchType) != *in.LaunchType:
			return "", false
		}
		return arena.taskArn(r), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListTasksResponse{TaskArns: arns, NextToken: next}, nil
}

// SubmitTaskStateChange records an agent's report of a task: RUNNING or
// STOPPED (anything earlier is reported as PENDING), with its containers,
// pull and execution timestamps. Reports never move a task backwards. A
// task that stops without a stop code gets EssentialContainerExited when an
// essential container exited, else TaskFailedToStart if it never ran.
func (c *Control) SubmitTaskStateChange(ctx context.Context, ns ecs.Namespace, in *wire.SubmitTaskStateChangeRequest) (*wire.SubmitTaskStateChangeResponse, error) {
	now := c.nowUTC()
	_, err := c.updateTask(ctx, ns, in.Cluster, in.Task, func(_ tx, rec *taskRecord) error {
		for _, cs := range in.Containers {
			applyContainerChange(rec, cs)
		}
		if in.PullStartedAt != nil {
			rec.PullStartedAt = in.PullStartedAt
		}
		if in.PullStoppedAt != nil {
			rec.PullStoppedAt = in.PullStoppedAt
		}
		if in.ExecutionStoppedAt != nil {
			rec.ExecutionStoppedAt = in.ExecutionStoppedAt
		}
		advanceTask(rec, wire.Val(in.Status), wire.Val(in.Reason), now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.SubmitTaskStateChangeResponse{Acknowledgment: wire.Ptr("ACK")}, nil
}

// SubmitContainerStateChange records an agent's report of one container.
func (c *Control) SubmitContainerStateChange(ctx context.Context, ns ecs.Namespace, in *wire.SubmitContainerStateChangeRequest) (*wire.SubmitContainerStateChangeResponse, error) {
	_, err := c.updateTask(ctx, ns, in.Cluster, in.Task, func(_ tx, rec *taskRecord) error {
		applyContainerChange(rec, wire.ContainerStateChange{
			ContainerName: in.ContainerName, ExitCode: in.ExitCode, NetworkBindings: in.NetworkBindings,
			Reason: in.Reason, RuntimeId: in.RuntimeId, Status: in.Status,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.SubmitContainerStateChangeResponse{Acknowledgment: wire.Ptr("ACK")}, nil
}

// applyContainerChange folds one container report into a task.
func applyContainerChange(rec *taskRecord, cs wire.ContainerStateChange) {
	i := slices.IndexFunc(rec.Containers, func(ct wire.Container) bool { return wire.Val(ct.Name) == wire.Val(cs.ContainerName) })
	if i < 0 {
		return
	}
	ct := &rec.Containers[i]
	if s := wire.Val(cs.Status); s != "" && taskStateOrder[s] >= taskStateOrder[wire.Val(ct.LastStatus)] {
		ct.LastStatus = cs.Status
	}
	if cs.ExitCode != nil {
		ct.ExitCode = cs.ExitCode
	}
	if cs.Reason != nil {
		r := *cs.Reason
		if len(r) > 1024 {
			r = r[:1024]
		}
		ct.Reason = &r
	}
	if cs.RuntimeId != nil {
		ct.RuntimeId = cs.RuntimeId
	}
	if cs.ImageDigest != nil {
		ct.ImageDigest = cs.ImageDigest
	}
	if cs.NetworkBindings != nil {
		ct.NetworkBindings = cs.NetworkBindings
	}
}

// advanceTask moves a task forward to the reported status.
func advanceTask(rec *taskRecord, status, reason string, now time.Time) {
	cur := wire.Val(rec.LastStatus)
	if status == "" || taskStateOrder[status] <= taskStateOrder[cur] {
		return
	}
	switch status {
	case taskRunning:
		rec.LastStatus = wire.Ptr(taskRunning)
		if rec.StartedAt == nil {
			rec.StartedAt = wire.NewTime(now)
		}
	case taskStopped:
		everRan := rec.StartedAt != nil
		if rec.StopCode == nil {
			switch {
			case essentialExited(rec):
				rec.StopCode = wire.Ptr(wire.TaskStopCodeEssentialContainerExited)
				if reason == "" {
					reason = "Essential container in task exited"
				}
			case !everRan:
				rec.StopCode = wire.Ptr(wire.TaskStopCodeTaskFailedToStart)
			}
			if reason != "" {
				rec.StoppedReason = wire.Ptr(reason)
			}
		}
		markStopped(rec, now)
	default:
		rec.LastStatus = wire.Ptr(status)
	}
}

// essentialExited reports whether an essential container has stopped.
func essentialExited(rec *taskRecord) bool {
	for _, ct := range rec.Containers {
		if slices.Contains(rec.Essential, wire.Val(ct.Name)) && wire.Val(ct.LastStatus) == taskStopped && ct.ExitCode != nil {
			return true
		}
	}
	return false
}

// SetAgentConnected records whether an instance's agent holds its session
// (the agent-session endpoint calls it on connect and on loss).
func (c *Control) SetAgentConnected(ctx context.Context, ns ecs.Namespace, cluster, id string, connected bool) error {
	return c.update(ctx, func(t tx) error {
		rec := new(instanceRecord)
		found, err := t.get(keyInstance(ns, cluster, id), rec)
		if err != nil || !found || wire.Val(rec.AgentConnected) == connected {
			return err
		}
		rec.AgentConnected = wire.Ptr(connected)
		*rec.Version++
		return t.put(keyInstance(ns, cluster, id), rec)
	})
}
