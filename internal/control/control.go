// Package control implements the ECS operations. It is the only code that
// writes domain records: each mutating operation is one store.Update (a
// serializable, durable transaction), and every read is served from an
// in-memory view that follows the store.
//
//	api ──▶ Control.<Operation>(ctx, ns, request)
//	           │ mutate: store.Update(fn) ──▶ durable ──▶ view.waitRev
//	           │ read:   view (decoded records, ordered by key)
//	           ▼
//	        response or *ecs.Error
//
// Errors returned are *ecs.Error for every expected outcome (the api maps
// them to ECS exceptions); anything else is an internal failure.
//
// Key layout (owned here): every record of a namespace lives under
// "ns/<account>/<region>/", then a kind:
//
//	cluster/<name>               clusterRecord
//	cp/<name>                    capacityProviderRecord
//	td/<family>!<revision:07d>   taskDefRecord
//	tdf/<family>                 familyRecord (last revision, counts)
//	setting/<principal>|<name>   settingRecord
//	attr/<cluster>/<id>          attributesRecord (custom attributes of a container instance)
//	ci/<cluster>/<id>            container instances   (later issues)
//	svc/<cluster>/<name>         serviceRecord (with its deployments, revisions and task sets)
//	task/<cluster>/<id>          taskRecord
//	tok/<cluster>/<token>        tokenRecord (RunTask client tokens, 24 h)
//
// and "meta/..." holds server-wide records (the page-token secret);
// "fleet/<account>/<region>/<cluster>/<id>" marks a Fargate task that has
// not STOPPED (fleetRecord, see fargate.go).
package control

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

// Config configures Control.
type Config struct {
	Store store.Store
	Log   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Control implements the ECS verbs. Its methods are safe for concurrent use.
type Control struct {
	store  store.Store
	log    *slog.Logger
	now    func() time.Time
	view   *view
	secret []byte // page-token signing key, persisted under meta/

	placements placements // RunTask's cached candidates (placement.go)
	// encBufs holds the buffers records are encoded into before the store
	// copies them (tx.put): one per concurrent transaction, reused.
	encBufs sync.Pool
	// taskPlans writes DescribeTasks' tasks from their packed form
	// (taskjson.go); planScratch holds the *planScratch memory it reads
	// their own members into.
	taskPlans   taskPlans
	planScratch sync.Pool

	// Lifecycle: cancel stops the view follower; wg waits for it.
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New loads the view from the store, starts following it, and returns a
// ready Control. Close stops it.
func New(ctx context.Context, cfg Config) (*Control, error) {
	c := &Control{store: cfg.Store, log: cfg.Log, now: cfg.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.view = newView(decodeRecord, c.log)
	c.view.index.instanceChanged = c.placements.touch
	secret, err := c.loadSecret(ctx)
	if err != nil {
		return nil, err
	}
	c.secret = secret
	rev, err := c.view.load(ctx, c.store)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.wg.Go(func() { c.view.run(runCtx, c.store, rev) })
	return c, nil
}

// Close stops following the store. It does not close the store.
func (c *Control) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

const secretKey = "meta/page-token-secret"

func (c *Control) loadSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	// May run more than once: it only reads and writes through tx.
	_, err := c.store.Update(ctx, func(tx store.Tx) error {
		kv, err := tx.Get(secretKey)
		if err == nil {
			secret = kv.Value
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		return tx.Put(secretKey, secret)
	})
	if err != nil {
		return nil, fmt.Errorf("control: page secret: %w", err)
	}
	return secret, nil
}

// nsPrefix returns the key prefix of a namespace.
func nsPrefix(ns ecs.Namespace) string {
	return "ns/" + ns.Account + "/" + ns.Region + "/"
}

func keyCluster(ns ecs.Namespace, name string) string { return nsPrefix(ns) + "cluster/" + name }
func keyCP(ns ecs.Namespace, name string) string      { return nsPrefix(ns) + "cp/" + name }
func keyFamily(ns ecs.Namespace, family string) string {
	return nsPrefix(ns) + "tdf/" + family
}
func keyTaskDefPrefix(ns ecs.Namespace, family string) string {
	return nsPrefix(ns) + "td/" + family + "!"
}
func keyTaskDef(ns ecs.Namespace, family string, rev int) string {
	return fmt.Sprintf("%s%07d", keyTaskDefPrefix(ns, family), rev)
}
func keySetting(ns ecs.Namespace, principal, name string) string {
	return nsPrefix(ns) + "setting/" + principal + "|" + name
}
func keyAttrs(ns ecs.Namespace, cluster, id string) string {
	return nsPrefix(ns) + "attr/" + cluster + "/" + id
}
func keyInstancePrefix(ns ecs.Namespace, cluster string) string {
	return nsPrefix(ns) + "ci/" + cluster + "/"
}
func keyServicePrefix(ns ecs.Namespace, cluster string) string {
	return nsPrefix(ns) + "svc/" + cluster + "/"
}
func keyTaskPrefix(ns ecs.Namespace, cluster string) string {
	return nsPrefix(ns) + "task/" + cluster + "/"
}

// kindOf returns the kind segment of a namespaced key ("cluster", "td", …).
func kindOf(key string) string {
	rest, ok := strings.CutPrefix(key, "ns/")
	if !ok {
		return ""
	}
	// Skip <account>/<region>/; the kind runs to the next slash, which
	// must be there.
	for range 2 {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
	}
	kind, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return kind
}

// decodeRecord decodes a stored value by its key's kind. Unknown kinds
// decode to nil and are not kept in the view.
func decodeRecord(key string, value []byte) (any, error) {
	if strings.HasPrefix(key, fleetPrefix) {
		return new(fleetRecord), nil
	}
	if strings.HasPrefix(key, waitPrefix) {
		w := new(waitRecord)
		if err := json.Unmarshal(value, w); err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
		return w, nil
	}
	if isASGKey(key) {
		g := new(asgRecord)
		if err := json.Unmarshal(value, g); err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
		return g, nil
	}
	var obj any
	switch kindOf(key) {
	case "cluster":
		obj = new(clusterRecord)
	case "cp":
		obj = new(capacityProviderRecord)
	case "td":
		obj = new(taskDefRecord)
	case "tdf":
		obj = new(familyRecord)
	case "setting":
		obj = new(settingRecord)
	case "attr":
		obj = new(attributesRecord)
	case "ci":
		obj = new(instanceRecord)
	case "task":
		obj = new(taskRecord)
	case "svc":
		obj = new(serviceRecord)
	case "tok":
		obj = new(tokenRecord)
	default:
		return nil, nil
	}
	// Task and instance records, the bulk of the view, take wire's fast
	// decoder (decode.go); its results and errors are json.Unmarshal's.
	if err := unmarshalRecord(value, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", key, err)
	}
	return obj, nil
}

// statusRecord is the part of container instance, service and task records
// this operations look at (cluster deletion, capacity provider use).
// The later records keep these JSON member names.
type statusRecord struct {
	Status               string        `json:"status,omitempty"`
	LastStatus           string        `json:"lastStatus,omitempty"`
	LaunchType           string        `json:"launchType,omitempty"`
	CapacityProviderName string        `json:"capacityProviderName,omitempty"`
	Strategy             []strategyRef `json:"capacityProviderStrategy,omitempty"`
	DesiredStatus        string        `json:"desiredStatus,omitempty"`
	ContainerInstanceArn string        `json:"containerInstanceArn,omitempty"`
	// The resources a task holds on its instance (spec §9.2).
	ReservedCPU      int64    `json:"reservedCpu,omitempty"`
	ReservedMemory   int64    `json:"reservedMemory,omitempty"`
	ReservedPorts    []string `json:"reservedPorts,omitempty"`
	ReservedPortsUDP []string `json:"reservedPortsUdp,omitempty"`
}

// strategyRef is the provider name of one capacity provider strategy item.
type strategyRef struct {
	CapacityProvider string `json:"capacityProvider"`
}

// launchType returns the launch type a task or service counts under in the
// cluster statistics: its launchType, else FARGATE when it runs on (or its
// strategy starts with) a Fargate capacity provider, else EC2.
func (r *statusRecord) launchType() string {
	provider := r.CapacityProviderName
	if provider == "" && len(r.Strategy) > 0 {
		provider = r.Strategy[0].CapacityProvider
	}
	return launchTypeOf(r.LaunchType, provider)
}

// launchTypeOf is the launch type a task or service counts under: its own,
// else FARGATE on a Fargate capacity provider, else EC2.
func launchTypeOf(launchType, provider string) string {
	switch {
	case launchType != "":
		return launchType
	case isFargateProvider(provider):
		return "FARGATE"
	default:
		return "EC2"
	}
}

// tx wraps store.Tx with JSON helpers.
type tx struct {
	store.Tx
	bufs *sync.Pool // of *[]byte, for put's encoding; nil: allocate
	view *view      // for viewed; nil: decode
}

// tx is stx with the helpers and Control's encoding buffers.
func (c *Control) tx(stx store.Tx) tx { return tx{Tx: stx, bufs: &c.encBufs, view: c.view} }

// viewed returns the view's decoded object for the record at key when the
// view holds the very revision t reads (nil otherwise: absent, another
// revision, no view), and whether the record exists. The object is
// shared with the view and every reader: it must not be changed.
func (t tx) viewed(key string) (obj any, found bool, err error) {
	kv, err := t.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if t.view != nil {
		if obj := t.view.at(key, kv.ModRev); obj != nil {
			return obj, true, nil
		}
	}
	obj, err = decodeRecord(key, kv.Value)
	return obj, true, err
}

// get decodes the record at key into v; found is false if it is absent.
func (t tx) get(key string, v any) (bool, error) {
	kv, err := t.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := unmarshalRecord(kv.Value, v); err != nil { // json.Unmarshal's result, faster for tasks and instances
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// putShared is put for a task or instance record the caller is done
// changing: the store hands the record itself to this process's view with
// the write (store.ObjPutter), which then need not decode it. Neither rec
// nor anything it points to may change afterwards (the view may keep
// parts of it); the caller may still read it.
func (t tx) putShared(key string, rec any) error {
	switch rec.(type) {
	case *taskRecord, *instanceRecord:
		return t.putRecord(key, rec, true)
	}
	panic(fmt.Sprintf("control: putShared of a %T", rec))
}

// putRecord stores a task or instance record, encoded into a reused
// buffer (Put copies the value), and with shared hands rec to the view
// too (putShared).
func (t tx) putRecord(key string, rec any, shared bool) error {
	var bp *[]byte
	if t.bufs != nil {
		bp, _ = t.bufs.Get().(*[]byte)
	}
	if bp == nil {
		bp = new([]byte)
	}
	if r, ok := rec.(*taskRecord); ok {
		*bp = appendTaskRecord((*bp)[:0], r)
	} else {
		*bp = appendInstanceRecord((*bp)[:0], rec.(*instanceRecord))
	}
	var err error
	if op, ok := t.Tx.(store.ObjPutter); ok && shared {
		err = op.PutObj(key, *bp, rec)
	} else {
		err = t.Put(key, *bp)
	}
	if t.bufs != nil && cap(*bp) <= 64<<10 {
		t.bufs.Put(bp)
	}
	return err
}

// put encodes v at key.
// Tasks and instances, written on every RunTask and state change, are
// encoded into a reused buffer: Put copies the value.
func (t tx) put(key string, v any) error {
	switch v.(type) {
	case *taskRecord, *instanceRecord:
		return t.putRecord(key, v, false)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return t.Put(key, b)
}

// update runs fn as one durable transaction and waits until the view shows
// its result, so the caller's next read sees its own write. fn MAY RUN MORE
// THAN ONCE: it must not touch anything outside t.
func (c *Control) update(ctx context.Context, fn func(t tx) error) error {
	rev, err := c.store.Update(ctx, func(stx store.Tx) error { return fn(c.tx(stx)) })
	if err != nil {
		return err
	}
	return c.view.waitRev(ctx, rev)
}

// nowUTC returns the clock's time, truncated to milliseconds (the wire
// precision) so stored and returned timestamps agree.
func (c *Control) nowUTC() time.Time { return c.now().UTC().Truncate(time.Millisecond) }

func itoa(n int) string { return strconv.Itoa(n) }
