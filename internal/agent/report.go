package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/wire"
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
//
// With none, it marks the report worker idle (see pokeReport) in the same
// critical section, so that no change can slip between the two.
func (r *runner) nextReport() (report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep, ok := r.nextReportLocked()
	if !ok {
		r.reporting = false
	}
	return rep, ok
}

// reportDue reports whether nextReport would find a change to send,
// without building it. Caller holds mu.
func (r *runner) reportDue() bool {
	st := &r.st
	if (st.Status == statusRunning || st.Status == statusStopped) && st.Status != st.AckedStatus {
		return true
	}
	if st.AckedStatus != statusRunning {
		return false
	}
	for i := range st.Containers {
		c := &st.Containers[i]
		if s := reportable(c); s != "" && s != c.AckedStatus {
			return true
		}
	}
	return false
}

// nextReportLocked is nextReport with mu held.
func (r *runner) nextReportLocked() (report, bool) {
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
// there is none, then ends (pokeReport starts it again when there is one):
// a task that has nothing to report holds no goroutine, nor its stack, for
// it. Errors are retried with backoff, except those the Reporter marks
// ErrRefused (for the ECS API: ClientException, InvalidParameterException,
// AccessDeniedException), which end the attempt (logged) as the ECS agent
// does.
func (r *runner) reportLoop() {
	bo := newBackoff(r.e.cfg.Backoff)
	for r.ctx.Err() == nil {
		rep, ok := r.nextReport()
		if !ok {
			return
		}
		err := r.e.send(r.ctx, r.arn, rep)
		switch {
		case err == nil:
			bo.reset()
			r.acked(rep)
		case r.ctx.Err() != nil:
			return
		case errors.Is(err, ErrRefused):
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

// send submits one report through the engine's Reporter.
func (e *engine) send(ctx context.Context, taskARN string, rep report) error {
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	if !rep.task {
		return e.rep.SubmitContainer(ctx, taskARN, rep.containers[0].change())
	}
	ch := TaskChange{
		TaskARN:            taskARN,
		Status:             rep.status,
		Reason:             truncate(rep.reason),
		PullStartedAt:      rep.pullStartedAt,
		PullStoppedAt:      rep.pullStoppedAt,
		ExecutionStoppedAt: rep.executionStoppedAt,
	}
	for _, cr := range rep.containers {
		ch.Containers = append(ch.Containers, cr.change())
	}
	return e.rep.SubmitTask(ctx, ch)
}

// change is the ContainerChange of a container report: ports only for a
// running container.
func (cr containerReport) change() ContainerChange {
	ch := ContainerChange{Name: cr.name, RuntimeID: cr.runtimeID, Status: cr.status, Reason: truncate(cr.reason), ExitCode: cr.exitCode}
	if cr.status == statusRunning {
		ch.Ports = cr.ports
	}
	return ch
}

// Reporter delivers a task's state changes to the control plane. The agent
// sends them through the ECS API (SubmitTaskStateChange and
// SubmitContainerStateChange, see NewECSReporter); the server's Fargate
// fleet calls control directly. Implementations must be safe for
// concurrent use. An error wrapping ErrRefused is final: the change is
// dropped, as the ECS agent drops a change the server refuses; any other
// error is retried with backoff.
type Reporter interface {
	// SubmitTask reports a task RUNNING or STOPPED, with the containers
	// that changed since the last acknowledged report.
	SubmitTask(ctx context.Context, ch TaskChange) error
	// SubmitContainer reports one container of a running task.
	SubmitContainer(ctx context.Context, taskARN string, ch ContainerChange) error
}

// ErrRefused marks a state change the control plane refused for good.
var ErrRefused = errors.New("agent: the control plane refused the state change")

// TaskChange is one task state change.
type TaskChange struct {
	TaskARN string
	Status  string // RUNNING or STOPPED
	// Reason is the task's stop reason ("" lets the server derive it).
	Reason                                           string
	Containers                                       []ContainerChange
	PullStartedAt, PullStoppedAt, ExecutionStoppedAt time.Time // zero: unknown
}

// ContainerChange is one container's state change.
type ContainerChange struct {
	Name      string
	RuntimeID string
	Status    string // RUNNING or STOPPED
	ExitCode  *int   // once STOPPED, if it ran
	Reason    string
	// Ports are a running container's resolved port bindings.
	Ports []runtime.PortBinding
}

// Request is ch as the SubmitTaskStateChange request of a task in
// cluster: what the agent's reporter sends, and what the server's Fargate
// fleet hands to control directly.
func (ch TaskChange) Request(cluster string) *wire.SubmitTaskStateChangeRequest {
	in := &wire.SubmitTaskStateChangeRequest{
		Cluster:            wire.Ptr(cluster),
		Task:               wire.Ptr(ch.TaskARN),
		Status:             wire.Ptr(ch.Status),
		Reason:             optional(ch.Reason),
		PullStartedAt:      wireTime(ch.PullStartedAt),
		PullStoppedAt:      wireTime(ch.PullStoppedAt),
		ExecutionStoppedAt: wireTime(ch.ExecutionStoppedAt),
	}
	if len(ch.Containers) > 0 {
		in.Containers = make([]wire.ContainerStateChange, len(ch.Containers))
		for i, c := range ch.Containers {
			in.Containers[i] = wire.ContainerStateChange{
				ContainerName:   wire.Ptr(c.Name),
				Status:          wire.Ptr(c.Status),
				RuntimeId:       optional(c.RuntimeID),
				Reason:          optional(c.Reason),
				ExitCode:        exitCode(c.ExitCode),
				NetworkBindings: wireBindings(c.Ports),
			}
		}
	}
	return in
}

// Request is ch as the SubmitContainerStateChange request of container ch
// of task taskARN in cluster.
func (ch ContainerChange) Request(cluster, taskARN string) *wire.SubmitContainerStateChangeRequest {
	return &wire.SubmitContainerStateChangeRequest{
		Cluster:         wire.Ptr(cluster),
		Task:            wire.Ptr(taskARN),
		ContainerName:   wire.Ptr(ch.Name),
		Status:          wire.Ptr(ch.Status),
		RuntimeId:       optional(ch.RuntimeID),
		Reason:          optional(ch.Reason),
		ExitCode:        exitCode(ch.ExitCode),
		NetworkBindings: wireBindings(ch.Ports),
	}
}

// wireBindings are resolved ports as ECS network bindings (an unset host
// address is 0.0.0.0); bindings makes the same for the SDK.
func wireBindings(ports []runtime.PortBinding) []wire.NetworkBinding {
	if len(ports) == 0 {
		return nil
	}
	out := make([]wire.NetworkBinding, len(ports))
	for i, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := wire.TransportProtocolTcp
		if p.Protocol == "udp" {
			proto = wire.TransportProtocolUdp
		}
		out[i] = wire.NetworkBinding{
			BindIP:        wire.Ptr(ip),
			ContainerPort: wire.Ptr(int32(p.ContainerPort)),
			HostPort:      wire.Ptr(int32(p.HostPort)),
			Protocol:      &proto,
		}
	}
	return out
}

func wireTime(t time.Time) *wire.Time {
	if t.IsZero() {
		return nil
	}
	return wire.NewTime(t)
}

func exitCode(c *int) *int32 {
	if c == nil {
		return nil
	}
	return wire.Ptr(int32(*c))
}

// NewECSReporter returns the Reporter of an agent registered in cluster:
// it calls SubmitTaskStateChange and SubmitContainerStateChange on cli.
// ClientException, InvalidParameterException, AccessDeniedException,
// ClusterNotFoundException and authentication failures are final. An Agent
// uses it only for a client without a BaseEndpoint; with one (always, for
// Berth) it sends the same requests without the SDK (see newReporter).
func NewECSReporter(cli *ecs.Client, cluster string) Reporter {
	return ecsReporter{cli: cli, cluster: cluster}
}

type ecsReporter struct {
	cli     *ecs.Client
	cluster string
}

func (r ecsReporter) SubmitContainer(ctx context.Context, taskARN string, ch ContainerChange) error {
	in := &ecs.SubmitContainerStateChangeInput{
		Cluster:         aws.String(r.cluster),
		Task:            aws.String(taskARN),
		ContainerName:   aws.String(ch.Name),
		Status:          aws.String(ch.Status),
		RuntimeId:       optional(ch.RuntimeID),
		Reason:          optional(ch.Reason),
		NetworkBindings: bindings(ch.Ports),
	}
	if ch.ExitCode != nil {
		in.ExitCode = aws.Int32(int32(*ch.ExitCode))
	}
	_, err := r.cli.SubmitContainerStateChange(ctx, in)
	return refused(err)
}

func (r ecsReporter) SubmitTask(ctx context.Context, ch TaskChange) error {
	in := &ecs.SubmitTaskStateChangeInput{
		Cluster:            aws.String(r.cluster),
		Task:               aws.String(ch.TaskARN),
		Status:             aws.String(ch.Status),
		Reason:             optional(ch.Reason),
		PullStartedAt:      optionalTime(ch.PullStartedAt),
		PullStoppedAt:      optionalTime(ch.PullStoppedAt),
		ExecutionStoppedAt: optionalTime(ch.ExecutionStoppedAt),
	}
	for _, c := range ch.Containers {
		cs := types.ContainerStateChange{
			ContainerName:   aws.String(c.Name),
			Status:          aws.String(c.Status),
			RuntimeId:       optional(c.RuntimeID),
			Reason:          optional(c.Reason),
			NetworkBindings: bindings(c.Ports),
		}
		if c.ExitCode != nil {
			cs.ExitCode = aws.Int32(int32(*c.ExitCode))
		}
		in.Containers = append(in.Containers, cs)
	}
	_, err := r.cli.SubmitTaskStateChange(ctx, in)
	return refused(err)
}

// refused marks the errors of the ECS API that retrying cannot fix.
func refused(err error) error {
	if err != nil && !retriable(err) {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

// bindings are resolved ports as ECS network bindings (an unset host
// address is 0.0.0.0).
func bindings(ports []runtime.PortBinding) []types.NetworkBinding {
	if len(ports) == 0 {
		return nil
	}
	out := make([]types.NetworkBinding, 0, len(ports))
	for _, p := range ports {
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
