package control

import (
	"testing"

	"github.com/berth-dev/berth/internal/wire"
)

// TestTaskIndexNotifiesAgentVisibleChanges drives a task through its life
// and checks which changes wake the instance's agent session: a new task,
// a new desired status, the task stopping or leaving, a move to another
// instance; not a change the session has nothing to send about.
func TestTaskIndexNotifiesAgentVisibleChanges(t *testing.T) {
	x := newTaskIndex()
	var got []string
	x.notify = func(arn string) { got = append(got, arn) }
	var pk packer
	const key = "ns/000000000000/us-east-1/task/bench/0123456789abcdef0123456789abcdef"
	rec := canonicalTask("0123456789abcdef0123456789abcdef", 0)
	inst := wire.Val(rec.ContainerInstanceArn)
	other := wire.Val(canonicalTask("0123456789abcdef0123456789abcdef", 1).ContainerInstanceArn)
	state := func(last, desired, instance string) *packedTask {
		r := *rec
		r.LastStatus, r.DesiredStatus, r.ContainerInstanceArn = wire.Ptr(last), wire.Ptr(desired), wire.Ptr(instance)
		return pk.pack(&r)
	}
	steps := []struct {
		name string
		to   *packedTask
		want []string
	}{
		{"placed", state("PENDING", "RUNNING", inst), []string{inst}},
		{"running", state("RUNNING", "RUNNING", inst), nil},
		{"running again (a new version)", state("RUNNING", "RUNNING", inst), nil},
		{"asked to stop", state("RUNNING", "STOPPED", inst), []string{inst}},
		{"deactivating", state("DEACTIVATING", "STOPPED", inst), nil},
		{"stopped", state("STOPPED", "STOPPED", inst), []string{inst}},
		{"moved (a record rewritten elsewhere)", state("STOPPED", "STOPPED", other), []string{inst, other}},
		{"deleted", nil, []string{other}},
	}
	var cur *packedTask
	for _, s := range steps {
		got = nil
		var old, next any
		if cur != nil {
			old = cur
		}
		if s.to != nil {
			next = s.to
		}
		x.apply(key, old, next)
		if len(got) != len(s.want) {
			t.Fatalf("%s: notified %q, want %q", s.name, got, s.want)
		}
		for i := range got {
			if got[i] != s.want[i] {
				t.Fatalf("%s: notified %q, want %q", s.name, got, s.want)
			}
		}
		cur = s.to
	}
}
