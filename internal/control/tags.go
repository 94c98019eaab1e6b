package control

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// taggable is a stored record that carries user tags.
type taggable interface {
	tagList() []wire.Tag
	setTags([]wire.Tag)
}

func (r *clusterRecord) tagList() []wire.Tag           { return r.Tags }
func (r *clusterRecord) setTags(t []wire.Tag)          { r.Tags = t }
func (r *capacityProviderRecord) tagList() []wire.Tag  { return r.Tags }
func (r *capacityProviderRecord) setTags(t []wire.Tag) { r.Tags = t }
func (r *taskDefRecord) tagList() []wire.Tag           { return r.Tags }
func (r *taskDefRecord) setTags(t []wire.Tag)          { r.Tags = t }
func (r *serviceRecord) tagList() []wire.Tag           { return r.Tags }
func (r *serviceRecord) setTags(t []wire.Tag)          { r.Tags = t }

// tagKey resolves a resource ARN to its key and an empty record of its kind.
// The supported types are those whose records exist; the later issues add
// services, tasks, container instances and task sets here.
func tagKey(ns ecs.Namespace, arn string) (string, taggable, error) {
	a, ok := ecs.ParseARN(arn)
	if !ok || a.Service != "ecs" {
		return "", nil, ecs.Errorf(ecs.InvalidParameter, "The ARN '%s' is not a valid Amazon ECS resource ARN.", arn)
	}
	notFound := ecs.Errorf(ecs.ResourceNotFound, "The specified resource could not be found.")
	if !a.InNamespace(ns) {
		return "", nil, notFound
	}
	var (
		key string
		rec taggable
	)
	switch a.Type() {
	case "cluster":
		key, rec = keyCluster(ns, a.Path()), new(clusterRecord)
	case "capacity-provider":
		if isFargateProvider(a.Path()) {
			return "", nil, ecs.Errorf(ecs.InvalidParameter, "The %s capacity provider is managed by Amazon ECS and cannot be tagged.", a.Path())
		}
		key, rec = keyCP(ns, a.Path()), new(capacityProviderRecord)
	case "task-definition":
		r, ok := parseTaskDefRef(ns, arn)
		if !ok || r.revision == 0 {
			return "", nil, notFound
		}
		key, rec = keyTaskDef(ns, r.family, r.revision), new(taskDefRecord)
	case "service":
		cl, name, _ := cutPath(a.Path())
		if cl == "" {
			return "", nil, ecs.Errorf(ecs.InvalidParameter, "The ARN '%s' uses the short ARN format, which is not supported for tagging. Use the long ARN format.", arn)
		}
		key, rec = keyService(ns, cl, name), new(serviceRecord)
	case "task", "container-instance", "task-set":
		// These resources exist only inside a cluster: a legacy short ARN
		// without the cluster segment is refused as ECS does.
		if cl, _, _ := cutPath(a.Path()); cl == "" {
			return "", nil, ecs.Errorf(ecs.InvalidParameter, "The ARN '%s' uses the short ARN format, which is not supported for tagging. Use the long ARN format.", arn)
		}
		return "", nil, notFound
	default:
		return "", nil, ecs.Errorf(ecs.InvalidParameter, "The ARN '%s' is not a valid Amazon ECS resource ARN.", arn)
	}
	return key, rec, nil
}

// checkTaggable refuses resources that exist but cannot be tagged now: those
// in an INACTIVE cluster, and deleted capacity providers.
func checkTaggable(rec taggable) error {
	notFound := ecs.Errorf(ecs.ResourceNotFound, "The specified resource could not be found.")
	switch r := rec.(type) {
	case *clusterRecord:
		if wire.Val(r.Status) == statusInactive {
			return ecs.Errorf(ecs.InvalidParameter, ecs.MsgClusterInactive)
		}
	case *capacityProviderRecord:
		if wire.Val(r.Status) == wire.CapacityProviderStatusInactive {
			return notFound
		}
	}
	return nil
}

// tagTarget reads the taggable record an ARN names inside t.
func tagTarget(t tx, ns ecs.Namespace, arn string) (string, taggable, error) {
	key, rec, err := tagKey(ns, arn)
	if err != nil {
		return "", nil, err
	}
	found, err := t.get(key, rec)
	if err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, ecs.Errorf(ecs.ResourceNotFound, "The specified resource could not be found.")
	}
	return key, rec, checkTaggable(rec)
}

// cutPath splits "a/b/c" into "a" and "b/c".
func cutPath(p string) (first, rest string, ok bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i], p[i+1:], true
		}
	}
	return "", p, false
}

// TagResource adds or overwrites tags on a resource. More than 50 user tags
// in the result is LimitExceededException.
func (c *Control) TagResource(ctx context.Context, ns ecs.Namespace, in *wire.TagResourceRequest) (*wire.TagResourceResponse, error) {
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	err := c.update(ctx, func(t tx) error {
		key, rec, err := tagTarget(t, ns, wire.Val(in.ResourceArn))
		if err != nil {
			return err
		}
		merged := ecs.MergeTags(rec.tagList(), in.Tags)
		if err := ecs.CheckTagLimit(merged, ecs.LimitExceeded); err != nil {
			return err
		}
		rec.setTags(merged)
		return t.put(key, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.TagResourceResponse{}, nil
}

// UntagResource removes tags by key; keys that are not present are ignored.
func (c *Control) UntagResource(ctx context.Context, ns ecs.Namespace, in *wire.UntagResourceRequest) (*wire.UntagResourceResponse, error) {
	err := c.update(ctx, func(t tx) error {
		key, rec, err := tagTarget(t, ns, wire.Val(in.ResourceArn))
		if err != nil {
			return err
		}
		kept, err := ecs.RemoveTags(rec.tagList(), in.TagKeys)
		if err != nil {
			return err
		}
		rec.setTags(kept)
		return t.put(key, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UntagResourceResponse{}, nil
}

// ListTagsForResource returns a resource's tags.
func (c *Control) ListTagsForResource(ctx context.Context, ns ecs.Namespace, in *wire.ListTagsForResourceRequest) (*wire.ListTagsForResourceResponse, error) {
	key, _, err := tagKey(ns, wire.Val(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	rec, ok := c.view.get(key).(taggable)
	if !ok {
		return nil, ecs.Errorf(ecs.ResourceNotFound, "The specified resource could not be found.")
	}
	if err := checkTaggable(rec); err != nil {
		return nil, err
	}
	return &wire.ListTagsForResourceResponse{Tags: ecs.TagsOrEmpty(rec.tagList())}, nil
}
