package report_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

// TestWindowedTraceIsShownInItsReport: with a trace window far smaller than
// the runs, each listed bug scenario's artifacts hold only the events around
// the first violation, report.json states which, and the page still rings the
// violation (the event the reason names, the return Porcupine could not
// place, or the run's last event) and says the trace is a part.
func TestWindowedTraceIsShownInItsReport(t *testing.T) {
	const n = 150
	for file, seed := range firstFailingSeed {
		t.Run(file, func(t *testing.T) {
			sc, proto, rep := failedRun(t, file, seed)
			dir := t.TempDir()
			_, err := runner.WriteArtifactsWith(dir, sc, proto, rep, runner.Options{Seed: seed}, runner.ArtifactOptions{TraceWindow: n})
			require.NoError(t, err)

			win := readWindow(t, dir)
			t.Logf("window %+v, reason %.80s", win, rep.Reason)
			require.False(t, win.Full)
			require.Equal(t, rep.Events, win.Events)
			evs := readEvents(t, dir)
			require.NotEmpty(t, evs)
			require.Equal(t, win.First, evs[0].I)
			require.Equal(t, win.Last, evs[len(evs)-1].I)
			require.LessOrEqual(t, len(evs), 2*n+1)
			for i := 1; i < len(evs); i++ {
				require.Equal(t, evs[i-1].I+1, evs[i].I, "the window is one run of events")
			}

			run, err := report.LoadRun(dir)
			require.NoError(t, err)
			v := run.Violation()
			require.NotZero(t, v.Event)
			require.GreaterOrEqual(t, v.Event, win.First)
			require.LessOrEqual(t, v.Event, win.Last)
			if win.Anchor != 0 {
				require.Equal(t, win.Anchor, v.Event, "the page centres where the window does")
			} else {
				require.Equal(t, rep.Events, win.Last, "no event named: the window is the run's end")
			}
			page, err := os.ReadFile(filepath.Join(dir, report.File))
			require.NoError(t, err)
			require.Regexp(t, `<(g|line) class="violation" id="ev-`+strconv.FormatUint(v.Event, 10)+`"`, string(page))
			if win.First > 1 || win.Last < win.Events {
				require.Contains(t, string(page), `id="trace-window"`)
			}
		})
	}
}

// TestFullTraceOnRequest: FullTrace keeps every event, as before windows.
func TestFullTraceOnRequest(t *testing.T) {
	sc, proto, rep := failedRun(t, "raft-bug-ack-before-sync.yaml", 1)
	dir := t.TempDir()
	_, err := runner.WriteArtifactsWith(dir, sc, proto, rep, runner.Options{Seed: 1}, runner.ArtifactOptions{FullTrace: true})
	require.NoError(t, err)
	evs := readEvents(t, dir)
	require.Len(t, evs, int(rep.Events))
	win := readWindow(t, dir)
	require.Equal(t, runner.TraceWindow{First: 1, Last: rep.Events, Events: rep.Events, Full: true}, win)
	page, err := os.ReadFile(filepath.Join(dir, report.File))
	require.NoError(t, err)
	require.NotContains(t, string(page), `id="trace-window"`)
}

func readWindow(t *testing.T, dir string) runner.TraceWindow {
	data, err := os.ReadFile(filepath.Join(dir, runner.ReportFile))
	require.NoError(t, err)
	var r struct {
		Window *runner.TraceWindow `json:"trace_window"`
	}
	require.NoError(t, json.Unmarshal(data, &r))
	require.NotNil(t, r.Window, "report.json states the trace window")
	return *r.Window
}

func readEvents(t *testing.T, dir string) []sim.TraceRecord {
	f, err := os.Open(filepath.Join(dir, runner.TraceFile))
	require.NoError(t, err)
	defer f.Close()
	recs, err := sim.ReadTrace(bufio.NewReader(f))
	require.NoError(t, err)
	return recs
}
