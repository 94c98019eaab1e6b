package scheduler

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed cluster query language expression (spec §6.5), as used
// by memberOf constraints and ListContainerInstances' filter. The zero Expr
// matches every instance. An Expr is immutable and safe for concurrent use.
type Expr struct {
	root node
}

// ParseExpression parses a cluster query language expression. A malformed
// expression yields a *SyntaxError naming the problem and its position.
//
// The grammar is spec §6.5, with these [impl] readings:
//   - keywords (and, or, not, the word operators, subject names other than
//     attribute names) are case-insensitive; attribute names and values are
//     case-sensitive;
//   - a list may be written [a, b] or (a, b), and "not in" / "not exists"
//     are accepted as spellings of not_in / not_exists;
//   - a bare value ends at whitespace, ",", "]", "(", ")", "&&" or "||";
//     quoted values use ' or ", where a backslash escapes only the quote
//     character and itself (so regular expressions keep their \d);
//   - a single predicate may be wrapped in parentheses.
func ParseExpression(s string) (Expr, error) {
	p := &parser{src: s}
	root, err := p.parse()
	if err != nil {
		return Expr{}, err
	}
	return Expr{root: root}, nil
}

// Match reports whether the instance satisfies the expression.
func (e Expr) Match(c *Candidate) bool {
	if e.root == nil {
		return true
	}
	return e.root.eval(&view{c: c, running: c.RunningTasksCount})
}

// hasRegexp reports whether the expression uses =~ or !~.
func (e Expr) hasRegexp() bool {
	var walk func(n node) bool
	walk = func(n node) bool {
		switch n := n.(type) {
		case orNode:
			return slices.ContainsFunc(n, walk)
		case andNode:
			return slices.ContainsFunc(n, walk)
		case notNode:
			return walk(n.x)
		case *pred:
			return n.re != nil
		}
		return false
	}
	return e.root != nil && walk(e.root)
}

// IsZero reports whether e is the zero Expr (matches everything).
func (e Expr) IsZero() bool { return e.root == nil }

// String returns the expression in canonical form: word operators for
// logic (and, or, not(...)), symbolic comparison operators, lists in
// brackets, values quoted only when needed. Parsing the canonical form
// yields an equivalent Expr with the same canonical form.
func (e Expr) String() string {
	if e.root == nil {
		return ""
	}
	var b strings.Builder
	e.root.format(&b, precOr)
	return b.String()
}

// view is a candidate as an expression sees it during placement: the
// instance plus what the plan being built has already put on it.
type view struct {
	c          *Candidate
	running    int    // runningTasksCount including tasks this plan placed
	group      string // the group this plan places
	groupExtra int    // tasks of group this plan placed on the instance
	// memo caches regular expression results across the candidates of
	// one Place call: attribute values repeat (a few instance types over
	// thousands of instances), and finding one is cheaper than a match.
	// nil disables caching.
	memo *memo
}

// memo is a small cache of regular expression results: a short slice
// scanned linearly (few distinct values is the common case), promoted to a
// map when it grows.
type memo struct {
	small []memoEntry
	big   map[memoKey]bool
}

type memoKey struct {
	re *regexp.Regexp
	s  string
}

type memoEntry struct {
	memoKey
	m bool
}

const memoSmall = 16

// match reports whether re matches s, through the memo when there is one.
func (v *view) match(re *regexp.Regexp, s string) bool {
	mo := v.memo
	if mo == nil {
		return re.MatchString(s)
	}
	k := memoKey{re, s}
	if mo.big != nil {
		m, ok := mo.big[k]
		if !ok {
			m = re.MatchString(s)
			mo.big[k] = m
		}
		return m
	}
	for i := range mo.small {
		if e := &mo.small[i]; e.re == re && e.s == s {
			return e.m
		}
	}
	m := re.MatchString(s)
	mo.small = append(mo.small, memoEntry{k, m})
	if len(mo.small) > memoSmall {
		mo.big = make(map[memoKey]bool, 4*memoSmall)
		for _, e := range mo.small {
			mo.big[e.memoKey] = e.m
		}
	}
	return m
}

// groupCount returns the live tasks of group g on the instance.
func (v *view) groupCount(g string) int {
	n := v.c.TaskGroups[g]
	if g == v.group {
		n += v.groupExtra
	}
	return n
}

type node interface {
	eval(v *view) bool
	format(b *strings.Builder, prec int)
}

// Precedences for formatting: a node wraps itself in parentheses when
// printed where a higher precedence is required.
const (
	precOr = iota
	precAnd
	precUnary
)

type orNode []node
type andNode []node
type notNode struct{ x node }

func (n orNode) eval(v *view) bool {
	for _, t := range n {
		if t.eval(v) {
			return true
		}
	}
	return false
}

func (n andNode) eval(v *view) bool {
	for _, t := range n {
		if !t.eval(v) {
			return false
		}
	}
	return true
}

func (n notNode) eval(v *view) bool { return !n.x.eval(v) }

func (n orNode) format(b *strings.Builder, prec int) {
	formatList(b, []node(n), " or ", precOr, prec)
}

func (n andNode) format(b *strings.Builder, prec int) {
	formatList(b, []node(n), " and ", precAnd, prec)
}

func formatList(b *strings.Builder, terms []node, sep string, own, prec int) {
	if prec > own {
		b.WriteByte('(')
	}
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		t.format(b, own+1)
	}
	if prec > own {
		b.WriteByte(')')
	}
}

func (n notNode) format(b *strings.Builder, _ int) {
	b.WriteString("not(")
	n.x.format(b, precOr)
	b.WriteByte(')')
}

// subject is what a predicate tests.
type subject uint8

const (
	subjAttribute subject = iota
	subjAgentConnected
	subjAgentVersion
	subjEC2InstanceID
	subjRegisteredAt
	subjRunningTasksCount
	subjTaskGroup
)

// subjectCanonical is the canonical spelling of each subject keyword.
var subjectCanonical = [...]string{
	subjAttribute:         "attribute",
	subjAgentConnected:    "agentConnected",
	subjAgentVersion:      "agentVersion",
	subjEC2InstanceID:     "ec2InstanceId",
	subjRegisteredAt:      "registeredAt",
	subjRunningTasksCount: "runningTasksCount",
	subjTaskGroup:         "task:group",
}

func (s subject) String() string { return subjectCanonical[s] }

// lookupSubject resolves a subject keyword case-insensitively.
func lookupSubject(word string) (subject, bool) {
	for s, name := range subjectCanonical {
		if s != int(subjAttribute) && strings.EqualFold(word, name) {
			return subject(s), true
		}
	}
	return 0, false
}

// op is a comparison operator.
type op uint8

const (
	opEq op = iota
	opNe
	opGt
	opGe
	opLt
	opLe
	opIn
	opNotIn
	opMatches
	opNotMatches
	opExists
	opNotExists
)

// opSymbols is the canonical spelling of each operator.
var opSymbols = [...]string{
	opEq: "==", opNe: "!=", opGt: ">", opGe: ">=", opLt: "<", opLe: "<=",
	opIn: "in", opNotIn: "not_in", opMatches: "=~", opNotMatches: "!~",
	opExists: "exists", opNotExists: "not_exists",
}

func (o op) String() string { return opSymbols[o] }

// allowedOps is the subject/operator compatibility table (spec §6.5).
var allowedOps = map[subject][]op{
	subjAttribute:         {opEq, opNe, opGt, opGe, opLt, opLe, opIn, opNotIn, opMatches, opNotMatches, opExists, opNotExists},
	subjAgentConnected:    {opEq, opNe, opIn, opNotIn, opMatches, opNotMatches},
	subjEC2InstanceID:     {opEq, opNe, opIn, opNotIn, opMatches, opNotMatches},
	subjAgentVersion:      {opEq, opNe, opGt, opGe, opLt, opLe},
	subjRegisteredAt:      {opEq, opNe, opGt, opGe, opLt, opLe},
	subjRunningTasksCount: {opEq, opNe, opGt, opGe, opLt, opLe},
	subjTaskGroup:         {opEq, opNe, opIn, opNotIn},
}

// value is one literal of a predicate, pre-parsed for its subject.
type value struct {
	s     string
	num   float64 // attribute ordering: the literal as a number, if isNum
	isNum bool
	n     int       // runningTasksCount
	ver   []int     // agentVersion
	t     time.Time // registeredAt
}

// pred is one predicate: subject op value(s).
type pred struct {
	subj subject
	attr string // attribute name, for subjAttribute
	op   op
	vals []value
	re   *regexp.Regexp // matches / not_matches
}

func (p *pred) format(b *strings.Builder, _ int) {
	if p.subj == subjAttribute {
		b.WriteString(FieldAttributePrefix)
		b.WriteString(p.attr)
	} else {
		b.WriteString(p.subj.String())
	}
	b.WriteByte(' ')
	b.WriteString(p.op.String())
	switch p.op {
	case opExists, opNotExists:
	case opIn, opNotIn:
		b.WriteString(" [")
		for i, v := range p.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v.s)
		}
		b.WriteByte(']')
	default:
		b.WriteByte(' ')
		writeValue(b, p.vals[0].s)
	}
}

// writeValue writes a literal bare when the parser would read it back
// unchanged, else double-quoted with " and \ escaped.
func writeValue(b *strings.Builder, s string) {
	if bareSafe(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func bareSafe(s string) bool {
	if s == "" || s[0] == '\'' || s[0] == '"' || s[0] == '[' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) || bareStop(s, i) || s[i] == '\\' {
			return false
		}
	}
	return true
}

func (p *pred) eval(v *view) bool {
	switch p.subj {
	case subjAttribute:
		s, ok := v.c.Attributes[p.attr]
		return p.evalString(v, s, ok, false)
	case subjEC2InstanceID:
		return p.evalString(v, v.c.EC2InstanceID, v.c.EC2InstanceID != "", false)
	case subjAgentConnected:
		return p.evalString(v, strconv.FormatBool(v.c.AgentConnected), true, true)
	case subjRunningTasksCount:
		return p.evalOrdered(true, func(x value) int { return cmpInt(v.running, x.n) })
	case subjAgentVersion:
		ver, ok := parseVersion(v.c.AgentVersion, true)
		return p.evalOrdered(ok, func(x value) int { return cmpVersion(ver, x.ver) })
	case subjRegisteredAt:
		t := v.c.RegisteredAt
		return p.evalOrdered(!t.IsZero(), func(x value) int { return t.Compare(x.t) })
	case subjTaskGroup:
		has := func(x value) bool { return v.groupCount(x.s) > 0 }
		switch p.op {
		case opEq, opIn:
			return anyValue(p.vals, has)
		default: // opNe, opNotIn
			return !anyValue(p.vals, has)
		}
	}
	return false
}

// evalString applies p to a string subject. A missing subject (ok false)
// satisfies only not_exists: every comparison against it, negative ones
// included, is false (spec §6.5 [impl]). fold makes equality
// case-insensitive (agentConnected's true/false).
func (p *pred) evalString(v *view, s string, ok, fold bool) bool {
	switch p.op {
	case opExists:
		return ok
	case opNotExists:
		return !ok
	}
	if !ok {
		return false
	}
	eq := func(x value) bool {
		if fold {
			return strings.EqualFold(s, x.s)
		}
		return s == x.s
	}
	switch p.op {
	case opEq, opIn:
		return anyValue(p.vals, eq)
	case opNe, opNotIn:
		return !anyValue(p.vals, eq)
	case opMatches:
		return v.match(p.re, s)
	case opNotMatches:
		return !v.match(p.re, s)
	}
	// Ordering on an attribute: numerically when both sides are numbers,
	// else by byte-wise string order (spec Appendix A.16 [impl]).
	x := p.vals[0]
	var c int
	if f, err := strconv.ParseFloat(s, 64); err == nil && x.isNum {
		c = cmpFloat(f, x.num)
	} else {
		c = strings.Compare(s, x.s)
	}
	return ordered(p.op, c)
}

// evalOrdered applies p to a typed subject whose comparison with a literal
// is cmp; ok false means the subject is unknown, which satisfies nothing.
func (p *pred) evalOrdered(ok bool, cmp func(value) int) bool {
	if !ok {
		return false
	}
	return ordered(p.op, cmp(p.vals[0]))
}

func ordered(o op, c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	}
	return false
}

func anyValue(vals []value, f func(value) bool) bool {
	for _, v := range vals {
		if f(v) {
			return true
		}
	}
	return false
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseVersion reads a dotted version ("1.14.0", optionally "v1.14.0").
// With prefix set it accepts trailing text after the numeric part
// ("1.14.0-dev" reads as 1.14.0), as agents may report.
func parseVersion(s string, prefix bool) ([]int, bool) {
	s = strings.TrimPrefix(s, "v")
	var out []int
	for i := 0; ; {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j-i > 9 {
			return nil, false
		}
		n, _ := strconv.Atoi(s[i:j])
		out = append(out, n)
		if j == len(s) {
			return out, true
		}
		if s[j] != '.' || j+1 == len(s) || s[j+1] < '0' || s[j+1] > '9' {
			return out, prefix
		}
		i = j + 1
	}
}

// cmpVersion compares dotted versions component-wise; missing components
// count as 0 (1.2 == 1.2.0).
func cmpVersion(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpInt(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// registeredAtLayouts are the accepted registeredAt formats (spec §6.5):
// with an offset or Z, without a zone (UTC), or a date (midnight UTC).
var registeredAtLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseRegisteredAt(s string) (time.Time, bool) {
	for _, l := range registeredAtLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
