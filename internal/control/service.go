package control

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/service"
	"github.com/berth-dev/berth/internal/wire"
)

// serviceRecord is a stored service (key svc/<cluster>/<name>). The
// embedded wire.Service is what DescribeServices shows, except for
// deployments, which are rendered from Deps; its status, launchType and
// capacityProviderStrategy members are the ones statusRecord reads for
// cluster counts and capacity provider checks.
//
// Lifecycle (spec §2.2):
//
//	CreateService ─▶ ACTIVE ──DeleteService──▶ DRAINING ──(no live task)──▶ INACTIVE ──(1 h)──▶ purged
//
// Deployments (ECS controller, spec §7.5):
//
//	UpdateService (new revision) ─▶ new PRIMARY (IN_PROGRESS); the old PRIMARY becomes ACTIVE
//	PRIMARY reaches steady state ─▶ COMPLETED; ACTIVE ones without tasks leave deployments[]
//	circuit breaker ─▶ FAILED (and, with rollback, a new PRIMARY with the last COMPLETED revision)
type serviceRecord struct {
	wire.Service
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
	// Gen advances with every write (putService); the controller drops a
	// decision made from an older generation.
	Gen int64 `json:"gen"`
	// ClientToken and RequestHash make CreateService idempotent (§10.5).
	ClientToken string `json:"clientToken,omitempty"`
	RequestHash string `json:"requestHash,omitempty"`
	// Deps are the service's deployments, PRIMARY first.
	Deps []deploymentRecord `json:"deps,omitempty"`
	// Revisions are the service revisions that Deps and History name.
	Revisions []wire.ServiceRevision `json:"revisions,omitempty"`
	// History holds the service deployments (ListServiceDeployments),
	// newest first, bounded by maxHistory.
	History []wire.ServiceDeployment `json:"history,omitempty"`
	// TaskSetTokens binds CreateTaskSet client tokens to a task set id and
	// request hash ("<id> <hash>").
	TaskSetTokens map[string]string `json:"taskSetTokens,omitempty"`
	// SchedState is the decision core's memory (back-off, the last
	// completed deployment, suppressed notices).
	SchedState service.State `json:"schedState,omitzero"`
	// TaskSetStates is the decision core's memory per task set id.
	TaskSetStates map[string]service.State `json:"taskSetStates,omitempty"`
	// Unplaced are the launches the last pass could not place, reported
	// to the next decision once.
	Unplaced []service.Launch `json:"unplaced,omitempty"`
	// AccountedIDs are STOPPED tasks whose stop a decision counted and
	// that stopped at or after AccountedBefore; tasks that stopped before
	// AccountedBefore are all accounted.
	AccountedIDs    []string  `json:"accountedIds,omitempty"`
	AccountedBefore time.Time `json:"accountedBefore,omitzero"`
	// ServiceConnect is the service's Service Connect configuration
	// (shown on its deployments).
	ServiceConnect *wire.ServiceConnectConfiguration `json:"serviceConnect,omitempty"`
	// InactiveAt is when the service became INACTIVE (for the purge).
	InactiveAt time.Time `json:"inactiveAt,omitzero"`
}

// deploymentRecord is one entry of deployments[] with what the controller
// keeps about it.
type deploymentRecord struct {
	wire.Deployment
	// StartedAt is when the deployment started; CompletedAt when it
	// reached COMPLETED (zero before).
	CompletedAt time.Time `json:"completedAt,omitzero"`
	// RollbackFrom names the failed deployment this one rolls back.
	RollbackFrom string `json:"rollbackFrom,omitempty"`
	// HealthStage: a task of the deployment reached RUNNING (the circuit
	// breaker's launch stage is over).
	HealthStage bool `json:"healthStage,omitempty"`
}

// Service and deployment statuses.
const (
	serviceActive   = "ACTIVE"
	serviceDraining = "DRAINING"
	serviceInactive = "INACTIVE"

	deploymentPrimary  = "PRIMARY"
	deploymentActive   = "ACTIVE"
	deploymentInactive = "INACTIVE"

	// maxServiceEvents is how many events a service keeps (spec §7.11).
	maxServiceEvents = 100
	// maxHistory is how many service deployments a service keeps.
	maxHistory = 20
	// MaxServiceDesiredCount is the desired count quota (spec §10.7).
	MaxServiceDesiredCount = 5000
	// ServiceRetention is how long an INACTIVE service stays describable.
	ServiceRetention = time.Hour
)

func keyService(ns ecs.Namespace, cluster, name string) string {
	return keyServicePrefix(ns, cluster) + name
}

func serviceARN(ns ecs.Namespace, cluster, name string) string {
	return ns.ARN("service/" + cluster + "/" + name)
}

// newDeploymentID returns a fresh "ecs-svc/<19 digits>" id (deployments
// and task sets share the id space, spec §1.1).
func newDeploymentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:])%9_000_000_000_000_000_000 + 1_000_000_000_000_000_000
	return fmt.Sprintf("ecs-svc/%019d", n)
}

// idDigits returns the digits of an "ecs-svc/<digits>" id.
func idDigits(id string) string { return strings.TrimPrefix(id, "ecs-svc/") }

func serviceDeploymentARN(ns ecs.Namespace, cluster, service, id string) string {
	return ns.ARN("service-deployment/" + cluster + "/" + service + "/" + idDigits(id))
}

func serviceRevisionARN(ns ecs.Namespace, cluster, service, id string) string {
	return ns.ARN("service-revision/" + cluster + "/" + service + "/" + idDigits(id))
}

// serviceRef resolves a service reference (name or ARN, long or legacy
// short) to a name in cluster; ok is false when it cannot be in it.
func serviceRef(ns ecs.Namespace, cluster, ref string) (string, bool) {
	parent, name, ok := ecs.ResolveName(ns, ref, "service")
	if !ok || (parent != "" && parent != cluster) || !ecs.ValidName(name) {
		return "", false
	}
	return name, true
}

func errServiceNotFound() error { return ecs.Errorf(ecs.ServiceNotFound, "Service not found.") }
func errServiceNotActive() error {
	return ecs.Errorf(ecs.ServiceNotActive, "Service was not ACTIVE.")
}

// storedService reads a service of an ACTIVE cluster inside t. An unknown
// service (or one purged) is ServiceNotFoundException.
func storedService(t tx, ns ecs.Namespace, clusterRef, ref *string) (*clusterRecord, *serviceRecord, error) {
	cl, err := activeCluster(t, ns, clusterRef)
	if err != nil {
		return nil, nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	name, ok := serviceRef(ns, cluster, wire.Val(ref))
	if !ok {
		return nil, nil, errServiceNotFound()
	}
	rec := new(serviceRecord)
	found, err := t.get(keyService(ns, cluster, name), rec)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, errServiceNotFound()
	}
	return cl, rec, nil
}

// isExternal reports whether the service's deployments are task sets.
func (r *serviceRecord) isExternal() bool {
	return r.DeploymentController != nil && wire.Val(r.DeploymentController.Type) == wire.DeploymentControllerTypeExternal
}

func (r *serviceRecord) isDaemon() bool {
	return wire.Val(r.SchedulingStrategy) == wire.SchedulingStrategyDaemon
}

// primary returns the PRIMARY deployment, or nil.
func (r *serviceRecord) primary() *deploymentRecord {
	for i := range r.Deps {
		if wire.Val(r.Deps[i].Status) == deploymentPrimary {
			return &r.Deps[i]
		}
	}
	return nil
}

// revision returns the service revision of a deployment or task set id.
func (r *serviceRecord) revision(id string) *wire.ServiceRevision {
	for i := range r.Revisions {
		if strings.HasSuffix(wire.Val(r.Revisions[i].ServiceRevisionArn), "/"+idDigits(id)) {
			return &r.Revisions[i]
		}
	}
	return nil
}

// addEvent records a service event, newest first, bounded.
func (r *serviceRecord) addEvent(now time.Time, msg string) {
	ev := wire.ServiceEvent{Id: wire.Ptr(uuidFrom(newID())), CreatedAt: wire.NewTime(now), Message: wire.Ptr(msg)}
	r.Events = append([]wire.ServiceEvent{ev}, r.Events...)
	if len(r.Events) > maxServiceEvents {
		r.Events = r.Events[:maxServiceEvents]
	}
}

// launchConfig is what a deployment (or task set) launches with: a
// service revision's per-revision members.
type launchConfig struct {
	taskDefinition  string
	launchType      wire.LaunchType // "" with a strategy
	strategy        []wire.CapacityProviderStrategyItem
	platformVersion string
	network         *wire.NetworkConfiguration
	loadBalancers   []wire.LoadBalancer
	registries      []wire.ServiceRegistry
}

// checkedLaunch validates a service's (or task set's) launch members
// against the cluster and the task definition (spec §3.2, §5): launch type
// or strategy (the request's, else the cluster default, else EC2), the
// definition's compatibility, Fargate's network and platform rules, the
// awsvpc network configuration, load balancers and registries. It returns
// the launch config, the resolved launch type and the platform version.
func checkedLaunch(cl *clusterRecord, td *taskDefRecord, launchType wire.LaunchType, strategy []wire.CapacityProviderStrategyItem, platform *string, network *wire.NetworkConfiguration, lbs []wire.LoadBalancer, regs []wire.ServiceRegistry, placement bool) (launchConfig, wire.LaunchType, error) {
	lc := launchConfig{taskDefinition: wire.Val(td.TaskDefinitionArn), network: network, loadBalancers: lbs, registries: regs}
	launch, _, err := resolveLaunch(cl, launchType, strategy)
	if err != nil {
		return lc, "", err
	}
	switch {
	case launchType != "":
		lc.launchType = launchType
	case len(strategy) > 0:
		lc.strategy = normaliseStrategy(strategy)
	case len(cl.DefaultCapacityProviderStrategy) > 0:
		lc.strategy = normaliseStrategy(cl.DefaultCapacityProviderStrategy)
	default:
		lc.launchType = wire.LaunchTypeEc2
	}
	if !taskDefSupports(td, launch) {
		return lc, "", ecs.Errorf(ecs.InvalidParameter, "Task definition does not support launch_type %s.", launch)
	}
	awsvpc := wire.Val(td.NetworkMode) == wire.NetworkModeAwsvpc
	if launch == wire.LaunchTypeFargate {
		if placement {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "Placement constraints and placement strategies are not supported with the FARGATE launch type.")
		}
		fg, err := checkFargateRequest(&wire.RunTaskRequest{NetworkConfiguration: network, PlatformVersion: platform}, td)
		if err != nil {
			return lc, "", err
		}
		lc.platformVersion = wire.Val(platform)
		if lc.platformVersion == "" {
			lc.platformVersion = "LATEST"
		}
		_ = fg
	} else {
		if platform != nil {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "The platform version must be null when specifying an %s launch type.", launch)
		}
		if awsvpc && (network == nil || network.AwsvpcConfiguration == nil) {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
	}
	if network != nil && network.AwsvpcConfiguration != nil {
		if !awsvpc {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "Network Configuration is not valid for the given networkMode of this task definition.")
		}
		vpc := network.AwsvpcConfiguration
		if len(vpc.Subnets) == 0 || len(vpc.Subnets) > 16 {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "subnets can not be empty and can have at most 16 items.")
		}
		if len(vpc.SecurityGroups) > 5 {
			return lc, "", ecs.Errorf(ecs.InvalidParameter, "securityGroups can have at most 5 items.")
		}
	}
	if err := checkLoadBalancers(td, lbs); err != nil {
		return lc, "", err
	}
	if err := checkRegistries(td, regs); err != nil {
		return lc, "", err
	}
	return lc, launch, nil
}

// checkLoadBalancers validates loadBalancers: at most 5, each with a target
// group ARN or a Classic load balancer name, and a container name and port
// that the task definition maps.
func checkLoadBalancers(td *taskDefRecord, lbs []wire.LoadBalancer) error {
	if len(lbs) > 5 {
		return ecs.Errorf(ecs.InvalidParameter, "A service can have at most 5 target groups.")
	}
	for _, lb := range lbs {
		tg, name := wire.Val(lb.TargetGroupArn), wire.Val(lb.LoadBalancerName)
		if tg == "" && name == "" {
			return ecs.Errorf(ecs.InvalidParameter, "Either targetGroupArn or loadBalancerName must be specified for a load balancer.")
		}
		if tg != "" {
			if a, ok := ecs.ParseARN(tg); !ok || a.Service != "elasticloadbalancing" || !strings.HasPrefix(a.Resource, "targetgroup/") {
				return ecs.Errorf(ecs.InvalidParameter, "Target Group ARN %s is not valid.", tg)
			}
		}
		if lb.ContainerName == nil || lb.ContainerPort == nil {
			return ecs.Errorf(ecs.InvalidParameter, "containerName and containerPort must be specified for a load balancer.")
		}
		if err := checkContainerPort(td, wire.Val(lb.ContainerName), wire.Val(lb.ContainerPort), "load balancer"); err != nil {
			return err
		}
	}
	return nil
}

// checkRegistries validates serviceRegistries: at most one, with a Cloud
// Map service ARN, and a container that exists when named.
func checkRegistries(td *taskDefRecord, regs []wire.ServiceRegistry) error {
	if len(regs) > 1 {
		return ecs.Errorf(ecs.InvalidParameter, "A service can have at most one service registry.")
	}
	for _, r := range regs {
		if a, ok := ecs.ParseARN(wire.Val(r.RegistryArn)); !ok || a.Service != "servicediscovery" {
			return ecs.Errorf(ecs.InvalidParameter, "The service registry ARN %s is not valid.", wire.Val(r.RegistryArn))
		}
		if r.ContainerName != nil && !slices.ContainsFunc(td.ContainerDefinitions, func(cd wire.ContainerDefinition) bool { return wire.Val(cd.Name) == *r.ContainerName }) {
			return ecs.Errorf(ecs.InvalidParameter, "The container %s does not exist in the task definition.", *r.ContainerName)
		}
	}
	return nil
}

func checkContainerPort(td *taskDefRecord, name string, port int32, what string) error {
	for _, cd := range td.ContainerDefinitions {
		if wire.Val(cd.Name) != name {
			continue
		}
		for _, pm := range cd.PortMappings {
			if wire.Val(pm.ContainerPort) == port {
				return nil
			}
		}
		return ecs.Errorf(ecs.InvalidParameter, "The container %s did not have a container port %d defined.", name, port)
	}
	return ecs.Errorf(ecs.InvalidParameter, "The container %s does not exist in the task definition (%s).", name, what)
}

// checkPlacement validates strategies and constraints as placement would
// (spec §6.3, §6.4).
func checkPlacement(strategies []wire.PlacementStrategy, constraints []wire.PlacementConstraint) error {
	if len(strategies) > scheduler.MaxStrategies {
		return ecs.Errorf(ecs.InvalidParameter, "A service can have at most %d placement strategies.", scheduler.MaxStrategies)
	}
	if len(constraints) > scheduler.MaxConstraints {
		return ecs.Errorf(ecs.InvalidParameter, "A service can have at most %d placement constraints.", scheduler.MaxConstraints)
	}
	req := scheduler.Request{Group: "service:check"}
	for _, s := range strategies {
		req.Strategies = append(req.Strategies, scheduler.Strategy{Type: string(wire.Val(s.Type)), Field: wire.Val(s.Field)})
	}
	for _, pc := range constraints {
		req.Constraints = append(req.Constraints, scheduler.Constraint{Type: string(wire.Val(pc.Type)), Expression: wire.Val(pc.Expression)})
	}
	if err := req.Validate(); err != nil {
		return ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
	}
	return nil
}

// deploymentConfig applies defaults to (and validates) a deployment
// configuration (spec §7.3): REPLICA 100/200, DAEMON 0/100; the circuit
// breaker needs both members; min 0..100; max ≥ 100 (== 100 for DAEMON).
func deploymentConfig(in *wire.DeploymentConfiguration, base *wire.DeploymentConfiguration, daemon bool) (*wire.DeploymentConfiguration, error) {
	out := wire.DeploymentConfiguration{}
	if base != nil {
		out = *base
	} else {
		minH, maxP := int32(100), int32(200)
		if daemon {
			minH, maxP = 0, 100
		}
		out.MinimumHealthyPercent, out.MaximumPercent = wire.Ptr(minH), wire.Ptr(maxP)
		out.DeploymentCircuitBreaker = &wire.DeploymentCircuitBreaker{Enable: wire.Ptr(false), Rollback: wire.Ptr(false)}
	}
	if in != nil {
		if in.MinimumHealthyPercent != nil {
			out.MinimumHealthyPercent = in.MinimumHealthyPercent
		}
		if in.MaximumPercent != nil {
			out.MaximumPercent = in.MaximumPercent
		}
		if cb := in.DeploymentCircuitBreaker; cb != nil {
			if cb.Enable == nil || cb.Rollback == nil {
				return nil, ecs.Errorf(ecs.InvalidParameter, "deploymentCircuitBreaker requires both enable and rollback.")
			}
			out.DeploymentCircuitBreaker = cb
		}
		if a := in.Alarms; a != nil {
			if a.Enable == nil || a.Rollback == nil || a.AlarmNames == nil {
				return nil, ecs.Errorf(ecs.InvalidParameter, "alarms requires alarmNames, enable and rollback.")
			}
			out.Alarms = a
		}
		if in.Strategy != nil {
			if *in.Strategy != wire.DeploymentStrategyRolling {
				return nil, ecs.Errorf(ecs.InvalidParameter, "Berth supports only the ROLLING deployment strategy.")
			}
			out.Strategy = in.Strategy
		}
		if in.BakeTimeInMinutes != nil {
			out.BakeTimeInMinutes = in.BakeTimeInMinutes
		}
	}
	minH, maxP := wire.Val(out.MinimumHealthyPercent), wire.Val(out.MaximumPercent)
	switch {
	case minH < 0 || minH > 100:
		return nil, ecs.Errorf(ecs.InvalidParameter, "minimumHealthyPercent must be between 0 and 100.")
	case daemon && maxP != 100:
		return nil, ecs.Errorf(ecs.InvalidParameter, "The maximumPercent of a DAEMON service must be 100.")
	case maxP < 100:
		return nil, ecs.Errorf(ecs.InvalidParameter, "maximumPercent must be at least 100.")
	}
	return &out, nil
}

// serviceRequestHash is the canonical hash of a CreateService request minus
// its client token (spec §10.5).
func serviceRequestHash(in any) string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newDeployment starts a deployment of a launch config: the PRIMARY entry
// (IN_PROGRESS), its service revision and its service deployment.
func (r *serviceRecord) newDeployment(ns ecs.Namespace, lc launchConfig, now time.Time) *deploymentRecord {
	id := newDeploymentID()
	d := deploymentRecord{Deployment: wire.Deployment{
		Id: wire.Ptr(id), Status: wire.Ptr(deploymentPrimary), TaskDefinition: wire.Ptr(lc.taskDefinition),
		DesiredCount: wire.Ptr(wire.Val(r.DesiredCount)), PendingCount: wire.Ptr(int32(0)), RunningCount: wire.Ptr(int32(0)),
		FailedTasks: wire.Ptr(int32(0)), CreatedAt: wire.NewTime(now), UpdatedAt: wire.NewTime(now),
		NetworkConfiguration:        lc.network,
		ServiceConnectConfiguration: r.ServiceConnect,
		RolloutState:                wire.Ptr(wire.DeploymentRolloutStateInProgress),
		RolloutStateReason:          wire.Ptr("ECS deployment " + id + " in progress."),
	}}
	if lc.launchType != "" {
		d.LaunchType = wire.Ptr(lc.launchType)
	} else {
		d.CapacityProviderStrategy = lc.strategy
	}
	if lc.platformVersion != "" {
		d.PlatformVersion = wire.Ptr(lc.platformVersion)
		d.PlatformFamily = wire.Ptr(fargatePlatformFamily)
	}
	// Older deployments stop being PRIMARY; an in-progress one is
	// superseded (its service deployment STOPPED).
	for i := range r.Deps {
		if wire.Val(r.Deps[i].Status) == deploymentPrimary {
			r.Deps[i].Status = wire.Ptr(deploymentActive)
			r.Deps[i].UpdatedAt = wire.NewTime(now)
			r.finishHistory(wire.Val(r.Deps[i].Id), wire.ServiceDeploymentStatusStopped, "Service deployment was superseded by a newer deployment.", now)
		}
	}
	r.Deps = append([]deploymentRecord{d}, r.Deps...)
	rev := wire.ServiceRevision{
		ServiceRevisionArn: wire.Ptr(serviceRevisionARN(ns, r.Cluster, r.Name, id)),
		ServiceArn:         r.ServiceArn, ClusterArn: r.ClusterArn, TaskDefinition: wire.Ptr(lc.taskDefinition),
		CapacityProviderStrategy: lc.strategy, NetworkConfiguration: lc.network,
		LoadBalancers: lc.loadBalancers, ServiceRegistries: lc.registries, CreatedAt: wire.NewTime(now),
		ContainerImages: []wire.ContainerImage{},
	}
	if lc.launchType != "" {
		rev.LaunchType = wire.Ptr(lc.launchType)
	}
	if lc.platformVersion != "" {
		rev.PlatformVersion = wire.Ptr(lc.platformVersion)
		rev.PlatformFamily = wire.Ptr(fargatePlatformFamily)
	}
	r.Revisions = append(r.Revisions, rev)
	var sources []wire.ServiceRevisionSummary
	for _, old := range r.Deps[1:] {
		sources = append(sources, wire.ServiceRevisionSummary{
			Arn:                wire.Ptr(serviceRevisionARN(ns, r.Cluster, r.Name, wire.Val(old.Id))),
			RequestedTaskCount: wire.Ptr(int32(0)), RunningTaskCount: old.RunningCount, PendingTaskCount: old.PendingCount,
		})
	}
	cfg := r.DeploymentConfiguration
	sd := wire.ServiceDeployment{
		ServiceDeploymentArn: wire.Ptr(serviceDeploymentARN(ns, r.Cluster, r.Name, id)),
		ServiceArn:           r.ServiceArn, ClusterArn: r.ClusterArn,
		CreatedAt: wire.NewTime(now), StartedAt: wire.NewTime(now), UpdatedAt: wire.NewTime(now),
		Status:                  wire.Ptr(wire.ServiceDeploymentStatusInProgress),
		DeploymentConfiguration: cfg,
		SourceServiceRevisions:  sources,
		TargetServiceRevision: &wire.ServiceRevisionSummary{
			Arn: rev.ServiceRevisionArn, RequestedTaskCount: r.DesiredCount, RunningTaskCount: wire.Ptr(int32(0)), PendingTaskCount: wire.Ptr(int32(0)),
		},
		LifecycleStage: wire.Ptr(wire.ServiceDeploymentLifecycleStageReconcileService),
	}
	if cfg != nil && cfg.DeploymentCircuitBreaker != nil {
		status := wire.ServiceDeploymentRollbackMonitorsStatusDisabled
		if wire.Val(cfg.DeploymentCircuitBreaker.Enable) {
			status = wire.ServiceDeploymentRollbackMonitorsStatusMonitoring
		}
		sd.DeploymentCircuitBreaker = &wire.ServiceDeploymentCircuitBreaker{
			Status: wire.Ptr(status), FailureCount: wire.Ptr(int32(0)), Threshold: wire.Ptr(int32(breakerThreshold(int(wire.Val(r.DesiredCount))))),
		}
	}
	r.History = append([]wire.ServiceDeployment{sd}, r.History...)
	r.trimHistory()
	r.TaskDefinition = wire.Ptr(lc.taskDefinition)
	return &r.Deps[0]
}

// breakerThreshold is the circuit breaker's threshold (spec §7.6):
// min(200, max(3, ceil(desired/2))).
func breakerThreshold(desired int) int {
	return min(200, max(3, (desired+1)/2))
}

// trimHistory bounds History and drops the revisions nothing names.
func (r *serviceRecord) trimHistory() {
	if len(r.History) > maxHistory {
		r.History = r.History[:maxHistory]
	}
	keep := map[string]bool{}
	for _, d := range r.Deps {
		keep[idDigits(wire.Val(d.Id))] = true
	}
	for _, ts := range r.TaskSets {
		keep[idDigits(wire.Val(ts.Id))] = true
	}
	for _, h := range r.History {
		keep[lastSegment(wire.Val(h.ServiceDeploymentArn))] = true
	}
	r.Revisions = slices.DeleteFunc(r.Revisions, func(rev wire.ServiceRevision) bool {
		return !keep[lastSegment(wire.Val(rev.ServiceRevisionArn))]
	})
}

// history returns the service deployment of a deployment id, or nil.
func (r *serviceRecord) history(id string) *wire.ServiceDeployment {
	for i := range r.History {
		if lastSegment(wire.Val(r.History[i].ServiceDeploymentArn)) == idDigits(id) {
			return &r.History[i]
		}
	}
	return nil
}

// finishHistory ends a service deployment that is still in progress.
func (r *serviceRecord) finishHistory(id string, status wire.ServiceDeploymentStatus, reason string, now time.Time) {
	h := r.history(id)
	if h == nil {
		return
	}
	switch wire.Val(h.Status) {
	case wire.ServiceDeploymentStatusInProgress, wire.ServiceDeploymentStatusPending,
		wire.ServiceDeploymentStatusRollbackInProgress, wire.ServiceDeploymentStatusStopRequested,
		wire.ServiceDeploymentStatusRollbackRequested:
	default:
		return
	}
	h.Status = wire.Ptr(status)
	if reason != "" {
		h.StatusReason = wire.Ptr(reason)
	}
	h.UpdatedAt = wire.NewTime(now)
	h.FinishedAt = wire.NewTime(now)
	if status == wire.ServiceDeploymentStatusStopped || status == wire.ServiceDeploymentStatusRollbackSuccessful {
		h.StoppedAt = wire.NewTime(now)
	}
	if h.DeploymentCircuitBreaker != nil && wire.Val(h.DeploymentCircuitBreaker.Status) == wire.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		h.DeploymentCircuitBreaker.Status = wire.Ptr(wire.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete)
	}
	h.LifecycleStage = nil
}

// serviceOut renders a service: deployments from Deps (PRIMARY and ACTIVE
// only), empty lists where ECS shows them, tags only when asked.
func serviceOut(rec *serviceRecord, withTags bool) wire.Service {
	s := rec.Service
	s.Deployments = []wire.Deployment{}
	for _, d := range rec.Deps {
		if st := wire.Val(d.Status); st == deploymentPrimary || st == deploymentActive {
			s.Deployments = append(s.Deployments, d.Deployment)
		}
	}
	if rec.isExternal() {
		s.Deployments = nil
		s.TaskSets = make([]wire.TaskSet, 0, len(rec.TaskSets))
		for _, ts := range rec.TaskSets {
			ts.Tags = nil
			s.TaskSets = append(s.TaskSets, ts)
		}
	}
	s.Events = slices.Clone(rec.Events)
	if s.Events == nil {
		s.Events = []wire.ServiceEvent{}
	}
	for _, l := range []*[]wire.LoadBalancer{&s.LoadBalancers} {
		if *l == nil {
			*l = []wire.LoadBalancer{}
		}
	}
	if s.ServiceRegistries == nil {
		s.ServiceRegistries = []wire.ServiceRegistry{}
	}
	if s.PlacementConstraints == nil {
		s.PlacementConstraints = []wire.PlacementConstraint{}
	}
	if s.PlacementStrategy == nil {
		s.PlacementStrategy = []wire.PlacementStrategy{}
	}
	s.Tags = nil
	if withTags {
		s.Tags = ecs.TagsOrEmpty(rec.Tags)
	}
	return s
}

// serviceStatus returns the statusRecord view of a service in the view
// (what the cluster counts read).
func serviceStatus(obj any) (*statusRecord, bool) {
	r, ok := obj.(*serviceRecord)
	if !ok {
		return nil, false
	}
	sr := &statusRecord{Status: wire.Val(r.Status), LaunchType: string(wire.Val(r.LaunchType))}
	for _, it := range r.CapacityProviderStrategy {
		sr.Strategy = append(sr.Strategy, strategyRef{CapacityProvider: wire.Val(it.CapacityProvider)})
	}
	return sr, true
}
