package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The runtime of the generated DecodeJSON methods (decode_gen.go): a JSON
// reader over a []byte that decodes the model's shapes without reflection.
//
// The contract is exact equivalence with encoding/json: for any input,
// DecodeJSON into a zero value leaves the value reflect.DeepEqual to what
// json.Unmarshal leaves and returns the same error. The reader decodes only
// what it is sure to decode as encoding/json does (strict JSON syntax,
// matching types, numbers in range, valid UTF-8, simple escapes, members
// matched by their exact name, no repeated composite member); on anything
// else it reports fallback, and DecodeJSON starts over with json.Unmarshal.
// Errors therefore always come from encoding/json itself, so the API's
// SerializationException messages do not depend on which path decoded.

// fallback is the one error of the fast path: the input needs
// encoding/json (it is invalid, or something the reader does not decode
// exactly as encoding/json does). It carries no state.
type fallback struct{}

func (fallback) Error() string { return "wire: input needs encoding/json" }

// maxDepth bounds nesting on the fast path (encoding/json allows 10000;
// deeper inputs fall back to it).
const maxDepth = 1000

// Decoder reads JSON values from a byte slice for the generated DecodeJSON
// and DecodeJSONField methods and for wrapper types that embed a model
// structure (their own DecodeJSON-like methods decode their extra members
// and pass the others to the embedded type's DecodeJSONField).
//
// Every method that fails returns an error meaning only "fall back": the
// caller discards its partial value and decodes the whole input again with
// json.Unmarshal, which reports the real error (if any).
type Decoder struct {
	b     []byte
	i     int
	depth int
	// open is set just after '{' or '[' (the next token may close it
	// without a separator) and cleared once a member or element starts.
	open bool
}

// NewDecoder returns a decoder reading b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Fallback returns the error wrapper types use for input they do not
// decode exactly as encoding/json does.
func (d *Decoder) Fallback() error { return fallback{} }

// ws skips JSON whitespace.
func (d *Decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end of input.
func (d *Decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// End checks that only whitespace follows the top-level value.
func (d *Decoder) End() error {
	d.ws()
	if d.i != len(d.b) {
		return fallback{}
	}
	return nil
}

// Null consumes a null literal and reports true if one is next.
func (d *Decoder) Null() bool {
	if d.peek() == 'n' && len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// literal consumes the literal word if it is next.
func (d *Decoder) literal(word string) error {
	if len(d.b)-d.i >= len(word) && string(d.b[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return nil
	}
	return fallback{}
}

// Object starts an object. It reports false after consuming null (whose
// decoding leaves a struct as it is); anything but an object or null
// fails.
func (d *Decoder) Object() (bool, error) {
	if d.Null() {
		return false, nil
	}
	if d.peek() != '{' {
		return false, fallback{}
	}
	d.i++
	d.depth++
	if d.depth > maxDepth {
		return false, fallback{}
	}
	d.open = true
	return true, nil
}

// Key reads the next member's key and colon; it reports false at the end of
// the object. The key aliases the input. A key with escapes or invalid
// UTF-8 fails (encoding/json would unescape or repair it first).
func (d *Decoder) Key() ([]byte, bool, error) {
	if more, err := d.nextMember(); !more || err != nil {
		return nil, false, err
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			key := d.b[start:j]
			if !ascii && !utf8.Valid(key) {
				return nil, false, fallback{}
			}
			d.i = j + 1
			if d.peek() != ':' {
				return nil, false, fallback{}
			}
			d.i++
			return key, true, nil
		case c == '\\' || c < 0x20:
			return nil, false, fallback{}
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, fallback{}
}

// nextMember consumes what precedes the next member's key (the separator,
// if any); it reports false after consuming the object's end.
func (d *Decoder) nextMember() (bool, error) {
	c := d.peek()
	switch {
	case c == '}':
		d.i++
		d.depth--
		d.open = false
		return false, nil
	case d.open:
	case c == ',':
		d.i++
		c = d.peek()
	default:
		return false, fallback{}
	}
	d.open = false
	if c != '"' {
		return false, fallback{}
	}
	return true, nil
}

// MapKey is Key for maps: the key is decoded (escapes included) as a
// string value is.
func (d *Decoder) MapKey() (string, bool, error) {
	if more, err := d.nextMember(); !more || err != nil {
		return "", false, err
	}
	key, err := d.str()
	if err != nil {
		return "", false, err
	}
	if d.peek() != ':' {
		return "", false, fallback{}
	}
	d.i++
	return key, true, nil
}

// Array starts an array; anything else (null included, which callers
// handle first) fails.
func (d *Decoder) Array() error {
	if d.peek() != '[' {
		return fallback{}
	}
	d.i++
	d.depth++
	if d.depth > maxDepth {
		return fallback{}
	}
	d.open = true
	return nil
}

// More reports whether another element of the array follows (consuming
// its separator), false at the array's end.
func (d *Decoder) More() (bool, error) {
	c := d.peek()
	switch {
	case c == ']':
		d.i++
		d.depth--
		d.open = false
		return false, nil
	case d.open:
		if c == 0 || c == ',' {
			return false, fallback{}
		}
	case c == ',':
		d.i++
	default:
		return false, fallback{}
	}
	d.open = false
	return true, nil
}

// Skip consumes one value of any kind, checking its syntax as strictly as
// encoding/json does (Unmarshal rejects invalid JSON anywhere, even in
// members it ignores).
func (d *Decoder) Skip() error {
	switch c := d.peek(); c {
	case '{':
		if _, err := d.Object(); err != nil {
			return err
		}
		for {
			_, more, err := d.rawKey()
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.Skip(); err != nil {
				return err
			}
		}
	case '[':
		if err := d.Array(); err != nil {
			return err
		}
		for {
			more, err := d.More()
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.Skip(); err != nil {
				return err
			}
		}
	case '"':
		_, err := d.rawString()
		return err
	case 'n':
		return d.literal("null")
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	default:
		_, err := d.number()
		return err
	}
}

// rawKey is Key for skipped objects: any valid key will do (escapes and
// invalid UTF-8 included, as they are valid JSON).
func (d *Decoder) rawKey() ([]byte, bool, error) {
	if more, err := d.nextMember(); !more || err != nil {
		return nil, false, err
	}
	key, err := d.rawString()
	if err != nil {
		return nil, false, err
	}
	if d.peek() != ':' {
		return nil, false, fallback{}
	}
	d.i++
	return key, true, nil
}

// Raw consumes one value and returns its bytes as they are in the input
// (what encoding/json hands to an UnmarshalJSON method).
func (d *Decoder) Raw() ([]byte, error) {
	d.ws()
	start := d.i
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return d.b[start:d.i], nil
}

// rawString consumes a string token (syntax checked, nothing decoded) and
// returns it with its quotes.
func (d *Decoder) rawString() ([]byte, error) {
	if d.peek() != '"' {
		return nil, fallback{}
	}
	start := d.i
	for j := start + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:d.i], nil
		case c < 0x20:
			return nil, fallback{}
		case c == '\\':
			j++
			if j >= len(d.b) {
				return nil, fallback{}
			}
			switch d.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(d.b[j+1:]); !ok {
					return nil, fallback{}
				}
				j += 4
			default:
				return nil, fallback{}
			}
		}
	}
	return nil, fallback{}
}

// hex4 parses four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// str reads a string value. Invalid UTF-8 (encoding/json replaces each bad
// byte with U+FFFD) and lone surrogate escapes (likewise) fail.
func (d *Decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", fallback{}
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", fallback{}
			}
			d.i = j + 1
			return string(s), nil
		case c == '\\':
			return d.unescape(start, j)
		case c < 0x20:
			return "", fallback{}
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", fallback{}
}

// unescape finishes reading a string that starts at start and has its
// first backslash at j.
func (d *Decoder) unescape(start, j int) (string, error) {
	buf := make([]byte, 0, j-start+32)
	buf = append(buf, d.b[start:j]...)
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", fallback{}
			}
			d.i = j + 1
			return string(buf), nil
		case c < 0x20:
			return "", fallback{}
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		j++
		if j >= len(d.b) {
			return "", fallback{}
		}
		switch e := d.b[j]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.b[j+1:])
			if !ok {
				return "", fallback{}
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// Only a high surrogate escape followed by a low one is a
				// character; encoding/json repairs anything else.
				if r >= 0xDC00 || j+6 >= len(d.b) || d.b[j+1] != '\\' || d.b[j+2] != 'u' {
					return "", fallback{}
				}
				lo, ok := hex4(d.b[j+3:])
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "", fallback{}
				}
				r = utf16.DecodeRune(r, lo)
				j += 6
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", fallback{}
		}
		j++
	}
	return "", fallback{}
}

// String decodes a string into *p; null leaves *p as it is.
// (Not the generic decodeString: called from another package, a generic
// instantiation makes the decoder escape to the heap.)
func (d *Decoder) String(p *string) error {
	if d.Null() {
		return nil
	}
	s, err := d.str()
	if err != nil {
		return err
	}
	*p = s
	return nil
}

// number consumes a number token, checked against JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *Decoder) number() ([]byte, error) {
	d.ws()
	b, start := d.b, d.i
	j := start
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j++; j < len(b) && '0' <= b[j] && b[j] <= '9'; j++ {
		}
	default:
		return nil, fallback{}
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, fallback{}
		}
		for ; j < len(b) && '0' <= b[j] && b[j] <= '9'; j++ {
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, fallback{}
		}
		for ; j < len(b) && '0' <= b[j] && b[j] <= '9'; j++ {
		}
	}
	d.i = j
	return b[start:j], nil
}

// integer reads a number into an integer of the given bit size, as
// encoding/json does (strconv.ParseInt of the token: a fraction or an
// exponent, even 1e3 or 1.0, is a type error, as is overflow).
func (d *Decoder) integer(bits int) (int64, error) {
	tok, err := d.number()
	if err != nil {
		return 0, err
	}
	digits := tok
	neg := len(tok) > 0 && tok[0] == '-'
	if neg {
		digits = tok[1:]
	}
	var n int64
	if len(digits) <= 18 {
		for _, c := range digits {
			if c < '0' || c > '9' {
				return 0, fallback{}
			}
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
	} else if n, err = strconv.ParseInt(string(tok), 10, 64); err != nil {
		return 0, fallback{}
	}
	if bits < 64 && (n < -1<<(bits-1) || n > 1<<(bits-1)-1) {
		return 0, fallback{}
	}
	return n, nil
}

// Int64 decodes a number into *p; null leaves *p as it is.
func (d *Decoder) Int64(p *int64) error {
	if d.Null() {
		return nil
	}
	n, err := d.integer(64)
	if err != nil {
		return err
	}
	*p = n
	return nil
}

// Int decodes a number into *p; null leaves *p as it is.
func (d *Decoder) Int(p *int) error {
	if d.Null() {
		return nil
	}
	n, err := d.integer(strconv.IntSize)
	if err != nil {
		return err
	}
	*p = int(n)
	return nil
}

// Strings decodes an array of strings into *p: null sets nil, [] an empty
// slice, a null element "". A second value for a slice already decoded
// fails (encoding/json would decode into the old elements).
func (d *Decoder) Strings(p *[]string) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p != nil {
		return fallback{}
	}
	if err := d.Array(); err != nil {
		return err
	}
	v := []string{}
	for {
		more, err := d.More()
		if err != nil {
			return err
		}
		if !more {
			*p = v
			return nil
		}
		v = append(v, "")
		if err := d.String(&v[len(v)-1]); err != nil {
			return err
		}
	}
}

// FoldsTo reports whether key, which matched none of names exactly, could
// match one of them the way encoding/json falls back to a case-insensitive
// match. A key with non-ASCII bytes might (encoding/json folds some
// non-ASCII letters to ASCII ones) and is reported as matching.
func FoldsTo(key []byte, names ...string) bool {
	if len(names) == 0 {
		return false
	}
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if len(n) == len(key) && equalFoldASCII(key, n) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Helpers of the generated code, one per member kind. Pointer members: null
// sets nil. Value targets (list elements, map values): null leaves them as
// they are, i.e. zero. Lists and maps: null sets nil; a repeated member
// fails, as encoding/json would merge into the first value.

func decodeString[S ~string](d *Decoder, p *S) error {
	if d.Null() {
		return nil
	}
	s, err := d.str()
	if err != nil {
		return err
	}
	*p = S(s)
	return nil
}

func decodeStringPtr[S ~string](d *Decoder, p **S) error {
	if d.Null() {
		*p = nil
		return nil
	}
	s, err := d.str()
	if err != nil {
		return err
	}
	v := S(s)
	*p = &v
	return nil
}

func decodeInt32(d *Decoder, p *int32) error {
	if d.Null() {
		return nil
	}
	n, err := d.integer(32)
	if err != nil {
		return err
	}
	*p = int32(n)
	return nil
}

func decodeInt32Ptr(d *Decoder, p **int32) error {
	if d.Null() {
		*p = nil
		return nil
	}
	n, err := d.integer(32)
	if err != nil {
		return err
	}
	v := int32(n)
	*p = &v
	return nil
}

func decodeInt64Ptr(d *Decoder, p **int64) error {
	if d.Null() {
		*p = nil
		return nil
	}
	n, err := d.integer(64)
	if err != nil {
		return err
	}
	*p = &n
	return nil
}

// decodeFloat64Ptr parses as encoding/json does (strconv.ParseFloat;
// out of range is a type error).
func decodeFloat64Ptr(d *Decoder, p **float64) error {
	if d.Null() {
		*p = nil
		return nil
	}
	var f float64
	if err := d.Float64(&f); err != nil {
		return err
	}
	*p = &f
	return nil
}

// Float64 decodes a number into *p as encoding/json does
// (strconv.ParseFloat; out of range is a type error); null leaves *p as
// it is.
func (d *Decoder) Float64(p *float64) error {
	if d.Null() {
		return nil
	}
	tok, err := d.number()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return fallback{}
	}
	*p = f
	return nil
}

func decodeBoolPtr(d *Decoder, p **bool) error {
	if d.Null() {
		*p = nil
		return nil
	}
	var v bool
	if err := d.Bool(&v); err != nil {
		return err
	}
	*p = &v
	return nil
}

// Bool decodes true or false into *p; null leaves *p as it is.
func (d *Decoder) Bool(p *bool) error {
	if d.Null() {
		return nil
	}
	switch d.peek() {
	case 't':
		if err := d.literal("true"); err != nil {
			return err
		}
		*p = true
	case 'f':
		if err := d.literal("false"); err != nil {
			return err
		}
		*p = false
	default:
		return fallback{}
	}
	return nil
}

// decodeTimePtr hands the token to Time.UnmarshalJSON, as encoding/json
// does (null sets nil without calling it).
func decodeTimePtr(d *Decoder, p **Time) error {
	if d.Null() {
		*p = nil
		return nil
	}
	var raw []byte
	var err error
	switch c := d.peek(); {
	case c == '"':
		raw, err = d.rawString()
	case c == '-' || ('0' <= c && c <= '9'):
		raw, err = d.number()
	default:
		return fallback{}
	}
	if err != nil {
		return err
	}
	t := new(Time)
	if t.UnmarshalJSON(raw) != nil {
		return fallback{}
	}
	*p = t
	return nil
}

// decodeRaw captures a document member as encoding/json does through
// json.RawMessage's UnmarshalJSON: the value's bytes as written, null
// included (a null document is RawMessage("null"), not nil).
func decodeRaw(d *Decoder, p *json.RawMessage) error {
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	*p = append(json.RawMessage(nil), raw...)
	return nil
}

func decodeStrings[S ~string](d *Decoder, p *[]S) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p != nil {
		return fallback{}
	}
	if err := d.Array(); err != nil {
		return err
	}
	v := []S{}
	for {
		more, err := d.More()
		if err != nil {
			return err
		}
		if !more {
			*p = v
			return nil
		}
		v = append(v, "")
		if err := decodeString(d, &v[len(v)-1]); err != nil {
			return err
		}
	}
}

func decodeInt32s(d *Decoder, p *[]int32) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p != nil {
		return fallback{}
	}
	if err := d.Array(); err != nil {
		return err
	}
	v := []int32{}
	for {
		more, err := d.More()
		if err != nil {
			return err
		}
		if !more {
			*p = v
			return nil
		}
		v = append(v, 0)
		if err := decodeInt32(d, &v[len(v)-1]); err != nil {
			return err
		}
	}
}

// StringMap decodes an object of strings into *p (see decodeStringMap).
func (d *Decoder) StringMap(p *map[string]string) error { return decodeStringMap(d, p) }

// decodeStringMap decodes an object of strings; each member decodes into a
// fresh value (a null member is ""), the last of repeated keys wins.
func decodeStringMap(d *Decoder, p *map[string]string) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p != nil {
		return fallback{}
	}
	if ok, err := d.Object(); !ok || err != nil {
		return fallback{} // not an object (null was handled above)
	}
	m := map[string]string{}
	for {
		key, more, err := d.MapKey()
		if err != nil {
			return err
		}
		if !more {
			*p = m
			return nil
		}
		var v string
		if err := decodeString(d, &v); err != nil {
			return err
		}
		m[key] = v
	}
}
