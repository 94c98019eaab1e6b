package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/wire"
)

// instanceRecord is a stored container instance. Attributes holds what the
// agent registered (echoed back exactly); custom attributes from
// PutAttributes live in their own record (attr/...) and are merged on read.
type instanceRecord struct {
	wire.ContainerInstance
	Cluster         string                `json:"cluster"`
	ID              string                `json:"id"`
	PlatformDevices []wire.PlatformDevice `json:"platformDevices,omitzero"`
	// DeregisteredAt is set when the instance became INACTIVE.
	DeregisteredAt *time.Time `json:"deregisteredAt,omitempty"`
	// Reserved is what the instance's tasks that are not STOPPED hold
	// (spec §9.2). It is charged when a task is placed and released when
	// the task stops, in the same transactions, so placement reads only
	// instance records.
	Reserved usage `json:"reserved,omitzero"`
	// Groups counts the task groups of those tasks, for spread and
	// distinctInstance (kept with Reserved).
	Groups map[string]int `json:"groups,omitempty"`
}

// usage is the resources tasks hold on an instance.
type usage struct {
	CPU    int64    `json:"cpu,omitempty"`
	Memory int64    `json:"memory,omitempty"`
	Ports  []string `json:"ports,omitempty"`
	UDP    []string `json:"udp,omitempty"`
}

func (u *usage) add(r reservation) {
	u.CPU += r.cpu
	u.Memory += r.memory
	u.Ports = append(slices.Clone(u.Ports), r.ports...)
	u.UDP = append(slices.Clone(u.UDP), r.udp...)
}

// remove releases r; each port is released once.
func (u *usage) remove(r reservation) {
	u.CPU = max(u.CPU-r.cpu, 0)
	u.Memory = max(u.Memory-r.memory, 0)
	u.Ports = removeEach(u.Ports, r.ports)
	u.UDP = removeEach(u.UDP, r.udp)
}

func removeEach(from, drop []string) []string {
	out := slices.Clone(from)
	for _, p := range drop {
		if i := slices.Index(out, p); i >= 0 {
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}

const (
	instanceActive   = "ACTIVE"
	instanceDraining = "DRAINING"
	instanceInactive = "INACTIVE"
)

func keyInstance(ns ecs.Namespace, cluster, id string) string {
	return keyInstancePrefix(ns, cluster) + id
}

// newID returns a 32-hex-digit resource id (tasks, container instances).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTaskID returns a task id: 32 hex digits like every ECS task id, the
// first 12 the creation time in milliseconds and the other 20 random (the
// layout of a version 7 UUID). ECS documents its task ids only as opaque
// 32-character strings, so no client can tell these from its own; the
// time prefix is for the store: the tasks of one RunTask, and the state
// changes that follow them in about the order they were started, land on
// neighbouring keys, so a group commit rewrites a few B+tree leaves
// instead of one leaf per task.
func newTaskID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// validID reports whether s is an id Berth issues (32 lowercase hex) or a
// legacy 36-character UUID.
func validID(s string) bool {
	if len(s) == 36 && strings.Count(s, "-") == 4 {
		s = strings.ReplaceAll(s, "-", "")
	}
	return len(s) == 32 && isLowerHex(s)
}

// instanceRef resolves a container instance id or ARN within cluster.
func instanceRef(ns ecs.Namespace, cluster, ref string) (string, bool) {
	id, ok := attrTarget(ns, cluster, ref)
	return id, ok && validID(id)
}

// instanceARN is the ARN of a container instance.
func instanceARN(ns ecs.Namespace, cluster, id string) string {
	return ns.ARN("container-instance/" + cluster + "/" + id)
}

// validateResources checks a RegisterContainerInstance resource list: each
// resource has a name and the one value its type calls for.
func validateResources(rs []wire.Resource) error {
	seen := map[string]bool{}
	for _, r := range rs {
		name := wire.Val(r.Name)
		if name == "" {
			return ecs.Errorf(ecs.InvalidParameter, "Every resource in totalResources must have a name.")
		}
		if seen[name] {
			return ecs.Errorf(ecs.InvalidParameter, "The resource %s is specified more than once in totalResources.", name)
		}
		seen[name] = true
		ok := false
		switch wire.Val(r.Type) {
		case "INTEGER":
			ok = r.IntegerValue != nil && *r.IntegerValue >= 0
		case "LONG":
			ok = r.LongValue != nil && *r.LongValue >= 0
		case "DOUBLE":
			ok = r.DoubleValue != nil && *r.DoubleValue >= 0
		case "STRINGSET":
			ok = r.StringSetValue != nil || r.IntegerValue == nil
		}
		if !ok {
			return ecs.Errorf(ecs.InvalidParameter, "The resource %s has an invalid type or value: type must be INTEGER, LONG, DOUBLE or STRINGSET with the matching non-negative value.", name)
		}
	}
	return nil
}

// instanceIDFromDocument reads instanceId from an EC2 instance identity
// document, if one was sent.
func instanceIDFromDocument(doc *string) string {
	if doc == nil || *doc == "" {
		return ""
	}
	var d struct {
		InstanceID string `json:"instanceId"`
	}
	if json.Unmarshal([]byte(*doc), &d) != nil {
		return ""
	}
	return d.InstanceID
}

// RegisterContainerInstance registers an instance in a cluster (ACTIVE, not
// yet connected), or — with containerInstanceArn of an existing, not
// INACTIVE instance — re-registers it under the same ARN with the new
// resources, attributes and version info (an agent restart). The attributes
// the agent sent are returned exactly. remainingResources start equal to
// the registered ones and follow the tasks placed on the instance.
func (c *Control) RegisterContainerInstance(ctx context.Context, ns ecs.Namespace, in *wire.RegisterContainerInstanceRequest) (*wire.RegisterContainerInstanceResponse, error) {
	if err := validateResources(in.TotalResources); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		if wire.Val(a.Name) == "" {
			return nil, ecs.Errorf(ecs.InvalidParameter, "Every attribute must have a name.")
		}
	}
	newid := newID()
	now := c.nowUTC()
	var out *instanceRecord
	err := c.update(ctx, func(t tx) error {
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		rec := new(instanceRecord)
		found := false
		if in.ContainerInstanceArn != nil {
			id, ok := instanceRef(ns, cluster, *in.ContainerInstanceArn)
			if !ok {
				return ecs.Errorf(ecs.InvalidParameter, "The containerInstanceArn '%s' does not name a container instance of cluster %s.", *in.ContainerInstanceArn, cluster)
			}
			if found, err = t.get(keyInstance(ns, cluster, id), rec); err != nil {
				return err
			}
			switch {
			case !found:
				// An agent that kept its ARN while the server lost it (a
				// new data directory) registers under the same ARN.
				newid = id
			case wire.Val(rec.Status) == instanceInactive:
				found = false // a deregistered instance comes back as a new one
			}
		}
		if !found {
			rec = &instanceRecord{Cluster: cluster, ID: newid}
			rec.ContainerInstanceArn = wire.Ptr(instanceARN(ns, cluster, newid))
			rec.RegisteredAt = wire.NewTime(now)
			rec.AgentConnected = wire.Ptr(false)
			rec.Version = wire.Ptr(int64(0))
			rec.Tags = in.Tags
			ec2 := instanceIDFromDocument(in.InstanceIdentityDocument)
			if ec2 == "" {
				ec2 = "i-" + newid[:17]
			}
			rec.Ec2InstanceId = wire.Ptr(ec2)
		} else if in.Tags != nil {
			rec.Tags = ecs.MergeTags(rec.Tags, in.Tags)
		}
		rec.Status = wire.Ptr(instanceActive)
		rec.StatusReason = nil
		// A re-registration updates what it sends and keeps the rest: the
		// agent sends custom attributes only on its first registration.
		rec.Attributes = mergeAttributes(rec.Attributes, in.Attributes)
		rec.RegisteredResources = in.TotalResources
		if in.VersionInfo != nil {
			rec.VersionInfo = in.VersionInfo
		}
		if in.PlatformDevices != nil {
			rec.PlatformDevices = in.PlatformDevices
		}
		*rec.Version++
		out = rec
		return t.put(keyInstance(ns, cluster, rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.RegisterContainerInstanceResponse{ContainerInstance: c.instanceOut(ns, out, true, false)}, nil
}

// mergeAttributes returns base with over applied by attribute name.
func mergeAttributes(base, over []wire.Attribute) []wire.Attribute {
	out := slices.Clone(base)
	for _, a := range over {
		i := slices.IndexFunc(out, func(x wire.Attribute) bool { return wire.Val(x.Name) == wire.Val(a.Name) })
		if i >= 0 {
			out[i] = a
		} else {
			out = append(out, a)
		}
	}
	return out
}

// instanceOut renders a stored instance as ECS returns it: the agent's
// attributes followed by custom attributes, remaining resources and task
// counts derived from the tasks on it, tags only when asked.
func (c *Control) instanceOut(ns ecs.Namespace, rec *instanceRecord, withTags, withHealth bool) *wire.ContainerInstance {
	ci := rec.ContainerInstance
	attrs := slices.Clone(rec.Attributes)
	if custom, ok := c.view.get(keyAttrs(ns, rec.Cluster, rec.ID)).(*attributesRecord); ok {
		attrs = mergeAttributes(attrs, custom.Attributes)
	}
	if attrs == nil {
		attrs = []wire.Attribute{}
	}
	ci.Attributes = attrs
	usage := c.instanceUsage(ns, rec)
	ci.RemainingResources = remaining(rec.RegisteredResources, usage)
	if ci.RegisteredResources == nil {
		ci.RegisteredResources = []wire.Resource{}
	}
	ci.RunningTasksCount = wire.Ptr(int32(usage.running))
	ci.PendingTasksCount = wire.Ptr(int32(usage.pending))
	ci.Attachments = slices.Clone(ci.Attachments)
	if ci.Attachments == nil {
		ci.Attachments = []wire.Attachment{}
	}
	ci.Tags = nil
	if withTags {
		ci.Tags = ecs.TagsOrEmpty(rec.Tags)
	}
	if withHealth {
		state := wire.InstanceHealthCheckStateOk
		if !wire.Val(rec.AgentConnected) {
			state = wire.InstanceHealthCheckStateInsufficientData
		}
		ci.HealthStatus = &wire.ContainerInstanceHealthStatus{OverallStatus: wire.Ptr(state), Details: []wire.InstanceHealthCheckResult{}}
	}
	return &ci
}

// instanceUsage is what the live tasks on an instance take from it.
type instanceUsage struct {
	cpu, memory      int64
	ports, udp       []string
	running, pending int
}

// instanceUsage returns what the tasks on an instance hold (its Reserved
// totals, spec §9.2) and counts them from the task index (§9.3: running =
// desiredStatus RUNNING; pending = lastStatus PENDING).
func (c *Control) instanceUsage(ns ecs.Namespace, rec *instanceRecord) instanceUsage {
	u := instanceUsage{cpu: rec.Reserved.CPU, memory: rec.Reserved.Memory, ports: rec.Reserved.Ports, udp: rec.Reserved.UDP}
	for _, r := range c.view.index.instanceTasks(wire.Val(rec.ContainerInstanceArn)) {
		if wire.Val(r.DesiredStatus) == taskRunning {
			u.running++
		}
		if wire.Val(r.LastStatus) == taskPending {
			u.pending++
		}
	}
	return u
}

// remaining subtracts usage from registered resources: CPU and MEMORY
// decrease, PORTS and PORTS_UDP grow by the host ports in use.
func remaining(registered []wire.Resource, u instanceUsage) []wire.Resource {
	out := make([]wire.Resource, 0, len(registered))
	for _, r := range registered {
		switch wire.Val(r.Name) {
		case "CPU":
			r.IntegerValue = wire.Ptr(int32(int64(wire.Val(r.IntegerValue)) - u.cpu))
		case "MEMORY":
			r.IntegerValue = wire.Ptr(int32(int64(wire.Val(r.IntegerValue)) - u.memory))
		case "PORTS":
			r.StringSetValue = unionSorted(r.StringSetValue, u.ports)
		case "PORTS_UDP":
			r.StringSetValue = unionSorted(r.StringSetValue, u.udp)
		}
		out = append(out, r)
	}
	return out
}

func unionSorted(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// lookupInstance finds an instance of cluster in the view.
func (c *Control) lookupInstance(ns ecs.Namespace, cluster, ref string) *instanceRecord {
	id, ok := instanceRef(ns, cluster, ref)
	if !ok {
		return nil
	}
	rec, _ := c.view.get(keyInstance(ns, cluster, id)).(*instanceRecord)
	return rec
}

// DescribeContainerInstances describes instances of a cluster (up to 100).
// Unknown ones are MISSING failures; an unknown cluster is
// ClusterNotFoundException. include TAGS and CONTAINER_INSTANCE_HEALTH.
func (c *Control) DescribeContainerInstances(ctx context.Context, ns ecs.Namespace, in *wire.DescribeContainerInstancesRequest) (*wire.DescribeContainerInstancesResponse, error) {
	if len(in.ContainerInstances) > 100 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The number of container instances to describe must be 100 or fewer.")
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	withTags := slices.Contains(in.Include, wire.ContainerInstanceFieldTags)
	withHealth := slices.Contains(in.Include, wire.ContainerInstanceFieldContainerInstanceHealth)
	out := &wire.DescribeContainerInstancesResponse{ContainerInstances: []wire.ContainerInstance{}, Failures: []wire.Failure{}}
	for _, ref := range in.ContainerInstances {
		if rec := c.lookupInstance(ns, cluster, ref); rec != nil {
			out.ContainerInstances = append(out.ContainerInstances, *c.instanceOut(ns, rec, withTags, withHealth))
			continue
		}
		arn := ref
		if id, ok := instanceRef(ns, cluster, ref); ok {
			arn = instanceARN(ns, cluster, id)
		}
		out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
	}
	return out, nil
}

// ListContainerInstances lists a cluster's instance ARNs, by default every
// status except INACTIVE, or the one given, optionally filtered by a
// cluster query language expression (the placement engine's language; a
// malformed one is InvalidParameterException naming the problem);
// paginated 1–100, default 100.
func (c *Control) ListContainerInstances(ctx context.Context, ns ecs.Namespace, in *wire.ListContainerInstancesRequest) (*wire.ListContainerInstancesResponse, error) {
	var expr *scheduler.Expr
	if f := wire.Val(in.Filter); f != "" {
		e, err := scheduler.ParseExpression(f)
		if err != nil {
			return nil, ecs.Errorf(ecs.InvalidParameter, "Invalid filter: %s", err.Error())
		}
		expr = &e
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
	status := string(wire.Val(in.Status))
	filter := status + "|" + wire.Val(in.Filter)
	prefix := keyInstancePrefix(ns, cluster)
	// selected holds the keys of the instances the filter selects (nil
	// without a filter). It is computed before paging because
	// queryCandidate reads the view, and page's match runs under the
	// view's read lock: a read lock taken again there deadlocks as soon as
	// a writer waits between the two.
	var selected map[string]bool
	if expr != nil {
		var keys []string
		var recs []*instanceRecord
		c.view.scan(prefix, "", false, func(key string, obj any) bool {
			if r, ok := obj.(*instanceRecord); ok {
				keys = append(keys, key)
				recs = append(recs, r)
			}
			return true
		})
		selected = make(map[string]bool, len(recs))
		for i, r := range recs {
			cand := c.queryCandidate(ns, r)
			if expr.Match(&cand) {
				selected[keys[i]] = true
			}
		}
	}
	arns, next, err := page(c, "ListContainerInstances", filter, in.NextToken, n, prefix, false, func(key string, obj any) (string, bool) {
		r, ok := obj.(*instanceRecord)
		if !ok {
			return "", false
		}
		s := wire.Val(r.Status)
		if (status == "" && s == instanceInactive) || (status != "" && s != status) {
			return "", false
		}
		if selected != nil && !selected[key] {
			return "", false
		}
		return wire.Val(r.ContainerInstanceArn), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListContainerInstancesResponse{ContainerInstanceArns: arns, NextToken: next}, nil
}

// queryCandidate describes an instance for the cluster query language:
// its attributes (agent's and custom), agent state, version, EC2 id,
// registration time, running task count and the task groups on it.
func (c *Control) queryCandidate(ns ecs.Namespace, r *instanceRecord) scheduler.Candidate {
	attrs := map[string]string{}
	all := r.Attributes
	if custom, ok := c.view.get(keyAttrs(ns, r.Cluster, r.ID)).(*attributesRecord); ok {
		all = mergeAttributes(all, custom.Attributes)
	}
	for _, a := range all {
		attrs[wire.Val(a.Name)] = wire.Val(a.Value)
	}
	cand := scheduler.Candidate{
		ARN: wire.Val(r.ContainerInstanceArn), ID: r.ID, Status: wire.Val(r.Status),
		AgentConnected: wire.Val(r.AgentConnected), EC2InstanceID: wire.Val(r.Ec2InstanceId),
		Attributes: attrs, TaskGroups: map[string]int{},
	}
	if r.VersionInfo != nil {
		cand.AgentVersion = wire.Val(r.VersionInfo.AgentVersion)
	}
	if r.RegisteredAt != nil {
		cand.RegisteredAt = r.RegisteredAt.Time
	}
	for _, t := range c.view.index.instanceTasks(wire.Val(r.ContainerInstanceArn)) {
		if wire.Val(t.DesiredStatus) == taskRunning {
			cand.RunningTasksCount++
			cand.TaskGroups[t.group()]++
		}
	}
	return cand
}

// DeregisterContainerInstance makes an instance INACTIVE. Without force it
// is refused while tasks that are not STOPPED run on it; with force those
// tasks are left as they are (orphaned, as ECS does).
func (c *Control) DeregisterContainerInstance(ctx context.Context, ns ecs.Namespace, in *wire.DeregisterContainerInstanceRequest) (*wire.DeregisterContainerInstanceResponse, error) {
	now := c.nowUTC()
	var out *instanceRecord
	err := c.update(ctx, func(t tx) error {
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		rec, err := storedInstance(t, ns, cluster, wire.Val(in.ContainerInstance))
		if err != nil {
			return err
		}
		out = rec
		if wire.Val(rec.Status) == instanceInactive {
			return nil
		}
		if !wire.Val(in.Force) {
			arn := wire.Val(rec.ContainerInstanceArn)
			busy, err := anyRecord(t, keyTaskPrefix(ns, cluster), func(r *statusRecord) bool {
				return r.ContainerInstanceArn == arn && r.LastStatus != "STOPPED"
			})
			if err != nil {
				return err
			}
			if busy {
				return ecs.Errorf(ecs.InvalidParameter, "The container instance has tasks that are not stopped. Stop them first, or deregister with force to orphan them.")
			}
		}
		rec.Status = wire.Ptr(instanceInactive)
		rec.AgentConnected = wire.Ptr(false)
		rec.DeregisteredAt = &now
		*rec.Version++
		return t.put(keyInstance(ns, cluster, rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeregisterContainerInstanceResponse{ContainerInstance: c.instanceOut(ns, out, false, false)}, nil
}

// storedInstance reads an instance inside t; unknown is InvalidParameter.
func storedInstance(t tx, ns ecs.Namespace, cluster, ref string) (*instanceRecord, error) {
	id, ok := instanceRef(ns, cluster, ref)
	rec := new(instanceRecord)
	if ok {
		found, err := t.get(keyInstance(ns, cluster, id), rec)
		if err != nil {
			return nil, err
		}
		ok = found
	}
	if !ok {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The container instance '%s' was not found in cluster %s.", ref, cluster)
	}
	return rec, nil
}

// UpdateContainerInstancesState sets instances ACTIVE or DRAINING (up to 10).
// Only ACTIVE ⇄ DRAINING transitions are allowed; unknown instances and
// instances in other states are failures, the rest succeed.
func (c *Control) UpdateContainerInstancesState(ctx context.Context, ns ecs.Namespace, in *wire.UpdateContainerInstancesStateRequest) (*wire.UpdateContainerInstancesStateResponse, error) {
	status := string(wire.Val(in.Status))
	if status != instanceActive && status != instanceDraining {
		return nil, ecs.Errorf(ecs.InvalidParameter, "Container instances can only be set to ACTIVE or DRAINING.")
	}
	if len(in.ContainerInstances) > 10 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The number of container instances to update must be 10 or fewer.")
	}
	var updated []*instanceRecord
	var failures []wire.Failure
	err := c.update(ctx, func(t tx) error {
		updated, failures = nil, []wire.Failure{}
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		for _, ref := range in.ContainerInstances {
			id, ok := instanceRef(ns, cluster, ref)
			rec := new(instanceRecord)
			if ok {
				found, err := t.get(keyInstance(ns, cluster, id), rec)
				if err != nil {
					return err
				}
				ok = found && wire.Val(rec.Status) != instanceInactive
			}
			if !ok {
				arn := ref
				if id != "" {
					arn = instanceARN(ns, cluster, id)
				}
				failures = append(failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
				continue
			}
			cur := wire.Val(rec.Status)
			if cur != instanceActive && cur != instanceDraining {
				failures = append(failures, wire.Failure{Arn: rec.ContainerInstanceArn, Reason: wire.Ptr("INVALID_STATE"),
					Detail: wire.Ptr("A container instance in status " + cur + " cannot be updated.")})
				continue
			}
			if cur != status {
				rec.Status = wire.Ptr(status)
				*rec.Version++
				if err := t.put(keyInstance(ns, cluster, rec.ID), rec); err != nil {
					return err
				}
			}
			updated = append(updated, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &wire.UpdateContainerInstancesStateResponse{ContainerInstances: []wire.ContainerInstance{}, Failures: failures}
	for _, rec := range updated {
		out.ContainerInstances = append(out.ContainerInstances, *c.instanceOut(ns, rec, false, false))
	}
	return out, nil
}

// UpdateContainerAgent asks an instance's agent to update. Berth has no
// agent update channel, so an instance without version information is
// MissingVersionException and every other is NoUpdateAvailableException
// (its agent is the newest Berth offers).
func (c *Control) UpdateContainerAgent(ctx context.Context, ns ecs.Namespace, in *wire.UpdateContainerAgentRequest) (*wire.UpdateContainerAgentResponse, error) {
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	rec := c.lookupInstance(ns, wire.Val(cl.ClusterName), wire.Val(in.ContainerInstance))
	if rec == nil || wire.Val(rec.Status) == instanceInactive {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The container instance '%s' was not found in cluster %s.", wire.Val(in.ContainerInstance), wire.Val(cl.ClusterName))
	}
	if rec.VersionInfo == nil || wire.Val(rec.VersionInfo.AgentVersion) == "" {
		return nil, ecs.Errorf(ecs.MissingVersion, "The container instance does not have version information for its agent.")
	}
	return nil, ecs.Errorf(ecs.NoUpdateAvailable, "There is no update available for your container agent.")
}

// DiscoverPollEndpoint returns the agent session endpoints: the ACS
// websocket at endpoint (the agent connects to <endpoint>/ws) and the
// telemetry websocket at <endpoint>/tcs (the agent connects to
// <endpoint>/tcs/ws). endpoint is the server's base URL as the agent reached
// it (the api layer knows it).
func (c *Control) DiscoverPollEndpoint(ctx context.Context, ns ecs.Namespace, endpoint string, in *wire.DiscoverPollEndpointRequest) (*wire.DiscoverPollEndpointResponse, error) {
	if in.Cluster != nil {
		if _, _, err := c.lookupCluster(ns, in.Cluster); err != nil {
			return nil, err
		}
	}
	endpoint = strings.TrimRight(endpoint, "/")
	return &wire.DiscoverPollEndpointResponse{
		Endpoint:          wire.Ptr(endpoint),
		TelemetryEndpoint: wire.Ptr(endpoint + "/tcs"),
	}, nil
}
