package scheduler

import "fmt"

// RequestError reports a request the scheduler cannot evaluate: an unknown
// strategy type or field, a malformed constraint, a negative count. It is
// the only kind of error Place, PlaceOn, PickVictims, Distribute and
// ScaleIn return, and the caller maps it to InvalidParameterException.
// "No instance fits" is never an error: it is a Plan with Failures.
type RequestError struct {
	// Field names the offending request member in the wire vocabulary,
	// for example "placementStrategy[1].field" or
	// "placementConstraints[0].expression".
	Field string
	// Message says what is wrong, in a sentence fit to show a client.
	Message string
	// Err is the underlying cause (a *SyntaxError for a malformed
	// memberOf expression), or nil.
	Err error
}

func (e *RequestError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func (e *RequestError) Unwrap() error { return e.Err }

func requestErrorf(field, format string, args ...any) *RequestError {
	return &RequestError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// SyntaxError reports a malformed cluster query language expression
// (spec §6.5): a token the grammar does not allow, an operator a subject
// does not accept, a value that does not parse (a bad regular expression,
// date or version).
type SyntaxError struct {
	// Expr is the whole expression as given.
	Expr string
	// Offset is the 0-based byte offset in Expr where the problem is.
	Offset int
	// Msg describes the problem.
	Msg string
}

// Error reports the problem and its 1-based column, for example
// `invalid expression at column 16: expected a value after "=="`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid expression at column %d: %s", e.Offset+1, e.Msg)
}
