package cli

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/flaky"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
)

func flakyProtocol(t *testing.T) runner.Protocol {
	raft, ok := registry.Lookup("raft")
	require.True(t, ok)
	return flaky.Protocol("flaky", raft)
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
