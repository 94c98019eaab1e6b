// Package leaktest fails a test binary whose goroutines outlive its tests.
// A package's tests call it from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.Main(m, "berth/internal/acs.") }
//
// Only tests import it.
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests, then waits up to 2 s for every goroutine running
// code of the given packages (fragments of qualified function names, such
// as "berth/internal/acs.") outside _test.go files to end. Those still
// running are printed and the run fails.
func Main(m *testing.M, packages ...string) {
	code := m.Run()
	if code == 0 {
		if leaked := Leaked(2*time.Second, packages...); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// Leaked polls until no goroutine runs code of the packages (outside
// tests) and returns the stacks of those that remain after d.
func Leaked(d time.Duration, packages ...string) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "_test.go") || strings.Contains(g, "leaktest.Leaked") {
				continue
			}
			for _, p := range packages {
				if strings.Contains(g, p) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
