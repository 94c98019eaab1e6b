package wire

import "strconv"

// AppendString appends s as a JSON string, escaped exactly as encoding/json
// escapes it (HTML-safe), for callers that encode records embedding wire
// types with AppendJSON.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendTimeMillis appends the timestamp of ms milliseconds after the
// epoch as Time's JSON: the shortest decimal that reads back as the
// float64 nearest ms/1000 seconds (strconv.AppendFloat's 'f', -1).
//
// Below 10^12 seconds the float64s are much closer together than a
// millisecond, so that decimal is ms/1000 written out exactly, without
// trailing zeros: it is written directly, at a tenth of the cost of the
// shortest-decimal search (TestAppendTimeMillisMatchesFloat). Larger
// values take AppendFloat.
func AppendTimeMillis(b []byte, ms int64) []byte {
	if ms <= -1e15 || ms >= 1e15 {
		return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
	}
	u := ms
	if ms < 0 {
		b = append(b, '-')
		u = -ms
	}
	b = strconv.AppendInt(b, u/1000, 10)
	if f := u % 1000; f != 0 {
		d := [4]byte{'.', byte('0' + f/100), byte('0' + f/10%10), byte('0' + f%10)}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return b
}
