// Package sim is a simulated container runtime: it implements
// runtime.Runtime without running anything, with realistic step timings and
// with behaviour scripted per container through its environment. It backs
// `berth agent --runtime sim`, the server's built-in Fargate fleet when no
// Docker Engine is reachable, and `berth sim`, which runs thousands of
// simulated instances in one process; tests use it to drive every path of
// the agent without Docker.
//
// # Lifecycle
//
//	      Create            Start                 BERTH_SIM_RUN_SECONDS elapse
//	────────────▶ created ────────▶ running ───────────────────────────────▶ exited
//	                 │                 │ Stop: SIGTERM, exit 143 after the       ▲
//	                 │                 │   stop delay (137 at the end of the     │
//	                 │                 │   grace if ignored or too slow)         │
//	                 │                 └─────────────────────────────────────────┤
//	                 │ BERTH_SIM_FAIL=start, or a static host port in use:       │
//	                 └──────────────── exit code 128, Error set ─────────────────┘
//	Remove (any state): a running container is killed first (137); destroy.
//
// Events: start, die (every way into exited), health (each change),
// destroy. Start on an exited container runs it again, as Docker does.
//
// # Behaviour knobs
//
// A container's behaviour comes from BERTH_SIM_* variables in
// ContainerSpec.Env (the task definition's environment plus overrides). The
// last occurrence of a variable wins. An unknown BERTH_SIM_ variable or a
// malformed value makes Create fail with runtime.ErrCreate, so typos fail
// loudly. Durations are seconds, fractions allowed, and like every
// simulated duration they are divided by Options.Speed.
//
//	Variable                   Values                  Effect (default)
//	-------------------------  ----------------------  ---------------------------------------------
//	BERTH_SIM_RUN_SECONDS      seconds                 exit on its own after this long (run until stopped)
//	BERTH_SIM_EXIT_CODE        0..255                  exit code when exiting on its own (0)
//	BERTH_SIM_OOM              1|0                     exiting on its own is an OOM kill: 137, OOMKilled (0)
//	BERTH_SIM_FAIL             pull|create|start       fail that step (none); see "Pull" below
//	BERTH_SIM_HEALTH           healthy|unhealthy|flap  scripted health-check result (healthy)
//	BERTH_SIM_HEALTHY_AFTER    seconds                 when it turns HEALTHY (one check interval)
//	BERTH_SIM_UNHEALTHY_AFTER  seconds                 when it turns UNHEALTHY (unhealthy: interval ×
//	                                                   (first check past startPeriod + retries − 1))
//	BERTH_SIM_FLAP_SECONDS     seconds > 0             flap: length of each HEALTHY/UNHEALTHY phase
//	                                                   (interval × retries)
//	BERTH_SIM_IGNORE_SIGTERM   1|0                     ignore SIGTERM: Stop kills at the end of the
//	                                                   grace, exit 137 (0)
//	BERTH_SIM_PULL_DELAY       seconds                 extra time spent in Create (none)
//	BERTH_SIM_CREATE_DELAY     seconds                 time Create takes (Timings.Create, 5 ms)
//	BERTH_SIM_START_DELAY      seconds                 time Start takes (Timings.Start, 20 ms)
//	BERTH_SIM_STOP_DELAY       seconds                 SIGTERM to exit when honoured (Timings.Stop, 10 ms)
//	BERTH_SIM_OUTPUT           text                    a line written to the logs after "started"
//
// Health applies only to containers with a HealthCheck (Docker's ["NONE"]
// test counts as none); without one, health stays UNKNOWN. Health is
// UNKNOWN until the first scripted change. healthy turns HEALTHY at
// HEALTHY_AFTER and, if UNHEALTHY_AFTER is given, UNHEALTHY then; unhealthy
// turns UNHEALTHY at UNHEALTHY_AFTER and, if HEALTHY_AFTER is given, HEALTHY
// then (when both have passed, the later one holds); flap turns HEALTHY at
// HEALTHY_AFTER and then alternates every FLAP_SECONDS. Zero health-check
// fields take ECS's defaults (interval 30 s, retries 3). An exited
// container keeps the health it had when it exited.
//
// # Pull
//
// Pull receives only an image name, so image names script it: an image
// whose name contains "berth-sim-missing" or ends with ":missing" (or is
// empty) fails to pull with runtime.ErrImagePull; every other image
// exists. Pulling an image not yet present takes a time drawn from
// [Timings.PullMin, Timings.PullMax] (50–200 ms by default); present images
// (pulled before, or listed in Options.Images) take none. Create does not
// require a prior Pull. Because Pull cannot see the environment,
// BERTH_SIM_FAIL=pull makes Create fail with an error wrapping
// runtime.ErrImagePull (as Docker refuses to create from an image it does
// not have), and BERTH_SIM_PULL_DELAY is spent in Create.
//
// # Networking
//
// On the bridge (the default; any NetworkMode other than those below) a
// container gets an address in 172.17.0.0/16 and every PortBinding with
// HostPort 0 gets a dynamic host port from 32768–60999, both held from
// Create to Remove; fixed host ports are held while the container runs,
// and starting a container whose fixed port another running container
// holds fails as Docker does. With "host" there is no own address and a
// HostPort of 0 means the container port; with "none" there are neither
// address nor ports; with "container:<id or name>" (awsvpc) the container
// reports the address of the container whose namespace it joins. A
// user-defined network's name counts as the bridge, and a fixed
// IPv4Address is not simulated (the container gets a bridge address).
// Addresses and dynamic ports are handed out sequentially from a start
// chosen by Options.Seed, so the same seed and calls give the same ids,
// addresses and ports.
//
// # Stats and networks
//
// The Runtime implements runtime.StatsReader with synthetic samples in
// the Docker Engine API's stats format (CPU, memory and eth0 counters
// growing with the time a container has run; zeros when it does not run)
// and runtime.NetworkReader: simulated containers live on this machine, so
// the host's address on every network but "none" is 127.0.0.1. Inspect
// reports an image id derived from the image's name and the creation time.
//
// # Logs
//
// Logs are synthesised from the container's timeline rather than stored:
// "berth-sim: started <name> (image <image>)", the BERTH_SIM_OUTPUT line,
// "berth-sim: received SIGTERM", "berth-sim: ignoring SIGTERM",
// "berth-sim: killed by SIGKILL" or "berth-sim: killed: out of memory",
// "berth-sim: exiting with code <C>", or "berth-sim: error: <reason>" for a
// failed start. They cost no memory and survive Snapshot/Restore.
//
// # Persistence and re-attach
//
// A Runtime lives in its process, but an agent that restarts must find
// "its" containers again with List. Everything after Start is a function
// of recorded times (start time, run time, the scheduled exit of a Stop in
// progress), so the state only changes through API calls. Two ways to keep
// it, over one format: Snapshot and Restore give the caller the JSON to
// store where it likes; Options.StateFile makes the Runtime do it itself,
// restoring in New and writing the file atomically after every changing
// call (the choice for `berth agent --runtime sim`, which has tens of
// containers; `berth sim`'s thousands of in-process instances need no
// persistence). On restore, containers that should have exited meanwhile
// are exited as of their scheduled time, and the others keep their
// original exit time.
//
// # Cost
//
// A Runtime runs no goroutine of its own: timed transitions (exits, health
// changes) sit in one min-heap, and a single Clock timer armed for the
// earliest one applies whatever is due. Each container is one small struct
// (no channel until someone waits on it); events go to bounded
// per-subscriber buffers, and a subscriber that falls behind is dropped
// (its channel closed) rather than slowing the Runtime.
package sim
