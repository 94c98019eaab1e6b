package control

import (
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/wire"
)

// asgRecord is the part of an Auto Scaling group record (written by
// package autoscaling under asg/<account>/<region>/group/<name>) that
// placement reads: which EC2 instances the group holds. Control never
// writes it.
type asgRecord struct {
	Name                             string `json:"name"`
	NewInstancesProtectedFromScaleIn bool   `json:"newInstancesProtectedFromScaleIn,omitempty"`
	Instances                        []struct {
		ID string `json:"id"`
	} `json:"instances"`
}

func keyASG(ns ecs.Namespace, name string) string {
	return "asg/" + ns.Account + "/" + ns.Region + "/group/" + name
}

// isASGKey reports whether key is an Auto Scaling group record.
func isASGKey(key string) bool {
	return strings.HasPrefix(key, "asg/") && strings.Contains(key, "/group/")
}

// asgName returns the group name of an Auto Scaling group ARN
// (…:autoScalingGroupName/<name>), or the argument itself when it is a
// bare name.
func asgName(arn string) string {
	if i := strings.LastIndex(arn, "autoScalingGroupName/"); i >= 0 {
		return arn[i+len("autoScalingGroupName/"):]
	}
	return arn
}

// providerMembers returns, for an Auto Scaling group capacity provider,
// the EC2 instance IDs its group holds (ok true). Tasks of such a provider
// are placed only on container instances whose ec2InstanceId is one of
// them: a provider with no capacity never falls back to another (spec §3).
// For the Fargate providers and "" it returns ok false (no restriction).
func (c *Control) providerMembers(ns ecs.Namespace, provider string) (map[string]bool, bool) {
	if provider == "" || isFargateProvider(provider) {
		return nil, false
	}
	members := map[string]bool{}
	cp, _ := c.view.get(keyCP(ns, provider)).(*capacityProviderRecord)
	if cp == nil || cp.AutoScalingGroupProvider == nil {
		return members, true
	}
	g, _ := c.view.get(keyASG(ns, asgName(wire.Val(cp.AutoScalingGroupProvider.AutoScalingGroupArn)))).(*asgRecord)
	if g == nil {
		return members, true
	}
	for _, in := range g.Instances {
		members[in.ID] = true
	}
	return members, true
}

// placeByProvider places req.Count tasks whose capacity providers are
// providers[i] (all "" for a launch type): one Place per provider over
// the candidates of that provider, so each task lands only on capacity of
// its own provider. Placement indices in the merged plan are the tasks'
// positions in providers.
//
// A provider without instances, or without an ACTIVE one, fails its tasks
// with the provider's ARN and EMPTY CAPACITY PROVIDER or NO ACTIVE
// INSTANCES (spec §6.2).
func placeByProvider(ns ecs.Namespace, req scheduler.Request, cands []scheduler.Candidate, providers []string, members func(string) (map[string]bool, bool)) (scheduler.Plan, error) {
	var order []string
	byProvider := map[string][]int{}
	for i, p := range providers {
		if _, ok := byProvider[p]; !ok {
			order = append(order, p)
		}
		byProvider[p] = append(byProvider[p], i)
	}
	if len(order) == 1 {
		if set, ok := members(order[0]); !ok || set == nil {
			return scheduler.Place(req, cands)
		}
	}
	var plan scheduler.Plan
	for _, p := range order {
		idx := byProvider[p]
		sub := cands
		if set, ok := members(p); ok {
			sub = make([]scheduler.Candidate, 0, len(set))
			for _, cd := range cands {
				if set[cd.EC2InstanceID] {
					sub = append(sub, cd)
				}
			}
		}
		if _, restricted := members(p); restricted && !slices.ContainsFunc(sub, func(cd scheduler.Candidate) bool { return cd.Status == instanceActive }) {
			reason := "EMPTY CAPACITY PROVIDER"
			if len(sub) > 0 {
				reason = "NO ACTIVE INSTANCES"
			}
			plan.Unplaced += len(idx)
			plan.Failures = append(plan.Failures, scheduler.Failure{ARN: ns.CapacityProviderARN(p), Reason: reason})
			continue
		}
		r := req
		r.Count = len(idx)
		part, err := scheduler.Place(r, sub)
		if err != nil {
			return scheduler.Plan{}, err
		}
		for _, pl := range part.Placements {
			pl.Task = idx[pl.Task]
			plan.Placements = append(plan.Placements, pl)
		}
		plan.Unplaced += part.Unplaced
		plan.Failures = append(plan.Failures, part.Failures...)
	}
	slices.SortFunc(plan.Placements, func(a, b scheduler.Placement) int { return a.Task - b.Task })
	return plan, nil
}
