package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailureClassNamesTheFailedCheck: a failure is classed by the check
// that failed, not by the first check that did not pass: an inconclusive
// linearizable check listed before the failed agreement check still makes
// the failure safety/agreement, in the stats and on the sweep page.
func TestFailureClassNamesTheFailedCheck(t *testing.T) {
	sc := &Scenario{Name: "a", Hash: "h", Results: []Result{{Scenario: "a", Seed: 1, Class: "safety",
		Checks: []Check{{"linearizable", "inconclusive"}, {"agreement", "fail"}}}}}
	st := Stats(sc)
	require.Len(t, st.Classes, 1)
	require.Equal(t, "safety/agreement", st.Classes[0].Class)
	var page bytes.Buffer
	require.NoError(t, RenderSweep(&page, []*Scenario{sc}))
	require.Contains(t, page.String(), `data-class="safety/agreement"`)
	require.NotContains(t, page.String(), "safety/linearizable")
}

// TestOneSeedSweepHasNoSpread: the standard deviation of a single seed is
// shown as no spread (0), never as NaN, which gonum gives for one value and
// which the page's duration formatting would turn into a huge negative
// duration.
func TestOneSeedSweepHasNoSpread(t *testing.T) {
	sc := &Scenario{Name: "one", Hash: "h", Results: []Result{{Scenario: "one", Seed: 1, Class: "pass",
		Checks: []Check{{"agreement", "pass"}}, Events: 1234, SimTime: 2e9, WallTime: 5e6}}}
	st := Stats(sc)
	for name, d := range map[string]Dist{"wall": st.Wall, "events": st.Events, "simtime": st.SimTime} {
		require.False(t, math.IsNaN(d.StdDev), name)
		require.Zero(t, d.StdDev, name)
	}
	var page bytes.Buffer
	require.NoError(t, RenderSweep(&page, []*Scenario{sc}))
	require.Contains(t, page.String(), "mean 5ms, sd 0s, p50 5ms")
	require.Contains(t, page.String(), "mean 1234, sd 0, p50 1234")
	require.NotContains(t, page.String(), "NaN")
	require.NotContains(t, page.String(), "sd -")
}

// TestEndOfRunAnchorKeepsTheReason: a failure with no violation event (a
// liveness bound that ran out at the run's end) is anchored at the last
// event with its reason kept: "end of the run: <reason>", so the page says
// why it points there.
func TestEndOfRunAnchorKeepsTheReason(t *testing.T) {
	reason := "liveness: no operation completed within 10s of the heal"
	r := &Run{Meta: Meta{Class: "liveness", Reason: reason}, Events: []Event{{I: 1, T: 5}, {I: 2, T: 9}}}
	a := r.Violation()
	require.Equal(t, uint64(2), a.Event, "the last event of the trace")
	require.Equal(t, "end of the run: "+reason, a.Why)
	require.Empty(t, a.Related)

	page := renderDir(t, runWithMeta(t, func(meta map[string]any) {
		meta["class"], meta["reason"] = "liveness", reason
		meta["checks"] = []map[string]string{{"name": "liveness", "verdict": "fail", "detail": reason}}
	}))
	require.Contains(t, page, "end of the run: "+reason)
	require.True(t, a.AtEnd)
	require.Contains(t, page, "<h2>Messages around the run&#39;s end</h2>", "no violation is named where the verdict names no event")
	require.NotContains(t, page, "The violation, ringed")
}

// TestOversizedReportIsRefusedUnread: a report.json over the 16 MiB bound
// is refused by its size, before it is read (reading whatever a directory
// holds whole could take any amount of memory); one of exactly the bound is
// still read (and here refused only as not JSON).
func TestOversizedReportIsRefusedUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxMeta+1)) // sparse: nothing is written
	require.NoError(t, f.Close())
	var m Meta
	require.EqualError(t, readMeta(path, &m), path+": not a run's report: not a regular file of at most 16777216 bytes")

	require.NoError(t, os.Truncate(path, maxMeta))
	err = readMeta(path, &m)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), path+":1:1: not a run's report: "), err.Error())
}

// TestRelatedEventsLeaveOutTheFocus: the events a reason names besides its
// first are the related ones, once each; the focus event, named again later
// in the reason, is not among them (it would be ringed twice).
func TestRelatedEventsLeaveOutTheFocus(t *testing.T) {
	f := FocusOf("agreement violated at event 30 (t=7.6ms, n2): index 1: n2 committed digest bb (term 2, event 30), "+
		"but n0 committed digest aa (term 1, event 23); event 23 again, event 30 again", 0, nil)
	require.Equal(t, uint64(30), f.Event)
	require.Equal(t, []uint64{23}, f.Related)

	page := renderDir(t, filepath.Join("testdata", "run")) // its reason names event 30 twice
	require.NotContains(t, page, `<g class="related" id="ev-30"`)
	require.Contains(t, page, `<g class="related" id="ev-23"`)
}
