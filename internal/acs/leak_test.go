package acs

import (
	"testing"

	"github.com/berth-dev/berth/internal/leaktest"
)

// TestMain fails the run when a goroutine started by this package outlives
// the tests: every test closes its handlers and connections, and Close must
// wait for every session goroutine.
func TestMain(m *testing.M) { leaktest.Main(m, "berth/internal/acs.") }
