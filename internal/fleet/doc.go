// Package fleet is the server's built-in Fargate fleet: it runs the
// FARGATE and FARGATE_SPOT tasks of every namespace on the local Docker
// Engine (or, when no Docker is reachable, on the simulated runtime), each
// in a network namespace of its own with a private address and an ENI
// attachment, as ECS's Fargate does.
//
//	control.FleetTasks ──(view changes: WaitChange)──▶ reconcile pass
//	   PROVISIONING  ─▶ address from the subnet, pause container holding it
//	                    ─▶ control.ProvisionFargateTask (ENI ATTACHED, PENDING)
//	   PENDING / RUNNING (desired RUNNING or STOPPED) ─▶ agent.Engine.Apply
//	   STOPPED (gone from the list) ─▶ the pause container is removed
//	agent.Engine ──reporter──▶ control.SubmitTaskStateChange / SubmitContainerStateChange
//	             ──health────▶ control.ReportHealth
//
// # Task networks
//
// Every task gets a pause container: a container whose only job is to hold
// the task's network namespace, as the ECS agent's pause container does
// for awsvpc tasks. With Docker, it is created on a user-defined bridge
// network (berth-fargate, 10.213.0.0/16 unless it exists with another
// subnet) with the task's address as its fixed IPv4 address; the host
// routes to that bridge, so the task is reachable at its private address
// from the machine. The task's containers join it (network mode
// container:<pause>), so they share the address and every port they
// listen on is served there, and their port mappings are not published on
// the host. The pause image is made by the fleet at first use: a tiny
// static executable (see pauseProgram) imported into Docker, since no
// registry is reachable. A pause container lives from provisioning until
// the task is STOPPED, whatever its containers do, so containers that
// start late or restart find their network.
//
// On the simulated runtime the same pause containers are created (the
// simulator has every image) and the addresses come from the same subnet;
// the simulator does not model the network itself.
//
// # Fargate Spot interruptions
//
// The fleet interrupts FARGATE_SPOT tasks (never FARGATE ones) as Fargate
// reclaiming Spot capacity does (spec §5.5), at Config.Spot.Rate and on
// demand (control.InterruptSpotTasks, behind the server's
// /berth/admin/spot-interruptions):
//
//	interruption ─▶ desired STOPPED, stopCode SpotInterruption, stoppedReason
//	                "Your Spot Task was interrupted." (lastStatus still RUNNING)
//	  ─▶ engine: SIGTERM, SIGKILL after the container's stopTimeout
//	  ─▶ end of the warning (Config.Spot.Warning, 2 min): whatever still runs is killed
//	  ─▶ STOPPED (the stop code stays SpotInterruption)
//
// A second loop (spot) owns the random source the rate draws from and
// wakes on view changes, at each draw and at each warning's end.
//
// # State
//
// The fleet keeps no state of its own that control or the runtime does not
// have: the tasks and their addresses are control's; the pause containers
// carry their task's ARN and address as labels; the engine keeps its
// tasks' state files under the fleet's data directory and takes its tasks
// over after a restart. Each reconcile pass therefore starts from what is
// true now, and a pass that fails is simply done again later.
package fleet
