// Package docker is the runtime.Runtime of a Docker Engine, so that the
// agent's tasks run as real containers. It drives the Engine API with
// Docker's official Go client, github.com/docker/docker/client. It needs API
// 1.41 (Docker 20.10, Debian bookworm's docker.io) or later; the client
// negotiates the version with the daemon.
//
//	agent ──Pull──▶ ImageInspect ─(missing)─▶ ImagePull ──▶ ErrImagePull on failure
//	      ──Create─▶ ContainerCreate (the mapping below) ──▶ 64-hex id
//	      ──Start/Stop/Wait/Remove/Logs──▶ the container endpoints
//	      ◀─Inspect/List── ContainerInspect (List: ContainerList by label, then inspect)
//	      ◀─Events──────── GET /events, type=container, start|die|health_status|destroy
//	      ◀─Stats───────── GET /containers/{id}/stats?stream=false&one-shot=true (runtime.StatsReader)
//	      ◀─NetworkInfo─── NetworkInspect, or ContainerInspect for container:<id> (runtime.NetworkReader)
//
// The Runtime keeps no state of its own: Docker is the truth, the task ARN
// label finds a task's containers, and a fresh Runtime (after an agent
// restart) sees everything an earlier one created.
//
// How a runtime.ContainerSpec becomes a container (Config, HostConfig):
//
//	ContainerSpec       Docker                        notes
//	Name                container name                "" lets Docker choose
//	Image               Config.Image                  Pull first: Create does not pull
//	Entrypoint          Config.Entrypoint             nil keeps the image's
//	Command             Config.Cmd                    nil keeps the image's
//	Env                 Config.Env                    "KEY=value"
//	WorkingDir, User    Config.WorkingDir, .User
//	Labels              Config.Labels                 task ARN, container, cluster, dockerLabels
//	CPUShares           HostConfig.CPUShares          clamped to 2…262144; 0 → 2, as ECS's agent does
//	MemoryLimitMiB      HostConfig.Memory             MiB → bytes; at least 6 MiB (Docker's floor); 0 = none
//	MemoryReservation   HostConfig.MemoryReservation  MiB → bytes; at least 6 MiB; 0 = none
//	Ulimits             HostConfig.Ulimits            name, soft, hard
//	NetworkMode         HostConfig.NetworkMode        bridge (""), host, none, container:<id>, a network's name
//	IPv4Address         NetworkingConfig              IPAMConfig.IPv4Address on the NetworkMode network
//	                                                  (user-defined networks only)
//	Ports               Config.ExposedPorts,          "80/tcp"; HostPort 0 → "" (dynamic);
//	                    HostConfig.PortBindings       host, none: exposed only; container:<id>: neither
//	Hostname            Config.Hostname
//	ExtraHosts          HostConfig.ExtraHosts         "name:ip"
//	Mounts (bind)       HostConfig.Binds              "src:dst[:ro]"; a missing host dir is created
//	Mounts (volume)     HostConfig.Binds              "name:dst[:ro]"; a missing volume is created
//	Mounts (anonymous)  HostConfig.Mounts             Volume with no Source; removed with the container
//	HealthCheck         Config.Healthcheck            Test, Interval, Timeout, Retries, StartPeriod
//	StopTimeout         Config.StopTimeout            seconds, rounded up; 0 = Docker's default (10 s);
//	                                                  recorded for `docker stop`: Stop always passes its grace
//	Privileged          HostConfig.Privileged
//	ReadOnly            HostConfig.ReadonlyRootfs
//	Init                HostConfig.Init               false leaves the daemon's default
//
// And how Docker's answers come back:
//
//	Docker                                  runtime
//	State.Status created                    StateCreated
//	  running, paused, restarting           StateRunning
//	  exited, dead, removing                StateExited (ExitCode, FinishedAt set)
//	State.Health.Status healthy/unhealthy   HealthHealthy / HealthUnhealthy
//	  starting, or no health check          HealthUnknown
//	  (Docker marks a stopped container with a health check unhealthy)
//	NetworkSettings.Ports                   Ports: one per container port and host
//	                                        address (a dynamic port is bound on
//	                                        0.0.0.0 and ::), with the real host port
//	NetworkSettings.Networks                IPAddress: on the network-mode's network,
//	                                        else the first (by name) with one
//	event start / die / destroy             EventStart / EventDie / EventDestroy
//	event "health_status: healthy|unhealthy" EventHealth with Health
//	wait status code, State.OOMKilled       ExitResult.ExitCode, .OOMKilled
//
// Errors: an image that is missing and cannot be pulled (Pull), or is
// missing (Create), wraps runtime.ErrImagePull; a spec Docker refuses wraps
// runtime.ErrCreate; a start Docker refuses wraps runtime.ErrStart; and an
// unknown container id wraps runtime.ErrNotFound. Each keeps Docker's error
// in its chain and message, and context errors pass through.
package docker
