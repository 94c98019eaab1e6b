package agent

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime"
)

// maxReason bounds the reasons the agent reports (the server keeps 1024
// characters).
const maxReason = 1024

// reportTimeout bounds one state-change call.
const reportTimeout = 30 * time.Second

// report is one state change to send: a task change (SubmitTaskStateChange,
// carrying its changed containers) or one container change
// (SubmitContainerStateChange).
type report struct {
	task       bool
	status     string // the task's status, for a task change
	reason     string
	containers []containerReport

	pullStartedAt, pullStoppedAt, executionStoppedAt time.Time
}

// containerReport is one container of a report, as it stood when the
// report was made.
type containerReport struct {
	index     int
	name      string
	runtimeID string
	status    string
	exitCode  *int
	reason    string
	ports     []runtime.PortBinding
}

// reportable is the status of c the server is told about ("" for none).
func reportable(c *containerState) string {
	if c.Status == statusRunning || c.Status == statusStopped {
		return c.Status
	}
	return ""
}

// nextReport compares what the runner knows with what the server has
// acknowledged and returns the change to send first, if any. Task changes
// (RUNNING, STOPPED) carry every container that changed; while the task
// runs, containers that change are reported one by one; before the task
// runs, container changes wait for the task's report.
func (r *runner) nextReport() (report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.st
	var changed []containerReport
	for i := range st.Containers {
		c := &st.Containers[i]
		s := reportable(c)
		if s == "" || s == c.AckedStatus {
			continue
		}
		cr := containerReport{index: i, name: c.Name, runtimeID: c.RuntimeID, status: s, reason: c.Reason, ports: c.Ports}
		if s == statusStopped && c.ExitCode != nil {
			code := *c.ExitCode
			cr.exitCode = &code
		}
		changed = append(changed, cr)
	}
	if (st.Status == statusRunning || st.Status == statusStopped) && st.Status != st.AckedStatus {
		rep := report{task: true, status: st.Status, containers: changed,
			pullStartedAt: st.PullStartedAt, pullStoppedAt: st.PullStoppedAt}
		if st.Status == statusStopped {
			rep.reason = st.Reason
			rep.executionStoppedAt = st.ExecutionStoppedAt
		}
		return rep, true
	}
	if st.AckedStatus == statusRunning && len(changed) > 0 {
		return report{containers: changed[:1]}, true
	}
	return report{}, false
}

// acked records that the server acknowledged rep (or that it refused it
// for good, which is treated the same: resending cannot help).
func (r *runner) acked(rep report) {
	r.mu.Lock()
	if rep.task {
		r.st.AckedStatus = rep.status
	}
	for _, cr := range rep.containers {
		r.st.Containers[cr.index].AckedStatus = cr.status
	}
	r.touch()
	r.mu.Unlock()
	r.save()
	r.poke()
}

// reportLoop is the runner's report worker: it sends the next change until
// there is none, then waits to be poked. Server errors and throttling are
// retried with backoff; ClientException, InvalidParameterException and
// AccessDeniedException end the attempt (logged) as the ECS agent does.
func (r *runner) reportLoop() {
	bo := newBackoff(r.e.cfg.Backoff)
	for {
		rep, ok := r.nextReport()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-r.reportKick:
				continue
			}
		}
		err := r.e.send(r.ctx, r.arn, rep)
		switch {
		case err == nil:
			bo.reset()
			r.acked(rep)
		case r.ctx.Err() != nil:
			return
		case !retriable(err):
			r.log.Error("the server refused a state change; not retrying", "status", rep.status, "err", err)
			r.acked(rep)
		default:
			d := bo.delay()
			r.log.Warn("submitting a state change failed; retrying", "err", err, "in", d)
			if sleep(r.ctx, d) != nil {
				return
			}
		}
	}
}

// send submits one report through the ECS API.
func (e *engine) send(ctx context.Context, taskARN string, rep report) error {
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	if !rep.task {
		cr := rep.containers[0]
		in := &ecs.SubmitContainerStateChangeInput{
			Cluster:         aws.String(e.cfg.Cluster),
			Task:            aws.String(taskARN),
			ContainerName:   aws.String(cr.name),
			Status:          aws.String(cr.status),
			RuntimeId:       optional(cr.runtimeID),
			Reason:          optional(truncate(cr.reason)),
			NetworkBindings: bindings(cr),
		}
		if cr.exitCode != nil {
			in.ExitCode = aws.Int32(int32(*cr.exitCode))
		}
		_, err := e.cfg.ECS.SubmitContainerStateChange(ctx, in)
		return err
	}
	in := &ecs.SubmitTaskStateChangeInput{
		Cluster:            aws.String(e.cfg.Cluster),
		Task:               aws.String(taskARN),
		Status:             aws.String(rep.status),
		Reason:             optional(truncate(rep.reason)),
		PullStartedAt:      optionalTime(rep.pullStartedAt),
		PullStoppedAt:      optionalTime(rep.pullStoppedAt),
		ExecutionStoppedAt: optionalTime(rep.executionStoppedAt),
	}
	for _, cr := range rep.containers {
		cs := types.ContainerStateChange{
			ContainerName:   aws.String(cr.name),
			Status:          aws.String(cr.status),
			RuntimeId:       optional(cr.runtimeID),
			Reason:          optional(truncate(cr.reason)),
			NetworkBindings: bindings(cr),
		}
		if cr.exitCode != nil {
			cs.ExitCode = aws.Int32(int32(*cr.exitCode))
		}
		in.Containers = append(in.Containers, cs)
	}
	_, err := e.cfg.ECS.SubmitTaskStateChange(ctx, in)
	return err
}

// bindings are a running container's resolved ports as ECS network
// bindings (an unset host address is 0.0.0.0).
func bindings(cr containerReport) []types.NetworkBinding {
	if cr.status != statusRunning || len(cr.ports) == 0 {
		return nil
	}
	out := make([]types.NetworkBinding, 0, len(cr.ports))
	for _, p := range cr.ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := types.TransportProtocolTcp
		if p.Protocol == "udp" {
			proto = types.TransportProtocolUdp
		}
		out = append(out, types.NetworkBinding{
			BindIP:        aws.String(ip),
			ContainerPort: aws.Int32(int32(p.ContainerPort)),
			HostPort:      aws.Int32(int32(p.HostPort)),
			Protocol:      proto,
		})
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return aws.Time(t)
}

func truncate(s string) string {
	if len(s) > maxReason {
		return s[:maxReason]
	}
	return s
}
