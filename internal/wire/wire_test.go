package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestTime_RoundTrip: every millisecond timestamp survives encode/decode
// exactly, however many times (no drift from float fractions).
func TestTime_RoundTrip(t *testing.T) {
	base := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	for ms := 0; ms < 5000; ms += 7 {
		want := base.Add(time.Duration(ms) * time.Millisecond)
		got := Time{want}
		for i := 0; i < 3; i++ {
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var back Time
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			got = back
		}
		if !got.Equal(want) {
			t.Fatalf("%v came back as %v", want, got.Time)
		}
	}
}

func TestTime_Unmarshal(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		want int64 // unix ms
	}{
		{`1709242525.051`, true, 1709242525051},
		{`1709242525`, true, 1709242525000},
		{`"2024-02-29T21:35:25.051Z"`, true, 1709242525051},
		{`null`, true, 0},
		{`"soon"`, false, 0},
		{`1e400`, false, 0},
		{`true`, false, 0},
	}
	for _, c := range cases {
		var tm Time
		err := json.Unmarshal([]byte(c.in), &tm)
		if (err == nil) != c.ok {
			t.Fatalf("%s: err %v", c.in, err)
		}
		if c.ok && c.in != "null" && tm.UnixMilli() != c.want {
			t.Fatalf("%s: got %d", c.in, tm.UnixMilli())
		}
	}
}

// TestValidate covers the generated model checks and AWS's message format.
func TestValidate(t *testing.T) {
	cases := []struct {
		name, op, body string
		want           string // substring of the error; "" = valid
	}{
		{"OK", "RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"name":"c"}]}`, ""},
		{"ErrRequired", "RegisterTaskDefinition", `{"family":"f"}`, "1 validation error detected: Value null at 'containerDefinitions' failed to satisfy constraint: Member must not be null"},
		{"ErrEnum", "DescribeClusters", `{"include":["NOPE"]}`, "Value 'NOPE' at 'include.1.member' failed to satisfy constraint: Member must satisfy enum value set: [ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS]"},
		{"ErrMaxLen", "TagResource", `{"resourceArn":"a","tags":[{"key":"` + strings.Repeat("k", 129) + `"}]}`, "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"ErrPattern", "TagResource", `{"resourceArn":"a","tags":[{"key":"a#b"}]}`, "Member must satisfy regular expression pattern"},
		{"ErrRange", "PutClusterCapacityProviders", `{"cluster":"c","capacityProviders":[],"defaultCapacityProviderStrategy":[{"capacityProvider":"x","weight":1001}]}`, "Member must have value less than or equal to 1000"},
		{"ErrListMax", "TagResource", `{"resourceArn":"a","tags":[` + strings.Repeat(`{"key":"k"},`, 50) + `{"key":"k"}]}`, "Member must have length less than or equal to 50"},
		{"ErrSeveral", "PutClusterCapacityProviders", `{}`, "3 validation errors detected"},
	}
	ops := map[string]Operation{}
	for _, op := range Operations() {
		ops[op.Name] = op
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ops[c.op].NewInput()
			if err := json.Unmarshal([]byte(c.body), in); err != nil {
				t.Fatal(err)
			}
			err := in.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if n := len(Operations()); n != 77 {
		t.Fatalf("%d operations, want the model's 77", n)
	}
}
