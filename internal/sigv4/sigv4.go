// Package sigv4 parses and verifies AWS Signature Version 4 (SigV4)
// signatures on incoming HTTP requests.
//
// Two forms of authentication are understood:
//
//   - header authentication, where the request carries an
//     "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
//     Signature=..." header and an X-Amz-Date (or Date) header; this is what
//     the AWS SDKs send for ECS JSON API calls and what the ECS agent sends on
//     the websocket upgrade request to its ACS endpoint;
//   - presigned (query-string) authentication, where X-Amz-Algorithm,
//     X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature and
//     optionally X-Amz-Expires are query parameters.
//
// Use is two-step: [Parse] extracts the claimed [Credential] from a request so
// that the caller can look up the secret access key for
// [Credential.AccessKeyID] and check [Credential.Region] and
// [Credential.Service] against its own configuration; [Verify] then
// recomputes the signature with that secret and compares it in constant time.
//
// The canonical request is built as SigV4 prescribes for services other than
// Amazon S3: the URI path as sent on the wire is URI-encoded once more per
// segment (so "%20" in the path becomes "%2520" in the canonical URI, exactly
// as the AWS SDKs compute it), dot segments are not removed, query parameters
// are decoded and re-encoded per RFC 3986 and sorted by encoded name then
// value, and header values are trimmed with runs of spaces collapsed.
//
// The package is pure: it does no I/O, keeps no state and is safe for
// concurrent use.
package sigv4

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm this package accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far the signing time of a request signed in the
// Authorization header may lie from the server's clock, in either direction.
const MaxSkew = 15 * time.Minute

// MaxExpires is the largest X-Amz-Expires value accepted on a presigned
// request (seven days, as in AWS).
const MaxExpires = 7 * 24 * time.Hour

// Error is the type of the sentinel errors of this package. Errors returned by
// [Parse] and [Verify] wrap exactly one of the sentinels below with details,
// so callers test them with errors.Is.
type Error string

// Error returns the message of e.
func (e Error) Error() string { return string(e) }

// The sentinel errors. They are constants, so no caller can change them.
const (
	// ErrMalformed reports that the signature information is syntactically
	// invalid, incomplete or unsupported (an ECS server answers
	// IncompleteSignatureException).
	ErrMalformed Error = "sigv4: malformed signature"
	// ErrSignatureMismatch reports that the signature is well formed but does
	// not match the request (an ECS server answers InvalidSignatureException).
	ErrSignatureMismatch Error = "sigv4: signature does not match"
	// ErrExpired reports that the signature is correct but the signing time
	// is too far from the server's clock, or a presigned request is used
	// after X-Amz-Expires has elapsed.
	ErrExpired Error = "sigv4: signature expired"
)

// Credential is what a request claims about its signature: the contents of the
// Authorization header (or of the presigned query parameters) together with
// the signing time. A Credential returned by [Parse] without error is
// syntactically valid; nothing in it is authenticated until [Verify] succeeds.
type Credential struct {
	// AccessKeyID is the access key ID of the credential scope. It is never
	// empty and may contain "/".
	AccessKeyID string
	// Date is the yyyymmdd date of the credential scope.
	Date string
	// Region is the region of the credential scope; never empty.
	Region string
	// Service is the service name of the credential scope ("ecs" for both
	// the ECS API and the agent's ACS endpoint); never empty.
	Service string
	// SignedHeaders are the lowercase names of the signed headers, sorted
	// and without duplicates; "host" is always among them.
	SignedHeaders []string
	// Signature is the claimed signature: 64 hexadecimal digits.
	Signature string
	// Time is the signing time, in UTC, from the X-Amz-Date header (or the
	// Date header when X-Amz-Date is absent), or from the X-Amz-Date query
	// parameter of a presigned request.
	Time time.Time
	// Presigned is true when the signature came from the query string rather
	// than the Authorization header.
	Presigned bool
	// Expires is the X-Amz-Expires validity of a presigned request; zero when
	// absent (then the request is valid within MaxSkew of Time, like a
	// header-signed request). Always zero when Presigned is false.
	Expires time.Duration
	// SecurityToken is the X-Amz-Security-Token (session token) of a
	// temporary credential, from the header or, when presigned, the query;
	// empty when absent. When present it is covered by the signature. The
	// caller must check that it belongs to AccessKeyID.
	SecurityToken string
}

// scope returns the credential scope "date/region/service/aws4_request".
func (c *Credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

// Names of the request parameters involved.
const (
	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerDate          = "Date"
	headerContentSHA256 = "X-Amz-Content-Sha256"
	headerSecurityToken = "X-Amz-Security-Token"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryExpires       = "X-Amz-Expires"
	querySecurityToken = "X-Amz-Security-Token"

	// amzDateLayout is the ISO 8601 basic format of X-Amz-Date.
	amzDateLayout = "20060102T150405Z"
	// scopeDateLayout is the date format of the credential scope.
	scopeDateLayout = "20060102"
	// scopeTerminator ends every SigV4 credential scope.
	scopeTerminator = "aws4_request"
)

// Parse extracts the signature information of r without verifying it.
//
// It returns ok=false and a nil error when r carries no signature at all: no
// Authorization header and none of the X-Amz-Algorithm, X-Amz-Credential or
// X-Amz-Signature query parameters. It returns an error wrapping ErrMalformed
// when r attempts to authenticate but the attempt is malformed: an
// Authorization header that is empty, repeated, uses a scheme other than
// AWS4-HMAC-SHA256 or lacks a component; a credential scope that is not
// "key/yyyymmdd/region/service/aws4_request"; a signed-headers list that is
// not sorted lowercase header names including "host"; a signature that is not
// 64 hex digits; a missing or unparsable signing time or one whose header is
// not signed; an unsigned X-Amz-Security-Token header; an incomplete set of
// presigned query parameters; or both an Authorization header and presigned
// query parameters. Otherwise it returns the claimed Credential with ok=true.
//
// Parse does not read the body and does not modify r.
func Parse(r *http.Request) (c Credential, ok bool, err error) {
	auth, hasAuth := r.Header[headerAuthorization]
	var query queryParams
	if r.URL != nil {
		query, _ = parseQuery(r.URL.RawQuery)
	}
	presign := query.has(queryAlgorithm) || query.has(queryCredential) || query.has(querySignature)

	switch {
	case hasAuth && presign:
		return Credential{}, false, malformed("both an Authorization header and presigned query parameters are present")
	case hasAuth:
		if len(auth) != 1 {
			return Credential{}, false, malformed("more than one Authorization header")
		}
		c, err = parseHeaderAuth(r, auth[0])
	case presign:
		c, err = parsePresigned(query)
	default:
		return Credential{}, false, nil
	}
	if err != nil {
		return Credential{}, false, err
	}
	return c, true, nil
}

// parseHeaderAuth parses the Authorization header value auth and the signing
// time and session token headers of r.
func parseHeaderAuth(r *http.Request, auth string) (Credential, error) {
	rest, found := strings.CutPrefix(auth, Algorithm)
	if !found || rest == "" || rest[0] != ' ' {
		scheme, _, _ := strings.Cut(auth, " ")
		return Credential{}, malformed("unsupported authorization scheme %q", truncate(scheme))
	}
	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		key, value, hasEq := strings.Cut(part, "=")
		if !hasEq {
			return Credential{}, malformed("authorization header component %q is not key=value", truncate(part))
		}
		var dst *string
		var i int
		switch key {
		case "Credential":
			dst, i = &credential, 0
		case "SignedHeaders":
			dst, i = &signedHeaders, 1
		case "Signature":
			dst, i = &signature, 2
		default:
			return Credential{}, malformed("unknown authorization header component %q", truncate(key))
		}
		if seen[i] {
			return Credential{}, malformed("repeated authorization header component %q", key)
		}
		seen[i] = true
		*dst = value
	}
	for i, name := range [...]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return Credential{}, malformed("authorization header lacks the %s component", name)
		}
	}

	var c Credential
	if err := c.setScope(credential); err != nil {
		return Credential{}, err
	}
	if err := c.setSignedHeaders(signedHeaders); err != nil {
		return Credential{}, err
	}
	if err := c.setSignature(signature); err != nil {
		return Credential{}, err
	}

	// The signing time: X-Amz-Date, or Date when X-Amz-Date is absent. The
	// header it comes from must be signed.
	if v, ok := r.Header[headerAmzDate]; ok {
		if len(v) != 1 {
			return Credential{}, malformed("more than one X-Amz-Date header")
		}
		t, err := parseAmzDate(v[0])
		if err != nil {
			return Credential{}, err
		}
		if !c.signs("x-amz-date") {
			return Credential{}, malformed("the X-Amz-Date header is not signed")
		}
		c.Time = t
	} else if v, ok := r.Header[headerDate]; ok {
		if len(v) != 1 {
			return Credential{}, malformed("more than one Date header")
		}
		t, err := http.ParseTime(v[0])
		if err != nil {
			return Credential{}, malformed("unparsable Date header %q", truncate(v[0]))
		}
		if !c.signs("date") {
			return Credential{}, malformed("the Date header is not signed")
		}
		c.Time = t.UTC()
	} else {
		return Credential{}, malformed("the request has neither an X-Amz-Date nor a Date header")
	}

	if v, ok := r.Header[headerSecurityToken]; ok {
		if len(v) != 1 {
			return Credential{}, malformed("more than one X-Amz-Security-Token header")
		}
		if !c.signs("x-amz-security-token") {
			return Credential{}, malformed("the X-Amz-Security-Token header is not signed")
		}
		c.SecurityToken = v[0]
	}
	return c, nil
}

// parsePresigned parses the presigned query parameters of query.
func parsePresigned(query queryParams) (Credential, error) {
	get := func(name string, required bool) (string, error) {
		vs := query.values(name)
		switch {
		case len(vs) > 1:
			return "", malformed("query parameter %s is repeated", name)
		case len(vs) == 0 && required:
			return "", malformed("presigned request lacks the %s query parameter", name)
		case len(vs) == 0:
			return "", nil
		}
		return vs[0], nil
	}
	var vals [7]string
	for i, p := range [...]struct {
		name     string
		required bool
	}{
		{queryAlgorithm, true},
		{queryCredential, true},
		{queryDate, true},
		{querySignedHeaders, true},
		{querySignature, true},
		{queryExpires, false},
		{querySecurityToken, false},
	} {
		v, err := get(p.name, p.required)
		if err != nil {
			return Credential{}, err
		}
		vals[i] = v
	}
	algorithm, credential, date, signedHeaders, signature, expires, token :=
		vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]

	if algorithm != Algorithm {
		return Credential{}, malformed("unsupported X-Amz-Algorithm %q", truncate(algorithm))
	}
	c := Credential{Presigned: true, SecurityToken: token}
	if err := c.setScope(credential); err != nil {
		return Credential{}, err
	}
	if err := c.setSignedHeaders(signedHeaders); err != nil {
		return Credential{}, err
	}
	if err := c.setSignature(signature); err != nil {
		return Credential{}, err
	}
	t, err := parseAmzDate(date)
	if err != nil {
		return Credential{}, err
	}
	c.Time = t
	if query.has(queryExpires) {
		n, err := strconv.ParseInt(expires, 10, 64)
		if err != nil || n <= 0 || n > int64(MaxExpires/time.Second) || strings.TrimLeft(expires, "0123456789") != "" {
			return Credential{}, malformed("X-Amz-Expires %q is not a number of seconds between 1 and %d", truncate(expires), int64(MaxExpires/time.Second))
		}
		c.Expires = time.Duration(n) * time.Second
	}
	return c, nil
}

// setScope parses the credential "key/yyyymmdd/region/service/aws4_request"
// into c. The access key ID is everything before the last four components.
func (c *Credential) setScope(credential string) error {
	parts := strings.Split(credential, "/")
	n := len(parts)
	if n < 5 {
		return malformed("credential %q is not key/date/region/service/aws4_request", truncate(credential))
	}
	key := strings.Join(parts[:n-4], "/")
	date, region, service, term := parts[n-4], parts[n-3], parts[n-2], parts[n-1]
	switch {
	case key == "":
		return malformed("credential has an empty access key ID")
	case !isScopeDate(date):
		return malformed("credential scope date %q is not yyyymmdd", truncate(date))
	case region == "":
		return malformed("credential scope has an empty region")
	case service == "":
		return malformed("credential scope has an empty service")
	case term != scopeTerminator:
		return malformed("credential scope does not end in %s", scopeTerminator)
	}
	c.AccessKeyID, c.Date, c.Region, c.Service = key, date, region, service
	return nil
}

// setSignedHeaders parses the ";"-separated signed-headers list into c.
func (c *Credential) setSignedHeaders(list string) error {
	names := strings.Split(list, ";")
	hasHost := false
	for i, name := range names {
		if !isLowerToken(name) {
			return malformed("signed header name %q is not a lowercase header name", truncate(name))
		}
		if i > 0 && names[i-1] >= name {
			return malformed("signed headers are not sorted or contain duplicates")
		}
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return malformed("the host header is not signed")
	}
	c.SignedHeaders = names
	return nil
}

// setSignature checks that sig is 64 hex digits and stores it in c.
func (c *Credential) setSignature(sig string) error {
	if len(sig) != 64 {
		return malformed("signature is not 64 hex digits")
	}
	if _, err := hex.DecodeString(sig); err != nil {
		return malformed("signature is not 64 hex digits")
	}
	c.Signature = sig
	return nil
}

// signs reports whether name (lowercase) is among c's signed headers.
func (c *Credential) signs(name string) bool {
	for _, h := range c.SignedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// parseAmzDate parses an X-Amz-Date value, which must be exactly in the ISO
// 8601 basic format yyyymmddThhmmssZ, so that formatting the result yields
// the same string again.
func parseAmzDate(s string) (time.Time, error) {
	ok := len(s) == len(amzDateLayout) && s[8] == 'T' && s[15] == 'Z'
	for i := 0; ok && i < 15; i++ {
		ok = i == 8 || isDigit(s[i])
	}
	if ok {
		if t, err := time.Parse(amzDateLayout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, malformed("X-Amz-Date %q is not in the format yyyymmddThhmmssZ", truncate(s))
}

// isScopeDate reports whether s is a valid yyyymmdd date.
func isScopeDate(s string) bool {
	if len(s) != len(scopeDateLayout) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	_, err := time.Parse(scopeDateLayout, s)
	return err == nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// isLowerToken reports whether s is a non-empty HTTP field name (RFC 9110
// token) without uppercase letters.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', isDigit(b):
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// malformed returns an error wrapping ErrMalformed with a formatted detail.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// truncate shortens attacker-controlled text quoted in error messages.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// queryParam is one decoded name=value pair of a query string.
type queryParam struct {
	name, value string
}

// queryParams is a decoded query string in its original order.
type queryParams []queryParam

// has reports whether the query has a parameter called name.
func (q queryParams) has(name string) bool {
	for _, p := range q {
		if p.name == name {
			return true
		}
	}
	return false
}

// values returns the values of the parameters called name, in order.
func (q queryParams) values(name string) []string {
	var vs []string
	for _, p := range q {
		if p.name == name {
			vs = append(vs, p.value)
		}
	}
	return vs
}

// parseQuery decodes a raw query string into its name=value pairs. Pairs are
// separated by "&" only (";" is an ordinary character); empty pairs are
// skipped; a pair without "=" has an empty value; "+" decodes to a space, as
// url.ParseQuery (and so the AWS SDK for Go) does. Pairs that fail to decode
// are left out and reported by a non-nil error wrapping ErrMalformed.
func parseQuery(raw string) (queryParams, error) {
	var q queryParams
	var bad error
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			if bad == nil {
				bad = malformed("query parameter %q is not correctly percent-encoded", truncate(pair))
			}
			continue
		}
		q = append(q, queryParam{n, v})
	}
	return q, bad
}
