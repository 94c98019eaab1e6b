package ecs

import (
	"strings"
	"testing"
)

func TestParseARN(t *testing.T) {
	cases := []string{
		"arn:aws:ecs:us-east-1:123456789012:task/c/0123",
		"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
		"arn:aws:ecs:us-east-1:123456789012:",
		"arn:aws:ecs:us-east-1:123456789012",
		"arn:aws:ecs",
		"arn:",
		"arn::::::",
		"nope:aws:ecs:r:a:x",
		"",
	}
	for _, s := range cases {
		got, ok := ParseARN(s)
		// The reference: the first five colons delimit the fields.
		parts := strings.SplitN(s, ":", 6)
		wantOK := strings.HasPrefix(s, "arn:") && len(parts) == 6
		if ok != wantOK {
			t.Errorf("ParseARN(%q) ok = %v, want %v", s, ok, wantOK)
			continue
		}
		if ok {
			want := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
			if got != want {
				t.Errorf("ParseARN(%q) = %+v, want %+v", s, got, want)
			}
		}
	}
}
