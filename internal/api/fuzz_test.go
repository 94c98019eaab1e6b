package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/wire"
)

// newTestServer returns an API server over a real control and bolt store.
func newTestServer(t testing.TB) *Server {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.New(context.Background(), control.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_ = st.Close()
	})
	s, err := New(Config{Control: c, DefaultRegion: "us-east-1", DefaultAccount: "000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serveOne sends one request through the handler and returns the recorder.
func serveOne(s *Server, op, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", wire.TargetPrefix+"."+op)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// checkAnswer fails unless the answer is a 200 or a 4xx in the ECS error
// shape, with a request id.
func checkAnswer(t *testing.T, op, body string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("%s: no x-amzn-RequestId", op)
	}
	if rec.Code == http.StatusOK {
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: 200 with invalid JSON %q", op, body, rec.Body.String())
		}
		return
	}
	if rec.Code < 400 || rec.Code >= 500 {
		t.Fatalf("%s %q: status %d: %s", op, body, rec.Code, rec.Body.String())
	}
	var e struct {
		Type    string  `json:"__type"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Type == "" || e.Message == nil {
		t.Fatalf("%s %q: error body not in the ECS shape: %q", op, body, rec.Body.String())
	}
}

// FuzzDecodeRequest feeds arbitrary bodies to every operation through the
// real handler (decode, model validation, control on a bolt store): the
// answer must always be a 200 or a 4xx in the ECS error shape — never a
// 5xx, never a panic.
//
//	go test -run='^$' -fuzz=FuzzDecodeRequest -fuzztime=30s ./internal/api/
func FuzzDecodeRequest(f *testing.F) {
	ops := wire.Operations()
	seeds := []struct {
		op   string
		body string
	}{
		{"CreateCluster", `{"clusterName":"a","tags":[{"key":"k","value":"v"}],"settings":[{"name":"containerInsights","value":"enabled"}]}`},
		{"CreateCluster", `{"clusterName":"` + strings.Repeat("x", 300) + `"}`},
		{"DescribeClusters", `{"clusters":["a","arn:aws:ecs:us-east-1:000000000000:cluster/a"],"include":["TAGS","STATISTICS"]}`},
		{"ListClusters", `{"maxResults":0,"nextToken":"abc.def"}`},
		{"RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":8080}]}]}`},
		{"RegisterTaskDefinition", `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"1 vCPU","memory":"2 GB","containerDefinitions":[{"name":"c","image":"i"}]}`},
		{"PutClusterCapacityProviders", `{"cluster":"a","capacityProviders":["FARGATE"],"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1001}]}`},
		{"CreateCapacityProvider", `{"name":"cp","autoScalingGroupProvider":{"autoScalingGroupArn":"arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:x:autoScalingGroupName/g","managedScaling":{"targetCapacity":0}}}`},
		{"PutAccountSetting", `{"name":"containerInsights","value":"enhanced","principalArn":"arn:aws:iam::000000000000:user/u"}`},
		{"ListAccountSettings", `{"effectiveSettings":true,"maxResults":3}`},
		{"TagResource", `{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/a","tags":[{"key":"aws:x","value":"v"}]}`},
		{"PutAttributes", `{"attributes":[{"name":"n","targetId":"x"}]}`},
		{"RunTask", `{"taskDefinition":"f"}`},
		{"CreateCluster", `[]`},
		{"CreateCluster", `{"clusterName":7}`},
		{"CreateCluster", `{"tags":[{"key":null}]}`},
		{"SubmitTaskStateChange", `{"pullStartedAt":"x"}`},
		{"CreateCluster", `{`},
	}
	index := map[string]int{}
	for i, op := range ops {
		index[op.Name] = i
	}
	for _, s := range seeds {
		f.Add(uint8(index[s.op]), []byte(s.body))
	}
	srv := newTestServer(f)
	f.Fuzz(func(t *testing.T, opIdx uint8, body []byte) {
		op := ops[int(opIdx)%len(ops)].Name
		rec := serveOne(srv, op, string(body))
		checkAnswer(t, op, string(body), rec)
	})
}

// TestProtocolErrors covers the protocol-level answers.
func TestProtocolErrors(t *testing.T) {
	s := newTestServer(t)
	cases := []struct {
		name, op, body string
		method         string
		status         int
		typ            string
	}{
		{"UnknownOperation", "NoSuchThing", `{}`, "POST", 400, "UnknownOperationException"},
		{"MalformedJSON", "CreateCluster", `{"clusterName":`, "POST", 400, "SerializationException"},
		{"WrongMemberType", "CreateCluster", `{"clusterName":7}`, "POST", 400, "SerializationException"},
		{"NotAnObject", "CreateCluster", `[1,2]`, "POST", 400, "SerializationException"},
		{"MissingRequired", "RegisterTaskDefinition", `{"family":"x"}`, "POST", 400, "InvalidParameterException"},
		{"UnknownEnum", "DescribeClusters", `{"include":["BOGUS"]}`, "POST", 400, "InvalidParameterException"},
		{"OverLongString", "TagResource", `{"resourceArn":"a","tags":[{"key":"` + strings.Repeat("k", 129) + `","value":"v"}]}`, "POST", 400, "InvalidParameterException"},
		{"OutOfRange", "PutClusterCapacityProviders", `{"cluster":"c","capacityProviders":[],"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":5000}]}`, "POST", 400, "InvalidParameterException"},
		{"OversizedBody", "CreateCluster", `{"clusterName":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "POST", 413, "RequestEntityTooLargeException"},
		{"EmptyBodyIsEmptyObject", "ListClusters", ``, "POST", 200, ""},
		{"NullMembersAccepted", "ListClusters", `{"nextToken":null,"maxResults":null}`, "POST", 200, ""},
		{"UnknownMembersIgnored", "ListClusters", `{"someFutureMember":1}`, "POST", 200, ""},
		{"NotYetImplemented", "ContinueServiceDeployment", `{"serviceDeploymentArn":"x"}`, "POST", 400, "UnsupportedFeatureException"},
		{"GetRefused", "ListClusters", ``, "GET", 400, "UnknownOperationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
			req.Header.Set("X-Amz-Target", wire.TargetPrefix+"."+c.op)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body.String())
			}
			if c.typ == "" {
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if e.Type != c.typ || e.Message == "" {
				t.Fatalf("got %+v, want __type %s with a message", e, c.typ)
			}
			if got := rec.Header().Get("X-Amzn-ErrorType"); got != c.typ {
				t.Fatalf("X-Amzn-ErrorType %q, want %q", got, c.typ)
			}
		})
	}
}
