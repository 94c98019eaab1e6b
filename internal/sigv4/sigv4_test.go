package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIDBERTHEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYBERTHKEY"
	testRegion = "us-east-1"
	testHost   = "ecs.us-east-1.berth.example"
)

// signTime is the signing time of the test requests; testNow is the server
// clock one minute later.
var (
	signTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	testNow  = signTime.Add(time.Minute)
)

func creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// captured is a request as the server's handler saw it.
type captured struct {
	r    *http.Request
	body []byte
}

// send sends req (whose Host must be set) to a fresh test server and returns
// the request as the server received it, with its body. This exercises what
// net/http does to a request on the way (the Host header moving to r.Host,
// header value trimming, Content-Length, the raw path and query).
func send(t *testing.T, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	if req.Host == "" {
		t.Fatal("send: req.Host must be set")
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		got <- captured{r.Clone(context.Background()), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := <-got
	return c.r, c.body
}

// newRequest builds a client request for testHost.
func newRequest(t *testing.T, method, target string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+testHost+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = testHost
	return req
}

// signECS signs req like an AWS SDK ECS client would.
func signECS(t *testing.T, req *http.Request, body []byte, c aws.Credentials) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), c, req, hashHex(body), "ecs", testRegion, signTime); err != nil {
		t.Fatal(err)
	}
}

// ecsPost returns a signed ECS JSON API request as received by a server.
func ecsPost(t *testing.T, target string, body []byte) (*http.Request, []byte) {
	t.Helper()
	req := newRequest(t, http.MethodPost, "/", body)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+target)
	signECS(t, req, body, creds())
	return send(t, req)
}

// mustParse parses r and fails unless it is validly signed.
func mustParse(t *testing.T, r *http.Request) Credential {
	t.Helper()
	c, ok, err := Parse(r)
	if err != nil || !ok {
		t.Fatalf("Parse: ok=%v err=%v", ok, err)
	}
	return c
}

// verify parses and verifies r at testNow with the test secret.
func verify(t *testing.T, r *http.Request, body []byte) error {
	t.Helper()
	c, ok, err := Parse(r)
	if err != nil {
		return err
	}
	if !ok {
		t.Fatal("Parse: request not signed")
	}
	return Verify(r, body, c, testSecret, testNow)
}

func TestVerifyECSPost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ target, body string }{
		{"ListClusters", `{}`},
		{"CreateCluster", `{"clusterName":"default","tags":[{"key":"k","value":"ünïcödé \u2603"}]}`},
		{"DescribeClusters", `{"clusters":["arn:aws:ecs:us-east-1:123456789012:cluster/default"],"include":["TAGS"]}`},
		{"ListTasks", ``},
	} {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			r, body := ecsPost(t, tc.target, []byte(tc.body))
			if string(body) != tc.body {
				t.Fatalf("server got body %q", body)
			}
			c := mustParse(t, r)
			want := Credential{
				AccessKeyID: testKeyID, Date: "20260304", Region: testRegion, Service: "ecs",
				Time: signTime,
			}
			if c.AccessKeyID != want.AccessKeyID || c.Date != want.Date || c.Region != want.Region ||
				c.Service != want.Service || !c.Time.Equal(want.Time) || c.Presigned || c.Expires != 0 {
				t.Errorf("Parse = %+v", c)
			}
			if !c.signs("x-amz-target") || !c.signs("content-type") || !c.signs("x-amz-date") {
				t.Errorf("SignedHeaders = %q, want content-type, x-amz-target and x-amz-date", c.SignedHeaders)
			}
			if err := Verify(r, body, c, testSecret, testNow); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	body := []byte(`{"cluster":"default","desiredStatus":"RUNNING"}`)
	orig, origBody := ecsPost(t, "ListTasks", body)
	if err := verify(t, orig, origBody); err != nil {
		t.Fatalf("untampered: %v", err)
	}

	for _, tc := range []struct {
		name   string
		tamper func(r *http.Request, body []byte) []byte
		secret string
		now    time.Time
		want   error
	}{
		{name: "body", tamper: func(_ *http.Request, b []byte) []byte {
			return bytes.Replace(b, []byte("RUNNING"), []byte("STOPPED"), 1)
		}, want: ErrSignatureMismatch},
		{name: "body truncated", tamper: func(_ *http.Request, b []byte) []byte {
			return b[:len(b)-1]
		}, want: ErrSignatureMismatch},
		{name: "signed header X-Amz-Target", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
			return b
		}, want: ErrSignatureMismatch},
		{name: "signed header repeated", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Add("Content-Type", "text/plain")
			return b
		}, want: ErrSignatureMismatch},
		{name: "host", tamper: func(r *http.Request, b []byte) []byte {
			r.Host = "evil.example"
			return b
		}, want: ErrSignatureMismatch},
		{name: "method", tamper: func(r *http.Request, b []byte) []byte {
			r.Method = http.MethodPut
			return b
		}, want: ErrSignatureMismatch},
		{name: "path", tamper: func(r *http.Request, b []byte) []byte {
			r.URL.Path = "/x"
			return b
		}, want: ErrSignatureMismatch},
		{name: "query added", tamper: func(r *http.Request, b []byte) []byte {
			r.URL.RawQuery = "a=b"
			return b
		}, want: ErrSignatureMismatch},
		{name: "date one second later", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("X-Amz-Date", signTime.Add(time.Second).Format("20060102T150405Z"))
			return b
		}, want: ErrSignatureMismatch},
		{name: "date of another day", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("X-Amz-Date", signTime.Add(24*time.Hour).Format("20060102T150405Z"))
			return b
		}, want: ErrSignatureMismatch},
		{name: "region in scope", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-west-2/", 1))
			return b
		}, want: ErrSignatureMismatch},
		{name: "service in scope", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/ecs/", "/ec2/", 1))
			return b
		}, want: ErrSignatureMismatch},
		{name: "access key in scope", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testKeyID, "AKIDOTHER", 1))
			return b
		}, want: nil}, // the key ID is not signed; the caller's lookup of its secret protects it
		{name: "signature", tamper: func(r *http.Request, b []byte) []byte {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			r.Header.Set("Authorization", a[:len(a)-1]+string("01"[(last+1)%2]))
			return b
		}, want: ErrSignatureMismatch},
		{name: "signed header dropped from list", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-target", "", 1))
			return b
		}, want: ErrSignatureMismatch},
		{name: "unsigned header added", tamper: func(r *http.Request, b []byte) []byte {
			r.Header.Set("X-Something-Else", "x")
			return b
		}, want: nil},
		{name: "wrong secret", secret: testSecret + "x", want: ErrSignatureMismatch},
		{name: "clock 16 minutes ahead", now: signTime.Add(16 * time.Minute), want: ErrExpired},
		{name: "clock 16 minutes behind", now: signTime.Add(-16 * time.Minute), want: ErrExpired},
		{name: "clock 15 minutes ahead", now: signTime.Add(15 * time.Minute), want: nil},
		{name: "clock 15 minutes behind", now: signTime.Add(-15 * time.Minute), want: nil},
		{name: "clock far off and wrong secret", secret: "nope", now: signTime.Add(time.Hour), want: ErrSignatureMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := orig.Clone(context.Background())
			b := bytes.Clone(origBody)
			if tc.tamper != nil {
				b = tc.tamper(r, b)
			}
			secret, now := testSecret, testNow
			if tc.secret != "" {
				secret = tc.secret
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			c, ok, err := Parse(r)
			if err != nil || !ok {
				t.Fatalf("Parse: ok=%v err=%v", ok, err)
			}
			err = Verify(r, b, c, secret, now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyAgentWebsocket signs a GET like the ECS agent's ACS websocket
// connection request (service "ecs", query parameters, no body).
func TestVerifyAgentWebsocket(t *testing.T) {
	t.Parallel()
	q := url.Values{}
	q.Set("clusterArn", "arn:aws:ecs:us-east-1:123456789012:cluster/default")
	q.Set("containerInstanceArn", "arn:aws:ecs:us-east-1:123456789012:container-instance/default/0123456789abcdef")
	q.Set("agentHash", "a1b2c3d4")
	q.Set("agentVersion", "1.0.0")
	q.Set("seqNum", "1")
	q.Set("protocolVersion", "2")
	q.Set("sendCredentials", "true")
	q.Set("dockerVersion", "DockerVersion: 25.0.3")
	q.Add("odd name", "a/b")
	q.Add("odd name", "a-b")
	q.Set("tilde~star*plus+", "~*+ ")
	q.Set("empty", "")

	for _, tc := range []struct {
		name string
		// rewrite, if set, replaces the query the SDK wrote before sending,
		// as a client that signs one URL value and dials another may do.
		rewrite func() string
	}{
		{name: "as signed"},
		{name: "url.Values.Encode on the wire", rewrite: q.Encode},
		{name: "reordered on the wire", rewrite: func() string {
			parts := strings.Split(q.Encode(), "&")
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
			return strings.Join(parts, "&")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, http.MethodGet, "/ws?"+q.Encode(), nil)
			signECS(t, req, nil, creds())
			if tc.rewrite != nil {
				req.URL.RawQuery = tc.rewrite()
			}
			// Headers the websocket dialer adds after signing.
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			r, body := send(t, req)
			if sdkForm := !strings.Contains(r.URL.RawQuery, "+"); sdkForm != (tc.rewrite == nil) {
				t.Fatalf("query on the wire %q is not in the intended form", r.URL.RawQuery)
			}
			if err := verify(t, r, body); err != nil {
				t.Fatalf("Verify: %v (query on the wire %q)", err, r.URL.RawQuery)
			}

			for name, tamper := range map[string]func(*http.Request){
				"value changed": func(r *http.Request) {
					r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "sendCredentials=true", "sendCredentials=false", 1)
				},
				"param added":    func(r *http.Request) { r.URL.RawQuery += "&seqNum=2" },
				"param removed":  func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "protocolVersion=2", "", 1) },
				"empty value":    func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "empty=", "empty=x", 1) },
				"whole query":    func(r *http.Request) { r.URL.RawQuery = "" },
				"bad escape":     func(r *http.Request) { r.URL.RawQuery += "&x=%zz" },
				"host":           func(r *http.Request) { r.Host = "ecs.us-west-2.berth.example" },
				"path":           func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/ws2", "" },
				"method":         func(r *http.Request) { r.Method = http.MethodPost },
				"date header":    func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260304T050608Z") },
				"content sha256": func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) },
			} {
				rr := r.Clone(context.Background())
				tamper(rr)
				err := verify(t, rr, nil)
				want := error(ErrSignatureMismatch)
				if name == "bad escape" {
					want = ErrMalformed
				}
				if !errors.Is(err, want) {
					t.Errorf("tampered %s: Verify = %v, want %v", name, err, want)
				}
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	t.Parallel()
	presign := func(t *testing.T, expires time.Duration, token string) (*http.Request, []byte) {
		t.Helper()
		req := newRequest(t, http.MethodGet, "/ws?agentVersion=1.0.0&sendCredentials=true&seqNum=1", nil)
		if expires > 0 {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
			req.URL.RawQuery = q.Encode()
		}
		req.Header.Set("X-Berth-Extra", "  signed   too ")
		c := creds()
		c.SessionToken = token
		signed, headers, err := v4.NewSigner().PresignHTTP(context.Background(), c, req, hashHex(nil), "ecs", testRegion, signTime)
		if err != nil {
			t.Fatal(err)
		}
		get, err := http.NewRequest(http.MethodGet, signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		get.Host = testHost
		for k, vs := range headers {
			if k != "Host" {
				get.Header[k] = vs
			}
		}
		return send(t, get)
	}

	t.Run("no expiry", func(t *testing.T) {
		t.Parallel()
		r, body := presign(t, 0, "")
		c := mustParse(t, r)
		if !c.Presigned || c.Expires != 0 || !c.Time.Equal(signTime) || c.AccessKeyID != testKeyID || c.Service != "ecs" {
			t.Errorf("Parse = %+v", c)
		}
		if !c.signs("x-berth-extra") {
			t.Errorf("SignedHeaders = %q, want x-berth-extra", c.SignedHeaders)
		}
		if err := Verify(r, body, c, testSecret, testNow); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if err := Verify(r, body, c, testSecret, signTime.Add(16*time.Minute)); !errors.Is(err, ErrExpired) {
			t.Errorf("Verify 16 minutes later = %v, want ErrExpired", err)
		}
		if err := Verify(r, body, c, "other", testNow); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("Verify with wrong secret = %v, want ErrSignatureMismatch", err)
		}
		for name, tamper := range map[string]func(*http.Request){
			"query value":   func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "seqNum=1", "seqNum=2", 1) },
			"signed header": func(r *http.Request) { r.Header.Set("X-Berth-Extra", "other") },
			"date":          func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "T050607Z", "T050608Z", 1) },
			"region in scope": func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "%2Fus-east-1%2F", "%2Fus-west-2%2F", 1)
			},
			"signed list": func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-SignedHeaders=host%3Bx-berth-extra", "X-Amz-SignedHeaders=host", 1)
			},
		} {
			rr := r.Clone(context.Background())
			tamper(rr)
			if rr.URL.RawQuery == r.URL.RawQuery && name != "signed header" {
				t.Fatalf("tamper %s did not change the query %q", name, r.URL.RawQuery)
			}
			if err := verify(t, rr, body); !errors.Is(err, ErrSignatureMismatch) {
				t.Errorf("tampered %s: Verify = %v, want ErrSignatureMismatch", name, err)
			}
		}
	})

	t.Run("with expiry and session token", func(t *testing.T) {
		t.Parallel()
		r, body := presign(t, time.Hour, "session/token+x=")
		c := mustParse(t, r)
		if c.Expires != time.Hour || c.SecurityToken != "session/token+x=" {
			t.Errorf("Parse = %+v", c)
		}
		for _, tc := range []struct {
			now  time.Time
			want error
		}{
			{signTime, nil},
			{signTime.Add(-15 * time.Minute), nil},
			{signTime.Add(-16 * time.Minute), ErrExpired},
			{signTime.Add(59 * time.Minute), nil},
			{signTime.Add(time.Hour), nil},
			{signTime.Add(time.Hour + time.Second), ErrExpired},
		} {
			err := Verify(r, body, c, testSecret, tc.now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Verify at %s = %v, want %v", tc.now, err, tc.want)
			}
		}
		rr := r.Clone(context.Background())
		rr.URL.RawQuery = strings.Replace(rr.URL.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=7200", 1)
		if err := verify(t, rr, body); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("tampered expiry: Verify = %v, want ErrSignatureMismatch", err)
		}
	})
}

func TestVerifyUnusualHeaders(t *testing.T) {
	t.Parallel()
	body := []byte(`{"cluster":"default"}`)
	req := newRequest(t, http.MethodPost, "/", body)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices")
	req.Header.Set("X-Berth-Spaces", "   a    b  c   ")
	req.Header.Set("X-Berth-Tab", "\tx \t  y\t")
	req.Header.Add("X-Berth-Multi", "  one ")
	req.Header.Add("X-Berth-Multi", "two  ,   three")
	req.Header.Set("X-Berth-Empty", "")
	req.Header["x-berth-lower"] = []string{"lower-case key"}
	signECS(t, req, body, creds())
	r, got := send(t, req)
	c := mustParse(t, r)
	for _, h := range []string{"x-berth-spaces", "x-berth-tab", "x-berth-multi", "x-berth-empty", "x-berth-lower"} {
		if !c.signs(h) {
			t.Errorf("SignedHeaders = %q, want %s", c.SignedHeaders, h)
		}
	}
	if err := Verify(r, got, c, testSecret, testNow); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// Whitespace changes that canonicalise the same are not tampering;
	// others are.
	for _, tc := range []struct {
		name, header string
		values       []string
		want         error
	}{
		{"more inner spaces", "X-Berth-Spaces", []string{"a          b c"}, nil},
		{"removed inner space", "X-Berth-Spaces", []string{"ab c"}, ErrSignatureMismatch},
		{"multi values joined", "X-Berth-Multi", []string{"one,two , three"}, nil},
		{"multi values reordered", "X-Berth-Multi", []string{"two  ,   three", "one"}, ErrSignatureMismatch},
		{"empty value", "X-Berth-Empty", []string{"x"}, ErrSignatureMismatch},
		{"empty header removed", "X-Berth-Empty", nil, nil},
	} {
		rr := r.Clone(context.Background())
		if tc.values == nil {
			delete(rr.Header, tc.header)
		} else {
			rr.Header[tc.header] = tc.values
		}
		err := Verify(rr, got, c, testSecret, testNow)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestVerifyEncodedPath(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"/",
		"",
		"/v1/some%20path/%C3%BC/a+b:c/~x/-._",
		"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations",
		"/a//b/",
		"/weird/$&'()*,;=@!",
		"/percent/%25/%2F/end",
	} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			body := []byte(`{}`)
			req := newRequest(t, http.MethodPost, target, body)
			req.Header.Set("Content-Type", "application/json")
			signECS(t, req, body, creds())
			r, got := send(t, req)
			if err := verify(t, r, got); err != nil {
				t.Fatalf("Verify: %v (path on the wire %q)", err, r.URL.EscapedPath())
			}
			// The path as sent is signed: decoding it differently is tampering.
			if target != "" && target != "/" {
				rr := r.Clone(context.Background())
				rr.URL.Path, rr.URL.RawPath = rr.URL.Path+"x", ""
				if err := verify(t, rr, got); !errors.Is(err, ErrSignatureMismatch) {
					t.Errorf("tampered path: Verify = %v, want ErrSignatureMismatch", err)
				}
			}
		})
	}
}

func TestVerifyContentSHA256(t *testing.T) {
	t.Parallel()
	body := []byte(`{"family":"web"}`)

	t.Run("hash header", func(t *testing.T) {
		t.Parallel()
		req := newRequest(t, http.MethodPost, "/", body)
		req.Header.Set("X-Amz-Content-Sha256", hashHex(body))
		signECS(t, req, body, creds())
		r, got := send(t, req)
		if err := verify(t, r, got); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// The body no longer matches the signed hash.
		if err := verify(t, r, []byte(`{"family":"evil"}`)); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("tampered body: Verify = %v, want ErrSignatureMismatch", err)
		}
		// Nor does a re-computed hash header match the signature.
		rr := r.Clone(context.Background())
		rr.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(`{"family":"evil"}`)))
		if err := verify(t, rr, []byte(`{"family":"evil"}`)); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("tampered body and hash: Verify = %v, want ErrSignatureMismatch", err)
		}
		rr.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		if err := verify(t, rr, got); !errors.Is(err, ErrMalformed) {
			t.Errorf("streaming payload: Verify = %v, want ErrMalformed", err)
		}
	})

	t.Run("unsigned payload", func(t *testing.T) {
		t.Parallel()
		req := newRequest(t, http.MethodPost, "/", body)
		req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds(), req, UnsignedPayload, "ecs", testRegion, signTime); err != nil {
			t.Fatal(err)
		}
		r, got := send(t, req)
		if err := verify(t, r, got); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// By definition the body is not covered.
		if err := verify(t, r, []byte("anything")); err != nil {
			t.Errorf("Verify with another body: %v", err)
		}
		rr := r.Clone(context.Background())
		rr.Header.Del("X-Amz-Content-Sha256")
		if err := verify(t, rr, got); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("header removed: Verify = %v, want ErrSignatureMismatch", err)
		}
	})
}

func TestVerifySessionToken(t *testing.T) {
	t.Parallel()
	body := []byte(`{}`)
	req := newRequest(t, http.MethodPost, "/", body)
	c := creds()
	c.SessionToken = "FwoGZXIvYXdzEXAMPLE//token=="
	signECS(t, req, body, c)
	r, got := send(t, req)
	cred := mustParse(t, r)
	if cred.SecurityToken != c.SessionToken {
		t.Errorf("SecurityToken = %q, want %q", cred.SecurityToken, c.SessionToken)
	}
	if err := Verify(r, got, cred, testSecret, testNow); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r.Header.Set("X-Amz-Security-Token", "other")
	if err := verify(t, r, got); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("tampered token: Verify = %v, want ErrSignatureMismatch", err)
	}
}

// TestVerifyClientRequest verifies requests as built by a client, without a
// server in between: Host only in the URL, Content-Length only in the field.
func TestVerifyClientRequest(t *testing.T) {
	t.Parallel()
	body := []byte(`{"cluster":"default"}`)
	req, err := http.NewRequest(http.MethodPost, "https://"+testHost+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "" // http.NewRequest copies the URL's host here; a client may not.
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices")
	req.Header.Set("X-Berth-Spaces", "  a   b\t ")
	req.Header["x-berth-lower"] = []string{" x  y "}
	signECS(t, req, body, creds())
	if req.Header.Get("Content-Length") != "" {
		t.Fatal("test expects no Content-Length field")
	}
	if err := verify(t, req, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	req.ContentLength++
	if err := verify(t, req, body); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("tampered length: Verify = %v, want ErrSignatureMismatch", err)
	}
}

// signHeaders returns an Authorization header value for r signed with this
// package's own code (for forms the AWS SDK cannot produce).
func signHeaders(r *http.Request, body []byte, c Credential, secret string) string {
	creq, err := canonicalRequest(r, &c, hashHex(body))
	if err != nil {
		panic(err)
	}
	return "AWS4-HMAC-SHA256 Credential=" + c.AccessKeyID + "/" + c.scope() +
		", SignedHeaders=" + strings.Join(c.SignedHeaders, ";") +
		", Signature=" + hex.EncodeToString(signature(secret, &c, creq))
}

func TestVerifyDateHeader(t *testing.T) {
	t.Parallel()
	body := []byte(`{}`)
	req := newRequest(t, http.MethodPost, "/", body)
	req.Header.Set("Date", signTime.Format(http.TimeFormat))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	c := Credential{
		AccessKeyID: testKeyID, Date: "20260304", Region: testRegion, Service: "ecs",
		SignedHeaders: []string{"date", "host", "x-amz-target"}, Time: signTime,
	}
	req.Header.Set("Authorization", signHeaders(req, body, c, testSecret))
	r, got := send(t, req)
	parsed := mustParse(t, r)
	if !parsed.Time.Equal(signTime) {
		t.Errorf("Time = %s, want %s", parsed.Time, signTime)
	}
	if err := Verify(r, got, parsed, testSecret, testNow); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r.Header.Set("Date", signTime.Add(time.Second).Format(http.TimeFormat))
	if err := verify(t, r, got); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("tampered Date: Verify = %v, want ErrSignatureMismatch", err)
	}
	// An X-Amz-Date header takes precedence, and must then be signed.
	r.Header.Set("X-Amz-Date", "20260304T050607Z")
	if _, _, err := Parse(r); !errors.Is(err, ErrMalformed) {
		t.Errorf("unsigned X-Amz-Date: Parse error = %v, want ErrMalformed", err)
	}
}

// TestKnownAnswers checks examples from the AWS SigV4 documentation and test
// suite, independently of the SDK signer.
func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, url, auth string
		header          http.Header
	}{
		{
			name:   "get-vanilla",
			url:    "https://example.amazonaws.com/",
			header: http.Header{"X-Amz-Date": {"20150830T123600Z"}},
			auth:   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
		{
			name: "iam ListUsers",
			url:  "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
			header: http.Header{
				"X-Amz-Date":   {"20150830T123600Z"},
				"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"},
			},
			auth: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header = tc.header
			r.Header.Set("Authorization", tc.auth)
			c := mustParse(t, r)
			if err := Verify(r, nil, c, secret, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	const (
		sig   = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
		valid = "AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig
		date  = "20260304T050607Z"
	)
	build := func(auth []string, header http.Header, query string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/?"+query, nil)
		if header == nil {
			header = http.Header{"X-Amz-Date": {date}}
		}
		r.Header = header
		if auth != nil {
			r.Header["Authorization"] = auth
		}
		return r
	}

	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		for _, r := range []*http.Request{
			build(nil, http.Header{}, ""),
			build(nil, nil, "agentVersion=1.0.0&X-Amz-Date="+date),
			build(nil, nil, "x-amz-signature=lowercase-is-another-parameter"),
		} {
			c, ok, err := Parse(r)
			if ok || err != nil || c.AccessKeyID != "" {
				t.Errorf("Parse(%v) = %+v, %v, %v; want unsigned", r.URL, c, ok, err)
			}
		}
	})

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			auth   string
			header http.Header
			want   Credential
		}{
			{"sdk form", valid, nil, Credential{AccessKeyID: "AKID", SignedHeaders: []string{"host", "x-amz-date"}}},
			{"no spaces", strings.ReplaceAll(valid, ", ", ","), nil, Credential{AccessKeyID: "AKID", SignedHeaders: []string{"host", "x-amz-date"}}},
			{"extra spaces and reordered", "AWS4-HMAC-SHA256   Signature=" + sig + " ,  SignedHeaders=host;x-amz-date ,Credential=AKID/20260304/us-east-1/ecs/aws4_request  ", nil,
				Credential{AccessKeyID: "AKID", SignedHeaders: []string{"host", "x-amz-date"}}},
			{"slash in key id", strings.Replace(valid, "AKID/", "tenant/AKID/", 1), nil, Credential{AccessKeyID: "tenant/AKID", SignedHeaders: []string{"host", "x-amz-date"}}},
			{"session token", strings.Replace(valid, "x-amz-date", "x-amz-date;x-amz-security-token", 1),
				http.Header{"X-Amz-Date": {date}, "X-Amz-Security-Token": {"tok"}},
				Credential{AccessKeyID: "AKID", SignedHeaders: []string{"host", "x-amz-date", "x-amz-security-token"}, SecurityToken: "tok"}},
		} {
			c, ok, err := Parse(build([]string{tc.auth}, tc.header, ""))
			if err != nil || !ok {
				t.Errorf("%s: Parse: ok=%v err=%v", tc.name, ok, err)
				continue
			}
			tc.want.Date, tc.want.Region, tc.want.Service, tc.want.Signature, tc.want.Time = "20260304", "us-east-1", "ecs", sig, signTime
			if c.AccessKeyID != tc.want.AccessKeyID || c.Date != tc.want.Date || c.Region != tc.want.Region ||
				c.Service != tc.want.Service || c.Signature != tc.want.Signature || !c.Time.Equal(tc.want.Time) ||
				strings.Join(c.SignedHeaders, ";") != strings.Join(tc.want.SignedHeaders, ";") ||
				c.SecurityToken != tc.want.SecurityToken || c.Presigned {
				t.Errorf("%s: Parse = %+v, want %+v", tc.name, c, tc.want)
			}
		}
	})

	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		presigned := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260304%2Fus-east-1%2Fecs%2Faws4_request&X-Amz-Date=" + date +
			"&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig
		for _, tc := range []struct {
			name   string
			auth   []string
			header http.Header
			query  string
		}{
			{name: "empty header", auth: []string{""}},
			{name: "two headers", auth: []string{valid, valid}},
			{name: "bearer", auth: []string{"Bearer abc.def"}},
			{name: "sigv2", auth: []string{"AWS AKID:c2lnbmF0dXJl"}},
			{name: "algorithm only", auth: []string{"AWS4-HMAC-SHA256"}},
			{name: "algorithm and space", auth: []string{"AWS4-HMAC-SHA256 "}},
			{name: "algorithm glued", auth: []string{"AWS4-HMAC-SHA256Credential=AKID/20260304/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig}},
			{name: "lowercase algorithm", auth: []string{strings.ToLower("AWS4-HMAC-SHA256") + valid[len("AWS4-HMAC-SHA256"):]}},
			{name: "other algorithm", auth: []string{strings.Replace(valid, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)}},
			{name: "no signature", auth: []string{valid[:strings.Index(valid, ", Signature")]}},
			{name: "no credential", auth: []string{"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + sig}},
			{name: "no signed headers", auth: []string{"AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/ecs/aws4_request, Signature=" + sig}},
			{name: "repeated component", auth: []string{valid + ", Signature=" + sig}},
			{name: "unknown component", auth: []string{valid + ", Foo=bar"}},
			{name: "trailing comma", auth: []string{valid + ","}},
			{name: "component without =", auth: []string{valid + ", Foo"}},
			{name: "lowercase component", auth: []string{strings.Replace(valid, "Signature=", "signature=", 1)}},
			{name: "short scope", auth: []string{strings.Replace(valid, "AKID/20260304/us-east-1/ecs/aws4_request", "AKID/20260304/us-east-1/aws4_request", 1)}},
			{name: "empty key", auth: []string{strings.Replace(valid, "AKID/", "/", 1)}},
			{name: "bad scope date", auth: []string{strings.Replace(valid, "20260304", "2026034", 1)}},
			{name: "impossible scope date", auth: []string{strings.Replace(valid, "20260304", "20261304", 1)}},
			{name: "empty region", auth: []string{strings.Replace(valid, "/us-east-1/", "//", 1)}},
			{name: "empty service", auth: []string{strings.Replace(valid, "/ecs/", "//", 1)}},
			{name: "bad terminator", auth: []string{strings.Replace(valid, "aws4_request", "aws4_requests", 1)}},
			{name: "unsorted headers", auth: []string{strings.Replace(valid, "host;x-amz-date", "x-amz-date;host", 1)}},
			{name: "duplicate headers", auth: []string{strings.Replace(valid, "host;x-amz-date", "host;host;x-amz-date", 1)}},
			{name: "uppercase header", auth: []string{strings.Replace(valid, "host;x-amz-date", "Host;x-amz-date", 1)}},
			{name: "empty header name", auth: []string{strings.Replace(valid, "host;x-amz-date", "host;;x-amz-date", 1)}},
			{name: "host not signed", auth: []string{strings.Replace(valid, "host;x-amz-date", "x-amz-date", 1)}},
			{name: "date not signed", auth: []string{strings.Replace(valid, "host;x-amz-date", "host", 1)}},
			{name: "short signature", auth: []string{valid[:len(valid)-1]}},
			{name: "long signature", auth: []string{valid + "0"}},
			{name: "non-hex signature", auth: []string{valid[:len(valid)-1] + "g"}},
			{name: "no date header", auth: []string{valid}, header: http.Header{}},
			{name: "bad amz date", auth: []string{valid}, header: http.Header{"X-Amz-Date": {"2026-03-04T05:06:07Z"}}},
			{name: "short amz date", auth: []string{valid}, header: http.Header{"X-Amz-Date": {"20260304T50607Z"}}},
			{name: "two amz dates", auth: []string{valid}, header: http.Header{"X-Amz-Date": {date, date}}},
			{name: "bad date header", auth: []string{strings.Replace(valid, "host;x-amz-date", "date;host", 1)}, header: http.Header{"Date": {"yesterday"}}},
			{name: "unsigned date header", auth: []string{valid}, header: http.Header{"Date": {signTime.Format(http.TimeFormat)}}},
			{name: "unsigned session token", auth: []string{valid}, header: http.Header{"X-Amz-Date": {date}, "X-Amz-Security-Token": {"tok"}}},
			{name: "header and query", auth: []string{valid}, query: presigned},
			{name: "presigned without signature", query: strings.Replace(presigned, "&X-Amz-Signature=", "&X-Amz-Nope=", 1)},
			{name: "presigned signature only", query: "X-Amz-Signature=" + sig},
			{name: "presigned other algorithm", query: strings.Replace(presigned, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1)},
			{name: "presigned repeated", query: presigned + "&X-Amz-Date=" + date},
			{name: "presigned bad date", query: strings.Replace(presigned, date, "20260304", 1)},
			{name: "presigned bad credential", query: strings.Replace(presigned, "%2Faws4_request", "", 1)},
			{name: "presigned expires zero", query: presigned + "&X-Amz-Expires=0"},
			{name: "presigned expires negative", query: presigned + "&X-Amz-Expires=-5"},
			{name: "presigned expires signed", query: presigned + "&X-Amz-Expires=%2B5"},
			{name: "presigned expires too long", query: presigned + "&X-Amz-Expires=604801"},
			{name: "presigned expires not a number", query: presigned + "&X-Amz-Expires=1h"},
		} {
			c, ok, err := Parse(build(tc.auth, tc.header, tc.query))
			if !errors.Is(err, ErrMalformed) || ok || c.AccessKeyID != "" {
				t.Errorf("%s: Parse = %+v, %v, %v; want ErrMalformed", tc.name, c, ok, err)
			}
		}
	})

	t.Run("presigned", func(t *testing.T) {
		t.Parallel()
		q := "b=2&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260304%2Fus-east-1%2Fecs%2Faws4_request&X-Amz-Date=" + date +
			"&X-Amz-SignedHeaders=host%3Bx-custom&X-Amz-Signature=" + sig + "&X-Amz-Expires=604800&X-Amz-Security-Token=a%2Bb"
		c, ok, err := Parse(build(nil, http.Header{}, q))
		if err != nil || !ok {
			t.Fatalf("Parse: ok=%v err=%v", ok, err)
		}
		if !c.Presigned || c.AccessKeyID != "AKID" || c.Signature != sig || !c.Time.Equal(signTime) ||
			c.Expires != MaxExpires || c.SecurityToken != "a+b" || strings.Join(c.SignedHeaders, ";") != "host;x-custom" {
			t.Errorf("Parse = %+v", c)
		}
	})
}

func TestVerifyRejectsInconsistentCredential(t *testing.T) {
	t.Parallel()
	r, body := ecsPost(t, "ListClusters", []byte(`{}`))
	c := mustParse(t, r)

	bad := c
	bad.Signature = "xyz"
	if err := Verify(r, body, bad, testSecret, testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad signature syntax: Verify = %v, want ErrMalformed", err)
	}
	bad = c
	bad.SignedHeaders = []string{"x-amz-date"}
	if err := Verify(r, body, bad, testSecret, testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("host not signed: Verify = %v, want ErrMalformed", err)
	}
	bad = c
	bad.Date = "20260305"
	if err := Verify(r, body, bad, testSecret, testNow); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("scope date not the signing date: Verify = %v, want ErrSignatureMismatch", err)
	}
	if err := Verify(r, body, Credential{}, testSecret, testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("zero credential: Verify = %v, want ErrMalformed", err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, e := range []Error{ErrMalformed, ErrSignatureMismatch, ErrExpired} {
		if !strings.HasPrefix(e.Error(), "sigv4: ") {
			t.Errorf("%q lacks the package prefix", e)
		}
		for _, other := range []Error{ErrMalformed, ErrSignatureMismatch, ErrExpired} {
			if (e == other) != errors.Is(e, other) {
				t.Errorf("errors.Is(%q, %q) wrong", e, other)
			}
		}
	}
}
