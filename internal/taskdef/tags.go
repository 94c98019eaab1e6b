package taskdef

import (
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// ValidateTags checks the tags of a RegisterTaskDefinition request: at most
// ecs.MaxTags, keys 1–128 and values at most 256 characters of the allowed
// set, unique keys, no reserved "aws:" prefix in any letter case. Every
// violation is an InvalidParameterException [spec §10.4].
//
// The per-tag rules are shared by every taggable resource and live in
// package ecs (ecs.ValidateTags); this function adds the count limit with
// the exception RegisterTaskDefinition uses, and its messages are those of
// package ecs.
func ValidateTags(tags []wire.Tag) error {
	if err := ecs.CheckTagLimit(tags, ecs.InvalidParameter); err != nil {
		return err
	}
	return ecs.ValidateTags(tags)
}
