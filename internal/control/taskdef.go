package control

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/taskdef"
	"github.com/berth-dev/berth/internal/wire"
)

// taskDefRecord is one stored task definition revision with its tags.
type taskDefRecord struct {
	wire.TaskDefinition
	Tags []wire.Tag `json:"tags,omitzero"`
}

// familyRecord tracks a family's revisions. Last is never decreased, so a
// revision number is never reused, even after deletion.
type familyRecord struct {
	Family   string `json:"family"`
	Last     int    `json:"last"`
	Active   int    `json:"active"`
	Inactive int    `json:"inactive"` // INACTIVE and DELETE_IN_PROGRESS
}

// MaxRevisions is ECS's limit of revisions per family.
const MaxRevisions = 1_000_000

// tdRef is a parsed task definition reference: family, and revision (0 when
// the reference names the family only).
type tdRef struct {
	family   string
	revision int
}

// parseTaskDefRef parses "family", "family:revision" or a task-definition
// ARN of ns.
func parseTaskDefRef(ns ecs.Namespace, ref string) (tdRef, bool) {
	s := ref
	if strings.HasPrefix(ref, "arn:") {
		a, ok := ecs.ParseARN(ref)
		if !ok || !a.InNamespace(ns) || a.Type() != "task-definition" {
			return tdRef{}, false
		}
		s = a.Path()
		if !strings.Contains(s, ":") {
			return tdRef{}, false // an ARN always carries the revision
		}
	}
	fam, rev, hasRev := strings.Cut(s, ":")
	if !taskdef.ValidFamily(fam) {
		return tdRef{}, false
	}
	if !hasRev {
		return tdRef{family: fam}, true
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > MaxRevisions {
		return tdRef{}, false
	}
	return tdRef{family: fam, revision: n}, true
}

func errTaskDefNotFound() error { return ecs.Errorf(ecs.ClientError, ecs.MsgTaskDefNotFound) }

// lookupTaskDef resolves a reference in the view: a family alone means its
// latest ACTIVE revision.
func (c *Control) lookupTaskDef(ns ecs.Namespace, ref string) (*taskDefRecord, error) {
	r, ok := parseTaskDefRef(ns, ref)
	if !ok {
		return nil, errTaskDefNotFound()
	}
	if r.revision > 0 {
		rec, _ := c.view.get(keyTaskDef(ns, r.family, r.revision)).(*taskDefRecord)
		if rec == nil {
			return nil, errTaskDefNotFound()
		}
		return rec, nil
	}
	var found *taskDefRecord
	c.view.scan(keyTaskDefPrefix(ns, r.family), "", true, func(_ string, obj any) bool {
		if rec, ok := obj.(*taskDefRecord); ok && wire.Val(rec.Status) == wire.TaskDefinitionStatusActive {
			found = rec
			return false
		}
		return true
	})
	if found == nil {
		return nil, errTaskDefNotFound()
	}
	return found, nil
}

// RegisterTaskDefinition validates the request (package taskdef), assigns
// the family's next revision and stores the definition ACTIVE, with the
// defaults ECS fills in.
func (c *Control) RegisterTaskDefinition(ctx context.Context, ns ecs.Namespace, in *wire.RegisterTaskDefinitionRequest) (*wire.RegisterTaskDefinitionResponse, error) {
	td, err := taskdef.Build(in)
	if err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	family := wire.Val(td.Family)
	now := c.nowUTC()
	var rec *taskDefRecord
	err = c.update(ctx, func(t tx) error {
		fam := familyRecord{Family: family}
		if _, err := t.get(keyFamily(ns, family), &fam); err != nil {
			return err
		}
		if fam.Last >= MaxRevisions {
			return ecs.Errorf(ecs.LimitExceeded, "The task definition family %s has reached the limit of %d revisions.", family, MaxRevisions)
		}
		fam.Last++
		fam.Active++
		r := &taskDefRecord{TaskDefinition: *td, Tags: in.Tags}
		r.Revision = wire.Ptr(int32(fam.Last))
		r.TaskDefinitionArn = wire.Ptr(ns.TaskDefinitionARN(family, fam.Last))
		r.Status = wire.Ptr(wire.TaskDefinitionStatusActive)
		r.RegisteredAt = wire.NewTime(now)
		r.RegisteredBy = wire.Ptr(ns.Principal)
		rec = r
		if err := t.put(keyFamily(ns, family), fam); err != nil {
			return err
		}
		return t.put(keyTaskDef(ns, family, fam.Last), r)
	})
	if err != nil {
		return nil, err
	}
	out := rec.TaskDefinition
	return &wire.RegisterTaskDefinitionResponse{TaskDefinition: &out, Tags: ecs.TagsOrEmpty(rec.Tags)}, nil
}

// DescribeTaskDefinition describes a revision ("family" = latest ACTIVE;
// INACTIVE and DELETE_IN_PROGRESS revisions are describable by revision).
// Tags only with include TAGS. Unknown: ClientException "Unable to describe
// task definition."
func (c *Control) DescribeTaskDefinition(ctx context.Context, ns ecs.Namespace, in *wire.DescribeTaskDefinitionRequest) (*wire.DescribeTaskDefinitionResponse, error) {
	rec, err := c.lookupTaskDef(ns, wire.Val(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	out := &wire.DescribeTaskDefinitionResponse{TaskDefinition: &rec.TaskDefinition}
	if slices.Contains(in.Include, wire.TaskDefinitionFieldTags) {
		out.Tags = ecs.TagsOrEmpty(rec.Tags)
	}
	return out, nil
}

// ListTaskDefinitions lists revision ARNs by family then revision (ASC by
// default, DESC reverses), filtered by status (default ACTIVE) and by the
// full family name in familyPrefix; paginated 1–100, default 100.
func (c *Control) ListTaskDefinitions(ctx context.Context, ns ecs.Namespace, in *wire.ListTaskDefinitionsRequest) (*wire.ListTaskDefinitionsResponse, error) {
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	status := wire.TaskDefinitionStatusActive
	if in.Status != nil {
		status = *in.Status
	}
	desc := wire.Val(in.Sort) == wire.SortOrderDesc
	prefix := nsPrefix(ns) + "td/"
	if in.FamilyPrefix != nil {
		prefix = keyTaskDefPrefix(ns, *in.FamilyPrefix)
	}
	filter := string(status) + "|" + string(wire.Val(in.Sort)) + "|" + wire.Val(in.FamilyPrefix)
	arns, next, err := page(c, "ListTaskDefinitions", filter, in.NextToken, n, prefix, desc, func(_ string, obj any) (string, bool) {
		rec, ok := obj.(*taskDefRecord)
		if !ok || wire.Val(rec.Status) != status {
			return "", false
		}
		return wire.Val(rec.TaskDefinitionArn), true
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListTaskDefinitionsResponse{TaskDefinitionArns: arns, NextToken: next}, nil
}

// ListTaskDefinitionFamilies lists family names beginning with familyPrefix:
// status ACTIVE (a family with an ACTIVE revision), INACTIVE (a family with
// revisions, none ACTIVE) or ALL (the default: both). Paginated 1–100,
// default 100, in name order.
func (c *Control) ListTaskDefinitionFamilies(ctx context.Context, ns ecs.Namespace, in *wire.ListTaskDefinitionFamiliesRequest) (*wire.ListTaskDefinitionFamiliesResponse, error) {
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	status := wire.TaskDefinitionFamilyStatusAll
	if in.Status != nil {
		status = *in.Status
	}
	filter := string(status) + "|" + wire.Val(in.FamilyPrefix)
	fams, next, err := page(c, "ListTaskDefinitionFamilies", filter, in.NextToken, n, nsPrefix(ns)+"tdf/"+wire.Val(in.FamilyPrefix), false, func(_ string, obj any) (string, bool) {
		f, ok := obj.(*familyRecord)
		if !ok {
			return "", false
		}
		switch status {
		case wire.TaskDefinitionFamilyStatusActive:
			ok = f.Active > 0
		case wire.TaskDefinitionFamilyStatusInactive:
			ok = f.Active == 0 && f.Inactive > 0
		default:
			ok = f.Active+f.Inactive > 0
		}
		return f.Family, ok
	})
	if err != nil {
		return nil, err
	}
	return &wire.ListTaskDefinitionFamiliesResponse{Families: fams, NextToken: next}, nil
}

// DeregisterTaskDefinition makes a revision INACTIVE (the reference must name
// a revision). Deregistering an INACTIVE revision returns it unchanged.
func (c *Control) DeregisterTaskDefinition(ctx context.Context, ns ecs.Namespace, in *wire.DeregisterTaskDefinitionRequest) (*wire.DeregisterTaskDefinitionResponse, error) {
	r, ok := parseTaskDefRef(ns, wire.Val(in.TaskDefinition))
	if !ok {
		return nil, errTaskDefNotFound()
	}
	if r.revision == 0 {
		return nil, ecs.Errorf(ecs.ClientError, "A revision must be specified: use family:revision or the full task definition ARN.")
	}
	now := c.nowUTC()
	var out *taskDefRecord
	err := c.update(ctx, func(t tx) error {
		rec := new(taskDefRecord)
		found, err := t.get(keyTaskDef(ns, r.family, r.revision), rec)
		if err != nil {
			return err
		}
		if !found {
			return errTaskDefNotFound()
		}
		out = rec
		if wire.Val(rec.Status) != wire.TaskDefinitionStatusActive {
			return nil
		}
		var fam familyRecord
		if _, err := t.get(keyFamily(ns, r.family), &fam); err != nil {
			return err
		}
		fam.Active--
		fam.Inactive++
		rec.Status = wire.Ptr(wire.TaskDefinitionStatusInactive)
		rec.DeregisteredAt = wire.NewTime(now)
		if err := t.put(keyFamily(ns, r.family), fam); err != nil {
			return err
		}
		return t.put(keyTaskDef(ns, r.family, r.revision), rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeregisterTaskDefinitionResponse{TaskDefinition: &out.TaskDefinition}, nil
}

// DeleteTaskDefinitions marks INACTIVE revisions DELETE_IN_PROGRESS (up to
// 10 per call). ACTIVE or unknown revisions are failures, not errors. A
// DELETE_IN_PROGRESS revision stays describable; ECS purges it once no task
// or service references it, which the task lifecycle work will add.
func (c *Control) DeleteTaskDefinitions(ctx context.Context, ns ecs.Namespace, in *wire.DeleteTaskDefinitionsRequest) (*wire.DeleteTaskDefinitionsResponse, error) {
	if len(in.TaskDefinitions) > 10 {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The number of task definitions to delete must be 10 or fewer.")
	}
	now := c.nowUTC()
	var out *wire.DeleteTaskDefinitionsResponse
	err := c.update(ctx, func(t tx) error {
		out = &wire.DeleteTaskDefinitionsResponse{TaskDefinitions: []wire.TaskDefinition{}, Failures: []wire.Failure{}}
		fail := func(arn, reason string) {
			out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr(reason)})
		}
		for _, ref := range in.TaskDefinitions {
			r, ok := parseTaskDefRef(ns, ref)
			if !ok || r.revision == 0 {
				fail(ref, "The specified task definition identifier is invalid. Specify a valid revision or full ARN.")
				continue
			}
			arn := ns.TaskDefinitionARN(r.family, r.revision)
			rec := new(taskDefRecord)
			found, err := t.get(keyTaskDef(ns, r.family, r.revision), rec)
			if err != nil {
				return err
			}
			switch {
			case !found:
				fail(arn, "The specified task definition does not exist.")
				continue
			case wire.Val(rec.Status) == wire.TaskDefinitionStatusActive:
				fail(arn, "The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
				continue
			case wire.Val(rec.Status) == wire.TaskDefinitionStatusInactive:
				rec.Status = wire.Ptr(wire.TaskDefinitionStatusDeleteInProgress)
				rec.DeleteRequestedAt = wire.NewTime(now)
				if err := t.put(keyTaskDef(ns, r.family, r.revision), rec); err != nil {
					return err
				}
			}
			out.TaskDefinitions = append(out.TaskDefinitions, rec.TaskDefinition)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
