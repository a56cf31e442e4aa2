package raft

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// TestScripts runs the interaction scripts of testdata/ (election,
// replication, a follower catching up, a crashed follower recovering from its
// disk). Rewrite their expected output with: go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t testing.TB, servers int, d *datadriven.TestData) *testNet {
			cfg := DefaultConfig()
			if d.HasArg("max-entries") {
				d.ScanArgs(t, "max-entries", &cfg.MaxEntriesPerAppend)
			}
			return newTestNet(t.(*testing.T), servers, cfg)
		},
		Timers: map[string]sim.TimerKind{"election": timerElection, "heartbeat": timerHeartbeat},
		Status: func(n *node) string {
			return fmt.Sprintf("%v term=%d vote=%v lead=%v commit=%d applied=%d log=%v",
				n.role, n.term, n.vote, n.lead, n.commit, n.applied, terms(n.log))
		},
	}.Run(t, "testdata")
}
