package control

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// attributesRecord holds the custom attributes of one container instance.
type attributesRecord struct {
	Cluster    string           `json:"cluster"`
	InstanceID string           `json:"instanceId"`
	Attributes []wire.Attribute `json:"attributes"`
}

// MaxCustomAttributes is ECS's limit of custom attributes per resource.
const MaxCustomAttributes = 10

var (
	attrNameRE  = regexp.MustCompile(`^[A-Za-z0-9_.@/\\: -]{1,128}$`)
	attrValueRE = regexp.MustCompile(`^[A-Za-z0-9_.@/\\: -]{1,128}$`)
)

// validateAttributes checks a Put/DeleteAttributes request's attributes.
func validateAttributes(attrs []wire.Attribute) error {
	if len(attrs) > 10 {
		return ecs.Errorf(ecs.InvalidParameter, "The number of attributes in a request must be 10 or fewer.")
	}
	for _, a := range attrs {
		if err := validateAttribute(a); err != nil {
			return err
		}
	}
	return nil
}

func validateAttribute(a wire.Attribute) error {
	name := wire.Val(a.Name)
	if !attrNameRE.MatchString(name) || strings.TrimSpace(name) != name {
		return ecs.Errorf(ecs.InvalidParameter, "Attribute name '%s' is not valid: up to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, backslashes, colons or spaces, without leading or trailing whitespace.", name)
	}
	if strings.HasPrefix(strings.ToLower(name), "ecs.") {
		return ecs.Errorf(ecs.InvalidParameter, "Attributes beginning with 'ecs.' are managed by Amazon ECS and cannot be changed.")
	}
	if a.Value != nil && (!attrValueRE.MatchString(*a.Value) || strings.TrimSpace(*a.Value) != *a.Value) {
		return ecs.Errorf(ecs.InvalidParameter, "Attribute value '%s' is not valid: up to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, backslashes, colons or spaces, without leading or trailing whitespace.", *a.Value)
	}
	if a.TargetId == nil || *a.TargetId == "" {
		return ecs.Errorf(ecs.InvalidParameter, "A targetId must be specified for attribute '%s'.", name)
	}
	if t := wire.Val(a.TargetType); a.TargetType != nil && t != wire.TargetTypeContainerInstance {
		return ecs.Errorf(ecs.InvalidParameter, "Unsupported targetType %s.", t)
	}
	return nil
}

// attrTarget resolves a container instance ID or ARN within cluster.
func attrTarget(ns ecs.Namespace, cluster, ref string) (string, bool) {
	parent, id, ok := ecs.ResolveName(ns, ref, "container-instance")
	if !ok || (parent != "" && parent != cluster) {
		return "", false
	}
	return id, true
}

func errTargetNotFound(id string) error {
	return ecs.Errorf(ecs.TargetNotFound, "Could not find target %s. You can view your available container instances with ListContainerInstances.", id)
}

// existingTarget resolves a container instance ID or ARN within cluster
// and checks (inside t) that the instance exists.
func existingTarget(t tx, ns ecs.Namespace, cluster, ref string) (string, error) {
	id, ok := attrTarget(ns, cluster, ref)
	if !ok {
		return "", errTargetNotFound(ref)
	}
	var r statusRecord
	exists, err := t.get(keyInstancePrefix(ns, cluster)+id, &r)
	if err != nil {
		return "", err
	}
	if !exists {
		return "", errTargetNotFound(ref)
	}
	return id, nil
}

// PutAttributes creates or overwrites custom attributes of container
// instances (up to 10 per call, at most 10 custom attributes per instance:
// AttributeLimitExceededException). Unknown targets: TargetNotFoundException.
func (c *Control) PutAttributes(ctx context.Context, ns ecs.Namespace, in *wire.PutAttributesRequest) (*wire.PutAttributesResponse, error) {
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	err := c.update(ctx, func(t tx) error {
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		recs := map[string]*attributesRecord{}
		for _, a := range in.Attributes {
			id, err := existingTarget(t, ns, cluster, *a.TargetId)
			if err != nil {
				return err
			}
			rec := recs[id]
			if rec == nil {
				rec = &attributesRecord{Cluster: cluster, InstanceID: id}
				if _, err := t.get(keyAttrs(ns, cluster, id), rec); err != nil {
					return err
				}
				recs[id] = rec
			}
			rec.Attributes = mergeAttributes(rec.Attributes, []wire.Attribute{{Name: a.Name, Value: a.Value}})
			if len(rec.Attributes) > MaxCustomAttributes {
				return ecs.Errorf(ecs.AttributeLimitExceeded, "You can apply up to %d custom attributes to a resource.", MaxCustomAttributes)
			}
		}
		for id, rec := range recs {
			if err := t.put(keyAttrs(ns, cluster, id), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.PutAttributesResponse{Attributes: in.Attributes}, nil
}

// DeleteAttributes removes custom attributes (by name) from container
// instances and returns the attributes it was asked to delete.
func (c *Control) DeleteAttributes(ctx context.Context, ns ecs.Namespace, in *wire.DeleteAttributesRequest) (*wire.DeleteAttributesResponse, error) {
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	err := c.update(ctx, func(t tx) error {
		cl, err := activeCluster(t, ns, in.Cluster)
		if err != nil {
			return err
		}
		cluster := wire.Val(cl.ClusterName)
		for _, a := range in.Attributes {
			id, err := existingTarget(t, ns, cluster, *a.TargetId)
			if err != nil {
				return err
			}
			rec := &attributesRecord{Cluster: cluster, InstanceID: id}
			found, err := t.get(keyAttrs(ns, cluster, id), rec)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			rec.Attributes = slices.DeleteFunc(rec.Attributes, func(x wire.Attribute) bool { return wire.Val(x.Name) == *a.Name })
			if err := t.put(keyAttrs(ns, cluster, id), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteAttributesResponse{Attributes: in.Attributes}, nil
}

// ListAttributes lists the custom attributes of a cluster's container
// instances, one entry per (attribute, instance), optionally filtered by
// name and value (a value filter needs a name filter). Paginated 1–100,
// default 100. An INACTIVE cluster is InvalidParameterException.
func (c *Control) ListAttributes(ctx context.Context, ns ecs.Namespace, in *wire.ListAttributesRequest) (*wire.ListAttributesResponse, error) {
	if in.AttributeValue != nil && in.AttributeName == nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "attributeName must be specified when attributeValue is specified.")
	}
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	// A cluster-scoped call on an INACTIVE cluster is refused (spec §1.3).
	if wire.Val(cl.Status) == statusInactive {
		return nil, ecs.Errorf(ecs.InvalidParameter, ecs.MsgClusterInactive)
	}
	cluster := wire.Val(cl.ClusterName)
	filter := nsPrefix(ns) + cluster + "|" + wire.Val(in.AttributeName) + "|" + wire.Val(in.AttributeValue)
	after, err := c.decodeToken("ListAttributes", filter, in.NextToken)
	if err != nil {
		return nil, err
	}
	// Entries are ordered by (instance key, attribute name); the token holds
	// "<instance key>|<attribute name>" of the last entry returned.
	afterKey, afterName, _ := strings.Cut(after, "|")
	out := &wire.ListAttributesResponse{Attributes: []wire.Attribute{}}
	var last string
	prefix := nsPrefix(ns) + "attr/" + cluster + "/"
	full := false
	c.view.scan(prefix, "", false, func(key string, obj any) bool {
		if key < afterKey {
			return true // returned on an earlier page
		}
		rec, ok := obj.(*attributesRecord)
		if !ok {
			return true
		}
		attrs := slices.Clone(rec.Attributes)
		slices.SortFunc(attrs, func(a, b wire.Attribute) int { return strings.Compare(wire.Val(a.Name), wire.Val(b.Name)) })
		for _, a := range attrs {
			if key == afterKey && wire.Val(a.Name) <= afterName {
				continue
			}
			if in.AttributeName != nil && wire.Val(a.Name) != *in.AttributeName {
				continue
			}
			if in.AttributeValue != nil && wire.Val(a.Value) != *in.AttributeValue {
				continue
			}
			if len(out.Attributes) == n {
				full = true
				return false
			}
			out.Attributes = append(out.Attributes, wire.Attribute{
				Name:       a.Name,
				Value:      a.Value,
				TargetType: wire.Ptr(wire.TargetTypeContainerInstance),
				TargetId:   wire.Ptr(ns.ARN("container-instance/" + cluster + "/" + rec.InstanceID)),
			})
			last = key + "|" + wire.Val(a.Name)
		}
		return true
	})
	if full {
		t := c.encodeToken("ListAttributes", filter, last)
		out.NextToken = &t
	}
	return out, nil
}
