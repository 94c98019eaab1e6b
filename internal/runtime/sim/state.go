package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// stateVersion is the snapshot format's version.
const stateVersion = 1

// stateJSON is a Runtime's persisted state. Containers record what was
// decided (start time, scheduled exit, behaviour); what follows from time
// alone (exits and health changes since) is recomputed on Restore.
type stateJSON struct {
	Version    int             `json:"version"`
	RNG        []byte          `json:"rng"`
	Seq        uint64          `json:"seq"`
	NextPort   int             `json:"nextPort"`
	NextIP     string          `json:"nextIP"`
	Images     []string        `json:"images,omitempty"`
	Containers []containerJSON `json:"containers"`
}

type containerJSON struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Image      string                `json:"image"`
	Labels     map[string]string     `json:"labels,omitempty"`
	Seq        uint64                `json:"seq"`
	CreatedAt  time.Time             `json:"createdAt,omitzero"`
	MemMiB     int64                 `json:"memMiB,omitempty"`
	Net        netKind               `json:"net,omitempty"`
	NetOf      string                `json:"netOf,omitempty"`
	IP         string                `json:"ip,omitempty"`
	Ports      []runtime.PortBinding `json:"ports,omitempty"`
	Dynamic    []portKey             `json:"dynamic,omitempty"`
	Static     []portKey             `json:"static,omitempty"`
	Behaviour  behaviour             `json:"behaviour"`
	State      runtime.State         `json:"state"`
	StartedAt  time.Time             `json:"startedAt,omitzero"`
	FinishedAt time.Time             `json:"finishedAt,omitzero"`
	StopAt     time.Time             `json:"stopAt,omitzero"`
	ExitAt     time.Time             `json:"exitAt,omitzero"`
	ExitWhy    exitKind              `json:"exitWhy,omitempty"`
	Ended      exitKind              `json:"ended,omitempty"`
	ExitCode   int                   `json:"exitCode,omitempty"`
	OOM        bool                  `json:"oom,omitempty"`
	Health     runtime.Health        `json:"health,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// Snapshot returns the Runtime's state as JSON: containers, present
// images, allocators and the random source. Restore on a new Runtime
// (possibly in another process, later) continues from it.
func (r *Runtime) Snapshot() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	return r.snapshot()
}

// snapshot encodes the state. Caller holds mu.
func (r *Runtime) snapshot() ([]byte, error) {
	rng, err := r.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sim: snapshot: %w", err)
	}
	st := stateJSON{
		Version:    stateVersion,
		RNG:        rng,
		Seq:        r.seq,
		NextPort:   r.ports.next,
		NextIP:     ipString(r.ips.next),
		Containers: make([]containerJSON, 0, len(r.byID)),
	}
	for img := range r.images {
		st.Images = append(st.Images, img)
	}
	slices.Sort(st.Images)
	for _, c := range r.byID {
		st.Containers = append(st.Containers, containerJSON{
			ID: c.id, Name: c.name, Image: c.image, Labels: c.labels, Seq: c.seq,
			CreatedAt: c.createdAt, MemMiB: c.memMiB,
			Net: c.net, NetOf: c.netOf, IP: ipString(c.ip),
			Ports: c.ports, Dynamic: c.dynamic, Static: c.static,
			Behaviour: c.b, State: c.state,
			StartedAt: c.startedAt, FinishedAt: c.finishedAt, StopAt: c.stopAt,
			ExitAt: c.exitAt, ExitWhy: c.exitWhy,
			Ended: c.ended, ExitCode: c.exitCode, OOM: c.oom, Health: c.health, Error: c.err,
		})
	}
	slices.SortFunc(st.Containers, func(a, b containerJSON) int { return cmpUint(a.Seq, b.Seq) })
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("sim: snapshot: %w", err)
	}
	return data, nil
}

// Restore loads a Snapshot into a Runtime that has no containers yet. A
// container that was running carries on from its recorded start time: if
// its scheduled exit (run time, or a Stop in progress) passed in the
// meantime it is exited as of that time (die events follow), otherwise it
// exits when originally due; its health is recomputed for the current
// time. It fails on a malformed or unknown-version snapshot, and when the
// Runtime already has containers. With a StateFile, the restored state is
// written to it.
func (r *Runtime) Restore(data []byte) error {
	if err := r.restoreData(data); err != nil {
		return err
	}
	r.save()
	return nil
}

// restoreData is Restore without the StateFile write.
func (r *Runtime) restoreData(data []byte) error {
	var st stateJSON
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("sim: restore: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("sim: restore: snapshot version %d, want %d", st.Version, stateVersion)
	}
	r.mu.Lock()
	defer r.unlock()
	if r.closed {
		return ErrClosed
	}
	if len(r.byID) > 0 {
		return errors.New("sim: restore: the runtime already has containers")
	}
	if err := r.restore(st); err != nil {
		// Leave the Runtime empty rather than half restored.
		r.byID, r.byName = make(map[string]*container), make(map[string]*container)
		r.ports.used, r.ips.used, r.sched = nil, nil, nil
		return fmt.Errorf("sim: restore: %w", err)
	}
	r.gen++
	return nil
}

// restore applies st. Caller holds mu.
func (r *Runtime) restore(st stateJSON) error {
	if err := r.pcg.UnmarshalBinary(st.RNG); err != nil {
		return err
	}
	nextIP, err := parseIP(st.NextIP)
	if err != nil {
		return err
	}
	if st.NextPort < portMin || st.NextPort > portMax || nextIP == 0 {
		return errors.New("bad allocator state")
	}
	r.seq, r.ports.next, r.ips.next = st.Seq, st.NextPort, nextIP
	for _, img := range st.Images {
		r.images[img] = struct{}{}
	}
	now := r.clock.Now()
	for _, cj := range st.Containers {
		ip, err := parseIP(cj.IP)
		if err != nil {
			return err
		}
		if cj.ID == "" || r.byID[cj.ID] != nil || r.byName[cj.Name] != nil {
			return fmt.Errorf("duplicate or empty container id %q or name %q", cj.ID, cj.Name)
		}
		c := &container{
			id: cj.ID, name: cj.Name, image: cj.Image, labels: cj.Labels, seq: cj.Seq,
			createdAt: cj.CreatedAt, memMiB: cj.MemMiB,
			net: cj.Net, netOf: cj.NetOf, ip: ip,
			ports: cj.Ports, dynamic: cj.Dynamic, static: cj.Static,
			b: cj.Behaviour, state: cj.State, health: cj.Health,
			startedAt: cj.StartedAt, finishedAt: cj.FinishedAt, stopAt: cj.StopAt,
			exitAt: cj.ExitAt, exitWhy: cj.ExitWhy,
			ended: cj.Ended, exitCode: cj.ExitCode, oom: cj.OOM, err: cj.Error,
			idx: -1,
		}
		if c.health == "" {
			c.health = runtime.HealthUnknown
		}
		switch c.state {
		case runtime.StateCreated, runtime.StateExited:
		case runtime.StateRunning:
			if _, ok := r.ports.claim(c.static); !ok {
				return fmt.Errorf("container %s: static port held twice", c.id)
			}
			// Jump straight to the health of the present (or of the
			// exit, if that came first) rather than replaying every
			// change made while nobody was looking.
			until := now
			if !c.exitAt.IsZero() && c.exitAt.Before(now) {
				until = c.exitAt
			}
			var next time.Duration
			c.health, next = c.b.Health.at(until.Sub(c.startedAt))
			if next >= 0 {
				c.healthAt = c.startedAt.Add(next)
			}
		default:
			return fmt.Errorf("container %s: unknown state %q", c.id, c.state)
		}
		for _, k := range c.dynamic {
			if _, held := r.ports.used[k]; held {
				return fmt.Errorf("container %s: port %s held twice", c.id, k)
			}
			r.ports.hold(k)
		}
		if c.ip != 0 {
			if _, held := r.ips.used[c.ip]; held {
				return fmt.Errorf("container %s: address %s held twice", c.id, ipString(c.ip))
			}
			r.ips.hold(c.ip)
		}
		r.byID[c.id] = c
		r.byName[c.name] = c
		r.reschedule(c)
	}
	r.runDue(now)
	r.arm(now)
	return nil
}

// load restores the Runtime from StateFile when the file exists.
func (r *Runtime) load() error {
	data, err := os.ReadFile(r.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sim: state file: %w", err)
	}
	if err := r.restoreData(data); err != nil {
		return fmt.Errorf("sim: state file %s: %w", r.stateFile, err)
	}
	r.mu.Lock()
	gen := r.gen
	r.mu.Unlock()
	r.saveMu.Lock()
	r.saved = gen // what is on disk is what we have
	r.saveMu.Unlock()
	return nil
}

// save writes the state to StateFile if it changed since the last write.
// Writers are serialised and the newest state wins; a failed write is
// logged and does not fail the call that made the change (the simulated
// change did happen). A closed Runtime writes nothing more, so it cannot
// overwrite the file under its successor.
func (r *Runtime) save() {
	if r.stateFile == "" {
		return
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	gen := r.gen
	if gen == r.saved || r.closed {
		r.mu.Unlock()
		return
	}
	data, err := r.snapshot()
	r.mu.Unlock()
	if err == nil {
		err = writeAtomic(r.stateFile, data)
	}
	if err != nil {
		r.log.Error("sim: cannot write the state file", "path", r.stateFile, "err", err)
		return
	}
	r.saved = gen
}

// writeAtomic replaces path with data: a synced temporary file in the same
// directory, renamed over it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
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
