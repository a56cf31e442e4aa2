package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type traceWindowJSON struct {
	First, Last, Events uint64
	Full                bool
}

func readTraceWindow(t *testing.T, dir string) (traceWindowJSON, int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var r struct {
		W traceWindowJSON `json:"trace_window"`
	}
	require.NoError(t, json.Unmarshal(data, &r))
	trace, err := os.ReadFile(filepath.Join(dir, "trace.jsonl"))
	require.NoError(t, err)
	return r.W, bytes.Count(trace, []byte("\n"))
}

// TestRunTraceWindowFlags: a failure's trace.jsonl holds --trace-window
// events each side of the violation, report.json says which, and
// --full-trace keeps them all; either way the summary and replay line are
// the same.
func TestRunTraceWindowFlags(t *testing.T) {
	bug := "../scenarios/bugs/raft-bug-ack-before-sync.yaml"
	out := t.TempDir()
	code, stdout, errOut := simrun(t, "run", bug, "--seed", "1", "--out", out, "--trace-window", "100")
	require.Equal(t, exitSafety, code, errOut)
	require.Empty(t, errOut, "no progress line off a terminal")
	dir := filepath.Join(out, "raft-bug-ack-before-sync-seed1")
	win, lines := readTraceWindow(t, dir)
	require.LessOrEqual(t, lines, 201)
	require.Equal(t, int(win.Last-win.First+1), lines)
	event := regexp.MustCompile(`violated at event (\d+)`).FindStringSubmatch(stdout)
	require.NotNil(t, event)
	n, _ := strconv.ParseUint(event[1], 10, 64)
	require.Equal(t, n-100, win.First, "100 events before the violation")
	require.False(t, win.Full)

	fullOut := t.TempDir()
	code, fullStdout, _ := simrun(t, "run", bug, "--seed", "1", "--out", fullOut, "--full-trace")
	require.Equal(t, exitSafety, code)
	win, lines = readTraceWindow(t, filepath.Join(fullOut, "raft-bug-ack-before-sync-seed1"))
	require.True(t, win.Full)
	require.Equal(t, int(win.Events), lines)
	require.Equal(t, uint64(1), win.First)
	require.Equal(t, traceHash(t, stdout), traceHash(t, fullStdout))
	files := regexp.MustCompile(`(?m)^artifacts   .*\n((?:            \S+\n)+)`)
	require.Equal(t, "            scenario.yaml\n            report.json\n            history.jsonl\n            trace.jsonl\n            report.html\n",
		files.FindStringSubmatch(stdout)[1], "the artifacts listed in a reader's order")
	require.Equal(t, files.FindStringSubmatch(stdout)[1], files.FindStringSubmatch(fullStdout)[1])
}

func TestSweepTraceWindowFlag(t *testing.T) {
	out := t.TempDir()
	code, _, errOut := simrun(t, "sweep", "../scenarios/bugs/raft-bug-ack-before-sync.yaml", "--seeds", "1", "--out", out, "--trace-window", "50")
	require.Equal(t, exitSafety, code, errOut)
	win, lines := readTraceWindow(t, filepath.Join(out, "raft-bug-ack-before-sync", "failures", "seed-1"))
	require.LessOrEqual(t, lines, 101)
	require.Equal(t, int(win.Last-win.First+1), lines)
}

// TestTraceWindowIsBounded: a window too wide to keep in memory is refused
// before the run (it once made a slice of that many lines up front: a
// panic, and in a sweep a safety failure recorded as a crash).
func TestTraceWindowIsBounded(t *testing.T) {
	for _, cmd := range []string{"run", "sweep"} {
		for _, window := range []string{"0", "10000001", "2000000000"} {
			code, _, errOut := simrun(t, cmd, "../scenarios/raft-calm.yaml", "--trace-window", window)
			require.Equal(t, exitBadInput, code)
			require.Equal(t, "simrun: --trace-window: from 1 to 10000000 events (--full-trace keeps them all), got "+window+"\n", errOut)
		}
	}
}

// TestRunProgressLine: on a terminal, a run past its delay shows simulated
// time of the scenario's duration and events; the bar is cleared at the end.
func TestRunProgressLine(t *testing.T) {
	require.Nil(t, newRunProgress(&bytes.Buffer{}, time.Minute, false, 0), "not a terminal: no progress")
	var w bytes.Buffer
	p := newRunProgress(&w, time.Minute, true, 0)
	p.update(30*time.Second, 12345)
	require.Contains(t, w.String(), "simulated 30s of 1m0s, 12345 events")
	p.finish()
	quiet := newRunProgress(&w, time.Minute, true, time.Hour)
	w.Reset()
	quiet.update(30*time.Second, 12345)
	quiet.finish()
	require.Empty(t, w.String(), "a run shorter than the delay shows nothing")
}
