package ecs

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/internal/wire"
)

// MaxTags is the number of user tags a resource may carry.
const MaxTags = 50

var tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func reservedTag(s string) bool { return strings.HasPrefix(strings.ToLower(s), "aws:") }

// ValidateTags checks user-supplied tags: key 1–128 characters and value at
// most 256 from the allowed set, unique keys, and no key or value starting
// with the reserved "aws:" prefix (in any case). Every violation is an
// InvalidParameterException. The 50-tag limit is checked by the caller
// (CheckTagLimit), because its exception depends on the operation.
func ValidateTags(tags []wire.Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		k, v := wire.Val(t.Key), wire.Val(t.Value)
		if t.Key == nil || utf8.RuneCountInString(k) < 1 || utf8.RuneCountInString(k) > 128 || !tagRE.MatchString(k) {
			return Errorf(InvalidParameter, "Invalid tag key %q: a tag key must be 1-128 characters of letters, numbers, spaces and _.:/=+-@.", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagRE.MatchString(v) {
			return Errorf(InvalidParameter, "Invalid tag value for key %q: a tag value must be at most 256 characters of letters, numbers, spaces and _.:/=+-@.", k)
		}
		if reservedTag(k) || reservedTag(v) {
			return Errorf(InvalidParameter, "Tag keys and values beginning with 'aws:' are reserved and cannot be created, edited or deleted.")
		}
		if seen[k] {
			return Errorf(InvalidParameter, "Duplicate tag key %q.", k)
		}
		seen[k] = true
	}
	return nil
}

// MergeTags returns existing with add applied: same keys are overwritten,
// new keys appended in order.
func MergeTags(existing, add []wire.Tag) []wire.Tag {
	out := make([]wire.Tag, 0, len(existing)+len(add))
	idx := make(map[string]int, len(existing)+len(add))
	for _, t := range existing {
		idx[wire.Val(t.Key)] = len(out)
		out = append(out, t)
	}
	for _, t := range add {
		if i, ok := idx[wire.Val(t.Key)]; ok {
			out[i] = t
			continue
		}
		idx[wire.Val(t.Key)] = len(out)
		out = append(out, t)
	}
	return out
}

// UserTagCount counts the tags that count toward MaxTags (those not under
// the reserved aws: prefix).
func UserTagCount(tags []wire.Tag) int {
	n := 0
	for _, t := range tags {
		if !reservedTag(wire.Val(t.Key)) {
			n++
		}
	}
	return n
}

// CheckTagLimit returns an error with code if tags exceed MaxTags.
func CheckTagLimit(tags []wire.Tag, code Code) error {
	if UserTagCount(tags) > MaxTags {
		return Errorf(code, "The number of tags exceeds the limit of %d tags per resource.", MaxTags)
	}
	return nil
}

// RemoveTags returns tags without the given keys. A reserved key in keys is
// refused with InvalidParameterException.
func RemoveTags(tags []wire.Tag, keys []string) ([]wire.Tag, error) {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		if reservedTag(k) {
			return nil, Errorf(InvalidParameter, "Tag keys beginning with 'aws:' are reserved and cannot be deleted.")
		}
		drop[k] = true
	}
	out := make([]wire.Tag, 0, len(tags))
	for _, t := range tags {
		if !drop[wire.Val(t.Key)] {
			out = append(out, t)
		}
	}
	return out, nil
}

// TagsOrEmpty returns tags, or an empty non-nil list (ECS emits "tags": []).
func TagsOrEmpty(tags []wire.Tag) []wire.Tag {
	if tags == nil {
		return []wire.Tag{}
	}
	return tags
}
