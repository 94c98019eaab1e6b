// Package acs speaks the Amazon ECS agent's own protocol: the ACS (Agent
// Communication Service) websocket that carries tasks to container
// instances, and the TCS (telemetry) websocket that carries their metrics.
// Berth serves both, so that the unmodified amazon-ecs-agent and `berth
// agent` are interchangeable.
//
// The package has four parts:
//
//   - wire types (messages.go, telemetry_messages.go): the shapes of the
//     agent's models, ecs-agent/acs/model/api/api-2.json and
//     ecs-agent/tcs/model/api/api-2.json in aws/amazon-ecs-agent, with the
//     models' member names as JSON names;
//   - framing (codec.go): Encode/Decode and EncodeTelemetry/DecodeTelemetry
//     turn messages into frames {"type":"<ShapeName>","message":{...}} and
//     back;
//   - the server (Handler at Path "/ws", TelemetryHandler at TelemetryPath
//     "/tcs/ws"): authentication through an injected Authenticator, one
//     session per container instance, heartbeats, inactivity detection, a
//     bounded send queue per session, and a Backend that the control plane
//     implements;
//   - the client (Dial, DialTelemetry): the agent's end, for Berth's own
//     agent and for tests.
//
// An ACS session, as the Handler runs it:
//
//	agent                                   Handler                     Backend
//	  │ GET /ws?clusterArn=…&containerInstanceArn=…&seqNum=1&
//	  │     protocolVersion=2&sendCredentials=true   (SigV4-signed)
//	  │──────────────────────────────────────▶│ Authenticate(r) ─ error ──▶ 403 {"AccessDeniedException":"…"}
//	  │                                       │ ParseParams ───── error ──▶ 400 {"BadRequestException":"…"}
//	  │                                       │ close the instance's previous session (ErrReplaced)
//	  │                                       │──── Connect(s) ───────────▶│ error ─▶ 4xx {"InactiveInstanceException":"…"}
//	  │◀────────── 101 Switching Protocols ───│                            │
//	  │                                       │                            │
//	  │◀─ HeartbeatMessage{messageId} ────────│ every HeartbeatInterval    │
//	  │── HeartbeatAckRequest{messageId} ────▶│──── Handle ───────────────▶│
//	  │                                       │◀─── s.Send(PayloadMessage) │ tasks to start/stop
//	  │◀─ PayloadMessage{messageId, tasks} ───│                            │
//	  │── AckRequest{messageId} ─────────────▶│──── Handle ───────────────▶│
//	  │── IAMRoleCredentialsAckRequest ──────▶│──── Handle ───────────────▶│ one per credential set
//	  │                                       │◀─── s.Send(TaskManifestMessage)
//	  │◀─ TaskManifestMessage{tasks} ─────────│                            │
//	  │── AckRequest ────────────────────────▶│──── Handle ───────────────▶│
//	  │── TaskStopVerificationMessage ───────▶│──── Handle ───────────────▶│ stop candidates
//	  │◀─ TaskStopVerificationAck{stopTasks} ─│◀─── s.Send ────────────────│
//	  │                                       │                            │
//	  │   … no frame for InactivityTimeout, agent closed, s.Close(cause),  │
//	  │     queue full, newer session, or Handler.Close …                  │
//	  │◀─ close frame (1000; 1001 on shutdown)│──── Disconnect(s, cause) ─▶│ agentConnected=false
//
// The agent drops a session that has been silent for 1-2 minutes and
// reconnects at once after a normal close, so heartbeats keep it connected
// and the inactivity timeout tells the backend that an agent is gone. A
// deregistered instance is refused at the next connection with
// InactiveInstanceException, which makes the agent wait an hour: to
// deregister, close the session and refuse it in Connect.
//
// TCS differs in three ways: the agent publishes (PublishMetricsRequest,
// PublishHealthRequest, PublishInstanceStatusRequest) and the server acks;
// the agent prefixes each frame with its SigV4-signed HTTP headers, which
// DecodeTelemetry skips; and the agent does not answer TCS heartbeats, so
// the server also pings and counts pongs as activity.
//
// Concurrency: each session has two goroutines, the reader (the ServeHTTP
// goroutine, which also delivers messages to the Backend in order and runs
// the teardown) and the writer (the only one writing data frames). Both are
// owned by the handler: Close ends every session and waits for them. There
// is no package-level mutable state; the two type tables are built once and
// only read.
package acs
