// Package simfleet runs N simulated container instances in one process
// against a berth server, for placement tests and scale runs (`berth sim`).
//
// Each instance is a real agent.Agent on its own simulated runtime
// (runtime/sim): it registers with the cluster, holds its own ACS and TCS
// sessions, and runs the tasks the server places on it through the same
// protocol a `berth agent` speaks. What the instances share is what a
// process can share: one ECS client (one connection pool) and the logger.
//
//	Fleet.Run ── at most Concurrency instances starting at once ──┐
//	   │                                                          ▼
//	   │   instance i: sim.Runtime ◀── agent.Agent ── RegisterContainerInstance
//	   │                                   │          (ecs.instance-type and
//	   │                                   │           ecs.availability-zone
//	   │                                   │           round-robin)
//	   │                                   ├── ACS session (tasks) ──▶ OnConnected
//	   │                                   └── TCS session (health)      │
//	   │                                                                 ▼
//	   └── Ready() is closed once every instance has connected ◀── count
//
// An instance takes a start slot when it begins registering and gives it
// back once its first ACS session is up, so a fleet of thousands reaches
// the server as a steady stream rather than a stampede. To stay cheap at
// thousands of instances, the instances run without the task metadata
// endpoint, keep their task states in memory (agent.Config.TaskStateInMemory),
// and their simulated containers do not outlive the process. The instance
// ARN is kept in the instance's directory under Config.DataDir, so a fleet
// restarted on the same directory comes back as the same instances.
//
// # Pool
//
// A Pool is the long-lived, changing counterpart of a Fleet: instances are
// added (Add waits until the instance is connected) and removed one at a
// time, each named by its EC2 instance id, with its own cluster, instance
// type, zone and resources, and registered with that id as ec2InstanceId
// through agent.Config.EC2. The Auto Scaling sim launcher runs one Pool in
// the server; the local launcher runs one whose instances are agents on
// the local Docker (PoolConfig.Runtime).
//
//	Pool.Add(spec) ──▶ runtime (sim, or PoolConfig.Runtime) ◀── agent.Agent ── Run (pool goroutine)
//	   └─ waits for the first ACS session; on failure or ctx end, stops it again
//	Pool.Remove(id) ──▶ agent.Close, runtime closed (the container instance stays registered)
//	Pool.Close ──▶ Remove of every instance
package simfleet
