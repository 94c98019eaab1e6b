package agent

import (
	"testing"

	"github.com/berth-dev/berth/internal/leaktest"
)

// TestMain fails the run when a goroutine of this package outlives the
// tests: every test closes its agents, and Close must wait for the session,
// the event loop, every runner and every runner's operations.
func TestMain(m *testing.M) { leaktest.Main(m, "berth/internal/agent.") }
