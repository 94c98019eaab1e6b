package docker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/berth-dev/berth/internal/runtime"
)

var _ runtime.Runtime = (*Runtime)(nil)

// Runtime is the runtime.Runtime of a Docker Engine. It holds one API client
// (an HTTP connection pool) and no other state, so all methods are safe for
// concurrent use, and a new Runtime on the same daemon sees everything an
// old one created (the agent re-attaches after a restart through List).
type Runtime struct {
	cli *client.Client
}

// New returns a Runtime for the daemon the environment names (DOCKER_HOST,
// DOCKER_API_VERSION, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY; the local socket
// by default). It does not contact the daemon: the API version is
// negotiated on the first call, and Ping checks that the daemon answers.
func New() (*Runtime, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker: new client: %w", err)
	}
	return &Runtime{cli: cli}, nil
}

// Close releases the client's connections. Containers are not touched.
func (r *Runtime) Close() error {
	return r.cli.Close()
}

// Ping checks that the daemon answers, and negotiates the API version.
func (r *Runtime) Ping(ctx context.Context) error {
	if _, err := r.cli.Ping(ctx); err != nil {
		return fmt.Errorf("docker: ping: %w", err)
	}
	r.cli.NegotiateAPIVersion(ctx)
	return nil
}

// Pull makes ref available. An image already present (by name, tag or id)
// is used as it is and no registry is contacted. Otherwise the image is
// pulled; a failure returns an error wrapping runtime.ErrImagePull whose
// message carries Docker's. An unreachable daemon is not a pull failure and
// returns a plain error.
func (r *Runtime) Pull(ctx context.Context, ref string) error {
	_, err := r.cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err), cerrdefs.IsInvalidArgument(err):
		// Missing locally (or a name the daemon cannot look up): pull it,
		// and let the pull report what is wrong with the name.
	default:
		return fmt.Errorf("docker: inspect image %s: %w", ref, err)
	}
	if err := r.pull(ctx, ref); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("docker: pull %s: %w", ref, ctx.Err())
		}
		return fmt.Errorf("%w %s: %w", runtime.ErrImagePull, ref, err)
	}
	return nil
}

// pull runs ImagePull to its end. The daemon reports a failure that happens
// after the pull started (an unknown tag, a registry that is not reachable)
// as an "error" message in the progress stream, not as an HTTP status.
func (r *Runtime) pull(ctx context.Context, ref string) error {
	rc, err := r.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading pull progress: %w", err)
		}
		if msg.Error != "" || msg.ErrorDetail.Message != "" {
			return errors.New(strings.TrimSpace(cmp.Or(msg.ErrorDetail.Message, msg.Error)))
		}
	}
}

// Create creates the container spec describes (see doc.go for the mapping)
// and returns its 64-hex id. A missing image (Create does not pull) returns
// an error wrapping runtime.ErrImagePull; a spec the runtime or the daemon
// rejects, or a name already in use, returns an error wrapping
// runtime.ErrCreate.
func (r *Runtime) Create(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	req, err := toCreateRequest(spec)
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", runtime.ErrCreate, spec.Name, err)
	}
	resp, err := r.cli.ContainerCreate(ctx, req.Config, req.HostConfig, req.Network, nil, spec.Name)
	if err != nil {
		// A 404 is most often the image, but newer daemons also answer 404
		// for a missing network: ask about the image itself.
		if cerrdefs.IsNotFound(err) {
			if _, ierr := r.cli.ImageInspect(ctx, spec.Image); cerrdefs.IsNotFound(ierr) {
				return "", fmt.Errorf("%w %s: %w", runtime.ErrImagePull, spec.Image, err)
			}
		}
		return "", fmt.Errorf("%w %s: %w", runtime.ErrCreate, spec.Name, err)
	}
	return resp.ID, nil
}

// Start starts a created container. Starting a running container is not an
// error. An unknown id returns runtime.ErrNotFound; anything else the
// daemon refuses (a command that does not exist, a host port already
// taken) returns an error wrapping runtime.ErrStart.
func (r *Runtime) Start(ctx context.Context, id string) error {
	if err := r.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		// Some daemons answer 404 for a missing executable too: only a
		// container that cannot be inspected is unknown.
		if cerrdefs.IsNotFound(err) {
			if _, ierr := r.cli.ContainerInspect(ctx, id); cerrdefs.IsNotFound(ierr) {
				return notFound(id, err)
			}
		}
		return fmt.Errorf("%w %s: %w", runtime.ErrStart, id, err)
	}
	return nil
}

// Stop sends the container's stop signal (SIGTERM unless the image says
// otherwise), waits up to grace, then sends SIGKILL, and returns once the
// container has exited. Docker counts whole seconds, so grace is rounded
// up; a grace <= 0 kills at once. Stopping a container that has exited or
// never started is not an error; an unknown id returns runtime.ErrNotFound.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	// A nil timeout would mean the container's own StopTimeout; the agent
	// always decides the grace, so it is always set.
	timeout := seconds(grace)
	if err := r.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return notFound(id, err)
		}
		return fmt.Errorf("docker: stop %s: %w", id, err)
	}
	return nil
}

// Wait blocks until the container exits and returns its exit code, whether
// the kernel killed it for memory, and the daemon's error if any. A
// container that has already exited returns at once; one that has not
// started yet is waited for through its start and exit, so Wait may be
// called before Start. If ctx ends first, Wait returns ctx's error. An
// unknown id returns runtime.ErrNotFound.
func (r *Runtime) Wait(ctx context.Context, id string) (runtime.ExitResult, error) {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Register for the next exit first, then look at the state: an exit
	// after the registration fires the wait, one before it shows in the
	// state. ("not-running" would return at once for a created container.)
	resC, errC := r.cli.ContainerWait(waitCtx, id, container.WaitConditionNextExit)
	if c, err := r.cli.ContainerInspect(ctx, id); err == nil && c.ContainerJSONBase != nil && c.State != nil &&
		toState(c.State.Status) == runtime.StateExited {
		cancel()
		select { // let the client's wait goroutine end
		case <-resC:
		case <-errC:
		}
		return exitResult(c.State), nil
	}
	var res runtime.ExitResult
	select {
	case resp := <-resC:
		res.ExitCode = int(resp.StatusCode)
		if resp.Error != nil {
			res.Error = resp.Error.Message
		}
	case err := <-errC:
		if ctx.Err() != nil {
			return runtime.ExitResult{}, fmt.Errorf("docker: wait %s: %w", id, ctx.Err())
		}
		if cerrdefs.IsNotFound(err) {
			return runtime.ExitResult{}, notFound(id, err)
		}
		return runtime.ExitResult{}, fmt.Errorf("docker: wait %s: %w", id, err)
	}
	// The wait response has the exit code only; the OOM flag and the error
	// of a failed start are in the container's state. A container removed
	// meanwhile still has its exit code.
	if c, err := r.cli.ContainerInspect(ctx, id); err == nil && c.ContainerJSONBase != nil && c.State != nil {
		res.OOMKilled = c.State.OOMKilled
		res.Error = cmp.Or(res.Error, c.State.Error)
	}
	return res, nil
}

// exitResult is how an exited container ended, from its state.
func exitResult(s *container.State) runtime.ExitResult {
	return runtime.ExitResult{ExitCode: s.ExitCode, OOMKilled: s.OOMKilled, Error: s.Error}
}

// Inspect returns the container's current state, with resolved host ports
// (dynamic ones included) and its IP address. An unknown id (or name)
// returns runtime.ErrNotFound.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.ContainerState, error) {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return runtime.ContainerState{}, notFound(id, err)
		}
		return runtime.ContainerState{}, fmt.Errorf("docker: inspect %s: %w", id, err)
	}
	return toContainerState(c), nil
}

// List returns the containers, in any state, that carry every given label
// with the given value, sorted by name. With no labels it returns the
// containers of this runtime: those carrying runtime.LabelTaskARN, which the
// agent puts on every container it creates; other containers on the host
// are never listed. A container removed while List runs is left out.
func (r *Runtime) List(ctx context.Context, labels map[string]string) ([]runtime.ContainerState, error) {
	f := filters.NewArgs()
	if len(labels) == 0 {
		f.Add("label", runtime.LabelTaskARN)
	}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	summaries, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("docker: list: %w", err)
	}
	// The list summary lacks health, exit code and times: inspect each
	// container so that List and Inspect report the same thing.
	out := make([]runtime.ContainerState, 0, len(summaries))
	for _, s := range summaries {
		c, err := r.cli.ContainerInspect(ctx, s.ID)
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("docker: list: inspect %s: %w", s.ID, err)
		}
		out = append(out, toContainerState(c))
	}
	slices.SortFunc(out, func(a, b runtime.ContainerState) int {
		return strings.Compare(a.Name+"\x00"+a.ID, b.Name+"\x00"+b.ID)
	})
	return out, nil
}

// Remove deletes the container, killing it first if it runs, together with
// its anonymous volumes (named volumes and bind mounts stay). An unknown id,
// including one already removed, returns runtime.ErrNotFound.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	err := r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return notFound(id, err)
		}
		return fmt.Errorf("docker: remove %s: %w", id, err)
	}
	return nil
}

// Logs returns the container's stdout and stderr so far, interleaved in the
// order Docker recorded them, keeping at most max bytes from the end (0 =
// all). It needs a log driver Docker can read back (json-file, the
// default, local or journald). An unknown id returns runtime.ErrNotFound.
func (r *Runtime) Logs(ctx context.Context, id string, max int) ([]byte, error) {
	rc, err := r.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, notFound(id, err)
		}
		return nil, fmt.Errorf("docker: logs %s: %w", id, err)
	}
	defer rc.Close()
	// The runtime never asks for a TTY, so the stream is always multiplexed
	// (an 8-byte header per frame); both streams go to one writer to keep
	// their order.
	tw := &tailWriter{max: max}
	if _, err := stdcopy.StdCopy(tw, tw, rc); err != nil {
		return nil, fmt.Errorf("docker: logs %s: %w", id, err)
	}
	return tw.bytes(), nil
}

// tailWriter keeps the last max bytes written to it (all of them when max is
// 0 or less), holding at most twice max in memory.
type tailWriter struct {
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if w.max > 0 && len(w.buf) > 2*w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailWriter) bytes() []byte {
	if w.max > 0 && len(w.buf) > w.max {
		return w.buf[len(w.buf)-w.max:]
	}
	return w.buf
}

// notFound wraps a daemon's not-found error for id as runtime.ErrNotFound.
func notFound(id string, err error) error {
	return fmt.Errorf("%w: %s: %w", runtime.ErrNotFound, id, err)
}
