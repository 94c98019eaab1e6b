package autoscaling

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "launcher.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExec_Launch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	// Only the launcher's own variables: the test's environment may hold
	// other BERTH_ ones (CI sets BERTH_REQUIRE_DOCKER).
	script := writeScript(t, `env | grep -E '^BERTH_(ACCOUNT|ACTION|AZ|CLUSTER|ENDPOINT|GROUP|INSTANCE_ID|INSTANCE_TYPE|REGION)=' | sort > "`+out+`"`+"\n")
	e := &Exec{Command: []string{script}}
	req := Request{Account: "123456789012", Region: "eu-west-1", Group: "g", InstanceID: "i-0123456789abcdef0",
		InstanceType: "m5.large", AZ: "eu-west-1b", Cluster: "prod", Endpoint: "http://127.0.0.1:8080"}
	for _, action := range []string{"launch", "terminate"} {
		t.Run(action, func(t *testing.T) {
			var err error
			if action == "launch" {
				err = e.Launch(context.Background(), req)
			} else {
				err = e.Terminate(context.Background(), req)
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join([]string{
				"BERTH_ACCOUNT=123456789012",
				"BERTH_ACTION=" + action,
				"BERTH_AZ=eu-west-1b",
				"BERTH_CLUSTER=prod",
				"BERTH_ENDPOINT=http://127.0.0.1:8080",
				"BERTH_GROUP=g",
				"BERTH_INSTANCE_ID=i-0123456789abcdef0",
				"BERTH_INSTANCE_TYPE=m5.large",
				"BERTH_REGION=eu-west-1",
			}, "\n") + "\n"
			if string(b) != want {
				t.Errorf("environment:\n%s\nwant:\n%s", b, want)
			}
		})
	}
}

func TestExec_Failure(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"Stderr", "echo progress\necho 'quota exceeded' >&2\nexit 2\n", "exit status 2: quota exceeded"},
		{"StdoutOnly", "echo first\necho 'last line'\nexit 1\n", "exit status 1: last line"},
		{"Silent", "exit 5\n", "exit status 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Exec{Command: []string{writeScript(t, tt.body)}}
			err := e.Launch(context.Background(), Request{InstanceID: "i-1"})
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want suffix %q", err, tt.want)
			}
		})
	}
}

func TestExec_Timeout(t *testing.T) {
	e := &Exec{Command: []string{writeScript(t, "exec sleep 30\n")}, Timeout: 100 * time.Millisecond}
	start := time.Now()
	err := e.Launch(context.Background(), Request{InstanceID: "i-1"})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestExec_NoCommand(t *testing.T) {
	if err := (&Exec{}).Launch(context.Background(), Request{}); err == nil {
		t.Fatal("want an error")
	}
}

func TestUnavailable(t *testing.T) {
	l := DefaultLaunchers(nil)
	for _, name := range []string{LauncherSim, LauncherLocal, LauncherExec} {
		err := l[name].Launch(context.Background(), Request{})
		if err == nil || !strings.Contains(err.Error(), `"`+name+`" is not available`) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, ok := DefaultLaunchers([]string{"/bin/true"})[LauncherExec].(*Exec); !ok {
		t.Errorf("exec launcher with a command is not Exec")
	}
}

func TestLookupInstanceType(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cpu       int64
		memoryMiB int64
	}{
		{"t3.medium", 2048, 4096}, {"m5.large", 2048, 8192}, {"m5.xlarge", 4096, 16384},
		{"c5.large", 2048, 4096}, {"c5.xlarge", 4096, 8192}, {"r5.large", 2048, 16384},
	} {
		it, ok := LookupInstanceType(tc.name)
		if !ok || it.CPUUnits() != tc.cpu || it.MemoryMiB != tc.memoryMiB {
			t.Errorf("%s: %+v %v", tc.name, it, ok)
		}
	}
	if _, ok := LookupInstanceType("x9.huge"); ok {
		t.Error("unknown type found")
	}
	if names := InstanceTypeNames(); !strings.HasPrefix(names, "t3.micro, t3.small, t3.medium") {
		t.Errorf("names %q", names)
	}
}
