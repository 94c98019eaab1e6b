package control

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// attachmentStatuses are the attachment states an agent may report.
var attachmentStatuses = map[string]bool{
	"PRECREATED": true, "CREATED": true, "ATTACHING": true, "ATTACHED": true,
	"DETACHING": true, "DETACHED": true, "DELETED": true, "FAILED": true,
}

// SubmitAttachmentStateChanges records an agent's report of task
// attachments (ENIs and others), named by attachment ARN
// (arn:…:attachment/<id>) or id, within the cluster. Unknown attachments
// are InvalidParameterException; a report never changes anything else.
func (c *Control) SubmitAttachmentStateChanges(ctx context.Context, ns ecs.Namespace, in *wire.SubmitAttachmentStateChangesRequest) (*wire.SubmitAttachmentStateChangesResponse, error) {
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	// Find, in the view, the task holding each attachment.
	want := map[string]string{} // attachment id → status
	for _, a := range in.Attachments {
		id := wire.Val(a.AttachmentArn)
		if arn, ok := ecs.ParseARN(id); ok {
			if !arn.InNamespace(ns) || arn.Type() != "attachment" {
				return nil, ecs.Errorf(ecs.InvalidParameter, "The attachment ARN '%s' is not valid.", id)
			}
			id = arn.Path()
		}
		status := wire.Val(a.Status)
		if !attachmentStatuses[status] {
			return nil, ecs.Errorf(ecs.InvalidParameter, "The attachment status '%s' is not valid.", status)
		}
		want[id] = status
	}
	taskOf := map[string]string{} // attachment id → task key
	c.view.scan(keyTaskPrefix(ns, cluster), "", false, func(key string, obj any) bool {
		if p, ok := obj.(*packedTask); ok {
			for _, a := range p.tmpl.Attachments {
				if _, ok := want[wire.Val(a.Id)]; ok {
					taskOf[wire.Val(a.Id)] = key
				}
			}
		}
		return true
	})
	for id := range want {
		if taskOf[id] == "" {
			return nil, ecs.Errorf(ecs.InvalidParameter, "The attachment '%s' was not found in cluster %s.", id, cluster)
		}
	}
	err = c.update(ctx, func(t tx) error {
		for id, key := range taskOf {
			rec := new(taskRecord)
			found, err := t.get(key, rec)
			if err != nil || !found {
				return err
			}
			changed := false
			for i := range rec.Attachments {
				if wire.Val(rec.Attachments[i].Id) == id && wire.Val(rec.Attachments[i].Status) != want[id] {
					rec.Attachments[i].Status = wire.Ptr(want[id])
					changed = true
				}
			}
			if changed {
				*rec.Version++
				if err := t.put(key, rec); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.SubmitAttachmentStateChangesResponse{Acknowledgment: wire.Ptr("ACK")}, nil
}

// attachmentARN is the ARN of a task attachment.
func attachmentARN(ns ecs.Namespace, id string) string {
	return ns.ARN("attachment/" + strings.TrimPrefix(id, "attachment/"))
}
