package wire

import "strconv"

// AppendString appends s as a JSON string, escaped exactly as encoding/json
// escapes it (HTML-safe), for callers that encode records embedding wire
// types with AppendJSON.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendTimeMillis appends the timestamp of ms milliseconds after the
// epoch as Time's JSON.
func AppendTimeMillis(b []byte, ms int64) []byte {
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}
