package control

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// Service deployments and service revisions (the newer ECS view of a
// rollout, which Terraform's wait_for_steady_state polls, ecosystem §5.8).
// Each deployment of deployments[] has one service deployment and one
// service revision, all three sharing the deployment id's digits:
//
//	deployment        ecs-svc/<digits>
//	service deployment arn:…:service-deployment/<cluster>/<service>/<digits>
//	service revision   arn:…:service-revision/<cluster>/<service>/<digits>
//
// Service deployment status:
//
//	IN_PROGRESS ─▶ SUCCESSFUL                      (rollout COMPLETED)
//	            ─▶ STOPPED                         (superseded, deleted, aborted, breaker without rollback)
//	            ─▶ ROLLBACK_IN_PROGRESS ─▶ ROLLBACK_SUCCESSFUL (breaker with rollback, StopServiceDeployment ROLLBACK)

// deploymentRef parses a service-deployment or service-revision ARN of ns
// into cluster, service and id digits.
func deploymentRef(ns ecs.Namespace, arn, typ string) (cluster, service, digits string, ok bool) {
	a, isARN := ecs.ParseARN(arn)
	if !isARN || !a.InNamespace(ns) || a.Type() != typ {
		return "", "", "", false
	}
	parts := strings.Split(a.Path(), "/")
	if len(parts) != 3 || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// deploymentRecordFor returns the service of a service deployment ARN from
// the view.
func (c *Control) serviceOfARN(ns ecs.Namespace, arn, typ string) (*serviceRecord, string) {
	cluster, service, digits, ok := deploymentRef(ns, arn, typ)
	if !ok {
		return nil, ""
	}
	rec, _ := c.view.get(keyService(ns, cluster, service)).(*serviceRecord)
	return rec, digits
}

// withLiveCounts fills a service deployment's revision counts from the
// service's current deployments.
func (r *serviceRecord) withLiveCounts(sd wire.ServiceDeployment) wire.ServiceDeployment {
	digits := lastSegment(wire.Val(sd.ServiceDeploymentArn))
	for _, d := range r.Deps {
		if idDigits(wire.Val(d.Id)) == digits && sd.TargetServiceRevision != nil {
			t := *sd.TargetServiceRevision
			t.RunningTaskCount, t.PendingTaskCount, t.RequestedTaskCount = d.RunningCount, d.PendingCount, d.DesiredCount
			sd.TargetServiceRevision = &t
		}
	}
	if sd.SourceServiceRevisions == nil {
		sd.SourceServiceRevisions = []wire.ServiceRevisionSummary{}
	}
	return sd
}

// ListServiceDeployments lists a service's service deployments, newest
// first, filtered by status and creation time; 20 per page by default
// (1–100). An unknown service is ServiceNotFoundException.
func (c *Control) ListServiceDeployments(ctx context.Context, ns ecs.Namespace, in *wire.ListServiceDeploymentsRequest) (*wire.ListServiceDeploymentsResponse, error) {
	n, err := pageSize(in.MaxResults, 20, 100)
	if err != nil {
		return nil, err
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	name, ok := serviceRef(ns, cluster, wire.Val(in.Service))
	if !ok {
		return nil, errServiceNotFound()
	}
	rec, _ := c.view.get(keyService(ns, cluster, name)).(*serviceRecord)
	if rec == nil {
		return nil, errServiceNotFound()
	}
	filter := nsPrefix(ns) + cluster + "/" + name + "|"
	for _, s := range in.Status {
		filter += string(s) + ","
	}
	if in.CreatedAt != nil {
		if in.CreatedAt.After != nil {
			filter += "|a" + in.CreatedAt.After.Time.String()
		}
		if in.CreatedAt.Before != nil {
			filter += "|b" + in.CreatedAt.Before.Time.String()
		}
	}
	after, err := c.decodeToken("ListServiceDeployments", filter, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &wire.ListServiceDeploymentsResponse{ServiceDeployments: []wire.ServiceDeploymentBrief{}}
	skipping := after != ""
	for _, sd := range rec.History {
		arn := wire.Val(sd.ServiceDeploymentArn)
		if skipping {
			skipping = arn != after
			continue
		}
		if len(in.Status) > 0 && !slices.Contains(in.Status, wire.Val(sd.Status)) {
			continue
		}
		if in.CreatedAt != nil && sd.CreatedAt != nil {
			if in.CreatedAt.After != nil && !sd.CreatedAt.After(in.CreatedAt.After.Time) {
				continue
			}
			if in.CreatedAt.Before != nil && !sd.CreatedAt.Before(in.CreatedAt.Before.Time) {
				continue
			}
		}
		if len(out.ServiceDeployments) == n {
			last := wire.Val(out.ServiceDeployments[n-1].ServiceDeploymentArn)
			tok := c.encodeToken("ListServiceDeployments", filter, last)
			out.NextToken = &tok
			break
		}
		var target *string
		if sd.TargetServiceRevision != nil {
			target = sd.TargetServiceRevision.Arn
		}
		out.ServiceDeployments = append(out.ServiceDeployments, wire.ServiceDeploymentBrief{
			ServiceDeploymentArn: sd.ServiceDeploymentArn, ServiceArn: sd.ServiceArn, ClusterArn: sd.ClusterArn,
			CreatedAt: sd.CreatedAt, StartedAt: sd.StartedAt, FinishedAt: sd.FinishedAt,
			Status: sd.Status, StatusReason: sd.StatusReason, TargetServiceRevisionArn: target,
		})
	}
	if skipping {
		return nil, ecs.Errorf(ecs.InvalidParameter, "Invalid nextToken.")
	}
	return out, nil
}

// DescribeServiceDeployments describes service deployments by ARN (up to
// 20); unknown ones are MISSING failures.
func (c *Control) DescribeServiceDeployments(ctx context.Context, ns ecs.Namespace, in *wire.DescribeServiceDeploymentsRequest) (*wire.DescribeServiceDeploymentsResponse, error) {
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "serviceDeploymentArns must name between 1 and 20 service deployments.")
	}
	out := &wire.DescribeServiceDeploymentsResponse{ServiceDeployments: []wire.ServiceDeployment{}, Failures: []wire.Failure{}}
	for _, arn := range in.ServiceDeploymentArns {
		if rec, digits := c.serviceOfARN(ns, arn, "service-deployment"); rec != nil {
			if sd := rec.history(digits); sd != nil {
				out.ServiceDeployments = append(out.ServiceDeployments, rec.withLiveCounts(*sd))
				continue
			}
		}
		out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
	}
	return out, nil
}

// DescribeServiceRevisions describes service revisions by ARN (up to 20);
// unknown ones are MISSING failures.
func (c *Control) DescribeServiceRevisions(ctx context.Context, ns ecs.Namespace, in *wire.DescribeServiceRevisionsRequest) (*wire.DescribeServiceRevisionsResponse, error) {
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "serviceRevisionArns must name between 1 and 20 service revisions.")
	}
	out := &wire.DescribeServiceRevisionsResponse{ServiceRevisions: []wire.ServiceRevision{}, Failures: []wire.Failure{}}
	for _, arn := range in.ServiceRevisionArns {
		if rec, digits := c.serviceOfARN(ns, arn, "service-revision"); rec != nil {
			if rev := rec.revision(digits); rev != nil {
				r := *rev
				if r.LoadBalancers == nil {
					r.LoadBalancers = []wire.LoadBalancer{}
				}
				if r.ServiceRegistries == nil {
					r.ServiceRegistries = []wire.ServiceRegistry{}
				}
				out.ServiceRevisions = append(out.ServiceRevisions, r)
				continue
			}
		}
		out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
	}
	return out, nil
}

// revisionLaunch is a service revision's launch config.
func revisionLaunch(rev *wire.ServiceRevision) launchConfig {
	return launchConfig{
		taskDefinition: wire.Val(rev.TaskDefinition), launchType: wire.Val(rev.LaunchType), strategy: rev.CapacityProviderStrategy,
		platformVersion: wire.Val(rev.PlatformVersion), network: rev.NetworkConfiguration,
		loadBalancers: rev.LoadBalancers, registries: rev.ServiceRegistries,
	}
}

// StopServiceDeployment stops an in-progress service deployment: ROLLBACK
// (the default) starts a deployment of the last completed revision and
// marks this one ROLLBACK_IN_PROGRESS; ABORT fails its rollout so that it
// launches nothing more and marks it STOPPED. A deployment that is not in
// progress is ConflictException; an unknown one is
// ServiceDeploymentNotFoundException.
func (c *Control) StopServiceDeployment(ctx context.Context, ns ecs.Namespace, in *wire.StopServiceDeploymentRequest) (*wire.StopServiceDeploymentResponse, error) {
	arn := wire.Val(in.ServiceDeploymentArn)
	cluster, service, digits, ok := deploymentRef(ns, arn, "service-deployment")
	notFound := ecs.Errorf(ecs.ServiceDeploymentNotFound, "The service deployment does not exist.")
	if !ok {
		return nil, notFound
	}
	stopType := wire.Val(in.StopType)
	if stopType == "" {
		stopType = wire.StopServiceDeploymentStopTypeRollback
	}
	now := c.nowUTC()
	err := c.update(ctx, func(t tx) error {
		rec := new(serviceRecord)
		found, err := t.get(keyService(ns, cluster, service), rec)
		if err != nil {
			return err
		}
		if !found {
			return notFound
		}
		sd := rec.history(digits)
		if sd == nil {
			return notFound
		}
		var dep *deploymentRecord
		for i := range rec.Deps {
			if idDigits(wire.Val(rec.Deps[i].Id)) == digits {
				dep = &rec.Deps[i]
			}
		}
		if wire.Val(sd.Status) != wire.ServiceDeploymentStatusInProgress || dep == nil || wire.Val(rec.Status) != serviceActive {
			return ecs.Errorf(ecs.Conflict, "The service deployment is not in progress.")
		}
		if stopType == wire.StopServiceDeploymentStopTypeAbort {
			dep.RolloutState = wire.Ptr(wire.DeploymentRolloutStateFailed)
			dep.RolloutStateReason = wire.Ptr("ECS deployment " + wire.Val(dep.Id) + " stopped by user.")
			dep.UpdatedAt = wire.NewTime(now)
			rec.finishHistory(wire.Val(dep.Id), wire.ServiceDeploymentStatusStopped, "Service deployment stopped by user.", now)
			return putService(t, ns, rec)
		}
		good := rec.revision(idDigits(rec.SchedState.LastCompleted.ID))
		if rec.SchedState.LastCompleted.ID == "" || good == nil {
			return ecs.Errorf(ecs.Conflict, "The service deployment cannot be rolled back: the service has no completed deployment.")
		}
		rec.rollback(ns, dep, good, "Service deployment rolled back by user.", now)
		return putService(t, ns, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.StopServiceDeploymentResponse{ServiceDeploymentArn: wire.Ptr(arn)}, nil
}

// rollback starts a new PRIMARY deployment of a good revision in place of
// failed, whose service deployment becomes ROLLBACK_IN_PROGRESS.
func (r *serviceRecord) rollback(ns ecs.Namespace, failed *deploymentRecord, good *wire.ServiceRevision, reason string, now time.Time) *deploymentRecord {
	failedID := wire.Val(failed.Id)
	lc := revisionLaunch(good)
	// The failed deployment's service deployment covers the rollback: keep
	// it in progress as ROLLBACK_IN_PROGRESS rather than superseded.
	var saved *wire.ServiceDeployment
	if h := r.history(failedID); h != nil {
		cp := *h
		saved = &cp
	}
	r.applyLaunch(lc)
	nd := r.newDeployment(ns, lc, now)
	nd.RollbackFrom = failedID
	// newDeployment recorded a service deployment for the rollback: the
	// rollback is part of the failed one's, so drop it.
	r.History = r.History[1:]
	if h := r.history(failedID); h != nil && saved != nil {
		*h = *saved
		h.Status = wire.Ptr(wire.ServiceDeploymentStatusRollbackInProgress)
		h.StatusReason = wire.Ptr(reason)
		h.UpdatedAt = wire.NewTime(now)
		h.Rollback = &wire.Rollback{Reason: wire.Ptr(reason), StartedAt: wire.NewTime(now), ServiceRevisionArn: good.ServiceRevisionArn}
	}
	return nd
}
