package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/runner"
)

// A run whose own clock steps go past the protocol's drift bound (Raft's
// lease reads assume clocks within lease_drift of each other) says so in
// its summary, and the same steps within the bound say nothing.
func TestRunSaysWhereFaultsWentBeyondTheProtocolsAssumptions(t *testing.T) {
	for _, c := range []struct{ rate, want string }{
		{"1.2", ""},
		{"3", "beyond      at 300ms: n1's clock runs at 3x and n0's at 1x, 3x apart, beyond the 1.25x drift the protocol assumes\n"},
	} {
		p := filepath.Join(t.TempDir(), "lease.yaml")
		text := `name: lease
protocol: raft
nodes: 3
duration: 1s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 2, keys: 2, think_time: 10ms, timeout: 500ms, retry_interval: 50ms}
faults:
  - {at: 300ms, clock: {node: 1, rate: ` + c.rate + `}}
checks: [agreement]
protocol_options: {read_mode: lease}
`
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		code, stdout, errOut := simrun(t, "run", p, "--seed", "1", "--out", t.TempDir())
		require.Equal(t, exitPass, code, errOut)
		if c.want == "" {
			require.NotContains(t, stdout, "beyond")
		} else {
			require.Contains(t, stdout, c.want)
		}
	}
}

// A sweep's summary counts the failing seeds that ran faults beyond what
// the protocol assumes; a pass beyond them, or a failure within them, does
// not count.
func TestSweepSummaryCountsFailuresBeyondAssumptions(t *testing.T) {
	tl := newTally("s", "5ce0a11000000001")
	beyond := []string{"at 1s: n1's clock runs at 20x and n0's at 1x, 20x apart, beyond the 1.25x drift the protocol assumes"}
	for seed, r := range []runner.Report{
		{Class: runner.Safety, Beyond: beyond},
		{Class: runner.Safety},
		{Class: runner.Pass, Beyond: beyond},
		{Class: runner.Liveness, Beyond: beyond},
	} {
		r.Scenario, r.File, r.Seed, r.Hash = "s", "s.yaml", uint64(seed), "00000000000000aa"
		tl.add(result{Report: r})
	}
	var out bytes.Buffer
	tl.print(&out, "results.jsonl", "simrun")
	require.Contains(t, out.String(), "beyond      2 failing seeds ran the scenario's faults beyond what the protocol assumes")

	clean := newTally("s", "5ce0a11000000001")
	clean.add(result{Report: runner.Report{Scenario: "s", File: "s.yaml", Seed: 1, Class: runner.Safety, Hash: "00000000000000aa"}})
	out.Reset()
	clean.print(&out, "results.jsonl", "simrun")
	require.NotContains(t, out.String(), "beyond")
}
