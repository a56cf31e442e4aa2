package cli

import (
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

	code, stdout, errText := simrun(t, "run", writeScenario(t), "--seed", "2", "--check-determinism", "--out", t.TempDir())
	require.Equal(t, exitPass, code, errText)
	require.Regexp(t, `determinism the seed ran twice, the same \d+ events`, stdout)
}
