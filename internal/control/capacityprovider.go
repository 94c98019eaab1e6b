package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/berth-dev/berth/internal/store"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// capacityProviderRecord is a stored Auto Scaling group capacity provider.
// FARGATE and FARGATE_SPOT are not stored: they exist in every namespace.
type capacityProviderRecord struct {
	wire.CapacityProvider
	CreatedAt time.Time `json:"createdAt"`
}

// The built-in Fargate capacity providers.
const (
	ProviderFargate     = "FARGATE"
	ProviderFargateSpot = "FARGATE_SPOT"
)

// MaxProvidersPerCluster is the quota of capacity providers per cluster.
const MaxProvidersPerCluster = 20

func isFargateProvider(name string) bool {
	return name == ProviderFargate || name == ProviderFargateSpot
}

func builtinProvider(ns ecs.Namespace, name string) *wire.CapacityProvider {
	return &wire.CapacityProvider{
		CapacityProviderArn: wire.Ptr(ns.CapacityProviderARN(name)),
		Name:                wire.Ptr(name),
		Status:              wire.Ptr(wire.CapacityProviderStatusActive),
		Type:                wire.Ptr(wire.CapacityProviderTypeFargate),
		Tags:                []wire.Tag{},
	}
}

// resolveProviderName turns a capacity provider name or ARN into a name.
func resolveProviderName(ns ecs.Namespace, ref string) (string, bool) {
	parent, n, ok := ecs.ResolveName(ns, ref, "capacity-provider")
	return n, ok && parent == ""
}

// validProviderName reports ECS's naming rule for created providers.
func validProviderName(name string) bool {
	l := strings.ToLower(name)
	return ecs.ValidName(name) && !strings.HasPrefix(l, "aws") && !strings.HasPrefix(l, "ecs") && !strings.HasPrefix(l, "fargate")
}

// managedScalingDefaults fills ECS's defaults into a managed scaling block
// (status DISABLED when the block is absent, ENABLED when it is present
// without a status; targetCapacity 100, steps 1..10000, warm-up 300 s) and
// checks that the minimum step does not exceed the maximum.
func managedScalingDefaults(ms *wire.ManagedScaling) (*wire.ManagedScaling, error) {
	out := wire.ManagedScaling{}
	if ms != nil {
		out = *ms
		if out.Status == nil {
			out.Status = wire.Ptr(wire.ManagedScalingStatusEnabled)
		}
	} else {
		out.Status = wire.Ptr(wire.ManagedScalingStatusDisabled)
	}
	if out.TargetCapacity == nil {
		out.TargetCapacity = wire.Ptr(int32(100))
	}
	if out.MinimumScalingStepSize == nil {
		out.MinimumScalingStepSize = wire.Ptr(int32(1))
	}
	if out.MaximumScalingStepSize == nil {
		out.MaximumScalingStepSize = wire.Ptr(int32(10000))
	}
	if out.InstanceWarmupPeriod == nil {
		out.InstanceWarmupPeriod = wire.Ptr(int32(300))
	}
	if *out.MinimumScalingStepSize > *out.MaximumScalingStepSize {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The managed scaling minimumScalingStepSize must be less than or equal to maximumScalingStepSize.")
	}
	return &out, nil
}

// checkTerminationProtection enforces that managed termination protection
// needs managed scaling.
func checkTerminationProtection(p *wire.AutoScalingGroupProvider) error {
	if wire.Val(p.ManagedTerminationProtection) == wire.ManagedTerminationProtectionEnabled &&
		wire.Val(p.ManagedScaling.Status) != wire.ManagedScalingStatusEnabled {
		return ecs.Errorf(ecs.InvalidParameter, "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, managed scaling must also be enabled.")
	}
	return nil
}

// checkGroupProtection enforces spec §4.6: managed termination protection
// needs a group that protects new instances from scale-in. A group this
// server does not hold (not created through its Auto Scaling API) is not
// checked.
func (c *Control) checkGroupProtection(ns ecs.Namespace, p *wire.AutoScalingGroupProvider) error {
	if wire.Val(p.ManagedTerminationProtection) != wire.ManagedTerminationProtectionEnabled {
		return nil
	}
	g, _ := c.view.get(keyASG(ns, asgName(wire.Val(p.AutoScalingGroupArn)))).(*asgRecord)
	if g != nil && !g.NewInstancesProtectedFromScaleIn {
		return ecs.Errorf(ecs.InvalidParameter, "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.")
	}
	return nil
}

// CreateCapacityProvider creates an Auto Scaling group capacity provider.
// The group ARN is stored as given. Managed Instances providers are not
// supported (UnsupportedFeatureException).
func (c *Control) CreateCapacityProvider(ctx context.Context, ns ecs.Namespace, in *wire.CreateCapacityProviderRequest) (*wire.CreateCapacityProviderResponse, error) {
	name := wire.Val(in.Name)
	if isFargateProvider(name) || !validProviderName(name) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The capacity provider name is invalid. Up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens are allowed, and the name cannot start with 'aws', 'ecs' or 'fargate'.")
	}
	if in.ManagedInstancesProvider != nil || in.Cluster != nil {
		return nil, ecs.Errorf(ecs.UnsupportedFeature, "Managed Instances capacity providers are not supported by Berth.")
	}
	if in.AutoScalingGroupProvider == nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "An autoScalingGroupProvider must be specified.")
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	asg := *in.AutoScalingGroupProvider
	arn := wire.Val(asg.AutoScalingGroupArn)
	if a, ok := ecs.ParseARN(arn); !ok || a.Service != "autoscaling" || !strings.HasPrefix(a.Resource, "autoScalingGroup:") {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The specified Auto Scaling group ARN '%s' is not valid. Specify a valid Auto Scaling group ARN and try again.", arn)
	}
	ms, err := managedScalingDefaults(asg.ManagedScaling)
	if err != nil {
		return nil, err
	}
	asg.ManagedScaling = ms
	if asg.ManagedTerminationProtection == nil {
		asg.ManagedTerminationProtection = wire.Ptr(wire.ManagedTerminationProtectionDisabled)
	}
	if asg.ManagedDraining == nil {
		asg.ManagedDraining = wire.Ptr(wire.ManagedDrainingEnabled)
	}
	if err := checkTerminationProtection(&asg); err != nil {
		return nil, err
	}
	if err := c.checkGroupProtection(ns, &asg); err != nil {
		return nil, err
	}
	now := c.nowUTC()
	rec := &capacityProviderRecord{CreatedAt: now}
	rec.CapacityProviderArn = wire.Ptr(ns.CapacityProviderARN(name))
	rec.Name = wire.Ptr(name)
	rec.Status = wire.Ptr(wire.CapacityProviderStatusActive)
	rec.Type = wire.Ptr(wire.CapacityProviderTypeEc2Autoscaling)
	rec.AutoScalingGroupProvider = &asg
	rec.Tags = in.Tags
	err = c.update(ctx, func(t tx) error {
		cur := new(capacityProviderRecord)
		found, err := t.get(keyCP(ns, name), cur)
		if err != nil {
			return err
		}
		if found && wire.Val(cur.Status) != wire.CapacityProviderStatusInactive {
			return ecs.Errorf(ecs.InvalidParameter, "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
		}
		// One Auto Scaling group backs at most one capacity provider.
		var dup bool
		err = t.List(nsPrefix(ns)+"cp/", "", func(kv store.KV) error {
			var o capacityProviderRecord
			if err := json.Unmarshal(kv.Value, &o); err != nil {
				return err
			}
			if wire.Val(o.Status) != wire.CapacityProviderStatusInactive && o.AutoScalingGroupProvider != nil &&
				wire.Val(o.AutoScalingGroupProvider.AutoScalingGroupArn) == arn {
				dup = true
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if dup {
			return ecs.Errorf(ecs.InvalidParameter, "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.")
		}
		return t.put(keyCP(ns, name), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.CreateCapacityProviderResponse{CapacityProvider: renderProvider(rec)}, nil
}

// UpdateCapacityProvider changes managed scaling, managed termination
// protection and managed draining of an Auto Scaling group provider. The
// change applies at once (there is no asynchronous work behind it yet), so
// the provider answers with updateStatus UPDATE_COMPLETE.
func (c *Control) UpdateCapacityProvider(ctx context.Context, ns ecs.Namespace, in *wire.UpdateCapacityProviderRequest) (*wire.UpdateCapacityProviderResponse, error) {
	if in.ManagedInstancesProvider != nil || in.Cluster != nil {
		return nil, ecs.Errorf(ecs.UnsupportedFeature, "Managed Instances capacity providers are not supported by Berth.")
	}
	var out *capacityProviderRecord
	err := c.update(ctx, func(t tx) error {
		rec, err := storedProvider(t, ns, wire.Val(in.Name), "updated", ecs.InvalidParameter)
		if err != nil {
			return err
		}
		name := wire.Val(rec.Name)
		asg := *rec.AutoScalingGroupProvider
		if u := in.AutoScalingGroupProvider; u != nil {
			if u.ManagedScaling != nil {
				merged := *asg.ManagedScaling
				m := u.ManagedScaling
				if m.Status != nil {
					merged.Status = m.Status
				}
				if m.TargetCapacity != nil {
					merged.TargetCapacity = m.TargetCapacity
				}
				if m.MinimumScalingStepSize != nil {
					merged.MinimumScalingStepSize = m.MinimumScalingStepSize
				}
				if m.MaximumScalingStepSize != nil {
					merged.MaximumScalingStepSize = m.MaximumScalingStepSize
				}
				if m.InstanceWarmupPeriod != nil {
					merged.InstanceWarmupPeriod = m.InstanceWarmupPeriod
				}
				ms, err := managedScalingDefaults(&merged)
				if err != nil {
					return err
				}
				asg.ManagedScaling = ms
			}
			if u.ManagedTerminationProtection != nil {
				asg.ManagedTerminationProtection = u.ManagedTerminationProtection
			}
			if u.ManagedDraining != nil {
				asg.ManagedDraining = u.ManagedDraining
			}
		}
		if err := checkTerminationProtection(&asg); err != nil {
			return err
		}
		if err := c.checkGroupProtection(ns, &asg); err != nil {
			return err
		}
		if err := syncScalingAttachments(t, ns, name, wire.Val(asg.ManagedScaling.Status) == wire.ManagedScalingStatusEnabled); err != nil {
			return err
		}
		rec.AutoScalingGroupProvider = &asg
		rec.UpdateStatus = wire.Ptr(wire.CapacityProviderUpdateStatusUpdateComplete)
		rec.UpdateStatusReason = nil
		out = rec
		return t.put(keyCP(ns, name), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateCapacityProviderResponse{CapacityProvider: renderProvider(out)}, nil
}

// DeleteCapacityProvider deletes an Auto Scaling group provider: it becomes
// INACTIVE with updateStatus DELETE_COMPLETE and stays describable by name.
// It is refused (ClientException) while the provider is associated with a
// cluster or named in a service's strategy, and for FARGATE/FARGATE_SPOT.
func (c *Control) DeleteCapacityProvider(ctx context.Context, ns ecs.Namespace, in *wire.DeleteCapacityProviderRequest) (*wire.DeleteCapacityProviderResponse, error) {
	var out *capacityProviderRecord
	err := c.update(ctx, func(t tx) error {
		rec, err := storedProvider(t, ns, wire.Val(in.CapacityProvider), "deleted", ecs.ClientError)
		if err != nil {
			return err
		}
		name := wire.Val(rec.Name)
		clusters, err := clustersWithProvider(t, ns, name)
		if err != nil {
			return err
		}
		if len(clusters) > 0 {
			return ecs.Errorf(ecs.ClientError, "The capacity provider cannot be deleted because it is associated with cluster: %s. Remove the capacity provider from the cluster and try again.", wire.Val(clusters[0].ClusterName))
		}
		inUse, err := serviceUsesProvider(t, nsPrefix(ns)+"svc/", name)
		if err != nil {
			return err
		}
		if inUse {
			return ecs.Errorf(ecs.ClientError, "The capacity provider cannot be deleted because it is in use by a service.")
		}
		rec.Status = wire.Ptr(wire.CapacityProviderStatusInactive)
		rec.UpdateStatus = wire.Ptr(wire.CapacityProviderUpdateStatusDeleteComplete)
		out = rec
		return t.put(keyCP(ns, name), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteCapacityProviderResponse{CapacityProvider: renderProvider(out)}, nil
}

// DescribeCapacityProviders describes the named providers (name or ARN; up
// to 100; unknown ones are MISSING failures), or, with no names, every
// provider of the namespace (FARGATE and FARGATE_SPOT first, then by name,
// INACTIVE ones left out), paginated 1–10 (default 10). Tags only with
// include TAGS.
func (c *Control) DescribeCapacityProviders(ctx context.Context, ns ecs.Namespace, in *wire.DescribeCapacityProvidersRequest) (*wire.DescribeCapacityProvidersResponse, error) {
	if in.Cluster != nil {
		return nil, ecs.Errorf(ecs.UnsupportedFeature, "Cluster-scoped (Managed Instances) capacity providers are not supported by Berth.")
	}
	withTags := slices.Contains(in.Include, wire.CapacityProviderFieldTags)
	render := func(cp wire.CapacityProvider) wire.CapacityProvider {
		if withTags {
			cp.Tags = ecs.TagsOrEmpty(cp.Tags)
		} else {
			cp.Tags = nil
		}
		return cp
	}
	out := &wire.DescribeCapacityProvidersResponse{CapacityProviders: []wire.CapacityProvider{}, Failures: []wire.Failure{}}
	if len(in.CapacityProviders) > 0 {
		if len(in.CapacityProviders) > 100 {
			return nil, ecs.Errorf(ecs.InvalidParameter, "The number of capacity providers to describe must be 100 or fewer.")
		}
		for _, ref := range in.CapacityProviders {
			name, ok := resolveProviderName(ns, ref)
			switch {
			case ok && isFargateProvider(name):
				out.CapacityProviders = append(out.CapacityProviders, render(*builtinProvider(ns, name)))
				continue
			case ok:
				if rec, _ := c.view.get(keyCP(ns, name)).(*capacityProviderRecord); rec != nil {
					out.CapacityProviders = append(out.CapacityProviders, render(rec.CapacityProvider))
					continue
				}
			}
			arn := ref
			if ok {
				arn = ns.CapacityProviderARN(name)
			}
			out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
		}
		return out, nil
	}
	n, err := pageSize(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	// The built-ins sort before every stored provider: their page keys are
	// "!FARGATE" and "!FARGATE_SPOT" ('!' sorts below every name character).
	after, err := c.decodeToken("DescribeCapacityProviders", nsPrefix(ns), in.NextToken)
	if err != nil {
		return nil, err
	}
	var last string
	for _, b := range []string{ProviderFargate, ProviderFargateSpot} {
		k := "!" + b
		if after != "" && k <= after {
			continue
		}
		if len(out.CapacityProviders) == n {
			t := c.encodeToken("DescribeCapacityProviders", nsPrefix(ns), last)
			out.NextToken = &t
			return out, nil
		}
		out.CapacityProviders = append(out.CapacityProviders, render(*builtinProvider(ns, b)))
		last = k
	}
	startAfter := ""
	if after != "" && !strings.HasPrefix(after, "!") {
		startAfter = after
	}
	more := false
	c.view.scan(nsPrefix(ns)+"cp/", startAfter, false, func(key string, obj any) bool {
		rec, ok := obj.(*capacityProviderRecord)
		if !ok || wire.Val(rec.Status) == wire.CapacityProviderStatusInactive {
			return true
		}
		if len(out.CapacityProviders) == n {
			more = true
			return false
		}
		out.CapacityProviders = append(out.CapacityProviders, render(rec.CapacityProvider))
		last = key
		return true
	})
	if more {
		t := c.encodeToken("DescribeCapacityProviders", nsPrefix(ns), last)
		out.NextToken = &t
	}
	return out, nil
}

// validateStrategyShape checks a capacity provider strategy's shape: at most
// 20 items, short names only, no duplicates, at most one base, and no mix of
// Fargate and Auto Scaling group providers. The all-weights-zero rule is
// checked where a strategy is used, not here (spec §3.2).
func validateStrategyShape(strategy []wire.CapacityProviderStrategyItem) error {
	if len(strategy) > MaxProvidersPerCluster {
		return ecs.Errorf(ecs.InvalidParameter, "A capacity provider strategy can contain a maximum of %d capacity providers.", MaxProvidersPerCluster)
	}
	seen := map[string]bool{}
	bases, fargate, asg := 0, false, false
	for _, it := range strategy {
		name := wire.Val(it.CapacityProvider)
		if strings.HasPrefix(name, "arn:") {
			return ecs.Errorf(ecs.InvalidParameter, "The capacity provider strategy must specify capacity providers by name, not by ARN: %s.", name)
		}
		if seen[name] {
			return ecs.Errorf(ecs.InvalidParameter, "The capacity provider strategy contains a duplicate capacity provider: %s.", name)
		}
		seen[name] = true
		if wire.Val(it.Base) > 0 {
			bases++
		}
		if isFargateProvider(name) {
			fargate = true
		} else {
			asg = true
		}
	}
	if bases > 1 {
		return ecs.Errorf(ecs.InvalidParameter, "A capacity provider strategy can only have one capacity provider with a base value greater than zero.")
	}
	if fargate && asg {
		return ecs.Errorf(ecs.InvalidParameter, "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.")
	}
	return nil
}

// associateProviders applies spec §3.5 to rec: it replaces the cluster's
// providers and default strategy after checking that every provider exists,
// that managed-scaling providers are not associated with another cluster,
// that removed providers are not in use, and that the default strategy only
// names associated providers.
func (c *Control) associateProviders(t tx, ns ecs.Namespace, rec *clusterRecord, providers []string, strategy []wire.CapacityProviderStrategyItem) error {
	if len(providers) > MaxProvidersPerCluster {
		return ecs.Errorf(ecs.LimitExceeded, "A cluster can have a maximum of %d capacity providers associated with it.", MaxProvidersPerCluster)
	}
	if err := validateStrategyShape(strategy); err != nil {
		return err
	}
	cluster := wire.Val(rec.ClusterName)
	names := make([]string, 0, len(providers))
	var attachments []wire.Attachment
	for _, ref := range providers {
		name, ok := resolveProviderName(ns, ref)
		if !ok {
			return ecs.Errorf(ecs.InvalidParameter, "The specified capacity provider '%s' is not valid.", ref)
		}
		if slices.Contains(names, name) {
			return ecs.Errorf(ecs.InvalidParameter, "The capacity provider '%s' is specified more than once.", name)
		}
		names = append(names, name)
		if isFargateProvider(name) {
			continue
		}
		cp := new(capacityProviderRecord)
		found, err := t.get(keyCP(ns, name), cp)
		if err != nil {
			return err
		}
		if !found || wire.Val(cp.Status) == wire.CapacityProviderStatusInactive {
			return ecs.Errorf(ecs.InvalidParameter, "The specified capacity provider '%s' does not exist. Specify a valid capacity provider and try again.", name)
		}
		if wire.Val(cp.AutoScalingGroupProvider.ManagedScaling.Status) == wire.ManagedScalingStatusEnabled {
			others, err := clustersWithProvider(t, ns, name)
			if err != nil {
				return err
			}
			others = slices.DeleteFunc(others, func(o *clusterRecord) bool { return wire.Val(o.ClusterName) == cluster })
			if len(others) > 0 {
				other := wire.Val(others[0].ClusterName)
				return ecs.Errorf(ecs.InvalidParameter, "The capacity provider '%s' uses managed scaling and is already associated with cluster '%s'. A capacity provider with managed scaling enabled can be associated with only one cluster.", name, other)
			}
			attachments = append(attachments, scalingAttachment(ns, cluster, name))
		}
	}
	for _, it := range strategy {
		if !slices.Contains(names, wire.Val(it.CapacityProvider)) {
			return ecs.Errorf(ecs.InvalidParameter, "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	// Providers being removed must not be in use by tasks or services.
	for _, old := range rec.CapacityProviders {
		if slices.Contains(names, old) {
			continue
		}
		inUse, err := anyRecord(t, keyTaskPrefix(ns, cluster), func(r *statusRecord) bool {
			return r.CapacityProviderName == old && r.LastStatus != "STOPPED" && r.LastStatus != "DELETED"
		})
		if err == nil && !inUse {
			inUse, err = serviceUsesProvider(t, keyServicePrefix(ns, cluster), old)
		}
		if err != nil {
			return err
		}
		if inUse {
			return ecs.Errorf(ecs.ResourceInUse, "The specified capacity provider is in use and cannot be removed.")
		}
	}
	rec.CapacityProviders = names
	rec.DefaultCapacityProviderStrategy = normaliseStrategy(strategy)
	rec.Attachments = attachments
	// The association needs no asynchronous work in Berth yet, so it is
	// complete when the call returns.
	rec.AttachmentsStatus = wire.Ptr("UPDATE_COMPLETE")
	return nil
}

// syncScalingAttachments keeps the clusters a provider is associated with in
// step with its managed scaling: enabled, the provider may be associated
// with one cluster only (spec §3.5) and that cluster shows its scaling
// policy attachment; disabled, the attachment goes.
func syncScalingAttachments(t tx, ns ecs.Namespace, provider string, enabled bool) error {
	clusters, err := clustersWithProvider(t, ns, provider)
	if err != nil {
		return err
	}
	if enabled && len(clusters) > 1 {
		return ecs.Errorf(ecs.InvalidParameter, "The capacity provider '%s' is associated with %d clusters. A capacity provider with managed scaling enabled can be associated with only one cluster; remove it from the other clusters first.", provider, len(clusters))
	}
	for _, cl := range clusters {
		name := wire.Val(cl.ClusterName)
		atts := slices.DeleteFunc(slices.Clone(cl.Attachments), func(a wire.Attachment) bool {
			return slices.ContainsFunc(a.Details, func(d wire.KeyValuePair) bool {
				return wire.Val(d.Name) == "capacityProviderName" && wire.Val(d.Value) == provider
			})
		})
		if enabled {
			atts = append(atts, scalingAttachment(ns, name, provider))
		}
		cl.Attachments = atts
		if err := t.put(keyCluster(ns, name), cl); err != nil {
			return err
		}
	}
	return nil
}

// clustersWithProvider returns the non-INACTIVE clusters (read inside t)
// that have the provider associated.
func clustersWithProvider(t tx, ns ecs.Namespace, provider string) ([]*clusterRecord, error) {
	var out []*clusterRecord
	err := t.List(nsPrefix(ns)+"cluster/", "", func(kv store.KV) error {
		cl := new(clusterRecord)
		if err := json.Unmarshal(kv.Value, cl); err != nil {
			return err
		}
		if wire.Val(cl.Status) != statusInactive && slices.Contains(cl.CapacityProviders, provider) {
			out = append(out, cl)
		}
		return nil
	})
	return out, err
}

// serviceUsesProvider reports whether a non-INACTIVE service under prefix
// names the provider in its strategy.
func serviceUsesProvider(t tx, prefix, provider string) (bool, error) {
	return anyRecord(t, prefix, func(r *statusRecord) bool {
		return r.Status != statusInactive && slices.ContainsFunc(r.Strategy, func(s strategyRef) bool {
			return s.CapacityProvider == provider
		})
	})
}

// renderProvider returns a stored provider as ECS answers a mutation of it
// (tags always present).
func renderProvider(rec *capacityProviderRecord) *wire.CapacityProvider {
	cp := rec.CapacityProvider
	cp.Tags = ecs.TagsOrEmpty(cp.Tags)
	return &cp
}

// errNoProvider is the answer for a provider that does not exist.
func errNoProvider(code ecs.Code) error {
	return ecs.Errorf(code, "The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
}

// storedProvider resolves a provider reference for Update/Delete: the
// built-ins are refused with verb in the message, and the provider must
// exist and not be INACTIVE (else errNoProvider(code)).
func storedProvider(t tx, ns ecs.Namespace, ref, verb string, code ecs.Code) (*capacityProviderRecord, error) {
	name, ok := resolveProviderName(ns, ref)
	if !ok {
		return nil, errNoProvider(code)
	}
	if isFargateProvider(name) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The %s capacity provider is managed by Amazon ECS and cannot be %s.", name, verb)
	}
	rec := new(capacityProviderRecord)
	found, err := t.get(keyCP(ns, name), rec)
	if err != nil {
		return nil, err
	}
	if !found || wire.Val(rec.Status) == wire.CapacityProviderStatusInactive {
		return nil, errNoProvider(code)
	}
	return rec, nil
}

// normaliseStrategy fills ECS's defaults (weight 0, base 0) into a strategy.
func normaliseStrategy(in []wire.CapacityProviderStrategyItem) []wire.CapacityProviderStrategyItem {
	out := make([]wire.CapacityProviderStrategyItem, len(in))
	for i, it := range in {
		out[i] = wire.CapacityProviderStrategyItem{
			CapacityProvider: it.CapacityProvider,
			Weight:           wire.Ptr(wire.Val(it.Weight)),
			Base:             wire.Ptr(wire.Val(it.Base)),
		}
	}
	return out
}

// scalingAttachment is the cluster attachment ECS shows for a provider whose
// managed scaling policy it maintains.
func scalingAttachment(ns ecs.Namespace, cluster, provider string) wire.Attachment {
	sum := sha256.Sum256([]byte(ns.Account + "/" + ns.Region + "/" + cluster + "/" + provider))
	h := hex.EncodeToString(sum[:])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return wire.Attachment{
		Id:     wire.Ptr(id),
		Type:   wire.Ptr("as_policy"),
		Status: wire.Ptr("CREATED"),
		Details: []wire.KeyValuePair{
			{Name: wire.Ptr("capacityProviderName"), Value: wire.Ptr(provider)},
			{Name: wire.Ptr("scalingPolicyName"), Value: wire.Ptr("ECSManagedAutoScalingPolicy-" + id)},
		},
	}
}

// PutClusterCapacityProviders replaces a cluster's capacity providers and
// default strategy (spec §3.5).
func (c *Control) PutClusterCapacityProviders(ctx context.Context, ns ecs.Namespace, in *wire.PutClusterCapacityProvidersRequest) (*wire.PutClusterCapacityProvidersResponse, error) {
	var out *clusterRecord
	err := c.update(ctx, func(t tx) error {
		rec, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		if err := c.associateProviders(t, ns, rec, in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
			return err
		}
		out = rec
		return t.put(keyCluster(ns, wire.Val(rec.ClusterName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.PutClusterCapacityProvidersResponse{Cluster: c.clusterOut(ns, out, allClusterFields)}, nil
}
