package pbft

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/runner"
)

// Whole runs under the real kernel, workload, faults and runner. The runner's
// own tests cover the rest with the shipped scenarios: determinism with
// Byzantine replicas (TestPBFTByzantineSameSeedSameTrace), every behaviour
// with f Byzantine replicas of 4 and 7 (TestShippedScenariosPass over
// pbft-byz-*), and f+1 colluders breaking agreement (TestPBFTTooManyByzantine).

// protocol is PBFT as the registry builds it: clients need f+1 matching
// replies and broadcast their retries.
func protocol() runner.Protocol {
	return prototest.Protocol("pbft", DefaultConfig(), func(cfg Config, c runner.Cluster) (runner.Servers, error) {
		f, err := New(cfg, c.NewStateMachine)
		n := c.Scenario.Nodes
		return runner.Servers{Factory: f, ReplyQuorum: cfg.ReplyQuorum(n), BroadcastRetry: true, Tolerates: Faulty(n)}, err
	})
}

// rollingCrashes crashes every replica in turn, backups as well as
// primaries, over a lossy network, then requires the replicas to converge.
const rollingCrashes = `name: pbft-rolling
protocol: pbft
nodes: 4
duration: 5s
network: {latency: {min: 1ms, max: 5ms}, drop: 0.03}
workload: {clients: 3, keys: 2, mix: {get: 1, put: 1, append: 1}, think_time: 5ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {from: 300ms, to: 4500ms, every: 700ms, crash: rolling, down: 400ms, max_down: 1}
checks: [linearizable, agreement, one-leader-per-term, liveness]
liveness: {within: 5s}
`

// Under rolling crashes and loss, views change, nothing committed is lost,
// and the replicas converge once the crashes stop.
func TestViewChangesUnderRollingCrashesAndLoss(t *testing.T) {
	for _, seed := range prototest.Seeds(4, 1) {
		rep := prototest.RunScenario(t, protocol(), rollingCrashes, seed, runner.Options{})
		prototest.RequirePass(t, rep)
		if rep.Ops.OK < 50 {
			t.Fatalf("seed %d: %d operations succeeded, want progress through the crashes", seed, rep.Ops.OK)
		}
	}
}

// With every BUGGIFY fault point on, over the same rolling crashes and a
// window of two checkpoints, the runs stay safe and converge; every fault
// point is reached, and the paths they are there for are taken: views
// change, and replicas catch up by state transfer.
func TestSafetyAndLivenessUnderBuggify(t *testing.T) {
	scenario := rollingCrashes + "buggify: 1\nprotocol_options: {checkpoint_interval: 4, log_window: 8}\n"
	reached := map[string]bool{}
	probes := map[string]uint64{}
	for _, seed := range prototest.Seeds(4, 1) {
		rep := prototest.RunScenario(t, protocol(), scenario, seed, runner.Options{})
		prototest.RequirePass(t, rep)
		for _, state := range rep.Buggify { // "site=on": the site was called
			site, _, _ := strings.Cut(state, "=")
			reached[site] = true
		}
		for name, n := range rep.Probes {
			probes[name] += n
		}
	}
	for _, site := range []string{buggifyWithholdVote, buggifySkipCheckpoint, buggifySkipStatusRound, buggifyIgnoreRequest} {
		assert.True(t, reached[site], "fault point %s never reached", site)
	}
	assert.Positive(t, probes[ProbeNewViewEntered], "views changed")
	assert.Positive(t, probes[ProbeStateInstalled], "a replica caught up by state transfer")
}
