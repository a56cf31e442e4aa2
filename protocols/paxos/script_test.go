package paxos

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// TestScripts runs the interaction scripts of testdata/ (phase 1 and phase 2,
// competing proposers). Rewrite their expected output with:
// go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t testing.TB, servers int, d *datadriven.TestData) *testNet {
			return newTestNet(t.(*testing.T), servers, testConfig())
		},
		Timers: map[string]sim.TimerKind{"leader": timerLeader, "heartbeat": timerHeartbeat},
		Status: func(n *node) string {
			return fmt.Sprintf("%v ballot=%d promise=%d commit=%d applied=%d", n.role, n.ballot, n.promise, n.commit, n.applied)
		},
	}.Run(t, "testdata")
}
