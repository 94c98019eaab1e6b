package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// Task and container statuses as the agent knows them. Only RUNNING and
// STOPPED are ever reported; PENDING and CREATED are the agent's own.
const (
	statusNone    = ""
	statusPending = "PENDING"
	statusCreated = "CREATED"
	statusRunning = "RUNNING"
	statusStopped = "STOPPED"
)

// taskState is what a runner knows of its task, persisted in
// <data-dir>/tasks/<task-id>.json after every change so that a restarted
// agent carries on from it.
type taskState struct {
	Task    acs.Task `json:"task"`
	Desired string   `json:"desired"` // RUNNING or STOPPED
	Status  string   `json:"status"`  // PENDING, RUNNING or STOPPED
	// Reason is the task-level reason reported with STOPPED (e.g.
	// "CannotPullContainerError: ..."); empty lets the server derive it.
	Reason             string           `json:"reason,omitempty"`
	PullStartedAt      time.Time        `json:"pullStartedAt,omitzero"`
	PullStoppedAt      time.Time        `json:"pullStoppedAt,omitzero"`
	ExecutionStoppedAt time.Time        `json:"executionStoppedAt,omitzero"`
	StoppedAt          time.Time        `json:"stoppedAt,omitzero"`
	Containers         []containerState `json:"containers"`
	// AckedStatus is the task status the server last acknowledged.
	AckedStatus string `json:"ackedStatus,omitempty"`
}

// containerState is one container of a taskState.
type containerState struct {
	Name string `json:"name"`
	// RuntimeName is the runtime container name chosen for it.
	RuntimeName string                `json:"runtimeName"`
	RuntimeID   string                `json:"runtimeId,omitempty"`
	Status      string                `json:"status,omitempty"` // "", CREATED, RUNNING, STOPPED
	ExitCode    *int                  `json:"exitCode,omitempty"`
	Reason      string                `json:"reason,omitempty"`
	Ports       []runtime.PortBinding `json:"ports,omitempty"`
	Health      runtime.Health        `json:"health,omitempty"`
	StartedAt   time.Time             `json:"startedAt,omitzero"`
	FinishedAt  time.Time             `json:"finishedAt,omitzero"`
	// AckedStatus is the status the server last acknowledged.
	AckedStatus string `json:"ackedStatus,omitempty"`
	// MetadataToken names the container in its task metadata endpoint's
	// URL (/v4/<token>); see metadata.go.
	MetadataToken string `json:"metadataToken,omitempty"`
}

// ran reports whether the container ever started.
func (c *containerState) ran() bool { return !c.StartedAt.IsZero() }

// taskID is the last segment of a task ARN, which names its state file.
func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func tasksDir(dataDir string) string { return filepath.Join(dataDir, "tasks") }

// loadTaskStates reads every task state file of a data directory. A file
// that does not parse is logged and skipped (and left for an operator to
// look at).
func loadTaskStates(dataDir string, log *slog.Logger) ([]taskState, error) {
	entries, err := os.ReadDir(tasksDir(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agent: task states: %w", err)
	}
	var out []taskState
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(tasksDir(dataDir), e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("agent: task state: %w", err)
		}
		var st taskState
		if err := json.Unmarshal(b, &st); err != nil || st.Task.ARN == "" {
			log.Error("ignoring an unreadable task state file", "path", path, "err", err)
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// writeJSON replaces path with v's JSON: a temporary file in the same
// directory (synced when sync is set), renamed over it, so that readers see
// the old or the new content, never a mix. The directory is created if
// needed.
//
// Task states are written without sync: they change often (a few times per
// container), an agent restart (the case they are for) loses nothing the
// kernel has, and after a power loss the runtime's labels still lead the
// agent to its containers. The instance ARN is synced.
func writeJSON(path string, v any, sync bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// sleep waits d or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
