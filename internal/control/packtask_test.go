package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// canonicalTask returns a task record in the form the server writes: ids
// of 32 hex digits, container ARNs under the task's, Docker runtime ids,
// timestamps in milliseconds.
func canonicalTask(id string, instance int) *taskRecord {
	arn := "arn:aws:ecs:us-east-1:000000000000:task/bench/" + id
	ms := func(v int64) *wire.Time { return &wire.Time{Time: time.UnixMilli(v).UTC()} }
	r := &taskRecord{Cluster: "bench", ID: id, ReservedCPU: 64, ReservedMemory: 512, Essential: []string{"app"}}
	r.Task = wire.Task{
		TaskArn:              wire.Ptr(arn),
		ClusterArn:           wire.Ptr("arn:aws:ecs:us-east-1:000000000000:cluster/bench"),
		ContainerInstanceArn: wire.Ptr("arn:aws:ecs:us-east-1:000000000000:container-instance/bench/" + strings.Repeat("0", 31) + string(rune('a'+instance%6))),
		AvailabilityZone:     wire.Ptr([]string{"us-east-1a", "us-east-1b", "us-east-1c"}[instance%3]),
		TaskDefinitionArn:    wire.Ptr("arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"),
		Group:                wire.Ptr("family:web"),
		LastStatus:           wire.Ptr("RUNNING"),
		DesiredStatus:        wire.Ptr("RUNNING"),
		LaunchType:           wire.Ptr(wire.LaunchType("EC2")),
		Cpu:                  wire.Ptr("64"),
		Memory:               wire.Ptr("512"),
		Version:              wire.Ptr(int64(3)),
		CreatedAt:            ms(1_790_000_000_123),
		PullStartedAt:        ms(1_790_000_000_456),
		PullStoppedAt:        ms(1_790_000_000_789),
		StartedAt:            ms(1_790_000_001_000),
		Overrides:            &wire.TaskOverride{ContainerOverrides: []wire.ContainerOverride{{Name: wire.Ptr("app")}}},
		Containers: []wire.Container{{
			ContainerArn: wire.Ptr("arn:aws:ecs:us-east-1:000000000000:container/bench/" + id + "/" + uuidFrom(id+"/app")),
			TaskArn:      wire.Ptr(arn),
			Name:         wire.Ptr("app"),
			Image:        wire.Ptr("busybox"),
			LastStatus:   wire.Ptr("RUNNING"),
			RuntimeId:    wire.Ptr(strings.Repeat("0123456789abcdef", 4)),
		}},
	}
	return r
}

// viewDecode encodes r as the store holds it and decodes it through the
// view (interned and packed) and plainly.
func viewDecode(t *testing.T, v *view, r *taskRecord) (*packedTask, *taskRecord, []byte) {
	t.Helper()
	raw := appendTaskRecord(nil, r)
	obj, err := v.decode("ns/1/r/task/bench/"+r.ID, raw)
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	plain, err := decodeRecord("ns/1/r/task/bench/"+r.ID, raw)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*packedTask), plain.(*taskRecord), raw
}

// checkUnpack fails unless p unpacks (with and without a scratch) to a
// record equal to want.
func checkUnpack(t *testing.T, p *packedTask, want *taskRecord, raw []byte) {
	t.Helper()
	got := p.unpack()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		t.Fatalf("unpacked record differs:\n got %s\nwant %s", gj, raw)
	}
	if a := p.taskArn(); a != wire.Val(want.TaskArn) {
		t.Fatalf("taskArn() = %q, want %q", a, wire.Val(want.TaskArn))
	}
	var arena arnArena
	cut := make([]string, 100) // past the arena's first buffer
	for i := range cut {
		cut[i] = arena.taskArn(p)
	}
	for _, a := range cut {
		if a != wire.Val(want.TaskArn) {
			t.Fatalf("arnArena.taskArn = %q, want %q", a, wire.Val(want.TaskArn))
		}
	}
	if p.group() != wire.Val(want.Group) {
		t.Fatalf("group() = %q, want %q", p.group(), wire.Val(want.Group))
	}
	enc := appendTaskRecord(nil, want) // raw, with invalid UTF-8 replaced
	if g := appendTaskRecord(nil, got); !bytes.Equal(g, enc) {
		t.Fatalf("unpacked record encodes differently:\n got %s\nwant %s", g, enc)
	}
	checkPlan(t, p)
}

// checkPlan fails unless p's JSON through taskPlans (with and without
// tags, twice: making the plan, then using it) is exactly its unpacked
// record's AppendJSON.
func checkPlan(t *testing.T, p *packedTask) {
	t.Helper()
	var tp taskPlans
	var sc planScratch
	for _, withTags := range []bool{false, true} {
		want := taskOut(p.unpack(), withTags).AppendJSON(nil)
		for range 2 {
			if got := tp.appendTask([]byte("x"), p, withTags, &sc); !bytes.Equal(got[1:], want) || got[0] != 'x' {
				t.Fatalf("through its plan (tags %v):\n got %s\nwant %s", withTags, got[1:], want)
			}
		}
	}
}

// TestPackedTaskRoundTrip: whatever the record, the view's packed form
// unpacks to exactly the record decoded plainly.
func TestPackedTaskRoundTrip(t *testing.T) {
	v := newView(decodeRecord, nil)
	t.Run("canonical", func(t *testing.T) {
		p, want, raw := viewDecode(t, v, canonicalTask("0123456789abcdef0123456789abcdef", 0))
		checkUnpack(t, p, want, raw)
		if p.tmpl.TaskArn != nil || p.tmpl.CreatedAt != nil || p.tmpl.Containers[0].ContainerArn != nil || p.tmpl.Containers[0].RuntimeId != nil || p.tmpl.ID != "" {
			t.Error("the task's own members were left in the template")
		}
		if len(p.own) > 100 {
			t.Errorf("own bytes: %d", len(p.own))
		}
	})
	t.Run("shared template", func(t *testing.T) {
		a, _, _ := viewDecode(t, v, canonicalTask("00000000000000000000000000000001", 1))
		b, _, _ := viewDecode(t, v, canonicalTask("00000000000000000000000000000002", 2))
		if a.tmpl != b.tmpl {
			t.Error("two tasks alike but for their own members do not share a template")
		}
		if a.ContainerInstanceArn == b.ContainerInstanceArn {
			t.Error("the instances should differ")
		}
	})
	t.Run("unusual forms", func(t *testing.T) {
		edits := map[string]func(r *taskRecord){
			"id not in arn":    func(r *taskRecord) { r.ID = "other" },
			"no id":            func(r *taskRecord) { r.ID = "" },
			"no task arn":      func(r *taskRecord) { r.TaskArn = nil },
			"arn without task": func(r *taskRecord) { r.TaskArn = wire.Ptr("x/" + r.ID) },
			"foreign container": func(r *taskRecord) {
				r.Containers[0].ContainerArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:container/other/1/x")
			},
			"container rest": func(r *taskRecord) { *r.Containers[0].ContainerArn += "-not-a-uuid" },
			"container empty rest": func(r *taskRecord) {
				r.Containers[0].ContainerArn = wire.Ptr(strings.Replace(*r.TaskArn, ":task/", ":container/", 1) + "/")
			},
			"upper uuid": func(r *taskRecord) {
				r.Containers[0].ContainerArn = wire.Ptr(strings.ToUpper(*r.Containers[0].ContainerArn))
			},
			"odd runtime id":   func(r *taskRecord) { r.Containers[0].RuntimeId = wire.Ptr("abc") },
			"text runtime id":  func(r *taskRecord) { r.Containers[0].RuntimeId = wire.Ptr("sim-1/é") },
			"empty runtime id": func(r *taskRecord) { r.Containers[0].RuntimeId = wire.Ptr("") },
			"other task arn":   func(r *taskRecord) { r.Containers[0].TaskArn = wire.Ptr("t") },
			"no containers":    func(r *taskRecord) { r.Containers = nil },
			"empty containers": func(r *taskRecord) { r.Containers = []wire.Container{} },
			"three containers": func(r *taskRecord) {
				r.Containers = append(r.Containers, r.Containers[0], wire.Container{Name: wire.Ptr("b")})
			},
			"negative version": func(r *taskRecord) { r.Version = wire.Ptr(int64(-5)) },
			"no version":       func(r *taskRecord) { r.Version = nil },
			"all times": func(r *taskRecord) {
				r.StoppedAt, r.StoppingAt, r.ConnectivityAt, r.ExecutionStoppedAt = r.CreatedAt, r.StartedAt, r.StartedAt, r.CreatedAt
			},
			"no times":         func(r *taskRecord) { r.CreatedAt, r.PullStartedAt, r.PullStoppedAt, r.StartedAt = nil, nil, nil, nil },
			"time before 1970": func(r *taskRecord) { r.CreatedAt = &wire.Time{Time: time.UnixMilli(-1234567).UTC()} },
			"no statuses": func(r *taskRecord) {
				r.LastStatus, r.DesiredStatus, r.ContainerInstanceArn, r.AvailabilityZone = nil, nil, nil, nil
			},
			"empty strings": func(r *taskRecord) { r.LastStatus, r.TaskArn = wire.Ptr(""), wire.Ptr("") },
			"stopped": func(r *taskRecord) {
				r.LastStatus, r.StopCode = wire.Ptr("STOPPED"), wire.Ptr(wire.TaskStopCode("UserInitiated"))
			},
			"cluster arn to escape": func(r *taskRecord) { // the task's ARN and its containers' are packed all the same
				id := lastSegment(*r.TaskArn)
				r.ClusterArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:cluster/b<&\u00e9\\")
				r.TaskArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:task/b<&\u00e9\\/" + id)
				r.Containers[0].ContainerArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:container/b<&\u00e9\\/" + id + "/" + uuidFrom(id))
				r.Containers[0].TaskArn = r.TaskArn
			},
			"dynamic host port": func(r *taskRecord) {
				r.Containers[0].NetworkBindings = []wire.NetworkBinding{{HostPort: wire.Ptr(int32(32768))}}
			},
		}
		for name, edit := range edits {
			t.Run(name, func(t *testing.T) {
				r := canonicalTask("fedcba9876543210fedcba9876543210", 4)
				edit(r)
				p, want, raw := viewDecode(t, v, r)
				checkUnpack(t, p, want, raw)
			})
		}
	})
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 11))
		for i := range 3000 {
			var r taskRecord
			randomFill(rng, reflect.ValueOf(&r).Elem(), 0)
			if i%2 == 0 { // half of them close to the usual form
				c := canonicalTask(r.ID, i)
				c.Containers = append(c.Containers, r.Containers...)
				c.Attachments, c.StoppedReason, c.Tags = r.Attachments, r.StoppedReason, r.Tags
				r = *c
			}
			p, want, raw := viewDecode(t, v, &r)
			checkUnpack(t, p, want, raw)
		}
	})
}

// TestViewHoldsPackedTasks: what a task costs the view's heap, packed,
// against the decoded record (the figure behind packedTask's doc comment).
func TestViewHoldsPackedTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 records")
	}
	const n = 20000
	v := newView(decodeRecord, nil)
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = appendTaskRecord(nil, canonicalTask(fmt.Sprintf("%032x", i), i))
	}
	plain := heapGrowth(func() any {
		out := make([]any, n)
		for i, raw := range raws {
			out[i], _ = decodeRecord("ns/1/r/task/bench/x", raw)
		}
		return out
	})
	packed := heapGrowth(func() any {
		out := make([]any, n)
		for i, raw := range raws {
			out[i], _ = v.decode("ns/1/r/task/bench/x", raw)
		}
		return out
	})
	runtime.KeepAlive(raws)
	t.Logf("per task: decoded %d B, packed %d B", plain/n, packed/n)
	if packed*3 > plain {
		t.Errorf("a packed task takes %d B, more than a third of the decoded record's %d B", packed/n, plain/n)
	}
}

// heapGrowth returns how much the live heap grows by what build returns.
func heapGrowth(build func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	keep := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestViewAdoptsWritersRecords: a task record handed over by its writer
// (putShared) becomes the same packed task as the stored value decoded,
// and adopting it changes nothing the writer can see, even while the
// writer reads it (run with -race).
func TestViewAdoptsWritersRecords(t *testing.T) {
	v := newView(decodeRecord, nil)
	forms := []*taskRecord{canonicalTask("0123456789abcdef0123456789abcdef", 0)}
	odd := canonicalTask("0123456789abcdef0123456789abcdee", 1)
	odd.Essential = []string{"app"}
	odd.Tags = []wire.Tag{{Key: wire.Ptr("k"), Value: wire.Ptr("v")}}
	odd.Containers = append(odd.Containers, wire.Container{Name: wire.Ptr("side"), LastStatus: wire.Ptr("PENDING")})
	odd.Overrides = &wire.TaskOverride{ContainerOverrides: []wire.ContainerOverride{{Name: wire.Ptr("side"), Command: []string{"x"}}}}
	forms = append(forms, odd)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		var r taskRecord
		randomFill(rng, reflect.ValueOf(&r).Elem(), 0)
		if i%2 == 0 {
			c := canonicalTask(r.ID, i)
			c.Containers = append(c.Containers, r.Containers...)
			c.Attachments, c.StoppedReason, c.Tags, c.Overrides = r.Attachments, r.StoppedReason, r.Tags, r.Overrides
			r = *c
		}
		forms = append(forms, &r)
	}
	for i, r := range forms {
		before := appendTaskRecord(nil, r)
		done := make(chan []byte)
		go func() { done <- appendTaskRecord(nil, r) }() // the writer still reads it
		adopted := v.adopt(r).(*packedTask)
		if b := <-done; !bytes.Equal(b, before) {
			t.Fatalf("form %d: the writer's record read differently during adoption", i)
		}
		if after := appendTaskRecord(nil, r); !bytes.Equal(after, before) {
			t.Fatalf("form %d: adoption changed the writer's record:\n before %s\n  after %s", i, before, after)
		}
		decoded, _, raw := viewDecode(t, v, r)
		// Compared as stored and read back: a writer's string may hold
		// invalid UTF-8, which reads back as U+FFFD (as every client
		// reads it either way).
		norm := func(p *packedTask) []byte {
			back, err := decodeRecord("ns/1/r/task/bench/x", appendTaskRecord(nil, p.unpack()))
			if err != nil {
				t.Fatal(err)
			}
			return appendTaskRecord(nil, back.(*taskRecord))
		}
		if a, d := norm(adopted), norm(decoded); !bytes.Equal(a, d) {
			t.Fatalf("form %d: adopted and decoded tasks differ:\n adopted %s\n decoded %s\n stored %s", i, a, d, raw)
		}
	}
	inst := &instanceRecord{Cluster: "bench", ID: "i"}
	if v.adopt(inst) != inst {
		t.Error("an instance record is not adopted as it is")
	}
	if v.adopt(nil) != nil || v.adopt(&clusterRecord{}) != nil {
		t.Error("adopt took what it should have left to decoding")
	}
}

// TestTaskPlanMatchesAppendJSON: DescribeTasks writes the usual tasks
// through a plan, without allocating, and a template that holds a
// sentinel's text is written exactly all the same (checkUnpack checks
// every other form of TestPackedTaskRoundTrip the same way).
func TestTaskPlanMatchesAppendJSON(t *testing.T) {
	v := newView(decodeRecord, nil)
	var tp taskPlans
	var sc planScratch
	p, _, _ := viewDecode(t, v, canonicalTask("0123456789abcdef0123456789abcdef", 0))
	q, _, _ := viewDecode(t, v, canonicalTask("00000000000000000000000000000002", 2))
	buf := tp.appendTask(nil, p, false, &sc)
	if len(tp.plans) != 1 {
		t.Fatalf("%d plans", len(tp.plans))
	}
	for k, plan := range tp.plans {
		if plan == nil {
			t.Fatal("the canonical task has no plan")
		}
		// 1 task ARN + 1 version + 4 times + 4 pointers + container ARN, runtime id, task ARN.
		if len(plan.holes) != 13 || k.tmpl != p.tmpl {
			t.Fatalf("plan of %d holes: %+v", len(plan.holes), plan.holes)
		}
		if plain := plainHoles(plan); plain != 4 { // task ARN twice, container ARN, runtime id
			t.Fatalf("%d plain holes: %+v", plain, plan.holes)
		}
	}
	// A cluster ARN that needs escaping: the ARNs made from it are
	// escaped too.
	odd := canonicalTask("fedcba9876543210fedcba9876543211", 1)
	odd.ClusterArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:cluster/b<\u00e9")
	odd.TaskArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:task/b<\u00e9/fedcba9876543210fedcba9876543211")
	odd.Containers[0].TaskArn = odd.TaskArn
	odd.Containers[0].ContainerArn = wire.Ptr("arn:aws:ecs:us-east-1:000000000000:container/b<\u00e9/fedcba9876543210fedcba9876543211/" + uuidFrom("x"))
	op, _, _ := viewDecode(t, v, odd)
	checkPlan(t, op)
	var otp taskPlans
	otp.appendTask(nil, op, false, &sc)
	for _, plan := range otp.plans {
		if plan == nil || len(plan.holes) != 13 || plainHoles(plan) != 1 { // the runtime id
			t.Fatalf("plan for an odd cluster ARN: %+v", plan)
		}
	}
	for _, r := range []*packedTask{p, q} {
		want := taskOut(r.unpack(), false).AppendJSON(nil)
		if got := tp.appendTask(buf[:0], r, false, &sc); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { buf = tp.appendTask(buf[:0], q, false, &sc) }); n != 0 && !raceEnabled {
		t.Errorf("appendTask allocates %v times per task", n)
	}

	// The first two collide with the sentinels a plan is made from; the
	// third is one of the check's own, which leaves the plan right.
	for i, text := range []string{"berth-sentinel-0-0", "-8100000000.111", "berth-sentinel-1-3"} {
		r := canonicalTask("fedcba9876543210fedcba9876543210", 1)
		r.StoppedReason = wire.Ptr(text)
		if text[0] == '-' {
			r.Containers[0].Reason = wire.Ptr("x")
			r.Attachments = []wire.Attachment{{Details: []wire.KeyValuePair{{Name: wire.Ptr("n"), Value: wire.Ptr(text)}}}}
		}
		p, _, _ := viewDecode(t, v, r)
		checkPlan(t, p)
		var tp taskPlans
		tp.appendTask(nil, p, false, &sc)
		for _, plan := range tp.plans {
			if plan != nil && i < 2 {
				t.Errorf("a template holding %q got a plan", text)
			}
		}
	}
}

func plainHoles(pl *taskPlan) int {
	n := 0
	for _, h := range pl.holes {
		if h.plain {
			n++
		}
	}
	return n
}
