package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/acs"
)

// errStopTelemetry reports a TCS session the server ended with a
// StopTelemetrySessionMessage.
var errStopTelemetry = errors.New("agent: the server stopped the telemetry session")

// telemetry keeps a TCS session open until ctx ends and publishes container
// health on it (see telemetrySession), reconnecting with backoff. Like the
// ECS agent, it treats a failing telemetry session as a nuisance, never as
// a reason to stop.
func (a *Agent) telemetry(ctx context.Context, arn string, eng *engine) {
	bo := newBackoff(a.cfg.Backoff)
	for {
		connected, err := a.telemetrySession(ctx, arn, eng)
		if ctx.Err() != nil {
			return
		}
		if connected {
			bo.reset()
		}
		d := bo.delay()
		a.log.Debug("telemetry session ended; reconnecting", "err", err, "in", d)
		if sleep(ctx, d) != nil {
			return
		}
	}
}

// telemetrySession runs one TCS session: it publishes the health of every
// running container that has a health check (PublishHealthRequest) when
// the session opens, whenever a health changes, and every
// HealthPublishInterval, and reads (and drops) the server's acks and
// heartbeats. connected says whether the handshake succeeded.
func (a *Agent) telemetrySession(ctx context.Context, arn string, eng *engine) (connected bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ep, err := a.cfg.ECS.DiscoverPollEndpoint(dctx, &ecs.DiscoverPollEndpointInput{
		Cluster:           aws.String(a.cfg.Cluster),
		ContainerInstance: aws.String(arn),
	})
	if err != nil {
		return false, fmt.Errorf("discover poll endpoint: %w", err)
	}
	if aws.ToString(ep.TelemetryEndpoint) == "" {
		return false, errors.New("the server offers no telemetry endpoint")
	}
	url := acs.TelemetryURL(aws.ToString(ep.TelemetryEndpoint), acs.TelemetryParams{
		Cluster:           a.cfg.Cluster,
		ContainerInstance: arn,
		AgentVersion:      Version,
		AgentHash:         agentHash(),
		DockerVersion:     "DockerVersion: " + a.cfg.DockerVersion,
	})
	header, err := a.sign(dctx, url)
	if err != nil {
		return false, err
	}
	conn, err := acs.DialTelemetry(dctx, url, header)
	if err != nil {
		return false, err
	}
	// The reader ends when the connection closes; close it before waiting.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer conn.Close()
	a.log.Debug("telemetry session connected")

	readErr := make(chan error, 1)
	wg.Go(func() {
		for {
			msg, err := conn.Recv(ctx)
			var unknown *acs.UnknownTypeError
			var malformed *acs.MalformedFrameError
			switch m := msg.(type) {
			case *acs.StopTelemetrySessionMessage:
				err = errStopTelemetry
			case error:
				err = m
			}
			if errors.As(err, &unknown) || errors.As(err, &malformed) {
				continue
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	})

	tick := time.NewTicker(a.cfg.HealthPublishInterval)
	defer tick.Stop()
	var seq int
	for {
		if tasks := eng.health(); len(tasks) > 0 {
			seq++
			err := conn.Send(ctx, &acs.PublishHealthRequest{
				Metadata: &acs.HealthMetadata{Cluster: a.cfg.Cluster, ContainerInstance: arn, MessageID: "health-" + strconv.Itoa(seq), Fin: true},
				Tasks:    tasks, Timestamp: acs.NewTimestamp(a.cfg.Now()),
			})
			if err != nil {
				return true, err
			}
		}
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-readErr:
			return true, err
		case <-eng.healthKick:
		case <-tick.C:
		}
	}
}

// health returns the health of the tasks' running containers that have a
// health check, for a PublishHealthRequest.
func (e *engine) health() []acs.TaskHealth {
	e.mu.Lock()
	runners := make([]*runner, 0, len(e.runners))
	for _, r := range e.runners {
		runners = append(runners, r)
	}
	e.mu.Unlock()
	var out []acs.TaskHealth
	for _, r := range runners {
		if th, ok := r.health(); ok {
			out = append(out, th)
		}
	}
	return out
}

// healthChanged wakes the telemetry session to publish.
func (e *engine) healthChanged() {
	select {
	case e.healthKick <- struct{}{}:
	default:
	}
}

// health returns the task's health report, if it has running containers
// with a health check.
func (r *runner) health() (acs.TaskHealth, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	th := acs.TaskHealth{TaskARN: r.arn, ClusterARN: r.st.Task.TaskClusterARN,
		TaskDefinitionFamily: r.st.Task.Family, TaskDefinitionVersion: r.st.Task.Version}
	if r.st.Status == statusStopped {
		return th, false
	}
	for i, c := range r.st.Containers {
		if r.specs[i].HealthCheck == nil || c.Status != statusRunning {
			continue
		}
		h := c.Health
		if h == "" {
			h = "UNKNOWN"
		}
		since := r.ops[i].healthAt
		if since.IsZero() {
			since = c.StartedAt
		}
		th.Containers = append(th.Containers, acs.ContainerHealth{ContainerName: c.Name, HealthStatus: string(h), StatusSince: acs.NewTimestamp(since)})
	}
	return th, len(th.Containers) > 0
}
