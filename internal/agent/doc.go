// Package agent is Berth's container agent: one container instance that
// registers with the control plane, holds an ACS session, and runs the
// tasks it is sent on a runtime.Runtime (Docker, or the simulator). It
// speaks only what the Amazon ECS agent speaks — the public ECS API through
// the AWS SDK (state changes, its most frequent calls, through a lean
// client of the same protocol: report_http.go), the ACS websocket, and
// container health on the TCS websocket — so `berth agent` and the
// unmodified amazon-ecs-agent are interchangeable for the server.
//
//	          ┌──────────────── Agent.Run ─────────────────┐
//	ECS API ◀─┤ register (ARN kept in <data-dir>/agent.json) │
//	          │ recover: task state files + runtime.List     │
//	ACS ws ◀─▶│ session: heartbeats, payloads, manifests     │──apply──▶ engine
//	TCS ws ◀──│ telemetry: container health                  │            │
//	          │ events: runtime.Events → runners (health)    │            │ one runner per task ARN
//	          └──────────────────────────────────────────────┘            ▼
//	                                     runner: Pull/Create/Start, Wait, Stop
//	                                     report worker ──Reporter──▶ Submit*StateChange (ECS API)
//
// The task engine also runs without a container instance: NewEngine gives
// an Engine (the engine, its event loop and its state directory, with no
// registration and no session) that runs the tasks it is handed with
// Apply and reports through any Reporter. The server's built-in Fargate
// fleet runs its tasks on one, reporting to control directly, and gives
// awsvpc tasks their network namespace through EngineConfig.NetworkFor.
//
// # A task's life in its runner
//
//	              containers start as their dependsOn allow
//	PENDING ─────────────────────────────────────────────▶ RUNNING (every essential container runs)
//	   │                                                      │
//	   │ desired STOPPED (payload, stop verification),        │ same causes
//	   │ an essential container exits or fails to start       │
//	   ▼                                                      ▼
//	stopping: containers nobody running depends on get Stop(stopTimeout) first
//	   │
//	   ▼ every container exited (or never started)
//	STOPPED ──reported and acknowledged──▶ cleanup after TaskCleanupWait: Remove, forget
//
// Reports are level-triggered: each runner's report worker compares what the
// runner knows with what the server has acknowledged and sends the
// difference (SubmitTaskStateChange for RUNNING and STOPPED,
// SubmitContainerStateChange for containers that change while the task
// runs), retrying with backoff on server errors and throttling and giving up
// on ClientException, InvalidParameterException and AccessDeniedException.
//
// # Restarts
//
// Each runner keeps its task's state in <data-dir>/tasks/<task-id>.json
// (the ACS task, desired and known status, container ids, exit codes, what
// the server acknowledged). A new Agent on the same data directory
// re-registers under the same ARN, reloads the state files, and finds the
// tasks' containers through runtime.List by their task-ARN label: running
// containers are re-attached (not started again), containers that exited
// while the agent was away are reported STOPPED with their exit codes.
// Closing the agent never stops tasks: each runner has a shutdown context
// (the agent's life) separate from its kill context (the task's life).
//
// # Task metadata endpoint
//
// The engine serves the ECS task metadata endpoint v4 (and v3 on the same
// handlers) to its containers: each gets ECS_CONTAINER_METADATA_URI_V4 =
// http://<host's address on its network>:<port>/v4/<token> at create
// time, the token being the container's own, kept in the task state file
// (see metadata.go for the listen address and the answers). Its HTTP
// server starts with the engine, before any runner, and stops after them.
//
// # Goroutines
//
// Run owns the ACS and TCS session loops and the event loop; the engine
// owns one loop per runner and the metadata endpoint's server; each runner owns its report worker and its
// container operations (start, wait, stop). Each group has a WaitGroup,
// and Close stops them in order: sessions and events, then runners.
package agent
