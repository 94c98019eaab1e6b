package wire

// AppendString appends s as a JSON string, escaped exactly as encoding/json
// escapes it (HTML-safe), for callers that encode records embedding wire
// types with AppendJSON.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
