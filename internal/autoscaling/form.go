package autoscaling

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// form is a decoded Query-protocol request body: every parameter by its
// flattened name (AutoScalingGroupNames.member.1, Tags.member.2.Key,
// LaunchTemplate.Version, ...). Readers record model-validation failures in
// errs instead of returning them, so that one response lists them all, as
// AWS's "N validation errors detected" messages do.
type form struct {
	v    map[string]string
	errs []string
}

// maxParams bounds the number of parameters in one request; no operation
// of this subset needs more than a few hundred.
const maxParams = 2000

// parseForm decodes an application/x-www-form-urlencoded body. Repeated
// parameters keep their first value.
func parseForm(body string) (*form, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, Errorf(MalformedQueryString, "The request body is not a valid form-encoded query string.")
	}
	if len(vals) > maxParams {
		return nil, Errorf(ValidationError, "The request has more than %d parameters.", maxParams)
	}
	f := &form{v: make(map[string]string, len(vals))}
	for k, vs := range vals {
		if len(vs) > 0 {
			f.v[k] = vs[0]
		}
	}
	return f, nil
}

// err returns the collected validation errors as one ValidationError, or nil.
func (f *form) err() error {
	switch n := len(f.errs); n {
	case 0:
		return nil
	case 1:
		return Errorf(ValidationError, "1 validation error detected: %s", f.errs[0])
	default:
		return Errorf(ValidationError, "%d validation errors detected: %s", n, strings.Join(f.errs, "; "))
	}
}

func (f *form) fail(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// member is the name AWS uses in validation messages: the parameter path
// with each segment in lower camel case and list indexes kept.
func member(name string) string {
	parts := strings.Split(name, ".")
	out := parts[:0]
	for _, p := range parts {
		if p == "member" {
			continue
		}
		if p != "" {
			p = strings.ToLower(p[:1]) + p[1:]
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

// str is a string constraint from the model: length bounds and a pattern.
type str struct {
	min, max int
	re       *regexp.Regexp // nil: the model's XmlString character class
}

// The string shapes of the model this subset reads.
var (
	xmlString   = str{min: 0, max: 1 << 20}
	xmlLen19    = str{min: 1, max: 19}
	xmlLen32    = str{min: 1, max: 32}
	xmlLen255   = str{min: 1, max: 255}
	xmlLen511   = str{min: 1, max: 511}
	xmlLen1600  = str{min: 1, max: 1600}
	xmlLen5000  = str{min: 1, max: 5000}
	tagKey      = str{min: 1, max: 128}
	tagValue    = str{min: 0, max: 256}
	ltName      = str{min: 3, max: 128, re: regexp.MustCompile(`^[a-zA-Z0-9().\-/_]+$`)}
	placementGr = str{min: 0, max: 255}
)

// xmlChar reports whether r is in the model's XmlString class
// [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t].
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

func (c str) check(s string) string {
	if !utf8.ValidString(s) {
		return "Member must contain valid UTF-8"
	}
	n := utf8.RuneCountInString(s)
	if n < c.min {
		return fmt.Sprintf("Member must have length greater than or equal to %d", c.min)
	}
	if n > c.max {
		return fmt.Sprintf("Member must have length less than or equal to %d", c.max)
	}
	if c.re != nil {
		if !c.re.MatchString(s) {
			return "Member must satisfy regular expression pattern: " + strings.Trim(c.re.String(), "^$")
		}
		return ""
	}
	for _, r := range s {
		if !xmlChar(r) {
			return "Member must satisfy regular expression pattern: [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"
		}
	}
	return ""
}

// quote shortens a value for an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// String reads an optional string member (nil when absent).
func (f *form) String(name string, c str) *string {
	s, ok := f.v[name]
	if !ok {
		return nil
	}
	if msg := c.check(s); msg != "" {
		f.fail("Value %s at '%s' failed to satisfy constraint: %s", quote(s), member(name), msg)
		return nil
	}
	return &s
}

// RequiredString reads a required string member.
func (f *form) RequiredString(name string, c str) string {
	if _, ok := f.v[name]; !ok {
		f.fail("Value null at '%s' failed to satisfy constraint: Member must not be null", member(name))
		return ""
	}
	if p := f.String(name, c); p != nil {
		return *p
	}
	return ""
}

// Int reads an optional int32 member with bounds (inclusive).
func (f *form) Int(name string, lo, hi int64) *int32 {
	s, ok := f.v[name]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		f.fail("Value %s at '%s' failed to satisfy constraint: Member must be an integer", quote(s), member(name))
		return nil
	}
	if n < lo {
		f.fail("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, member(name), lo)
		return nil
	}
	if n > hi {
		f.fail("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, member(name), hi)
		return nil
	}
	v := int32(n)
	return &v
}

// RequiredInt reads a required int32 member.
func (f *form) RequiredInt(name string, lo, hi int64) int32 {
	if _, ok := f.v[name]; !ok {
		f.fail("Value null at '%s' failed to satisfy constraint: Member must not be null", member(name))
		return 0
	}
	if p := f.Int(name, lo, hi); p != nil {
		return *p
	}
	return 0
}

// Bool reads an optional boolean member ("true" or "false").
func (f *form) Bool(name string) *bool {
	s, ok := f.v[name]
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		t := true
		return &t
	case "false":
		b := false
		return &b
	}
	f.fail("Value %s at '%s' failed to satisfy constraint: Member must be a boolean", quote(s), member(name))
	return nil
}

// RequiredBool reads a required boolean member.
func (f *form) RequiredBool(name string) bool {
	if _, ok := f.v[name]; !ok {
		f.fail("Value null at '%s' failed to satisfy constraint: Member must not be null", member(name))
		return false
	}
	if p := f.Bool(name); p != nil {
		return *p
	}
	return false
}

// maxListLen bounds any list member, whatever the model says.
const maxListLen = 1000

// indexes returns the sorted list indexes N present as name.member.N or
// name.member.N.<sub>. An empty list (the SDKs send "name=") gives none.
func (f *form) indexes(name string) []int {
	prefix := name + ".member."
	seen := map[int]bool{}
	var out []int
	for k := range f.v {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 || n > maxListLen || strconv.Itoa(n) != idx {
			f.fail("Value %s at '%s' failed to satisfy constraint: list index must be an integer between 1 and %d", quote(idx), member(name), maxListLen)
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// Strings reads a list of strings; nil when absent.
func (f *form) Strings(name string, c str, maxLen int) []string {
	idx := f.indexes(name)
	if len(idx) > maxLen {
		f.fail("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member(name), maxLen)
		return nil
	}
	var out []string
	for _, n := range idx {
		if p := f.String(name+".member."+strconv.Itoa(n), c); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// Has reports whether any parameter of the member (itself or a nested
// one) is present.
func (f *form) Has(name string) bool {
	if _, ok := f.v[name]; ok {
		return true
	}
	for k := range f.v {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}
