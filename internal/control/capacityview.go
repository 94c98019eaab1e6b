package control

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// What managed scaling reads of ECS (spec §4), and the two things it
// writes back: the cluster's scaling attachment, and the DRAINING state of
// an instance its Auto Scaling group is about to terminate (§4.7).

// ProviderState is an Auto Scaling group capacity provider as managed
// scaling sees it: its settings, the container instances of its group and
// the tasks waiting for its capacity. Values are copies; the caller may
// keep and modify them.
type ProviderState struct {
	Namespace ecs.Namespace
	Name      string
	// Group is the Auto Scaling group's name (from the provider's ARN).
	Group string
	// Clusters are the clusters the provider is associated with, sorted
	// (one at most while managed scaling is ENABLED, spec §3.5).
	Clusters []string
	// ManagedScaling is the provider's block, with ECS's defaults filled
	// in (never nil).
	ManagedScaling               wire.ManagedScaling
	ManagedTerminationProtection bool
	ManagedDraining              bool
	// Instances are the container instances, in the associated clusters,
	// whose ec2InstanceId is an instance of the group, by ec2InstanceId.
	Instances []ProviderInstance
	// Waiting are the tasks waiting for the provider's capacity, oldest
	// first (CapacityDemand).
	Waiting []WaitingTask
}

// ScalingEnabled reports whether the provider's managed scaling is
// ENABLED.
func (p *ProviderState) ScalingEnabled() bool {
	return wire.Val(p.ManagedScaling.Status) == wire.ManagedScalingStatusEnabled
}

// ProviderInstance is one container instance of a provider's group.
type ProviderInstance struct {
	EC2InstanceID string
	Cluster       string
	ARN           string
	ID            string
	// Status is the container instance's status (ACTIVE, DRAINING, …);
	// AgentConnected whether its agent is connected.
	Status         string
	AgentConnected bool
	// Tasks counts its live (not STOPPED) non-daemon tasks; DaemonTasks
	// its live tasks of DAEMON services (spec §4.5: they do not make an
	// instance busy).
	Tasks       int
	DaemonTasks int
	// CPU and Memory are the registered resources; FreeCPU and FreeMemory
	// what its tasks leave; UsedPorts the host ports (TCP and UDP) that
	// are registered as reserved or held by its tasks.
	CPU, Memory         int64
	FreeCPU, FreeMemory int64
	UsedPorts           []int
}

// ManagedProviders returns every Auto Scaling group capacity provider
// that is not INACTIVE, in every namespace, ordered by namespace and
// name. It reads only the view: no store access, no writes.
func (c *Control) ManagedProviders() []ProviderState {
	var cps []*capacityProviderRecord
	var nss []ecs.Namespace
	for _, ns := range c.namespaces() {
		c.view.scan(nsPrefix(ns)+"cp/", "", false, func(_ string, obj any) bool {
			if cp, ok := obj.(*capacityProviderRecord); ok && cp.AutoScalingGroupProvider != nil &&
				wire.Val(cp.Status) != wire.CapacityProviderStatusInactive {
				cps = append(cps, cp)
				nss = append(nss, ns)
			}
			return true
		})
	}
	out := make([]ProviderState, 0, len(cps))
	for i, cp := range cps {
		out = append(out, c.providerState(nss[i], cp))
	}
	return out
}

// namespaces lists the namespaces that hold records, in key order: one
// seek per namespace, not a scan of its records.
func (c *Control) namespaces() []ecs.Namespace {
	var out []ecs.Namespace
	after := ""
	for {
		var next string
		c.view.scan("ns/", after, false, func(key string, _ any) bool {
			next = key
			return false
		})
		if next == "" {
			return out
		}
		parts := strings.SplitN(next, "/", 4) // ns, account, region, rest
		if len(parts) < 4 {
			return out
		}
		ns := ecs.Namespace{Partition: "aws", Account: parts[1], Region: parts[2]}
		ns.Principal = ns.RootPrincipal()
		out = append(out, ns)
		// Every key of the namespace sorts below its prefix + "\xff".
		after = nsPrefix(ns) + "\xff"
	}
}

func (c *Control) providerState(ns ecs.Namespace, cp *capacityProviderRecord) ProviderState {
	asg := cp.AutoScalingGroupProvider
	name := wire.Val(cp.Name)
	p := ProviderState{
		Namespace:                    ns,
		Name:                         name,
		Group:                        asgName(wire.Val(asg.AutoScalingGroupArn)),
		ManagedTerminationProtection: wire.Val(asg.ManagedTerminationProtection) == wire.ManagedTerminationProtectionEnabled,
		ManagedDraining:              wire.Val(asg.ManagedDraining) != wire.ManagedDrainingDisabled,
	}
	if ms, err := managedScalingDefaults(asg.ManagedScaling); err == nil {
		p.ManagedScaling = *ms
	}
	if asg.ManagedScaling == nil {
		p.ManagedScaling.Status = wire.Ptr(wire.ManagedScalingStatusDisabled)
	}
	c.view.scan(nsPrefix(ns)+"cluster/", "", false, func(_ string, obj any) bool {
		if cl, ok := obj.(*clusterRecord); ok && wire.Val(cl.Status) != statusInactive && slices.Contains(cl.CapacityProviders, name) {
			p.Clusters = append(p.Clusters, wire.Val(cl.ClusterName))
		}
		return true
	})
	members, _ := c.providerMembers(ns, name)
	for _, cluster := range p.Clusters {
		var recs []*instanceRecord
		c.view.scan(keyInstancePrefix(ns, cluster), "", false, func(_ string, obj any) bool {
			if r, ok := obj.(*instanceRecord); ok && members[wire.Val(r.Ec2InstanceId)] && wire.Val(r.Status) != instanceInactive {
				recs = append(recs, r)
			}
			return true
		})
		for _, r := range recs {
			p.Instances = append(p.Instances, c.providerInstance(ns, r))
		}
	}
	slices.SortFunc(p.Instances, func(a, b ProviderInstance) int { return strings.Compare(a.EC2InstanceID, b.EC2InstanceID) })
	p.Waiting = c.CapacityDemand(ns, name)
	return p
}

// providerInstance describes one container instance for managed scaling.
func (c *Control) providerInstance(ns ecs.Namespace, r *instanceRecord) ProviderInstance {
	pi := ProviderInstance{
		EC2InstanceID:  wire.Val(r.Ec2InstanceId),
		Cluster:        r.Cluster,
		ARN:            wire.Val(r.ContainerInstanceArn),
		ID:             r.ID,
		Status:         wire.Val(r.Status),
		AgentConnected: wire.Val(r.AgentConnected),
	}
	pi.Tasks, pi.DaemonTasks = c.instanceTaskCounts(ns, r.Cluster, pi.ARN)
	used := map[int]bool{}
	for _, res := range r.RegisteredResources {
		switch wire.Val(res.Name) {
		case "CPU":
			pi.CPU = int64(wire.Val(res.IntegerValue))
		case "MEMORY":
			pi.Memory = int64(wire.Val(res.IntegerValue))
		case "PORTS", "PORTS_UDP":
			for _, s := range res.StringSetValue {
				if n, err := strconv.Atoi(s); err == nil {
					used[n] = true
				}
			}
		}
	}
	pi.FreeCPU = pi.CPU - r.Reserved.CPU
	pi.FreeMemory = pi.Memory - r.Reserved.Memory
	for _, n := range atoiAll(slices.Concat(r.Reserved.Ports, r.Reserved.UDP)) {
		used[n] = true
	}
	for n := range used {
		pi.UsedPorts = append(pi.UsedPorts, n)
	}
	slices.Sort(pi.UsedPorts)
	return pi
}

// instanceTaskCounts counts the live tasks on an instance: those of
// DAEMON services, and the others.
func (c *Control) instanceTaskCounts(ns ecs.Namespace, cluster, instanceARN string) (tasks, daemons int) {
	for _, t := range c.view.index.instanceTasks(instanceARN) {
		if c.isDaemonTask(ns, cluster, t) {
			daemons++
		} else {
			tasks++
		}
	}
	return tasks, daemons
}

// isDaemonTask reports whether a task belongs to a DAEMON service: its
// group is "service:<name>" and that service's scheduling strategy is
// DAEMON.
func (c *Control) isDaemonTask(ns ecs.Namespace, cluster string, t *packedTask) bool {
	svc, ok := strings.CutPrefix(t.group(), "service:")
	if !ok {
		return false
	}
	rec, _ := c.view.get(keyService(ns, cluster, svc)).(*serviceRecord)
	return rec != nil && wire.Val(rec.SchedulingStrategy) == wire.SchedulingStrategyDaemon
}

// ScalingRecord is what managed scaling last computed for a provider in a
// cluster.
type ScalingRecord struct {
	// Metric is the CapacityProviderReservation value (percent).
	Metric float64
	// Failure, when set, is why the provider cannot be scaled (its Auto
	// Scaling group is missing, …): the attachment is FAILED.
	Failure string
}

// Details of the scaling attachment that managed scaling maintains,
// besides ECS's capacityProviderName and scalingPolicyName: [impl] Berth
// has no CloudWatch, so the metric's last value is shown here.
const (
	detailReservation = "capacityProviderReservation"
	detailReason      = "reason"
)

// RecordManagedScaling shows what managed scaling computed on the cluster's
// as_policy attachment of the provider (DescribeClusters with
// include=ATTACHMENTS): status CREATED with the metric's last value, or
// FAILED with the reason. Nothing is written when the attachment already
// shows it, or when the cluster has no such attachment (the provider was
// disassociated or its managed scaling disabled meanwhile). Safe for
// concurrent use; it may be called every evaluation.
func (c *Control) RecordManagedScaling(ctx context.Context, ns ecs.Namespace, cluster, provider string, r ScalingRecord) error {
	want := func(a wire.Attachment) wire.Attachment {
		a.Status = wire.Ptr("CREATED")
		details := slices.DeleteFunc(slices.Clone(a.Details), func(d wire.KeyValuePair) bool {
			n := wire.Val(d.Name)
			return n == detailReservation || n == detailReason
		})
		if r.Failure != "" {
			a.Status = wire.Ptr("FAILED")
			details = append(details, wire.KeyValuePair{Name: wire.Ptr(detailReason), Value: wire.Ptr(r.Failure)})
		} else {
			details = append(details, wire.KeyValuePair{Name: wire.Ptr(detailReservation), Value: wire.Ptr(strconv.FormatFloat(r.Metric, 'f', -1, 64))})
		}
		a.Details = details
		return a
	}
	find := func(cl *clusterRecord) int {
		return slices.IndexFunc(cl.Attachments, func(a wire.Attachment) bool {
			return wire.Val(a.Type) == "as_policy" && slices.ContainsFunc(a.Details, func(d wire.KeyValuePair) bool {
				return wire.Val(d.Name) == "capacityProviderName" && wire.Val(d.Value) == provider
			})
		})
	}
	// The view answers the common case (nothing changed) without a write.
	cl, _ := c.view.get(keyCluster(ns, cluster)).(*clusterRecord)
	if cl == nil {
		return nil
	}
	i := find(cl)
	if i < 0 || attachmentEqual(cl.Attachments[i], want(cl.Attachments[i])) {
		return nil
	}
	return c.update(ctx, func(t tx) error {
		cur := new(clusterRecord)
		found, err := t.get(keyCluster(ns, cluster), cur)
		if err != nil || !found {
			return err
		}
		i := find(cur)
		if i < 0 {
			return nil
		}
		atts := slices.Clone(cur.Attachments)
		atts[i] = want(atts[i])
		cur.Attachments = atts
		return t.put(keyCluster(ns, cluster), cur)
	})
}

func attachmentEqual(a, b wire.Attachment) bool {
	return wire.Val(a.Status) == wire.Val(b.Status) && slices.EqualFunc(a.Details, b.Details, func(x, y wire.KeyValuePair) bool {
		return wire.Val(x.Name) == wire.Val(y.Name) && wire.Val(x.Value) == wire.Val(y.Value)
	})
}

// DrainState is where the managed draining of an instance stands.
type DrainState struct {
	// Managed is false when nothing holds the termination back: no
	// capacity provider has the group, its managed draining is DISABLED,
	// or the instance is not (or no longer) a container instance.
	Managed bool
	// Tasks counts the live non-daemon tasks still on the instance; the
	// instance may be terminated when it is 0.
	Tasks int
}

// DrainForTermination is managed draining (spec §4.7) for the EC2
// instance ec2ID that the Auto Scaling group group is about to terminate:
// when a capacity provider of the namespace has that group with managed
// draining ENABLED, the container instance (in the provider's clusters)
// is set DRAINING if it is ACTIVE — the service scheduler then replaces
// its service tasks elsewhere — and the count of its live non-daemon tasks
// is returned. Standalone tasks are not stopped: the caller waits for
// them (ECS waits up to 48 hours). Calling it again is harmless.
func (c *Control) DrainForTermination(ctx context.Context, ns ecs.Namespace, group, ec2ID string) (DrainState, error) {
	var st DrainState
	for _, p := range c.ManagedProviders() {
		if p.Namespace.Account != ns.Account || p.Namespace.Region != ns.Region || p.Group != group || !p.ManagedDraining {
			continue
		}
		for _, in := range p.Instances {
			if in.EC2InstanceID != ec2ID {
				continue
			}
			st.Managed = true
			st.Tasks += in.Tasks
			if in.Status != instanceActive {
				continue
			}
			_, err := c.UpdateContainerInstancesState(ctx, ns, &wire.UpdateContainerInstancesStateRequest{
				Cluster:            wire.Ptr(in.Cluster),
				ContainerInstances: []string{in.ARN},
				Status:             wire.Ptr(wire.ContainerInstanceStatus(instanceDraining)),
			})
			if err != nil {
				return st, err
			}
		}
	}
	return st, nil
}
