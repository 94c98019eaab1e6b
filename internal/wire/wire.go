// Package wire holds the ECS JSON 1.1 wire shapes: one Go type per shape of
// the ECS service model (generated into *_gen.go by ./gen from the botocore
// model on the machine), model-constraint validation of request shapes, and
// the operation table.
//
// Conventions of the generated types:
//   - scalar and structure members are pointers; nil means "absent" and is
//     omitted on output (`omitzero`);
//   - lists and maps are values; a nil list is omitted, an empty non-nil
//     list is emitted as [] (ECS emits some empty lists, e.g. failures);
//   - timestamps are Time, written as epoch seconds (a JSON number).
//
// Regenerate with `go generate ./internal/wire` after a model change.
package wire

//go:generate sh -c "go run ./gen -model \"$(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data/ecs/2014-11-13/service-2.json.gz\""

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Input is a request shape: it can check itself against the model.
type Input interface {
	Validate() error
}

// Operation describes one operation of the model.
type Operation struct {
	Name     string       // e.g. "CreateCluster"
	Input    string       // input shape name ("struct{}" when none)
	Output   string       // output shape name ("struct{}" when none)
	Errors   []string     // modelled exception shape names
	NewInput func() Input // a new zero input value; nil when the model has none
}

// Time is a model timestamp. On the wire it is epoch seconds as a JSON
// number with millisecond precision (ECS emits e.g. 1709242525.051).
type Time struct{ time.Time }

// NewTime returns t as a wire timestamp pointer.
func NewTime(t time.Time) *Time { return &Time{t} }

// MarshalJSON writes epoch seconds.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (integer or fractional). For leniency it
// also accepts a quoted number or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		s = strings.Trim(s, `"`)
		if tt, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t.Time = tt
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return fmt.Errorf("wire: invalid timestamp %.40q", s)
	}
	// Round to the millisecond: the wire carries milliseconds, and a float's
	// fraction (0.55 is 0.54999…) must not lose one on every round trip.
	t.Time = time.UnixMilli(int64(math.Round(f * 1e3))).UTC()
	return nil
}

// Ptr returns a pointer to v; a helper for building optional members.
func Ptr[T any](v T) *T { return &v }

// Val returns *p, or the zero value when p is nil.
func Val[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

// ValidationError reports model-constraint violations in a request, in the
// wording of AWS's validation messages. The API maps it to
// InvalidParameterException.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	n := len(e.Problems)
	noun := "error"
	if n != 1 {
		noun = "errors"
	}
	return fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(e.Problems, "; "))
}

// errList collects problems found by the generated validate methods.
type errList struct {
	problems []string
}

func newErrList() *errList { return &errList{} }

func (e *errList) err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: e.problems}
}

const maxProblems = 10

func (e *errList) add(format string, args ...any) {
	if len(e.problems) < maxProblems {
		e.problems = append(e.problems, fmt.Sprintf(format, args...))
	}
}

func (e *errList) field(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

func (e *errList) index(p string, i int) string { return p + "." + strconv.Itoa(i+1) + ".member" }

func (e *errList) key(p, k string) string { return p + "." + k }

func quote(v string) string {
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return "'" + v + "'"
}

func (e *errList) required(p string) {
	e.add("Value null at '%s' failed to satisfy constraint: Member must not be null", p)
}

// checkEnum reports v unless it is one of the model's values.
func checkEnum[T ~string](e *errList, p string, v T, values []T) {
	vs := make([]string, 0, len(values))
	for _, x := range values {
		if x == v {
			return
		}
		vs = append(vs, string(x))
	}
	e.add("Value %s at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", quote(string(v)), p, strings.Join(vs, ", "))
}

func (e *errList) minLen(p, v string, n int) {
	e.add("Value %s at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", quote(v), p, n)
}

func (e *errList) maxLen(p, v string, n int) {
	e.add("Value %s at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", quote(v), p, n)
}

func (e *errList) pattern(p, v, pat string) {
	e.add("Value %s at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", quote(v), p, pat)
}

func (e *errList) minVal(p string, v, n float64) {
	e.add("Value '%v' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %v", v, p, n)
}

func (e *errList) maxVal(p string, v, n float64) {
	e.add("Value '%v' at '%s' failed to satisfy constraint: Member must have value less than or equal to %v", v, p, n)
}

func (e *errList) minItems(p string, n int) {
	e.add("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", p, n)
}

func (e *errList) maxItems(p string, n int) {
	e.add("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", p, n)
}
