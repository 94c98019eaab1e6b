package control

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// DefaultTaskRetention is how long STOPPED tasks stay describable (ECS keeps
// them for at least an hour).
const DefaultTaskRetention = time.Hour

// Purge deletes, across all namespaces, the STOPPED tasks that stopped
// before now-retention, RunTask client tokens older than TokenTTL, and the
// DELETE_IN_PROGRESS task definition
// revisions that no remaining task references. It reads the view to find
// candidates and re-checks each inside its transaction. It returns how many
// records it deleted. The server runs it periodically (level-triggered: a
// missed run is caught up by the next).
func (c *Control) Purge(ctx context.Context, now time.Time, retention time.Duration) (int, error) {
	cutoff := now.Add(-retention)
	var stale []string
	referenced := map[string]bool{}
	var deleting []string
	c.view.scan("ns/", "", false, func(key string, obj any) bool {
		switch r := obj.(type) {
		case *packedTask:
			if wire.Val(r.LastStatus) == taskStopped {
				if rec := r.unpack(); rec.StoppedAt != nil && rec.StoppedAt.Before(cutoff) {
					stale = append(stale, key)
					return true
				}
			}
			referenced[nsOf(key)+wire.Val(r.tmpl.TaskDefinitionArn)] = true
		case *taskDefRecord:
			if wire.Val(r.Status) == wire.TaskDefinitionStatusDeleteInProgress {
				deleting = append(deleting, key)
			}
		case *tokenRecord:
			if now.Sub(r.CreatedAt) > TokenTTL {
				stale = append(stale, key)
			}
		}
		return true
	})
	n := 0
	for _, key := range stale {
		deleted := false
		// May run more than once: it only reads and deletes through t.
		err := c.update(ctx, func(t tx) error {
			deleted = false
			if kindOf(key) == "tok" {
				deleted = true
				return t.Delete(key)
			}
			rec := new(taskRecord)
			found, err := t.get(key, rec)
			if err != nil || !found || wire.Val(rec.LastStatus) != taskStopped || rec.StoppedAt == nil || !rec.StoppedAt.Before(cutoff) {
				return err
			}
			deleted = true
			return t.Delete(key)
		})
		if err != nil {
			return n, err
		}
		if deleted {
			n++
		}
	}
	for _, key := range deleting {
		rec, ok := c.view.get(key).(*taskDefRecord)
		if !ok || referenced[nsOf(key)+wire.Val(rec.TaskDefinitionArn)] {
			continue
		}
		family := wire.Val(rec.Family)
		err := c.update(ctx, func(t tx) error {
			cur := new(taskDefRecord)
			found, err := t.get(key, cur)
			if err != nil || !found || wire.Val(cur.Status) != wire.TaskDefinitionStatusDeleteInProgress {
				return err
			}
			famKey := key[:strings.Index(key, "td/")] + "tdf/" + family
			var fam familyRecord
			if _, err := t.get(famKey, &fam); err != nil {
				return err
			}
			if fam.Inactive > 0 {
				fam.Inactive--
			}
			if err := t.put(famKey, fam); err != nil {
				return err
			}
			return t.Delete(key)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// nsOf returns the namespace prefix of a key ("ns/<account>/<region>/").
func nsOf(key string) string {
	parts := strings.SplitN(key, "/", 4)
	if len(parts) < 4 {
		return ""
	}
	return parts[0] + "/" + parts[1] + "/" + parts[2] + "/"
}
