// Package agents connects the agents' ACS sessions to the control plane. It
// implements acs.Backend:
//
//	agent ──ACS websocket──▶ acs.Handler ──Connect/Handle/Disconnect──▶ Backend
//	                                                                     │
//	   PayloadMessage (tasks to start or stop) ◀── sync loop ◀── view changes
//	   TaskManifestMessage every ManifestInterval
//	   TaskStopVerificationAck ◀── TaskStopVerificationMessage
//
// The sync loop is level-triggered: whenever the view changes it compares,
// per session, the tasks placed on the instance (and their desired status)
// with what that session was already sent, and sends the difference. A new
// session (a reconnect) starts with nothing sent, so the agent gets every
// task again; the agent keys tasks by ARN, so nothing is duplicated.
// Connect marks the instance agentConnected; the last session's Disconnect
// clears it.
package agents

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
)

// Config configures the Backend.
type Config struct {
	Control   *control.Control
	Log       *slog.Logger
	Partition string // "aws"
	// ManifestInterval is how often each session gets a TaskManifestMessage
	// (default 60 s).
	ManifestInterval time.Duration
	Now              func() time.Time
}

// Backend is the acs.Backend of `berth server`. It is safe for concurrent
// use. Start runs its sync loop; Close stops it.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	sessions   map[*acs.Session]*session
	byInstance map[string][]*session // instance ARN → its sessions

	// dirty holds the ARNs of instances whose tasks changed since the
	// loop last looked (Control.NotifyInstanceTasks); dmu guards only it,
	// because the notification runs under the view's lock.
	dmu   sync.Mutex
	dirty map[string]struct{}

	// Lifecycle: cancel stops the loop, wg waits for it.
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
}

// session is what the backend knows of one connected agent.
type session struct {
	s        *acs.Session
	ns       ecs.Namespace
	cluster  string
	instance string            // container instance id
	arn      string            // container instance ARN
	sent     map[string]string // sentKey(task ARN) → desired status sent
	seq      int64
	manifest time.Time // when the last manifest was sent
}

var _ acs.Backend = (*Backend)(nil)

// New returns a Backend; call Start to run it.
func New(cfg Config) *Backend {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.ManifestInterval == 0 {
		cfg.ManifestInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Backend{cfg: cfg, log: cfg.Log, sessions: map[*acs.Session]*session{}, byInstance: map[string][]*session{},
		dirty: map[string]struct{}{}, kick: make(chan struct{}, 1)}
	cfg.Control.NotifyInstanceTasks(b.markDirty)
	return b
}

// markDirty records that an instance's tasks changed and wakes the loop.
// It runs under the view's lock: it only takes dmu.
func (b *Backend) markDirty(instanceARN string) {
	b.dmu.Lock()
	b.dirty[instanceARN] = struct{}{}
	b.dmu.Unlock()
	b.poke()
}

// Start runs the sync loop until Close.
func (b *Backend) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Go(func() { b.loop(ctx) })
}

// Close stops the sync loop. Sessions are closed by the acs.Handler.
func (b *Backend) Close() error {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
	return nil
}

// namespace of a session, from the identity its upgrade request proved.
func (b *Backend) namespace(s *acs.Session) ecs.Namespace {
	id := s.Identity()
	ns := ecs.Namespace{Partition: b.cfg.Partition, Account: id.AccountID, Region: id.Region}
	ns.Principal = ns.RootPrincipal()
	return ns
}

// Connect admits a session for a registered, not INACTIVE instance of the
// named cluster and marks its agent connected.
func (b *Backend) Connect(ctx context.Context, s *acs.Session) error {
	ns := b.namespace(s)
	_, cluster, ok := ecs.ResolveName(ns, s.ClusterARN(), "cluster")
	if !ok {
		return &acs.InvalidClusterException{Message: "The cluster is not valid: " + s.ClusterARN()}
	}
	parent, id, ok := ecs.ResolveName(ns, s.ContainerInstanceARN(), "container-instance")
	if !ok || (parent != "" && parent != cluster) {
		return &acs.InvalidInstanceException{Message: "The container instance is not valid: " + s.ContainerInstanceARN()}
	}
	switch b.cfg.Control.InstanceStatus(ns, cluster, id) {
	case "":
		return &acs.InvalidInstanceException{Message: "The container instance is not registered: " + s.ContainerInstanceARN()}
	case "INACTIVE":
		return &acs.InactiveInstanceException{Message: "The container instance is inactive: " + s.ContainerInstanceARN()}
	}
	if err := b.cfg.Control.SetAgentConnected(ctx, ns, cluster, id, true); err != nil {
		return err
	}
	arn := ns.ARN("container-instance/" + cluster + "/" + id)
	b.mu.Lock()
	st := &session{s: s, ns: ns, cluster: cluster, instance: id, arn: arn, sent: map[string]string{}, seq: s.SeqNum()}
	b.sessions[s] = st
	b.byInstance[arn] = append(b.byInstance[arn], st)
	b.mu.Unlock()
	b.markDirty(arn)
	b.log.Info("agent connected", "cluster", cluster, "instance", id, "session", s.ID())
	return nil
}

// Disconnect forgets a session; when it was the instance's last, the
// instance's agent is marked disconnected.
func (b *Backend) Disconnect(ctx context.Context, s *acs.Session, cause error) {
	b.mu.Lock()
	st := b.sessions[s]
	delete(b.sessions, s)
	others := false
	if st != nil {
		list := slices.DeleteFunc(b.byInstance[st.arn], func(o *session) bool { return o == st })
		if len(list) == 0 {
			delete(b.byInstance, st.arn)
		} else {
			b.byInstance[st.arn] = list
		}
		others = len(list) > 0
	}
	b.mu.Unlock()
	if st == nil || others {
		return
	}
	// The session's context may be done; the mark must still land.
	if err := b.cfg.Control.SetAgentConnected(context.WithoutCancel(ctx), st.ns, st.cluster, st.instance, false); err != nil {
		b.log.Warn("marking agent disconnected failed", "instance", st.instance, "err", err)
	}
	b.log.Info("agent disconnected", "cluster", st.cluster, "instance", st.instance, "cause", cause)
}

// Handle answers the agent's messages: stop verification gets the list of
// candidates the server does not want running.
func (b *Backend) Handle(ctx context.Context, s *acs.Session, msg any) {
	switch m := msg.(type) {
	case *acs.TaskStopVerificationMessage:
		b.mu.Lock()
		st := b.sessions[s]
		b.mu.Unlock()
		if st == nil {
			return
		}
		tasks, _ := b.cfg.Control.InstanceTasks(st.ns, st.cluster, st.instance, nil)
		want := map[string]string{}
		for _, t := range tasks {
			want[t.ARN] = t.Desired
		}
		ack := &acs.TaskStopVerificationAck{MessageID: m.MessageID, GeneratedAt: b.cfg.Now().UnixMilli()}
		for _, cand := range m.StopCandidates {
			if d, ok := want[cand.TaskARN]; !ok || d == "STOPPED" {
				ack.StopTasks = append(ack.StopTasks, acs.TaskIdentifier{TaskARN: cand.TaskARN, TaskClusterARN: cand.TaskClusterARN, DesiredStatus: "STOPPED"})
			}
		}
		if err := s.Send(ctx, ack); err != nil {
			b.log.Debug("stop verification ack not sent", "err", err)
		}
	}
}

// Telemetry applies what an agent publishes on its telemetry session:
// container health (PublishHealthRequest) becomes container and task
// healthStatus. Metrics are accepted and not kept yet.
func (b *Backend) Telemetry(ctx context.Context, from acs.TelemetrySource, msg any) {
	h, ok := msg.(*acs.PublishHealthRequest)
	if !ok {
		return
	}
	ns := ecs.Namespace{Partition: b.cfg.Partition, Account: from.Identity.AccountID, Region: from.Identity.Region}
	ns.Principal = ns.RootPrincipal()
	for _, t := range h.Tasks {
		containers := map[string]string{}
		for _, ct := range t.Containers {
			containers[ct.ContainerName] = ct.HealthStatus
		}
		if err := b.cfg.Control.ReportHealth(ctx, ns, t.TaskARN, containers); err != nil {
			b.log.Debug("health report not applied", "task", t.TaskARN, "err", err)
		}
	}
}

// poke wakes the sync loop.
func (b *Backend) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// loop syncs the sessions of instances whose tasks changed as soon as it
// is poked, sends manifests when due (checked every second), and every
// FullSyncInterval syncs every session (level-triggered: nothing is lost
// if a notification was).
func (b *Backend) loop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastFull := b.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
			b.syncDirty(ctx)
		case <-tick.C:
			now := b.cfg.Now()
			full := now.Sub(lastFull) >= fullSyncInterval
			if full {
				lastFull = now
			}
			b.syncDue(ctx, now, full)
		}
	}
}

// fullSyncInterval is how often every session is compared with its tasks
// even without a change notification.
const fullSyncInterval = 30 * time.Second

// syncDirty syncs the sessions of the instances marked dirty.
func (b *Backend) syncDirty(ctx context.Context) {
	b.dmu.Lock()
	dirty := b.dirty
	b.dirty = make(map[string]struct{}, len(dirty))
	b.dmu.Unlock()
	var todo []*session
	b.mu.Lock()
	for arn := range dirty {
		todo = append(todo, b.byInstance[arn]...)
	}
	b.mu.Unlock()
	now := b.cfg.Now()
	for _, st := range todo {
		b.syncOne(ctx, st, now, true)
	}
}

// syncDue sends the manifests that are due, and with full syncs every
// session's tasks too.
func (b *Backend) syncDue(ctx context.Context, now time.Time, full bool) {
	b.mu.Lock()
	all := make([]*session, 0, len(b.sessions))
	for _, st := range b.sessions {
		if full || now.Sub(st.manifest) >= b.cfg.ManifestInterval {
			all = append(all, st)
		}
	}
	b.mu.Unlock()
	for _, st := range all {
		b.syncOne(ctx, st, now, full)
	}
}

func (b *Backend) syncOne(ctx context.Context, st *session, now time.Time, tasks bool) {
	if err := b.sync(ctx, st, now, tasks); err != nil && !errors.Is(err, acs.ErrSessionClosed) {
		b.log.Warn("agent sync failed", "instance", st.instance, "err", err)
	}
}

// sync sends one session (with tasks) a PayloadMessage with the tasks
// whose desired status it has not been sent yet, and a manifest when one
// is due. Only the loop goroutine calls it, so a session's state needs no
// lock.
func (b *Backend) sync(ctx context.Context, st *session, now time.Time, tasks bool) error {
	manifestDue := now.Sub(st.manifest) >= b.cfg.ManifestInterval
	if !tasks && !manifestDue {
		return nil
	}
	var compile func(arn, desired string) bool
	if tasks {
		compile = func(arn, desired string) bool { return st.sent[sentKey(arn)] != desired }
	}
	all, _ := b.cfg.Control.InstanceTasks(st.ns, st.cluster, st.instance, compile)
	var changed []acs.Task
	// stale: st.sent holds a task the instance no longer has (it
	// stopped). Counting the live tasks sent avoids building a set of
	// them on every sync.
	sentLive := 0
	for _, t := range all {
		sent, ok := st.sent[sentKey(t.ARN)]
		if ok {
			sentLive++
		}
		if tasks && sent != t.Desired && t.Task != nil {
			changed = append(changed, *t.Task)
		}
	}
	stale := sentLive < len(st.sent)
	if len(changed) > 0 {
		st.seq++
		msg := &acs.PayloadMessage{
			ClusterARN:           st.ns.ClusterARN(st.cluster),
			ContainerInstanceARN: st.ns.ARN("container-instance/" + st.cluster + "/" + st.instance),
			Tasks:                changed,
			GeneratedAt:          now.UnixMilli(),
			MessageID:            "payload-" + strconv.FormatUint(st.s.ID(), 10) + "-" + strconv.FormatInt(st.seq, 10),
			SeqNum:               st.seq,
		}
		if err := st.s.Send(ctx, msg); err != nil {
			return err
		}
		for _, t := range changed {
			st.sent[strings.Clone(sentKey(t.ARN))] = t.DesiredStatus
		}
	}
	if tasks && stale {
		live := make(map[string]bool, len(all))
		for _, t := range all {
			live[sentKey(t.ARN)] = true
		}
		for k := range st.sent {
			if !live[k] {
				delete(st.sent, k) // stopped: nothing more to send about it
			}
		}
	}
	if manifestDue {
		st.manifest = now
		st.seq++
		m := &acs.TaskManifestMessage{
			ClusterARN:           st.ns.ClusterARN(st.cluster),
			ContainerInstanceARN: st.ns.ARN("container-instance/" + st.cluster + "/" + st.instance),
			GeneratedAt:          now.UnixMilli(),
			MessageID:            "manifest-" + strconv.FormatUint(st.s.ID(), 10) + "-" + strconv.FormatInt(st.seq, 10),
			Timeline:             st.seq,
		}
		for _, t := range all {
			m.Tasks = append(m.Tasks, acs.TaskIdentifier{TaskARN: t.ARN, TaskClusterARN: t.ClusterARN, DesiredStatus: t.Desired})
		}
		return st.s.Send(ctx, m)
	}
	return nil
}

// sentKey is what a session's sent map keys a task by: its ID, the last
// segment of its ARN. The tasks of one instance are in one cluster, so
// their IDs are as distinct as their ARNs, and a copy of the ID keeps a
// third of the memory of the ARN (per task, on every instance).
func sentKey(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
