package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary Authorization header values (and raw query
// strings) to Parse: it must not panic, must fail only with ErrMalformed, and
// whatever it accepts must satisfy the Credential invariants and be safe to
// pass to Verify.
func FuzzParse(f *testing.F) {
	const sig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
	for _, seed := range []struct{ auth, query string }{
		{"AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig, ""},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/ecs/aws4_request,SignedHeaders=content-type;host;x-amz-date;x-amz-target,Signature=" + sig, "a=b"},
		{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/20260304/r/s/aws4_request, SignedHeaders=date;host, Signature=" + sig, ""},
		{"AWS4-HMAC-SHA256 ", ""},
		{"AWS4-HMAC-SHA256 Credential=,,,=,Signature=", ""},
		{"Bearer x", ""},
		{"", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260304%2Fus-east-1%2Fecs%2Faws4_request&X-Amz-Date=20260304T050607Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig + "&X-Amz-Expires=60"},
		{"", "X-Amz-Signature=%zz&&=&a"},
	} {
		f.Add(seed.auth, seed.query)
	}
	f.Fuzz(func(t *testing.T, auth, query string) {
		u := &url.URL{Scheme: "http", Host: "ecs.example", Path: "/", RawQuery: query}
		r := &http.Request{Method: http.MethodPost, URL: u, Host: u.Host, Header: http.Header{
			"X-Amz-Date":           {"20260304T050607Z"},
			"Date":                 {"Wed, 04 Mar 2026 05:06:07 GMT"},
			"X-Amz-Security-Token": {"tok"},
		}}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		c, ok, err := Parse(r)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || ok {
				t.Fatalf("Parse = %v, %v; want only ErrMalformed errors", ok, err)
			}
			return
		}
		if !ok {
			if _, has := r.Header["Authorization"]; has {
				t.Fatal("Parse reported a request with an Authorization header as unsigned")
			}
			return
		}
		if c.AccessKeyID == "" || c.Region == "" || c.Service == "" || len(c.Date) != 8 ||
			len(c.Signature) != 64 || c.Time.IsZero() || !slices.IsSorted(c.SignedHeaders) ||
			!slices.Contains(c.SignedHeaders, "host") {
			t.Fatalf("Parse accepted an invalid credential %+v", c)
		}
		for _, h := range c.SignedHeaders {
			if h == "" || strings.ToLower(h) != h {
				t.Fatalf("Parse accepted signed header %q", h)
			}
		}
		err = Verify(r, []byte("{}"), c, "secret", c.Time)
		if err == nil {
			t.Fatalf("Verify accepted a fuzzed signature %+v", c)
		}
		if !errors.Is(err, ErrSignatureMismatch) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify = %v", err)
		}
	})
}
