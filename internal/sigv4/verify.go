package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UnsignedPayload is the X-Amz-Content-Sha256 value with which a client
// declares that the body is not covered by the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Verify checks that c, as returned by [Parse] for r, is a valid signature of
// r made with the secret access key secret, at a time acceptable at now (the
// server's clock).
//
// body must be the complete request body, already read by the caller (nil or
// empty for a request without one); r.Body is not touched. The payload hash
// of the canonical request is the X-Amz-Content-Sha256 header when present,
// otherwise the hex SHA-256 of body. A present X-Amz-Content-Sha256 must be
// either the hex SHA-256 of body or UNSIGNED-PAYLOAD; note that with
// UNSIGNED-PAYLOAD the body is NOT authenticated, only the request line and
// signed headers are. Streaming (chunk-signed) payloads are not supported.
//
// Verify returns nil when the signature is valid and timely. It returns an
// error wrapping:
//   - ErrMalformed when c is not well formed (see Parse), the query string of
//     r is not correctly percent-encoded, or X-Amz-Content-Sha256 is neither
//     a SHA-256 hex digest nor UNSIGNED-PAYLOAD;
//   - ErrSignatureMismatch when the signature does not match (wrong secret,
//     or any signed part of the request altered), when X-Amz-Content-Sha256
//     does not match body, or when the credential scope date is not the date
//     of c.Time;
//   - ErrExpired when the signature matches but, for a request signed in the
//     Authorization header or presigned without X-Amz-Expires, c.Time is more
//     than MaxSkew away from now, or, for a presigned request with
//     X-Amz-Expires, now is before c.Time-MaxSkew or after c.Time+c.Expires.
//
// The signature is checked before the time, so ErrExpired is only reported
// for requests that are authentic. Verify does not check c.Region,
// c.Service, c.AccessKeyID or c.SecurityToken against anything: that is the
// caller's job.
func Verify(r *http.Request, body []byte, c Credential, secret string, now time.Time) error {
	if r.URL == nil {
		return malformed("the request has no URL")
	}
	want, err := hex.DecodeString(c.Signature)
	if err != nil || len(want) != sha256.Size {
		return malformed("signature is not 64 hex digits")
	}
	if !c.signs("host") {
		return malformed("the host header is not signed")
	}
	if c.Date != c.Time.UTC().Format(scopeDateLayout) {
		return fmt.Errorf("%w: credential scope date %q is not the date of the signing time %s",
			ErrSignatureMismatch, c.Date, c.Time.UTC().Format(amzDateLayout))
	}

	payloadHash, err := payloadHash(r, body)
	if err != nil {
		return err
	}
	creq, err := canonicalRequest(r, &c, payloadHash)
	if err != nil {
		return err
	}
	got := signature(secret, &c, creq)
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: the request signature does not match the one computed for access key %q",
			ErrSignatureMismatch, truncate(c.AccessKeyID))
	}

	t := c.Time.UTC()
	if c.Presigned && c.Expires > 0 {
		if now.Before(t.Add(-MaxSkew)) {
			return fmt.Errorf("%w: presigned request is dated %s, in the future", ErrExpired, t.Format(amzDateLayout))
		}
		if now.After(t.Add(c.Expires)) {
			return fmt.Errorf("%w: presigned request dated %s expired after %s",
				ErrExpired, t.Format(amzDateLayout), c.Expires)
		}
		return nil
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w: signing time %s is more than %s from the server time %s",
			ErrExpired, t.Format(amzDateLayout), MaxSkew, now.UTC().Format(amzDateLayout))
	}
	return nil
}

// payloadHash returns the last line of the canonical request for r with the
// given body, checking a claimed X-Amz-Content-Sha256 against body.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	claimed, ok := r.Header[headerContentSHA256]
	if !ok {
		return computed, nil
	}
	if len(claimed) != 1 {
		return "", malformed("more than one X-Amz-Content-Sha256 header")
	}
	v := claimed[0]
	switch {
	case v == UnsignedPayload:
		return v, nil
	case len(v) == 2*sha256.Size && isHex(v):
		if !strings.EqualFold(v, computed) {
			return "", fmt.Errorf("%w: X-Amz-Content-Sha256 does not match the body", ErrSignatureMismatch)
		}
		return v, nil
	default:
		return "", malformed("unsupported X-Amz-Content-Sha256 value %q", truncate(v))
	}
}

// signature computes the SigV4 signature of the canonical request creq under
// the credential scope of c with the given secret.
func signature(secret string, c *Credential, creq string) []byte {
	h := sha256.Sum256([]byte(creq))
	sts := Algorithm + "\n" +
		c.Time.UTC().Format(amzDateLayout) + "\n" +
		c.scope() + "\n" +
		hex.EncodeToString(h[:])
	key := hmacSHA256([]byte("AWS4"+secret), c.Date)
	key = hmacSHA256(key, c.Region)
	key = hmacSHA256(key, c.Service)
	key = hmacSHA256(key, scopeTerminator)
	return hmacSHA256(key, sts)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest builds the SigV4 canonical request of r:
//
//	method \n canonical URI \n canonical query \n canonical headers \n
//	signed headers \n payload hash
//
// where every canonical header line ends in "\n".
func canonicalRequest(r *http.Request, c *Credential, payloadHash string) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery, c.Presigned)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	writeCanonicalHeaders(&b, r, c.SignedHeaders)
	b.WriteByte('\n')
	b.WriteString(strings.Join(c.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalURI returns the canonical URI of r for a non-S3 service: the path
// as sent (r.URL.EscapedPath, "/" when empty), with every byte outside the
// RFC 3986 unreserved set other than "/" percent-encoded once more. This is
// the "URI-encode each path segment twice" rule, where the first encoding is
// the one already present on the wire.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery returns the canonical query string for the raw query: every
// parameter decoded and re-encoded per RFC 3986, sorted by encoded name and
// then encoded value, joined with "&". When presigned is true the
// X-Amz-Signature parameter is left out.
func canonicalQuery(raw string, presigned bool) (string, error) {
	params, err := parseQuery(raw)
	if err != nil {
		return "", err
	}
	encoded := make([]queryParam, 0, len(params))
	for _, p := range params {
		if presigned && p.name == querySignature {
			continue
		}
		encoded = append(encoded, queryParam{uriEncode(p.name, true), uriEncode(p.value, true)})
	}
	slices.SortFunc(encoded, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range encoded {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String(), nil
}

// writeCanonicalHeaders writes "name:value\n" for each signed header name, in
// the given (sorted) order. The value of "host" is r.Host (r.URL.Host when
// empty), since Go moves the Host header there. Other values come from
// r.Header, matched case-insensitively; repeated headers are joined with ","
// in order of appearance. Content-Length and Transfer-Encoding fall back to
// r.ContentLength and r.TransferEncoding when absent from r.Header, as Go
// removes or does not set them in some cases. Each value is trimmed and runs
// of spaces inside it are collapsed to one space.
func writeCanonicalHeaders(b *strings.Builder, r *http.Request, names []string) {
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		values := headerValues(r, name)
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalValue(b, v)
		}
		b.WriteByte('\n')
	}
}

// headerValues returns the values of the header called name (lowercase) in r.
func headerValues(r *http.Request, name string) []string {
	if name == "host" {
		if r.Host != "" {
			return []string{r.Host}
		}
		return []string{r.URL.Host}
	}
	var values []string
	found := false
	if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
		values, found = vs, true
	}
	// Keys not in canonical form only occur in hand-built requests; collect
	// them too (in unspecified order relative to each other).
	for k, vs := range r.Header {
		if k != http.CanonicalHeaderKey(name) && strings.EqualFold(k, name) {
			values, found = append(slices.Clip(values), vs...), true
		}
	}
	if found {
		return values
	}
	switch name {
	case "content-length":
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// writeCanonicalValue writes v with leading and trailing whitespace removed and
// every run of spaces inside it replaced by a single space (as the AWS SDKs
// do; tabs inside the value are kept).
func writeCanonicalValue(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
}

// uriEncode percent-encodes every byte of s outside the RFC 3986 unreserved
// set (A-Z a-z 0-9 - . _ ~) with uppercase hex digits; "/" is kept as is
// unless encodeSlash is true.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || isDigit(c) ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
