package control

import (
	"context"
	"encoding/json"
	"github.com/berth-dev/berth/internal/store"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// clusterRecord is a stored cluster. Counts and statistics are not stored:
// they are derived from the instances, services and tasks at read time.
type clusterRecord struct {
	wire.Cluster
	CreatedAt time.Time `json:"createdAt"`
}

const (
	statusActive   = "ACTIVE"
	statusInactive = "INACTIVE"
)

// lookupCluster resolves a cluster reference (name or ARN; nil = "default")
// in the view.
func (c *Control) lookupCluster(ns ecs.Namespace, ref *string) (*clusterRecord, string, error) {
	name := "default"
	if ref != nil {
		parent, n, ok := ecs.ResolveName(ns, *ref, "cluster")
		if !ok || parent != "" { // a cluster ARN has no further path segment
			return nil, "", ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
		}
		name = n
	}
	rec, _ := c.view.get(keyCluster(ns, name)).(*clusterRecord)
	if rec == nil {
		return nil, name, ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
	}
	return rec, name, nil
}

// clusterName resolves a cluster reference to a name (nil = "default").
func clusterName(ns ecs.Namespace, ref *string) (string, error) {
	if ref == nil {
		return "default", nil
	}
	parent, n, ok := ecs.ResolveName(ns, *ref, "cluster")
	if !ok || parent != "" {
		return "", ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
	}
	return n, nil
}

// activeCluster reads a cluster inside a transaction and requires it ACTIVE.
func activeCluster(t tx, ns ecs.Namespace, ref *string) (*clusterRecord, error) {
	return readActiveCluster(t, ns, ref, false)
}

// activeClusterShared is activeCluster for a caller that only reads the
// record: it is the view's own when the view holds the revision t reads
// (no decoding; every RunTask and task state change asks), so it must not
// be changed.
func activeClusterShared(t tx, ns ecs.Namespace, ref *string) (*clusterRecord, error) {
	return readActiveCluster(t, ns, ref, true)
}

func readActiveCluster(t tx, ns ecs.Namespace, ref *string, shared bool) (*clusterRecord, error) {
	name, err := clusterName(ns, ref)
	if err != nil {
		return nil, err
	}
	var rec *clusterRecord
	var found bool
	if shared {
		var obj any
		obj, found, err = t.viewed(keyCluster(ns, name))
		rec, _ = obj.(*clusterRecord)
		found = found && rec != nil
	} else {
		rec = new(clusterRecord)
		found, err = t.get(keyCluster(ns, name), rec)
	}
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
	}
	if wire.Val(rec.Status) == statusInactive {
		return nil, ecs.Errorf(ecs.InvalidParameter, ecs.MsgClusterInactive)
	}
	return rec, nil
}

// validateClusterSettings checks containerInsights values.
func validateClusterSettings(settings []wire.ClusterSetting) error {
	for _, s := range settings {
		if s.Name == nil || s.Value == nil {
			return ecs.Errorf(ecs.InvalidParameter, "Cluster settings must have a name and a value.")
		}
		switch *s.Value {
		case "enabled", "disabled", "enhanced":
		default:
			return ecs.Errorf(ecs.InvalidParameter, "The value '%s' for the cluster setting containerInsights is not valid. Valid values are enabled, enhanced or disabled.", *s.Value)
		}
	}
	return nil
}

// mergeClusterSettings applies update over current by setting name.
func mergeClusterSettings(current, update []wire.ClusterSetting) []wire.ClusterSetting {
	out := slices.Clone(current)
	for _, u := range update {
		i := slices.IndexFunc(out, func(s wire.ClusterSetting) bool { return wire.Val(s.Name) == wire.Val(u.Name) })
		if i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}

func serviceConnectDefaults(ns ecs.Namespace, in *wire.ClusterServiceConnectDefaultsRequest) (*wire.ClusterServiceConnectDefaults, error) {
	if in == nil {
		return nil, nil
	}
	n := wire.Val(in.Namespace)
	if n == "" {
		return nil, ecs.Errorf(ecs.InvalidParameter, "serviceConnectDefaults.namespace must not be empty.")
	}
	if _, isARN := ecs.ParseARN(n); !isARN {
		// ECS creates (or finds) a Cloud Map namespace of this name; Berth
		// records its ARN in the namespace's canonical format.
		n = "arn:" + ns.Partition + ":servicediscovery:" + ns.Region + ":" + ns.Account + ":namespace/" + n
	}
	return &wire.ClusterServiceConnectDefaults{Namespace: &n}, nil
}

// CreateCluster creates a cluster, or returns the existing ACTIVE cluster of
// that name unchanged (ECS's idempotent create). An INACTIVE cluster of that
// name is replaced by a new one with the same ARN.
func (c *Control) CreateCluster(ctx context.Context, ns ecs.Namespace, in *wire.CreateClusterRequest) (*wire.CreateClusterResponse, error) {
	name := "default"
	if in.ClusterName != nil {
		name = *in.ClusterName
	}
	if !ecs.ValidName(name) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "Cluster name can have up to 255 characters. Valid characters are letters (uppercase and lowercase), numbers, hyphens and underscores.")
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	scd, err := serviceConnectDefaults(ns, in.ServiceConnectDefaults)
	if err != nil {
		return nil, err
	}
	now := c.nowUTC()
	var out *clusterRecord
	err = c.update(ctx, func(t tx) error {
		cur := new(clusterRecord)
		found, err := t.get(keyCluster(ns, name), cur)
		if err != nil {
			return err
		}
		if found && wire.Val(cur.Status) == statusActive {
			out = cur
			return nil
		}
		rec := &clusterRecord{CreatedAt: now}
		rec.ClusterArn = wire.Ptr(ns.ClusterARN(name))
		rec.ClusterName = wire.Ptr(name)
		rec.Status = wire.Ptr(statusActive)
		rec.Tags = in.Tags
		rec.Configuration = in.Configuration
		rec.ServiceConnectDefaults = scd
		settings := in.Settings
		if !slices.ContainsFunc(settings, func(s wire.ClusterSetting) bool {
			return wire.Val(s.Name) == wire.ClusterSettingNameContainerInsights
		}) {
			v, _ := effectiveSetting(t, ns, ns.Principal, wire.SettingNameContainerInsights)
			settings = append(slices.Clone(settings), wire.ClusterSetting{Name: wire.Ptr(wire.ClusterSettingNameContainerInsights), Value: wire.Ptr(v)})
		}
		rec.Settings = settings
		if len(in.CapacityProviders) > 0 || len(in.DefaultCapacityProviderStrategy) > 0 {
			if err := c.associateProviders(t, ns, rec, in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
				return err
			}
		}
		out = rec
		return t.put(keyCluster(ns, name), rec)
	})
	if err != nil {
		return nil, err
	}
	cl := c.clusterOut(ns, out, allClusterFields)
	return &wire.CreateClusterResponse{Cluster: cl}, nil
}

var allClusterFields = []wire.ClusterField{
	wire.ClusterFieldAttachments, wire.ClusterFieldConfigurations, wire.ClusterFieldSettings, wire.ClusterFieldTags,
}

// clusterOut renders a stored cluster as ECS returns it, with derived counts
// and the members the include flags ask for.
func (c *Control) clusterOut(ns ecs.Namespace, rec *clusterRecord, include []wire.ClusterField) *wire.Cluster {
	cl := rec.Cluster // shallow copy; slices are shared read-only
	name := wire.Val(rec.ClusterName)
	counts := c.clusterCounts(ns, name)
	cl.RegisteredContainerInstancesCount = wire.Ptr(int32(counts.instances))
	cl.RunningTasksCount = wire.Ptr(int32(counts.running))
	cl.PendingTasksCount = wire.Ptr(int32(counts.pending))
	cl.ActiveServicesCount = wire.Ptr(int32(counts.services))
	cl.Statistics = []wire.KeyValuePair{}
	cl.Tags = []wire.Tag{}
	if cl.CapacityProviders == nil {
		cl.CapacityProviders = []string{}
	}
	if cl.DefaultCapacityProviderStrategy == nil {
		cl.DefaultCapacityProviderStrategy = []wire.CapacityProviderStrategyItem{}
	}
	has := func(f wire.ClusterField) bool { return slices.Contains(include, f) }
	if !has(wire.ClusterFieldAttachments) {
		cl.Attachments = nil
	}
	if !has(wire.ClusterFieldConfigurations) {
		cl.Configuration = nil
	}
	if !has(wire.ClusterFieldSettings) {
		cl.Settings = nil
	}
	if has(wire.ClusterFieldTags) {
		cl.Tags = ecs.TagsOrEmpty(rec.Tags)
	}
	if has(wire.ClusterFieldStatistics) {
		cl.Statistics = counts.statistics()
	}
	return &cl
}

type clusterCounts struct {
	instances, running, pending, services int
	byLaunch                              map[string][2]int // launch type → running, pending
	servicesByLaunch                      map[string][2]int // launch type → active, draining
}

// clusterCounts derives the counts of a cluster from the view (spec §9.3):
// instances ACTIVE or DRAINING; services ACTIVE (the statistics also count
// DRAINING ones); tasks whose lastStatus is RUNNING, or PENDING. Tasks in
// the other states (PROVISIONING, ACTIVATING, DEACTIVATING, …) count in
// neither.
func (c *Control) clusterCounts(ns ecs.Namespace, cluster string) clusterCounts {
	cc := clusterCounts{byLaunch: map[string][2]int{}, servicesByLaunch: map[string][2]int{}}
	bump := func(m map[string][2]int, launchType string, i int) {
		v := m[launchType]
		v[i]++
		m[launchType] = v
	}
	c.view.scan(keyInstancePrefix(ns, cluster), "", false, func(_ string, obj any) bool {
		if r, ok := obj.(*instanceRecord); ok && (wire.Val(r.Status) == instanceActive || wire.Val(r.Status) == instanceDraining) {
			cc.instances++
		}
		return true
	})
	c.view.scan(keyServicePrefix(ns, cluster), "", false, func(_ string, obj any) bool {
		if r, ok := serviceStatus(obj); ok {
			switch r.Status {
			case "ACTIVE":
				cc.services++
				bump(cc.servicesByLaunch, r.launchType(), 0)
			case "DRAINING":
				bump(cc.servicesByLaunch, r.launchType(), 1)
			}
		}
		return true
	})
	cc.byLaunch = c.view.index.clusterCounts(nsPrefix(ns) + cluster)
	for _, v := range cc.byLaunch {
		cc.running += v[0]
		cc.pending += v[1]
	}
	return cc
}

// statistics renders the STATISTICS include of DescribeClusters.
func (cc clusterCounts) statistics() []wire.KeyValuePair {
	kv := func(k string, v int) wire.KeyValuePair {
		return wire.KeyValuePair{Name: wire.Ptr(k), Value: wire.Ptr(itoa(v))}
	}
	return []wire.KeyValuePair{
		kv("runningEC2TasksCount", cc.byLaunch["EC2"][0]),
		kv("runningFargateTasksCount", cc.byLaunch["FARGATE"][0]),
		kv("pendingEC2TasksCount", cc.byLaunch["EC2"][1]),
		kv("pendingFargateTasksCount", cc.byLaunch["FARGATE"][1]),
		kv("runningExternalTasksCount", cc.byLaunch["EXTERNAL"][0]),
		kv("pendingExternalTasksCount", cc.byLaunch["EXTERNAL"][1]),
		kv("activeEC2ServiceCount", cc.servicesByLaunch["EC2"][0]),
		kv("activeFargateServiceCount", cc.servicesByLaunch["FARGATE"][0]),
		kv("drainingEC2ServiceCount", cc.servicesByLaunch["EC2"][1]),
		kv("drainingFargateServiceCount", cc.servicesByLaunch["FARGATE"][1]),
		kv("activeExternalServiceCount", cc.servicesByLaunch["EXTERNAL"][0]),
		kv("drainingExternalServiceCount", cc.servicesByLaunch["EXTERNAL"][1]),
	}
}

// DescribeClusters describes clusters by name or ARN (none = "default").
// Unknown clusters are failures with reason MISSING, never an exception;
// INACTIVE clusters are returned with their status.
func (c *Control) DescribeClusters(ctx context.Context, ns ecs.Namespace, in *wire.DescribeClustersRequest) (*wire.DescribeClustersResponse, error) {
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	if len(refs) > 100 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The number of clusters to describe must be 100 or fewer.")
	}
	out := &wire.DescribeClustersResponse{Clusters: make([]wire.Cluster, 0, len(refs)), Failures: []wire.Failure{}}
	for _, ref := range refs {
		rec, name, err := c.lookupCluster(ns, &ref)
		if err != nil {
			arn := ref
			if name != "" {
				arn = ns.ClusterARN(name)
			}
			out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, *c.clusterOut(ns, rec, in.Include))
	}
	return out, nil
}

// ListClusters lists the ARNs of the namespace's clusters that are not
// INACTIVE, in name order, paginated (1–100, default 100).
func (c *Control) ListClusters(ctx context.Context, ns ecs.Namespace, in *wire.ListClustersRequest) (*wire.ListClustersResponse, error) {
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	arns, next, err := page(c, "ListClusters", "", in.NextToken, n, nsPrefix(ns)+"cluster/", false, func(_ string, obj any) (string, bool) {
		r, ok := obj.(*clusterRecord)
		if !ok || wire.Val(r.Status) == statusInactive {
			return "", false
		}
		return wire.Val(r.ClusterArn), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListClustersResponse{ClusterArns: arns, NextToken: next}, nil
}

// UpdateCluster changes a cluster's settings, configuration and Service
// Connect defaults.
func (c *Control) UpdateCluster(ctx context.Context, ns ecs.Namespace, in *wire.UpdateClusterRequest) (*wire.UpdateClusterResponse, error) {
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	scd, err := serviceConnectDefaults(ns, in.ServiceConnectDefaults)
	if err != nil {
		return nil, err
	}
	var out *clusterRecord
	err = c.update(ctx, func(t tx) error {
		rec, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		if in.Settings != nil {
			rec.Settings = mergeClusterSettings(rec.Settings, in.Settings)
		}
		if in.Configuration != nil {
			rec.Configuration = in.Configuration
		}
		if in.ServiceConnectDefaults != nil {
			rec.ServiceConnectDefaults = scd
		}
		out = rec
		return t.put(keyCluster(ns, wire.Val(rec.ClusterName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateClusterResponse{Cluster: c.clusterOut(ns, out, allClusterFields)}, nil
}

// UpdateClusterSettings merges settings into a cluster's settings.
func (c *Control) UpdateClusterSettings(ctx context.Context, ns ecs.Namespace, in *wire.UpdateClusterSettingsRequest) (*wire.UpdateClusterSettingsResponse, error) {
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	var out *clusterRecord
	err := c.update(ctx, func(t tx) error {
		rec, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		rec.Settings = mergeClusterSettings(rec.Settings, in.Settings)
		out = rec
		return t.put(keyCluster(ns, wire.Val(rec.ClusterName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateClusterSettingsResponse{Cluster: c.clusterOut(ns, out, []wire.ClusterField{wire.ClusterFieldSettings})}, nil
}

// DeleteCluster makes a cluster INACTIVE. It is refused while the cluster has
// container instances (ACTIVE or DRAINING), services (ACTIVE or DRAINING)
// or tasks that are not STOPPED, in that order of checks. Deleting an
// INACTIVE cluster returns it unchanged.
func (c *Control) DeleteCluster(ctx context.Context, ns ecs.Namespace, in *wire.DeleteClusterRequest) (*wire.DeleteClusterResponse, error) {
	name, err := clusterName(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	var out *clusterRecord
	err = c.update(ctx, func(t tx) error {
		rec := new(clusterRecord)
		found, err := t.get(keyCluster(ns, name), rec)
		if err != nil {
			return err
		}
		if !found {
			return ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
		}
		out = rec
		if wire.Val(rec.Status) == statusInactive {
			return nil
		}
		if busy, err := anyRecord(t, keyInstancePrefix(ns, name), func(r *statusRecord) bool {
			return r.Status != "INACTIVE"
		}); err != nil || busy {
			return orErr(err, ecs.Errorf(ecs.ClusterContainsContainerInstances, ecs.MsgContainsInstances))
		}
		if busy, err := anyRecord(t, keyServicePrefix(ns, name), func(r *statusRecord) bool {
			return r.Status == "ACTIVE" || r.Status == "DRAINING"
		}); err != nil || busy {
			return orErr(err, ecs.Errorf(ecs.ClusterContainsServices, ecs.MsgContainsServices))
		}
		if busy, err := anyRecord(t, keyTaskPrefix(ns, name), func(r *statusRecord) bool {
			return r.LastStatus != "STOPPED" && r.LastStatus != "DELETED"
		}); err != nil || busy {
			return orErr(err, ecs.Errorf(ecs.ClusterContainsTasks, ecs.MsgContainsTasks))
		}
		rec.Status = wire.Ptr(statusInactive)
		rec.CapacityProviders = nil
		rec.DefaultCapacityProviderStrategy = nil
		rec.Attachments = nil
		rec.AttachmentsStatus = nil
		return t.put(keyCluster(ns, name), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteClusterResponse{Cluster: c.clusterOut(ns, out, allClusterFields)}, nil
}

// orErr returns err if set, else alt.
func orErr(err error, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// anyRecord reports whether any record under prefix satisfies fn.
func anyRecord(t tx, prefix string, fn func(*statusRecord) bool) (bool, error) {
	found := false
	err := t.List(prefix, "", func(kv store.KV) error {
		var r statusRecord
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return err
		}
		if fn(&r) {
			found = true
			return store.ErrStop
		}
		return nil
	})
	return found, err
}
