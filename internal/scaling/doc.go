// Package scaling runs ECS managed scaling for Auto Scaling group
// capacity providers (spec §4): the controller that, every interval,
// turns what control shows of a provider (its group's container
// instances, the tasks waiting for its capacity) into the
// CapacityProviderReservation metric and a target-tracking decision
// (package capacity's arithmetic), and applies it to the group through
// package autoscaling's Go API; and the Drainer, the termination hook of
// managed draining.
//
//	every Interval, for each provider with managed scaling ENABLED
//	associated with a cluster:
//	  control.ManagedProviders ─┐
//	  autoscaling.Groups.Get ───┴─▶ evaluate (pure: instances, rooms,
//	      EstimateScaleOut ─▶ Reservation ─▶ Decide ─▶ Protect)
//	  ─▶ SetInstanceProtection (protect busy, unprotect those chosen to go)
//	  ─▶ SetDesiredCapacity (cause: the target-tracking alarm, as ECS's
//	     scaling activities show it)
//	  ─▶ RecordManagedScaling (the metric on the cluster's as_policy
//	     attachment; FAILED with a reason when the group is missing)
//
//	group controller terminates an instance ─▶ Drainer.BeforeTerminate:
//	  container instance DRAINING ─▶ services replace its tasks ─▶ no
//	  non-daemon task left (or 48 h) ─▶ the launcher terminates it
package scaling
