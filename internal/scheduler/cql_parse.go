package scheduler

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of parentheses and negations, so that a
// hostile filter cannot exhaust the stack.
const maxDepth = 100

// parser is a recursive-descent parser over the bytes of one expression:
//
//	expr    := and { ("||" | "or") and }
//	and     := unary { ("&&" | "and") unary }
//	unary   := ("!" | "not") unary | "(" expr ")" | predicate
//	predicate := subject op1 value | subject inop list | subject existsop
//
// Tokens are recognised in context (a value may contain "=" or "!"), so
// there is no separate lexer.
type parser struct {
	src   string
	pos   int
	depth int
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (node, error) {
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, p.errorf(0, "empty expression")
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		if p.src[p.pos] == ')' {
			return nil, p.errorf(p.pos, "unexpected \")\" without a matching \"(\"")
		}
		return nil, p.errorf(p.pos, "unexpected %s; expected \"and\", \"or\" or the end of the expression", p.describe())
	}
	return n, nil
}

func (p *parser) parseOr() (node, error) {
	var terms orNode
	for {
		t, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if or, ok := t.(orNode); ok {
			terms = append(terms, or...)
		} else {
			terms = append(terms, t)
		}
		p.skipSpace()
		if !p.consumeSymbol("||") && !p.consumeKeyword("or") {
			break
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (p *parser) parseAnd() (node, error) {
	var terms andNode
	for {
		t, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if and, ok := t.(andNode); ok {
			terms = append(terms, and...)
		} else {
			terms = append(terms, t)
		}
		p.skipSpace()
		if !p.consumeSymbol("&&") && !p.consumeKeyword("and") {
			break
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (p *parser) parseUnary() (node, error) {
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, p.errorf(p.pos, "unexpected end of expression; expected a predicate, \"(\" or \"not\"")
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.pos, "expression nested more than %d levels deep", maxDepth)
	}
	switch {
	case p.src[p.pos] == '!':
		p.pos++
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case p.consumeKeyword("not"):
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case p.src[p.pos] == '(':
		open := p.pos
		p.pos++
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos == len(p.src) || p.src[p.pos] != ')' {
			if p.pos == len(p.src) {
				return nil, p.errorf(p.pos, "missing \")\" to close the \"(\" at column %d", open+1)
			}
			return nil, p.errorf(p.pos, "unexpected %s; expected \")\" to close the \"(\" at column %d", p.describe(), open+1)
		}
		p.pos++
		return x, nil
	}
	return p.parsePredicate()
}

func (p *parser) parsePredicate() (node, error) {
	start := p.pos
	word := p.scanWhile(isIdentByte)
	if word == "" {
		return nil, p.errorf(start, "unexpected %s; expected a subject (attribute:<name>, agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount or task:group)", p.describe())
	}
	pr := &pred{}
	if len(word) >= len(FieldAttributePrefix) && strings.EqualFold(word[:len(FieldAttributePrefix)], FieldAttributePrefix) {
		pr.subj = subjAttribute
		pr.attr = word[len(FieldAttributePrefix):]
		if pr.attr == "" {
			return nil, p.errorf(start+len(word), "missing attribute name after %q", word)
		}
	} else if s, ok := lookupSubject(word); ok {
		pr.subj = s
	} else {
		return nil, p.errorf(start, "unknown subject %q; expected attribute:<name>, agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount or task:group", word)
	}
	subjectText := word

	p.skipSpace()
	opStart := p.pos
	o, opText, err := p.parseOp(subjectText)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(allowedOps[pr.subj], o) {
		return nil, p.errorf(opStart, "operator %q is not valid for subject %s", opText, pr.subj)
	}
	pr.op = o

	switch o {
	case opExists, opNotExists:
		return pr, nil
	case opIn, opNotIn:
		if err := p.parseList(pr, opText); err != nil {
			return nil, err
		}
	default:
		v, off, err := p.parseValue(opText)
		if err != nil {
			return nil, err
		}
		if err := p.prepare(pr, v, off); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// opWords maps the lower-cased word spellings of operators.
var opWords = map[string]op{
	"equals": opEq, "not_equals": opNe,
	"greater_than": opGt, "greater_than_equal": opGe,
	"less_than": opLt, "less_than_equal": opLe,
	"in": opIn, "not_in": opNotIn,
	"matches": opMatches, "not_matches": opNotMatches,
	"exists": opExists, "not_exists": opNotExists,
}

// parseOp reads an operator and returns it with its source text.
func (p *parser) parseOp(subjectText string) (op, string, error) {
	start := p.pos
	if p.pos == len(p.src) {
		return 0, "", p.errorf(p.pos, "unexpected end of expression; expected an operator after %q", subjectText)
	}
	rest := p.src[p.pos:]
	for _, s := range []struct {
		text string
		op   op
	}{{"==", opEq}, {"!=", opNe}, {">=", opGe}, {"<=", opLe}, {"=~", opMatches}, {"!~", opNotMatches}, {">", opGt}, {"<", opLt}} {
		if strings.HasPrefix(rest, s.text) {
			p.pos += len(s.text)
			return s.op, s.text, nil
		}
	}
	if rest[0] == '!' {
		p.pos++
		w := p.scanWhile(isWordByte)
		switch {
		case strings.EqualFold(w, "in"):
			return opNotIn, p.src[start:p.pos], nil
		case strings.EqualFold(w, "exists"):
			return opNotExists, p.src[start:p.pos], nil
		}
		p.pos = start
		return 0, "", p.errorf(start, "unknown operator %q after %q", p.token(), subjectText)
	}
	w := p.scanWhile(isWordByte)
	if w != "" && !p.atIdentEnd() {
		p.pos = start
		w = ""
	}
	lw := strings.ToLower(w)
	if o, ok := opWords[lw]; ok {
		return o, w, nil
	}
	if lw == "not" {
		// "not in" / "not exists": spellings of not_in / not_exists.
		p.skipSpace()
		w2start := p.pos
		w2 := p.scanWhile(isWordByte)
		if p.atIdentEnd() {
			switch strings.ToLower(w2) {
			case "in":
				return opNotIn, p.src[start:p.pos], nil
			case "exists":
				return opNotExists, p.src[start:p.pos], nil
			}
		}
		p.pos = w2start
		return 0, "", p.errorf(w2start, "unexpected %s after \"not\"; expected \"in\" or \"exists\"", p.describe())
	}
	p.pos = start
	tok := p.token()
	if tok == "=" {
		return 0, "", p.errorf(start, "unknown operator \"=\"; use \"==\" to compare")
	}
	return 0, "", p.errorf(start, "unknown operator %q after %q", tok, subjectText)
}

// parseList reads "[v, ...]" or "(v, ...)" into pr.
func (p *parser) parseList(pr *pred, opText string) error {
	p.skipSpace()
	if p.pos == len(p.src) || (p.src[p.pos] != '[' && p.src[p.pos] != '(') {
		return p.errorf(p.pos, "expected \"[\" to start the list after %q, found %s", opText, p.describe())
	}
	open := p.pos
	closer := byte(']')
	if p.src[p.pos] == '(' {
		closer = ')'
	}
	p.pos++
	for {
		v, off, err := p.parseValue(opText)
		if err != nil {
			return err
		}
		if err := p.prepare(pr, v, off); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos == len(p.src) {
			return p.errorf(p.pos, "missing %q to close the list at column %d", string(closer), open+1)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			continue
		case closer:
			p.pos++
			return nil
		}
		return p.errorf(p.pos, "unexpected %s in list; expected \",\" or %q", p.describe(), string(closer))
	}
}

// parseValue reads one literal (bare or quoted) and returns it with its
// offset.
func (p *parser) parseValue(after string) (string, int, error) {
	p.skipSpace()
	start := p.pos
	if p.pos == len(p.src) {
		return "", start, p.errorf(start, "unexpected end of expression; expected a value after %q", after)
	}
	c := p.src[p.pos]
	if c == '\'' || c == '"' {
		var b strings.Builder
		for i := p.pos + 1; i < len(p.src); i++ {
			switch ch := p.src[i]; {
			case ch == c:
				p.pos = i + 1
				return b.String(), start, nil
			case ch == '\\' && i+1 < len(p.src) && (p.src[i+1] == c || p.src[i+1] == '\\'):
				b.WriteByte(p.src[i+1])
				i++
			default:
				b.WriteByte(ch)
			}
		}
		return "", start, p.errorf(start, "unterminated quoted value starting at column %d", start+1)
	}
	i := p.pos
	for i < len(p.src) && !isSpace(p.src[i]) && !bareStop(p.src, i) {
		i++
	}
	if i == p.pos || c == '[' {
		return "", start, p.errorf(start, "unexpected %s; expected a value after %q", p.describe(), after)
	}
	p.pos = i
	return p.src[start:i], start, nil
}

// bareStop reports whether a bare value ends at s[i] (whitespace aside).
func bareStop(s string, i int) bool {
	switch s[i] {
	case ',', ']', '(', ')':
		return true
	case '&', '|':
		return i+1 < len(s) && s[i+1] == s[i]
	}
	return false
}

// prepare validates a literal for pr's subject and operator and appends
// it, pre-parsed, to pr.vals.
func (p *parser) prepare(pr *pred, s string, off int) error {
	v := value{s: s}
	switch pr.op {
	case opMatches, opNotMatches:
		re, err := regexp.Compile(`^(?:` + s + `)$`)
		if err != nil {
			return p.errorf(off, "invalid regular expression %q: %v", s, regexpReason(err))
		}
		pr.re = re
		pr.vals = append(pr.vals, v)
		return nil
	}
	switch pr.subj {
	case subjAttribute:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			v.num, v.isNum = f, true
		}
	case subjAgentConnected:
		if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			return p.errorf(off, "agentConnected value %q is not true or false", s)
		}
	case subjRunningTasksCount:
		n, err := strconv.Atoi(s)
		if err != nil {
			return p.errorf(off, "runningTasksCount value %q is not an integer", s)
		}
		v.n = n
	case subjAgentVersion:
		ver, ok := parseVersion(s, false)
		if !ok {
			return p.errorf(off, "agentVersion value %q is not a version such as 1.14.0", s)
		}
		v.ver = ver
	case subjRegisteredAt:
		t, ok := parseRegisteredAt(s)
		if !ok {
			return p.errorf(off, "registeredAt value %q is not a date such as 2018-06-18, 2018-06-18T22:28:28, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00", s)
		}
		v.t = t
	}
	pr.vals = append(pr.vals, v)
	return nil
}

// regexpReason strips the pattern regexp repeats in its errors.
func regexpReason(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return err.Error()
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) scanWhile(f func(byte) bool) string {
	start := p.pos
	for p.pos < len(p.src) && f(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// consumeSymbol consumes s at the current position.
func (p *parser) consumeSymbol(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

// consumeKeyword consumes the word kw (case-insensitively) when it stands
// alone: not followed by another identifier byte.
func (p *parser) consumeKeyword(kw string) bool {
	end := p.pos + len(kw)
	if end > len(p.src) || !strings.EqualFold(p.src[p.pos:end], kw) {
		return false
	}
	if end < len(p.src) && isIdentByte(p.src[end]) {
		return false
	}
	p.pos = end
	return true
}

// atIdentEnd reports whether the current position ends an identifier.
func (p *parser) atIdentEnd() bool {
	return p.pos == len(p.src) || !isIdentByte(p.src[p.pos])
}

// token returns the text from the current position to the next space or
// delimiter (at least one byte, at most 32), for error messages.
func (p *parser) token() string {
	i := p.pos
	for i < len(p.src) && !isSpace(p.src[i]) && i-p.pos < 32 && (i == p.pos || !strings.ContainsRune(",[]()", rune(p.src[i]))) {
		i++
	}
	return p.src[p.pos:i]
}

// describe names what is at the current position, for error messages.
func (p *parser) describe() string {
	if p.pos == len(p.src) {
		return "end of expression"
	}
	return strconv.Quote(p.token())
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isIdentByte reports whether c may appear in a subject: letters, digits
// and the punctuation of attribute names ([A-Za-z0-9-_/.], spec §6.6)
// plus the colon of attribute: and task:group.
func isIdentByte(c byte) bool {
	return isWordByte(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '/' || c == ':'
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
