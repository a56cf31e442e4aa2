package cli

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
)

// flakyTimer is a timer kind of the flaky wrapper, above Raft's.
const flakyTimer = sim.MaxTimerKinds - 1

// flakyStarts counts starts across runs: the nondeterminism under test.
var flakyStarts int

// flakyNode is a Raft server that, on its first start, sets a timer whose
// delay depends on how many servers started before it in this process: the
// same seed runs differently the second time.
type flakyNode struct{ sim.Node }

func (n flakyNode) Start(env sim.Env) {
	flakyStarts++
	env.SetTimer(flakyTimer, time.Duration(flakyStarts)*time.Millisecond)
	n.Node.Start(env)
}

func (n flakyNode) Timer(env sim.Env, kind sim.TimerKind) {
	if kind != flakyTimer {
		n.Node.Timer(env, kind)
	}
}

func flakyProtocol(t *testing.T) runner.Protocol {
	set, err := registry.New(registry.Shipped()...)
	require.NoError(t, err)
	return runner.Protocol{Name: "flaky", Build: func(c runner.Cluster) (runner.Servers, error) {
		raftScenario := *c.Scenario
		raftScenario.Protocol = "raft"
		proto, err := set.Resolve(&raftScenario)
		if err != nil {
			return runner.Servers{}, err
		}
		servers, err := proto.Build(c)
		inner := servers.Factory
		servers.Factory = func(id sim.NodeID) sim.Node { return flakyNode{inner(id)} }
		return servers, err
	}}
}

// TestRunCheckDeterminismShowsTheFirstDifference: run --check-determinism
// on a protocol that depends on process state reports the first trace line
// that differs and exits 7; on Raft it says the two runs were the same.
func TestRunCheckDeterminismShowsTheFirstDifference(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "flaky.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(shortScenario, "protocol: raft", "protocol: flaky", 1)), 0o644))
	var out, errOut bytes.Buffer
	program := Program{Name: "simrun", Protocols: append(registry.Shipped(), flakyProtocol(t))}
	code := program.Execute([]string{"run", scenario, "--seed", "2", "--check-determinism", "--out", t.TempDir()}, &out, &errOut)
	require.Equal(t, exitNondeterministic, code, out.String()+errOut.String())
	require.Contains(t, out.String(), "determinism the seed ran twice differently")
	require.Regexp(t, `first difference at trace line \d+:\n +first run: +\{"i":6,.*"kind":"timer".*\n +second run: +\{`, out.String())
	require.Contains(t, errOut.String(), "seed 2 of short is not deterministic")
	require.Contains(t, out.String(), "verdict     NONDETERMINISTIC: seed 2 ran twice with different trace hashes", "the verdict says what the exit code says")
	require.NotContains(t, out.String(), "verdict     PASS")

	code, stdout, errText := simrun(t, "run", writeScenario(t), "--seed", "2", "--check-determinism", "--out", t.TempDir())
	require.Equal(t, exitPass, code, errText)
	require.Regexp(t, `determinism the seed ran twice, the same \d+ events`, stdout)
}

// TestTraceComparer: lines split across writes, a last line without its
// newline, and either trace running longer.
func TestTraceComparer(t *testing.T) {
	for _, c := range []struct {
		first, second string
		line          int
	}{
		{"a\nb\n", "a\nb\n", 0},
		{"a\nb", "a\nb", 0},
		{"a\nb\n", "a\nc", 2},
		{"a\nb\nc\n", "a\nb\n", 3},
		{"a\n", "a\nb\n", 2},
	} {
		cmp := &traceComparer{first: bufio.NewReader(strings.NewReader(c.first))}
		for _, ch := range c.second { // one byte at a time: lines split across writes
			_, _ = cmp.Write([]byte(string(ch)))
		}
		cmp.finish()
		require.Equal(t, c.line, cmp.diffLine, "%q vs %q", c.first, c.second)
	}
}
