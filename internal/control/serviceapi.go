package control

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// CreateService creates a service (spec §2.2, §7, §8.1). With the ECS
// deployment controller it needs a task definition and starts the first
// deployment; the service controller then launches its tasks. An EXTERNAL
// service holds only service-level members; its revisions are task sets.
// A name already ACTIVE or DRAINING in the cluster, or a client token
// reused with other parameters, is InvalidParameterException "Creation of
// service was not idempotent." unless the request is identical, in which
// case the existing service is returned unchanged.
func (c *Control) CreateService(ctx context.Context, ns ecs.Namespace, in *wire.CreateServiceRequest) (*wire.CreateServiceResponse, error) {
	name := wire.Val(in.ServiceName)
	if !ecs.ValidName(name) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "Service name can have up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	if tok := wire.Val(in.ClientToken); len(tok) > 36 || strings.ContainsFunc(tok, func(r rune) bool { return r < 33 || r > 126 }) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "clientToken can have up to 36 ASCII characters between 33 and 126.")
	}
	controller := wire.DeploymentControllerTypeEcs
	if in.DeploymentController != nil && in.DeploymentController.Type != nil {
		controller = *in.DeploymentController.Type
	}
	external := controller == wire.DeploymentControllerTypeExternal
	if controller == wire.DeploymentControllerTypeCodeDeploy {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The CODE_DEPLOY deployment controller is not supported. Use ECS or EXTERNAL.")
	}
	strategy := wire.Val(in.SchedulingStrategy)
	if strategy == "" {
		strategy = wire.SchedulingStrategyReplica
	}
	daemon := strategy == wire.SchedulingStrategyDaemon
	desired := wire.Val(in.DesiredCount)
	switch {
	case daemon && external:
		return nil, ecs.Errorf(ecs.InvalidParameter, "The DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller.")
	case daemon && desired != 0:
		return nil, ecs.Errorf(ecs.InvalidParameter, "The desiredCount parameter is not valid for a service with the DAEMON scheduling strategy.")
	case daemon && len(in.PlacementStrategy) > 0:
		return nil, ecs.Errorf(ecs.InvalidParameter, "Placement strategies are not supported with the DAEMON scheduling strategy.")
	case daemon && len(in.CapacityProviderStrategy) > 0:
		return nil, ecs.Errorf(ecs.InvalidParameter, "Capacity provider strategies are not supported with the DAEMON scheduling strategy.")
	case !daemon && !external && in.DesiredCount == nil:
		return nil, ecs.Errorf(ecs.InvalidParameter, "The desiredCount parameter is required for a service with the REPLICA scheduling strategy.")
	case desired < 0 || desired > MaxServiceDesiredCount:
		return nil, ecs.Errorf(ecs.InvalidParameter, "desiredCount must be between 0 and %d.", MaxServiceDesiredCount)
	case wire.Val(in.HealthCheckGracePeriodSeconds) < 0:
		return nil, ecs.Errorf(ecs.InvalidParameter, "healthCheckGracePeriodSeconds must not be negative.")
	case external && (in.TaskDefinition != nil || in.LaunchType != nil || len(in.CapacityProviderStrategy) > 0 || in.PlatformVersion != nil ||
		len(in.LoadBalancers) > 0 || in.NetworkConfiguration != nil || len(in.ServiceRegistries) > 0):
		return nil, ecs.Errorf(ecs.InvalidParameter, "With the EXTERNAL deployment controller, taskDefinition, launchType, capacityProviderStrategy, platformVersion, loadBalancers, networkConfiguration and serviceRegistries belong to task sets.")
	case !external && in.TaskDefinition == nil:
		return nil, ecs.Errorf(ecs.InvalidParameter, "TaskDefinition must be specified.")
	}
	if p := wire.Val(in.PropagateTags); p != "" && !slices.Contains(p.Values(), p) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "propagateTags must be one of TASK_DEFINITION, SERVICE or NONE.")
	}
	if err := checkPlacement(in.PlacementStrategy, in.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	cfg, err := deploymentConfig(in.DeploymentConfiguration, nil, daemon)
	if err != nil {
		return nil, err
	}
	var td *taskDefRecord
	if !external {
		if td, err = c.lookupTaskDef(ns, wire.Val(in.TaskDefinition)); err != nil {
			return nil, err
		}
		if wire.Val(td.Status) != wire.TaskDefinitionStatusActive {
			return nil, ecs.Errorf(ecs.InvalidParameter, "TaskDefinition is inactive")
		}
	}
	hashIn := *in
	hashIn.ClientToken = nil
	hash := serviceRequestHash(hashIn)
	now := c.nowUTC()
	var out wire.Service
	err = c.update(ctx, func(t tx) error {
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		key := keyService(ns, cluster, name)
		old := new(serviceRecord)
		found, err := t.get(key, old)
		if err != nil {
			return err
		}
		if found && wire.Val(old.Status) != serviceInactive {
			if old.RequestHash == hash {
				out = serviceOut(old, true)
				return nil
			}
			return ecs.Errorf(ecs.InvalidParameter, "Creation of service was not idempotent.")
		}
		if tok := wire.Val(in.ClientToken); tok != "" {
			// A token is bound to the service it created, per cluster
			// (spec §10.5): reusing it for another service is refused.
			var bound *serviceRecord
			err := t.List(keyServicePrefix(ns, cluster), "", func(kv store.KV) error {
				r := new(serviceRecord)
				if err := json.Unmarshal(kv.Value, r); err != nil {
					return err
				}
				if r.ClientToken == tok && wire.Val(r.Status) != serviceInactive {
					bound = r
				}
				return nil
			})
			if err != nil {
				return err
			}
			if bound != nil {
				return ecs.Errorf(ecs.InvalidParameter, "Creation of service was not idempotent.")
			}
		}
		rec := &serviceRecord{Cluster: cluster, Name: name, ClientToken: wire.Val(in.ClientToken), RequestHash: hash}
		s := &rec.Service
		s.ServiceArn = wire.Ptr(serviceARN(ns, cluster, name))
		s.ServiceName = wire.Ptr(name)
		s.ClusterArn = cl.ClusterArn
		s.Status = wire.Ptr(serviceActive)
		s.DesiredCount = wire.Ptr(desired)
		s.RunningCount, s.PendingCount = wire.Ptr(int32(0)), wire.Ptr(int32(0))
		s.SchedulingStrategy = wire.Ptr(strategy)
		s.DeploymentController = &wire.DeploymentController{Type: wire.Ptr(controller)}
		s.DeploymentConfiguration = cfg
		s.PlacementConstraints = in.PlacementConstraints
		s.PlacementStrategy = in.PlacementStrategy
		s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		s.EnableECSManagedTags = wire.Ptr(wire.Val(in.EnableECSManagedTags))
		s.EnableExecuteCommand = wire.Ptr(wire.Val(in.EnableExecuteCommand))
		s.PropagateTags = wire.Ptr(wire.Val(in.PropagateTags))
		if *s.PropagateTags == "" {
			s.PropagateTags = wire.Ptr(wire.PropagateTagsNone)
		}
		s.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
		if s.AvailabilityZoneRebalancing == nil && !daemon {
			s.AvailabilityZoneRebalancing = wire.Ptr(wire.AvailabilityZoneRebalancingEnabled)
		}
		rec.ServiceConnect = in.ServiceConnectConfiguration
		if in.Role != nil {
			s.RoleArn = in.Role
		}
		s.CreatedAt = wire.NewTime(now)
		s.CreatedBy = wire.Ptr(ns.Principal)
		s.Tags = in.Tags
		s.Events = []wire.ServiceEvent{}
		if external {
			s.TaskSets = []wire.TaskSet{}
		} else {
			lc, _, err := checkedLaunch(cl, td, wire.Val(in.LaunchType), in.CapacityProviderStrategy, in.PlatformVersion, in.NetworkConfiguration,
				in.LoadBalancers, in.ServiceRegistries, len(in.PlacementConstraints)+len(in.PlacementStrategy) > 0)
			if err != nil {
				return err
			}
			if daemon && lc.launchType == wire.LaunchTypeFargate {
				return ecs.Errorf(ecs.InvalidParameter, "The DAEMON scheduling strategy is not supported with the FARGATE launch type.")
			}
			rec.applyLaunch(lc)
			rec.newDeployment(ns, lc, now)
		}
		out = serviceOut(rec, true)
		return putService(t, ns, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.CreateServiceResponse{Service: &out}, nil
}

// applyLaunch mirrors a launch config onto the service's own members.
func (r *serviceRecord) applyLaunch(lc launchConfig) {
	s := &r.Service
	s.TaskDefinition = wire.Ptr(lc.taskDefinition)
	s.LaunchType, s.CapacityProviderStrategy = nil, nil
	if lc.launchType != "" {
		s.LaunchType = wire.Ptr(lc.launchType)
	} else {
		s.CapacityProviderStrategy = lc.strategy
	}
	s.PlatformVersion, s.PlatformFamily = nil, nil
	if lc.platformVersion != "" {
		s.PlatformVersion = wire.Ptr(lc.platformVersion)
		s.PlatformFamily = wire.Ptr(fargatePlatformFamily)
	}
	s.NetworkConfiguration = lc.network
	s.LoadBalancers = lc.loadBalancers
	s.ServiceRegistries = lc.registries
}

// currentLaunch is the launch config the service runs now (its PRIMARY's).
func (r *serviceRecord) currentLaunch() launchConfig {
	lc := launchConfig{
		taskDefinition: wire.Val(r.TaskDefinition), launchType: wire.Val(r.LaunchType), strategy: r.CapacityProviderStrategy,
		platformVersion: wire.Val(r.PlatformVersion), network: r.NetworkConfiguration, loadBalancers: r.LoadBalancers, registries: r.ServiceRegistries,
	}
	return lc
}

// UpdateService changes a service (spec §7.2, §3.6). A new task
// definition, network configuration, platform version, load balancers,
// service registries, capacity provider strategy or forceNewDeployment
// start a new deployment; desiredCount, deploymentConfiguration,
// placement, grace period, managed tags and propagateTags change the
// service in place. Changing the capacity provider strategy needs
// forceNewDeployment. A DRAINING or INACTIVE service is
// ServiceNotActiveException. EXTERNAL services accept only the in-place
// members.
func (c *Control) UpdateService(ctx context.Context, ns ecs.Namespace, in *wire.UpdateServiceRequest) (*wire.UpdateServiceResponse, error) {
	if in.DesiredCount != nil && (*in.DesiredCount < 0 || *in.DesiredCount > MaxServiceDesiredCount) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "desiredCount must be between 0 and %d.", MaxServiceDesiredCount)
	}
	if wire.Val(in.HealthCheckGracePeriodSeconds) < 0 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "healthCheckGracePeriodSeconds must not be negative.")
	}
	if p := wire.Val(in.PropagateTags); p != "" && !slices.Contains(p.Values(), p) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "propagateTags must be one of TASK_DEFINITION, SERVICE or NONE.")
	}
	if err := checkPlacement(in.PlacementStrategy, in.PlacementConstraints); err != nil {
		return nil, err
	}
	var td *taskDefRecord
	if in.TaskDefinition != nil {
		var err error
		if td, err = c.lookupTaskDef(ns, *in.TaskDefinition); err != nil {
			return nil, err
		}
		if wire.Val(td.Status) != wire.TaskDefinitionStatusActive {
			return nil, ecs.Errorf(ecs.InvalidParameter, "TaskDefinition is inactive")
		}
	}
	now := c.nowUTC()
	var out wire.Service
	err := c.update(ctx, func(t tx) error {
		cl, rec, err := storedService(t, ns, in.Cluster, in.Service)
		if err != nil {
			return err
		}
		if wire.Val(rec.Status) != serviceActive {
			return errServiceNotActive()
		}
		if in.DeploymentController != nil && wire.Val(in.DeploymentController.Type) != wire.Val(rec.DeploymentController.Type) {
			return ecs.Errorf(ecs.InvalidParameter, "Changing the deployment controller of a service is not supported.")
		}
		daemon := rec.isDaemon()
		if daemon && wire.Val(in.DesiredCount) != 0 {
			return ecs.Errorf(ecs.InvalidParameter, "The desiredCount parameter is not valid for a service with the DAEMON scheduling strategy.")
		}
		if daemon && len(in.PlacementStrategy) > 0 {
			return ecs.Errorf(ecs.InvalidParameter, "Placement strategies are not supported with the DAEMON scheduling strategy.")
		}
		redeploy := in.TaskDefinition != nil || in.NetworkConfiguration != nil || in.PlatformVersion != nil ||
			in.LoadBalancers != nil || in.ServiceRegistries != nil || in.CapacityProviderStrategy != nil || wire.Val(in.ForceNewDeployment)
		if rec.isExternal() && (redeploy || in.DeploymentConfiguration != nil) {
			return ecs.Errorf(ecs.InvalidParameter, "Only desiredCount, placement, healthCheckGracePeriodSeconds, enableECSManagedTags and propagateTags can be updated on a service with the EXTERNAL deployment controller.")
		}
		cfg, err := deploymentConfig(in.DeploymentConfiguration, rec.DeploymentConfiguration, daemon)
		if err != nil {
			return err
		}
		rec.DeploymentConfiguration = cfg
		if in.DesiredCount != nil {
			rec.DesiredCount = in.DesiredCount
			if p := rec.primary(); p != nil {
				p.DesiredCount = in.DesiredCount
				p.UpdatedAt = wire.NewTime(now)
			}
			rec.recomputeTaskSets(now)
		}
		if in.PlacementConstraints != nil {
			rec.PlacementConstraints = in.PlacementConstraints
		}
		if in.PlacementStrategy != nil {
			rec.PlacementStrategy = in.PlacementStrategy
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			rec.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		}
		if in.EnableECSManagedTags != nil {
			rec.EnableECSManagedTags = in.EnableECSManagedTags
		}
		if in.EnableExecuteCommand != nil {
			rec.EnableExecuteCommand = in.EnableExecuteCommand
		}
		if in.PropagateTags != nil {
			rec.PropagateTags = in.PropagateTags
		}
		if in.AvailabilityZoneRebalancing != nil {
			rec.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
		}
		if in.ServiceConnectConfiguration != nil {
			rec.ServiceConnect = in.ServiceConnectConfiguration
			redeploy = true
		}
		if redeploy {
			lc := rec.currentLaunch()
			if td == nil {
				if td, err = c.taskDefOf(ns, lc.taskDefinition); err != nil {
					return err
				}
			}
			launchType, strategy := lc.launchType, lc.strategy
			if in.CapacityProviderStrategy != nil {
				// Spec §3.6: a switch to a strategy, or any change of one,
				// needs forceNewDeployment; an empty list goes back to a
				// launch type.
				changed := !strategiesEqual(lc.strategy, in.CapacityProviderStrategy)
				if changed && !wire.Val(in.ForceNewDeployment) {
					return ecs.Errorf(ecs.InvalidParameter, "When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.")
				}
				strategy = in.CapacityProviderStrategy
				if len(strategy) > 0 {
					launchType = ""
				} else if launchType == "" {
					launchType = wire.LaunchType(launchTypeOf("", firstProvider(lc.strategy)))
				}
				if len(strategy) == 0 {
					strategy = nil
				}
			}
			platform := in.PlatformVersion
			if platform == nil && lc.platformVersion != "" {
				platform = wire.Ptr(lc.platformVersion)
			}
			network := lc.network
			if in.NetworkConfiguration != nil {
				network = in.NetworkConfiguration
			}
			lbs, regs := lc.loadBalancers, lc.registries
			if in.LoadBalancers != nil {
				lbs = in.LoadBalancers
			}
			if in.ServiceRegistries != nil {
				regs = in.ServiceRegistries
			}
			if launchType != "" && len(strategy) > 0 {
				strategy = nil
			}
			nlc, launch, err := checkedLaunch(cl, td, launchType, strategy, platformFor(launchType, strategy, platform), network, lbs, regs,
				len(rec.PlacementConstraints)+len(rec.PlacementStrategy) > 0)
			if err != nil {
				return err
			}
			if daemon && launch == wire.LaunchTypeFargate {
				return ecs.Errorf(ecs.InvalidParameter, "The DAEMON scheduling strategy is not supported with the FARGATE launch type.")
			}
			rec.applyLaunch(nlc)
			rec.newDeployment(ns, nlc, now)
		}
		out = serviceOut(rec, false)
		return putService(t, ns, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateServiceResponse{Service: &out}, nil
}

// platformFor drops a platform version that only a Fargate config keeps.
func platformFor(launchType wire.LaunchType, strategy []wire.CapacityProviderStrategyItem, platform *string) *string {
	if launchType == wire.LaunchTypeFargate || (launchType == "" && len(strategy) > 0 && isFargateProvider(firstProvider(strategy))) {
		return platform
	}
	return nil
}

func firstProvider(s []wire.CapacityProviderStrategyItem) string {
	if len(s) == 0 {
		return ""
	}
	return wire.Val(s[0].CapacityProvider)
}

func strategiesEqual(a, b []wire.CapacityProviderStrategyItem) bool {
	na, nb := normaliseStrategy(a), normaliseStrategy(b)
	return slices.EqualFunc(na, nb, func(x, y wire.CapacityProviderStrategyItem) bool {
		return wire.Val(x.CapacityProvider) == wire.Val(y.CapacityProvider) && wire.Val(x.Base) == wire.Val(y.Base) && wire.Val(x.Weight) == wire.Val(y.Weight)
	})
}

// taskDefOf returns the stored definition of an ARN.
func (c *Control) taskDefOf(ns ecs.Namespace, arn string) (*taskDefRecord, error) {
	r, ok := parseTaskDefRef(ns, arn)
	if !ok {
		return nil, errTaskDefNotFound()
	}
	rec, _ := c.view.get(keyTaskDef(ns, r.family, r.revision)).(*taskDefRecord)
	if rec == nil {
		return nil, errTaskDefNotFound()
	}
	return rec, nil
}

// DeleteService deletes a service (spec §2.2): it becomes DRAINING with
// desiredCount 0 and the controller stops its tasks; it becomes INACTIVE
// once none is left (at once when it has none). A REPLICA service scaled
// above 0 needs force; so does an EXTERNAL service with task sets.
// Deleting a DRAINING service returns it unchanged; an INACTIVE one is
// ServiceNotActiveException.
func (c *Control) DeleteService(ctx context.Context, ns ecs.Namespace, in *wire.DeleteServiceRequest) (*wire.DeleteServiceResponse, error) {
	now := c.nowUTC()
	var out wire.Service
	err := c.update(ctx, func(t tx) error {
		_, rec, err := storedService(t, ns, in.Cluster, in.Service)
		if err != nil {
			return err
		}
		switch wire.Val(rec.Status) {
		case serviceInactive:
			return errServiceNotActive()
		case serviceDraining:
			out = serviceOut(rec, false)
			return nil
		}
		force := wire.Val(in.Force)
		if !rec.isDaemon() && wire.Val(rec.DesiredCount) > 0 && !force {
			return ecs.Errorf(ecs.InvalidParameter, "The service cannot be stopped while it is scaled above 0.")
		}
		if rec.isExternal() && len(rec.TaskSets) > 0 && !force {
			return ecs.Errorf(ecs.InvalidParameter, "The service cannot be stopped while deployments are active.")
		}
		rec.Status = wire.Ptr(serviceDraining)
		rec.DesiredCount = wire.Ptr(int32(0))
		for i := range rec.Deps {
			rec.Deps[i].DesiredCount = wire.Ptr(int32(0))
			rec.finishHistory(wire.Val(rec.Deps[i].Id), wire.ServiceDeploymentStatusStopped, "Service was deleted.", now)
		}
		for i := range rec.TaskSets {
			ts := &rec.TaskSets[i]
			ts.Status = wire.Ptr(taskSetDraining)
			ts.ComputedDesiredCount = wire.Ptr(int32(0))
			ts.UpdatedAt = wire.NewTime(now)
		}
		if !c.serviceHasTasks(ns, rec) {
			rec.markInactive(now)
		}
		out = serviceOut(rec, false)
		return putService(t, ns, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteServiceResponse{Service: &out}, nil
}

// markInactive ends a drained service.
func (r *serviceRecord) markInactive(now time.Time) {
	r.Status = wire.Ptr(serviceInactive)
	r.InactiveAt = now
	r.Deps = nil
	r.TaskSets = nil
	r.RunningCount, r.PendingCount = wire.Ptr(int32(0)), wire.Ptr(int32(0))
}

// serviceHasTasks reports whether the view holds a task of the service
// that has not STOPPED.
func (c *Control) serviceHasTasks(ns ecs.Namespace, rec *serviceRecord) bool {
	group := "service:" + rec.Name
	found := false
	c.view.scan(keyTaskPrefix(ns, rec.Cluster), "", false, func(_ string, obj any) bool {
		if r, ok := obj.(*packedTask); ok && r.group() == group && wire.Val(r.LastStatus) != taskStopped {
			found = true
			return false
		}
		return true
	})
	return found
}

// DescribeServices describes up to 10 services of a cluster; unknown (or
// purged) ones are MISSING failures. DRAINING and INACTIVE services are
// described with their status. include TAGS adds tags.
func (c *Control) DescribeServices(ctx context.Context, ns ecs.Namespace, in *wire.DescribeServicesRequest) (*wire.DescribeServicesResponse, error) {
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "services must name between 1 and 10 services.")
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	withTags := slices.Contains(in.Include, wire.ServiceFieldTags)
	out := &wire.DescribeServicesResponse{Services: []wire.Service{}, Failures: []wire.Failure{}}
	for _, ref := range in.Services {
		if name, ok := serviceRef(ns, cluster, ref); ok {
			if rec, found := c.view.get(keyService(ns, cluster, name)).(*serviceRecord); found {
				out.Services = append(out.Services, serviceOut(rec, withTags))
				continue
			}
			ref = serviceARN(ns, cluster, name)
		}
		out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(ref), Reason: wire.Ptr("MISSING")})
	}
	return out, nil
}

// ListServices lists the ARNs of a cluster's ACTIVE services, filtered by
// launch type and scheduling strategy, 10 per page by default (1–100).
func (c *Control) ListServices(ctx context.Context, ns ecs.Namespace, in *wire.ListServicesRequest) (*wire.ListServicesResponse, error) {
	n, err := pageSize(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	filter := string(wire.Val(in.LaunchType)) + "|" + string(wire.Val(in.SchedulingStrategy))
	arns, next, err := page(c, "ListServices", filter, in.NextToken, n, keyServicePrefix(ns, cluster), false, func(_ string, obj any) (string, bool) {
		r, ok := obj.(*serviceRecord)
		if !ok || wire.Val(r.Status) != serviceActive {
			return "", false
		}
		if in.LaunchType != nil && r.listLaunchType() != *in.LaunchType {
			return "", false
		}
		if in.SchedulingStrategy != nil && wire.Val(r.SchedulingStrategy) != *in.SchedulingStrategy {
			return "", false
		}
		return wire.Val(r.ServiceArn), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListServicesResponse{ServiceArns: arns, NextToken: next}, nil
}

// listLaunchType is the launch type a service matches in ListServices.
func (r *serviceRecord) listLaunchType() wire.LaunchType {
	return wire.LaunchType(launchTypeOf(string(wire.Val(r.LaunchType)), firstProvider(r.CapacityProviderStrategy)))
}

// ListServicesByNamespace lists the ACTIVE services, in every cluster of
// the namespace (account and region), whose Service Connect configuration
// names the Cloud Map namespace (by name or ARN); 10 per page by default.
func (c *Control) ListServicesByNamespace(ctx context.Context, ns ecs.Namespace, in *wire.ListServicesByNamespaceRequest) (*wire.ListServicesByNamespaceResponse, error) {
	n, err := pageSize(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	want := wire.Val(in.Namespace)
	if want == "" {
		return nil, ecs.Errorf(ecs.InvalidParameter, "namespace must be specified.")
	}
	if scd, err := serviceConnectDefaults(ns, &wire.ClusterServiceConnectDefaultsRequest{Namespace: &want}); err == nil {
		want = wire.Val(scd.Namespace)
	}
	prefix := nsPrefix(ns) + "svc/"
	arns, next, err := page(c, "ListServicesByNamespace", want, in.NextToken, n, prefix, false, func(_ string, obj any) (string, bool) {
		r, ok := obj.(*serviceRecord)
		if !ok || wire.Val(r.Status) != serviceActive || r.ServiceConnect == nil {
			return "", false
		}
		got := wire.Val(r.ServiceConnect.Namespace)
		if scd, err := serviceConnectDefaults(ns, &wire.ClusterServiceConnectDefaultsRequest{Namespace: &got}); err == nil {
			got = wire.Val(scd.Namespace)
		}
		if got != want {
			return "", false
		}
		return wire.Val(r.ServiceArn), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListServicesByNamespaceResponse{ServiceArns: arns, NextToken: next}, nil
}
