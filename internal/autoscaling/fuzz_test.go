package autoscaling

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var actions = []string{
	"CreateAutoScalingGroup", "UpdateAutoScalingGroup", "DescribeAutoScalingGroups", "DeleteAutoScalingGroup",
	"SetDesiredCapacity", "SetInstanceProtection", "DescribeAutoScalingInstances",
	"TerminateInstanceInAutoScalingGroup", "DescribeScalingActivities",
}

// FuzzDecodeInput: any body decodes to an input or to an *Error that is a
// 4xx, never a panic.
func FuzzDecodeInput(f *testing.F) {
	seeds := []string{
		"Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&MinSize=0&MaxSize=2&LaunchTemplate.LaunchTemplateName=berth-sim&AvailabilityZones.member.1=us-east-1a&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"AutoScalingGroupNames.member.1=a&AutoScalingGroupNames.member.02=b&MaxRecords=999999999999",
		"InstanceIds.member.0=i-1&ProtectedFromScaleIn=maybe",
		"Tags.member.1.Key=&Filters.member.1.Values.member.1=x%ff",
		"MinSize=-1&MaxSize=%zz",
	}
	for _, s := range seeds {
		for i := range actions {
			f.Add(i, s)
		}
	}
	f.Fuzz(func(t *testing.T, action int, body string) {
		fm, err := parseForm(body)
		if err != nil {
			checkClientError(t, err)
			return
		}
		if action < 0 {
			action = -action
		}
		in, err := decodeInput(actions[action%len(actions)], fm)
		if err != nil {
			checkClientError(t, err)
			return
		}
		if in == nil {
			t.Fatal("nil input without an error")
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if s := e.Code.status(); s < 400 || s >= 500 {
		t.Fatalf("error %v has status %d", err, s)
	}
}

// newTestHandler serves the API on a fresh bolt store, everyone in
// account 123456789012.
func newTestHandler(t testing.TB) *Handler {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h, err := NewHandler(HandlerConfig{Store: s, Authenticate: func(*http.Request, []byte) (ecs.Namespace, error) {
		return ecs.Namespace{Partition: "aws", Account: "123456789012", Region: "us-east-1"}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// FuzzHandler: whole requests through the handler and the store never
// get a 5xx.
func FuzzHandler(f *testing.F) {
	for _, a := range actions {
		f.Add("Action=" + a + "&Version=2011-01-01&AutoScalingGroupName=g&MinSize=0&MaxSize=1&DesiredCapacity=1&LaunchConfigurationName=lc&AvailabilityZones.member.1=z&InstanceId=i-1&InstanceIds.member.1=i-1&ShouldDecrementDesiredCapacity=true&ProtectedFromScaleIn=true&NextToken=Zw&ForceDelete=true")
	}
	f.Add("Action=DescribeAutoScalingGroups&Version=2010-01-01")
	f.Add("Version=2011-01-01")
	h := newTestHandler(f)
	f.Fuzz(func(t *testing.T, body string) {
		w := post(h, body)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q:\n%s", w.Code, body, w.Body)
		}
	})
}

func TestHandler_Protocol(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		name, body string
		status     int
		contains   []string
	}{
		{"MissingAction", "Version=2011-01-01", 400, []string{"<Code>MissingAction</Code>", "<Type>Sender</Type>"}},
		{"WrongVersion", "Action=DescribeAutoScalingGroups&Version=2010-01-01", 400, []string{"<Code>InvalidAction</Code>"}},
		{"UnknownAction", "Action=PutScalingPolicy&Version=2011-01-01", 400, []string{"<Code>InvalidAction</Code>"}},
		{"BadQuery", "Action=%zz", 400, []string{"<Code>MalformedQueryString</Code>"}},
		{"MissingRequired", "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g", 400,
			[]string{"<Code>ValidationError</Code>", "2 validation errors detected", "at &#39;minSize&#39;", "Member must not be null"}},
		{"TooLong", "Action=SetDesiredCapacity&Version=2011-01-01&DesiredCapacity=1&AutoScalingGroupName=" + strings.Repeat("x", 256), 400,
			[]string{"Member must have length less than or equal to 255"}},
		{"BadInt", "Action=SetDesiredCapacity&Version=2011-01-01&DesiredCapacity=two&AutoScalingGroupName=g", 400, []string{"Member must be an integer"}},
		{"BadBool", "Action=DeleteAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&ForceDelete=yes", 400, []string{"Member must be a boolean"}},
		{"BadListIndex", "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.x=g", 400, []string{"list index"}},
		{"BadLaunchTemplateName", "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&MinSize=0&MaxSize=1&LaunchTemplate.LaunchTemplateName=a%20b", 400,
			[]string{"regular expression pattern"}},
		{"Describe", "Action=DescribeAutoScalingGroups&Version=2011-01-01", 200, []string{
			`<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">`,
			"<DescribeAutoScalingGroupsResult><AutoScalingGroups></AutoScalingGroups></DescribeAutoScalingGroupsResult>",
			"<ResponseMetadata><RequestId>"}},
		{"Create", "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&MinSize=0&MaxSize=1&LaunchConfigurationName=lc&AvailabilityZones.member.1=z", 200,
			[]string{"<CreateAutoScalingGroupResponse", "</ResponseMetadata></CreateAutoScalingGroupResponse>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(h, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tt.status, w.Body)
			}
			for _, s := range tt.contains {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body lacks %q:\n%s", s, w.Body)
				}
			}
		})
	}
}

func TestIsQueryRequest(t *testing.T) {
	mk := func(method, ct, target string) *http.Request {
		r := httptest.NewRequest(method, "/", strings.NewReader(url.Values{"Action": {"X"}}.Encode()))
		r.Header.Set("Content-Type", ct)
		if target != "" {
			r.Header.Set("X-Amz-Target", target)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"Form", mk("POST", "application/x-www-form-urlencoded; charset=utf-8", ""), true},
		{"ECSJSON", mk("POST", "application/x-amz-json-1.1", "AmazonEC2ContainerServiceV20141113.ListClusters"), false},
		{"FormWithTarget", mk("POST", "application/x-www-form-urlencoded", "X.Y"), false},
		{"Get", mk("GET", "application/x-www-form-urlencoded", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsQueryRequest(tt.r); got != tt.want {
				t.Errorf("IsQueryRequest = %v, want %v", got, tt.want)
			}
		})
	}
}
