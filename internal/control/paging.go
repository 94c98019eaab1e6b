package control

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
)

// A page token is opaque to clients: base64url(JSON{op, filter, last key}),
// a dot, and a truncated HMAC-SHA256 of that under the server's persisted
// secret. It names the last key returned, so it stays valid (and stable)
// while records are added or removed, and across server restarts. A token
// used with another operation, other filters or in another namespace
// (account or region), or altered, is refused with
// InvalidParameterException, as ECS refuses a foreign nextToken. The
// namespace is bound by the last key (page) or by the filter (callers that
// keep something else in the token put nsPrefix in their filter).
type pageToken struct {
	Op     string `json:"o"`
	Filter string `json:"f"`
	Last   string `json:"k"`
}

func (c *Control) sign(payload string) string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (c *Control) encodeToken(op, filter, last string) string {
	b, _ := json.Marshal(pageToken{Op: op, Filter: filter, Last: last})
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + c.sign(p)
}

// decodeToken returns the last key of a token from this op and filter; an
// empty token gives "".
func (c *Control) decodeToken(op, filter string, token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	bad := ecs.Errorf(ecs.InvalidParameter, "Invalid nextToken.")
	p, sig, ok := strings.Cut(*token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.sign(p))) {
		return "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", bad
	}
	var t pageToken
	if err := json.Unmarshal(raw, &t); err != nil || t.Op != op || t.Filter != filter || t.Last == "" {
		return "", bad
	}
	return t.Last, nil
}

// pageSize returns maxResults bounded to [1,max] with the op's default.
func pageSize(maxResults *int32, def, max int) (int, error) {
	if maxResults == nil {
		return def, nil
	}
	n := int(*maxResults)
	if n < 1 || n > max {
		return 0, ecs.Errorf(ecs.InvalidParameter, "maxResults must be between 1 and %d.", max)
	}
	return n, nil
}

// page collects up to n matching objects under prefix after the token's key
// and returns them with the next token ("" when there are no more).
func page[T any](c *Control, op, filter string, token *string, n int, prefix string, desc bool, match func(key string, obj any) (T, bool)) ([]T, *string, error) {
	after, err := c.decodeToken(op, filter, token)
	if err != nil {
		return nil, nil, err
	}
	if after != "" && !strings.HasPrefix(after, prefix) {
		// A token of the same op and filter from another namespace.
		return nil, nil, ecs.Errorf(ecs.InvalidParameter, "Invalid nextToken.")
	}
	out := make([]T, 0, n)
	var last string
	more := false
	c.view.scan(prefix, after, desc, func(key string, obj any) bool {
		v, ok := match(key, obj)
		if !ok {
			return true
		}
		if len(out) == n {
			more = true
			return false
		}
		out = append(out, v)
		last = key
		return true
	})
	if !more {
		return out, nil, nil
	}
	t := c.encodeToken(op, filter, last)
	return out, &t, nil
}
