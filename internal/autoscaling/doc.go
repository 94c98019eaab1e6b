// Package autoscaling serves the subset of the EC2 Auto Scaling API that
// ECS capacity providers need, on the same endpoint as the ECS API, and
// runs the controller that gives each Auto Scaling group its instances.
//
//	form POST (Action=…&Version=2011-01-01), no X-Amz-Target
//	  ─▶ Route ─▶ Handler: body limit ─▶ authenticate (SigV4, like ECS calls)
//	     ─▶ parseForm ─▶ decodeInput (model validation: required, bounds,
//	        patterns) ─▶ ops (one store.Update per mutation) ─▶ XML result
//	     any failure ─▶ writeError: <ErrorResponse><Error><Type><Code><Message>
//
//	Controller (one goroutine + a store watcher, owned by the server):
//	  every change under asg/ (and every Resync) ─▶ for each group:
//	    store.Update { Decide(group, now, rng) ─▶ new Pending instances,
//	                   Terminating instances, InProgress activities }
//	    ─▶ Launcher.Launch / Terminate for each Pending / Terminating
//	       instance without a call in flight
//	    ─▶ store.Update { Pending ─▶ InService, or removed; activity
//	                      Successful / Failed }
//
// # Operations
//
// CreateAutoScalingGroup, UpdateAutoScalingGroup, DescribeAutoScalingGroups,
// DeleteAutoScalingGroup (ForceDelete), SetDesiredCapacity,
// SetInstanceProtection, DescribeAutoScalingInstances,
// TerminateInstanceInAutoScalingGroup and DescribeScalingActivities. Any
// other action is InvalidAction. Berth has no EC2: launch templates and
// launch configurations are names only, a VPCZoneIdentifier's n-th subnet
// is in zone <region>a, <region>b, …, and MixedInstancesPolicy and
// InstanceId are refused.
//
// # Naming a group's launcher
//
// A group's instances come from an instance launcher, chosen by
//
//  1. the group tag berth:launcher = sim | local | exec, else
//  2. the launch template name (or launch configuration name) "berth-<launcher>"
//     or "berth-<launcher>-<anything>", e.g. berth-exec-hosts.
//
// Other group tags: berth:instance-type (default t3.medium) is the type
// of new instances, berth:cluster (default "default") the ECS cluster
// they join. A group that names no launcher, or an unavailable one, gets
// Failed launch activities that say why, retried with backoff.
//
// Launchers: exec runs the server's --asg-exec-command (see Exec) — the
// command is server configuration, never taken from the API, so callers
// cannot run arbitrary commands. sim and local (package inprocess, given
// to the server as a LauncherFactory) run each instance as an agent in
// the server process, with the resources of the group's instance type
// (LookupInstanceType; unknown types fail the launch) and the group's
// instance id as its ec2InstanceId. Without a factory they are
// Unavailable.
//
// # Restarts
//
// The controller keeps no state of its own: after a restart it repeats
// every unfinished launch (Pending) and termination (Terminating), and
// for Resident launchers (sim, local: their instances end with the
// server) it also launches every InService instance again, once, which
// brings it back as the same container instance. InService instances of
// exec are left alone: their hosts outlive the server.
//
// # State
//
// Keys live under asg/<account>/<region>/: group/<name> holds a Group with
// its instances (so one Update changes both), activity/<group>/<id> holds
// an Activity. Instance ids are i- and 17 hex digits.
package autoscaling
