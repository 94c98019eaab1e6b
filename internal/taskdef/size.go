package taskdef

import (
	"strconv"
	"strings"
)

// Limits of a task definition [doc: Amazon ECS service quotas].
const (
	// MaxContainers is the number of container definitions a task
	// definition may hold.
	MaxContainers = 10
	// MaxDefinitionSize is the largest accepted task definition, in bytes
	// of its JSON encoding [doc: 64 KiB; aws: "Max allowed length is
	// '65536' bytes."]. Which bytes ECS counts is not documented; Berth
	// counts the request's JSON encoding without its tags [impl].
	MaxDefinitionSize = 65536
	// MinTaskCPU and MaxTaskCPU bound task-level cpu (CPU units) on every
	// launch type: 0.125 to 192 vCPU [doc].
	MinTaskCPU = 128
	MaxTaskCPU = 196608
	// MaxTaskMemory bounds task-level memory (MiB) so that it fits the
	// int32 container fields it is compared with [impl].
	MaxTaskMemory = 1<<31 - 1
)

// Unit scales for ParseCPU and ParseMemory.
const (
	unitsPerVCPU = 1024
	mibPerGB     = 1024
)

// ParseCPU converts a task-level cpu string to CPU units. ECS accepts an
// integer number of units ("1024") or a number of vCPUs followed by "vcpu"
// in any letter case, with or without a space ("1 vCPU", ".25 vcpu",
// "0.5vCPU"). The vCPU form must come to a whole number of units. ok is
// false for anything else, including values outside MinTaskCPU–MaxTaskCPU.
func ParseCPU(s string) (units int, ok bool) {
	s = strings.TrimSpace(s)
	scale := 1
	if n := len(s) - len("vcpu"); n >= 0 && strings.EqualFold(s[n:], "vcpu") {
		s, scale = strings.TrimSpace(s[:n]), unitsPerVCPU
	}
	v, ok := parseScaled(s, scale)
	if !ok || v < MinTaskCPU || v > MaxTaskCPU {
		return 0, false
	}
	return v, true
}

// ParseMemory converts a task-level memory string to MiB. ECS accepts an
// integer number of MiB ("2048") or a number of GB followed by "GB" in any
// letter case, with or without a space ("2 GB", "0.5GB"). The GB form must
// come to a whole number of MiB. ok is false for anything else, including
// zero and values above MaxTaskMemory.
func ParseMemory(s string) (mib int, ok bool) {
	s = strings.TrimSpace(s)
	scale := 1
	if n := len(s) - len("gb"); n >= 0 && strings.EqualFold(s[n:], "gb") {
		s, scale = strings.TrimSpace(s[:n]), mibPerGB
	}
	v, ok := parseScaled(s, scale)
	if !ok || v < 1 || v > MaxTaskMemory {
		return 0, false
	}
	return v, true
}

// parseScaled reads an unsigned decimal ("12", "0.25", ".5", "2.") and
// returns it multiplied by scale, which must come out whole. At most ten
// digits before the point and five after it are allowed, so no step can
// overflow.
func parseScaled(s string, scale int) (int, bool) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(whole) > 10 || len(frac) > 5 {
		return 0, false
	}
	if hasPoint && scale == 1 {
		return 0, false // integer forms take no decimal point
	}
	digits := whole + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	den := int64(1)
	for range len(frac) {
		den *= 10
	}
	num := n * int64(scale)
	if num%den != 0 {
		return 0, false
	}
	return int(num / den), true
}
