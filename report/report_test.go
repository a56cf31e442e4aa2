package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renderDir renders the run in dir twice and insists on the same bytes: the
// page depends on its input only.
func renderDir(t *testing.T, dir string) string {
	t.Helper()
	r, err := LoadRun(dir)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, r.Render(&a))
	r2, err := LoadRun(dir)
	require.NoError(t, err)
	require.NoError(t, r2.Render(&b))
	require.Equal(t, a.String(), b.String(), "the same artifacts must give the same page")
	return a.String()
}

// TestRunPageShowsTheViolation: on a hand-made run, the diagram has one
// lane per node, the violating event ringed and labelled, the other event
// the reason names ringed too, and every kind of mark the trace calls for.
func TestRunPageShowsTheViolation(t *testing.T) {
	page := renderDir(t, filepath.Join("testdata", "run"))
	lanes := regexp.MustCompile(`<g class="lane" data-n="(\d+)">`).FindAllStringSubmatch(page, -1)
	var ids []string
	for _, l := range lanes {
		ids = append(ids, l[1])
	}
	require.Equal(t, []string{"0", "1", "2", "3"}, ids, "servers n0-n2, then the client n3")
	require.Contains(t, page, `n3 (c0)`)
	require.Contains(t, page, `<g class="violation" id="ev-30" data-n="2"`)
	require.Contains(t, page, `>event 30</text>`)
	require.Contains(t, page, `<g class="related" id="ev-23" data-n="0"`)
	for _, want := range []string{
		`class="m deliver" data-f="0" data-t="1" data-a="2000000" data-b="3500000"`,      // the MsgApp
		`class="m dup" data-f="0" data-t="1" data-a="2000000" data-b="3600000"`,          // its duplicate
		`class="m drop" data-f="0" data-t="2" data-a="2000000" data-b="2000000"`,         // lost as sent
		`class="m deliver held" data-f="1" data-t="0" data-a="4000000" data-b="6000000"`, // held on a clogged link
		`class="m inflight" data-f="2" data-t="0"`,                                       // the run ended first
		`class="band down" data-n="2" data-a="5000000" data-b="7000000"`,
		`class="band paused" data-n="1" data-a="5200000" data-b="6500000"`,
		`class="band cut" data-n="0" data-a="5000000" data-b="7000000"`,
		`class="band clogged" data-n="1" data-a="4000000" data-b="6000000"`,
		`class="band leader" data-n="0" data-a="2000000"`,
		`class="p crash" data-n="2"`,
		`class="p global control"`,
	} {
		require.Contains(t, page, want)
	}
	require.Contains(t, page, `<a href="history.jsonl">`)
	require.NotContains(t, page, "linearizability.html", "no Porcupine page beside this run")
	selfContained(t, page)
}

// selfContained: nothing is fetched from elsewhere.
func selfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{`src="http`, `href="http`, `<link `, `@import`, `url(http`} {
		require.NotContains(t, page, bad)
	}
	require.Less(t, len(page), 1<<20, "a page stays under a megabyte")
}

// TestLatencyPercentiles: a known history gives known figures, in the
// table on the page too.
func TestLatencyPercentiles(t *testing.T) {
	var ops []workload.Operation
	for i := 1; i <= 100; i++ { // puts taking 1ms, 2ms, ..., 100ms
		call := sim.Time(i) * sim.Time(time.Second)
		ops = append(ops, workload.Operation{Kind: workload.OpPut, Call: call, Return: call + sim.Time(time.Duration(i)*time.Millisecond), Status: workload.StatusOK})
	}
	for i := 1; i <= 10; i++ { // gets taking 10ms, 20ms, ..., 100ms
		ops = append(ops, workload.Operation{Kind: workload.OpGet, Call: 0, Return: sim.Time(time.Duration(10*i) * time.Millisecond), Status: workload.StatusOK})
	}
	ops = append(ops, workload.Operation{Kind: workload.OpGet, Return: sim.Forever}) // never returned: no latency
	ops = append(ops, workload.Operation{Kind: workload.OpCAS, Return: sim.Forever}) // a kind none of which returned
	rows := Latencies(ops)
	require.Len(t, rows, 4)
	ms := time.Millisecond
	require.Equal(t, LatencyRow{Kind: "put", Count: 100, P50: 50 * ms, P90: 90 * ms, P99: 99 * ms, Max: 100 * ms, Mean: 50500 * time.Microsecond}, rows[0])
	require.Equal(t, LatencyRow{Kind: "get", Count: 10, Unknown: 1, P50: 50 * ms, P90: 90 * ms, P99: 100 * ms, Max: 100 * ms, Mean: 55 * ms}, rows[1])
	require.Equal(t, LatencyRow{Kind: "cas", Unknown: 1}, rows[2])
	require.Equal(t, "all", rows[3].Kind)
	require.Equal(t, 110, rows[3].Count)
	require.Equal(t, 100*ms, rows[3].Max)

	dir := t.TempDir()
	h := workload.NewHistory(ops...)
	copyRunWithHistory(t, dir, h)
	page := renderDir(t, dir)
	require.Contains(t, page, `<tr data-kind="put"><td>put</td><td>100</td><td>0</td><td>50ms</td><td>90ms</td><td>99ms</td><td>100ms</td><td>50.5ms</td></tr>`)
	require.Contains(t, page, `<tr data-kind="get"><td>get</td><td>10</td><td>1</td><td>50ms</td><td>90ms</td><td>100ms</td><td>100ms</td><td>55ms</td></tr>`)
	require.Contains(t, page, `<tr data-kind="cas"><td>cas</td><td>0</td><td>1</td><td colspan="5" class="muted">none returned</td></tr>`,
		"no figures for a kind none of whose operations returned")
}

// TestIntervals: the 95% intervals against published values (3 of 30:
// Wilson 0.0346-0.2562, Clopper-Pearson 0.0211-0.2653; 0 of 30: the
// Clopper-Pearson upper bound is 1-0.025^(1/30)).
func TestIntervals(t *testing.T) {
	near := func(want, got float64) { require.InDelta(t, want, got, 5e-5) }
	w := Wilson(3, 30)
	near(0.0346, w.Lo)
	near(0.2562, w.Hi)
	cp := ClopperPearson(3, 30)
	near(0.0211, cp.Lo)
	near(0.2653, cp.Hi)
	cp0 := ClopperPearson(0, 30)
	require.Zero(t, cp0.Lo)
	near(1-math.Pow(0.025, 1.0/30), cp0.Hi)
	require.Zero(t, Wilson(0, 30).Lo)
	require.Equal(t, 1.0, ClopperPearson(30, 30).Hi)
	near(math.Pow(0.975, 1.0/30), ClopperPearson(29, 30).Hi) // 1 - the lower bound of 1 of 30
	require.Equal(t, Interval{0, 1}, Wilson(0, 0))
}

// TestSweepPage: a sweep of three scenarios gives one section each, with
// rates, intervals, the slowest seed and a link to each failure page, which
// is written where it was missing.
func TestSweepPage(t *testing.T) {
	dir := t.TempDir()
	scenario := func(name string, n int, failing ...int) *Scenario {
		sc := &Scenario{Name: name, Hash: "h-" + name, Reports: map[uint64]string{}}
		for seed := 1; seed <= n; seed++ {
			r := Result{Scenario: name, Seed: uint64(seed), Class: "pass", Checks: []Check{{"agreement", "pass"}},
				Events: uint64(1000 + seed), SimTime: int64(seed) * 1e6, WallTime: int64(seed) * 1e6}
			if slices.Contains(failing, seed) {
				r.Class, r.Checks = "safety", []Check{{"agreement", "fail"}}
			}
			sc.Results = append(sc.Results, r)
		}
		return sc
	}
	alpha := scenario("alpha", 30, 4, 9, 17)
	gamma := &Scenario{Name: "gamma", Hash: "h3", Results: []Result{{Scenario: "gamma", Seed: 1, Class: "safety",
		Checks: []Check{{"linearizable", "fail"}}, Beyond: []string{"at 1s: n1's clock jumped 2s"}}}}
	failure := filepath.Join(dir, "alpha", "failures", "seed-4")
	require.NoError(t, os.MkdirAll(failure, 0o755))
	for _, name := range []string{"report.json", "trace.jsonl", "history.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "run", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(failure, name), data, 0o644))
	}
	var meta Meta
	require.NoError(t, readMeta(filepath.Join(failure, "report.json"), &meta))
	for _, seed := range []uint64{4, 9} {
		if page, ok := FailurePage(dir, filepath.Join(dir, "alpha"), seed, meta.Hash); ok {
			alpha.Reports[seed] = page
		}
	}
	require.Equal(t, map[uint64]string{4: "alpha/failures/seed-4/report.html"}, alpha.Reports, "seed 9 has no artifacts")
	_, ok := FailurePage(dir, filepath.Join(dir, "alpha"), 4, "fedcba9876543210")
	require.False(t, ok, "the artifacts of another run of seed 4 (another version's) are not its page")
	scs := []*Scenario{alpha, scenario("beta", 20), gamma}
	path, err := WriteSweep(dir, scs)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	page := string(data)
	require.Equal(t, 3, strings.Count(page, `<section class="scenario">`))
	require.Contains(t, page, ">3 scenarios.")
	twice := &Scenario{Name: "alpha", Hash: "h-other"}
	require.Equal(t, "3 scenarios, 4 versions", sweepContents(append(scs, twice)))
	require.Equal(t, "1 scenario", sweepContents(scs[:1]))
	require.Contains(t, page, `<div class="beyond">beyond the protocol's assumptions: at 1s: n1&#39;s clock jumped 2s</div>`,
		"a failure whose faults went beyond the protocol's assumptions says so under its reason")
	require.Contains(t, page, `<tr data-class="safety/agreement"><td>safety/agreement</td><td>3</td><td>10.0%</td><td>3.5% – 25.6%</td><td>2.1% – 26.5%</td><td>4</td></tr>`)
	require.Contains(t, page, `<tr class="total" data-class="all failures"><td><b>all failures</b></td><td>0</td><td>0.0%</td><td>0.0% – 16.1%</td><td>0.0% – 16.8%</td>`)
	require.Contains(t, page, `<a href="alpha/failures/seed-4/report.html">`)
	require.Contains(t, page, "no artifacts", "seeds 9 and 17 have none")
	require.Contains(t, page, `<tr><td>30</td><td>30ms</td>`, "the slowest seed comes first")
	require.FileExists(t, filepath.Join(failure, File), "the missing failure page is written")
	selfContained(t, page)
	_, err = WriteSweep(dir, scs)
	require.NoError(t, err)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, page, string(again))

	_, err = WriteSweep(dir, nil)
	require.EqualError(t, err, dir+": no sweep results: nothing to report", "a page of nothing is not written")
}

// TestRunArtifactsReadInBoundedMemory: a broken artifact is named by its
// path, and an overlong trace line is refused without being read whole.
func TestRunArtifactsReadInBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"report.json", "trace.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "run", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	trace := filepath.Join(dir, "trace.jsonl")
	f, err := os.OpenFile(trace, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(bytes.Repeat([]byte("x"), 2<<20))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = LoadRun(dir)
	require.EqualError(t, err, trace+":32:1: not a trace event: longer than 1048576 bytes")

	meta := filepath.Join(dir, "report.json")
	refused := func(text, want string) {
		t.Helper()
		require.NoError(t, os.WriteFile(meta, []byte(text), 0o644))
		_, err := LoadRun(dir)
		require.EqualError(t, err, meta+want)
	}
	refused("{", ":1:1: not a run's report: cut short: the text ends before the value does")
	refused("{\n  \"seed\": x\n}", ":2:11: not a run's report: invalid character 'x' looking for beginning of value")
	refused(`{"scenario": "calm", "protocol": "raft", "class": "pass"}`, ": not a run's report: it has no trace_hash")
	refused("{}", ": not a run's report: it has no scenario")
	refused("{\n  \"scenario\": \"calm\", \"protocol\": \"raft\",\n  \"class\": \"fine\", \"trace_hash\": \"00000000000000aa\"\n}",
		":3:3: not a run's report: class: unknown class \"fine\" (known: pass, safety, liveness, crash, inconclusive, vacuous, nondeterministic)")

	require.NoError(t, os.Remove(meta))
	require.NoError(t, os.Mkdir(meta, 0o755))
	_, err = LoadRun(dir)
	require.EqualError(t, err, meta+": not a run's report: not a regular file of at most 16777216 bytes")
}

// TestOutsideBands: a server is drawn outside the configuration from the
// announcement that leaves it out (the highest index so far) until one takes
// it back; older announcements arriving late change nothing.
func TestOutsideBands(t *testing.T) {
	events := []Event{
		{I: 1, T: 10, Kind: "obs", Node: 0, Detail: "config term=1 index=5 n0 n1 n2"},
		{I: 2, T: 20, Kind: "obs", Node: 1, Detail: "config term=1 index=5 n0 n1 n2"},
		{I: 3, T: 30, Kind: "obs", Node: 0, Detail: "config term=2 index=9 n0 n1 n3 joint n0 n1 n2"},
		{I: 4, T: 40, Kind: "obs", Node: 0, Detail: "config term=2 index=10 n0 n1 n3"},
		{I: 5, T: 50, Kind: "obs", Node: 2, Detail: "config term=1 index=5 n0 n1 n2"},
	}
	got := outsideBands(events, []int{0, 1, 2, 3}, 100)
	require.Len(t, got, 2)
	require.Equal(t, Band{Node: 3, Kind: "outside", From: 10, FromI: 1, To: 30, ToI: 3, Label: "outside the configuration index=5 n0 n1 n2"}, got[0])
	require.Equal(t, Band{Node: 2, Kind: "outside", From: 40, FromI: 4, To: 100, Label: "outside the configuration index=10 n0 n1 n3"}, got[1])
}

// copyRunWithHistory copies testdata/run into dir with h as its history,
// report.json counting h's operations.
func copyRunWithHistory(t *testing.T, dir string, h *workload.History) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "run", "trace.jsonl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trace.jsonl"), data, 0o644))
	data, err = os.ReadFile(filepath.Join("testdata", "run", "report.json"))
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(data, &meta))
	ok, failed, unknown := h.Counts()
	meta["ops"] = map[string]int{"ok": ok, "failed": failed, "unknown": unknown}
	data, err = json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.json"), data, 0o644))
	f, err := os.Create(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	require.NoError(t, h.WriteJSON(f))
	require.NoError(t, f.Close())
}

// TestArtifactsThatDisagreeAreRefused: a trace emptied, cut short, out of
// order or of another window, and a history that does not hold the run's
// operations, are errors, not a page that shows nothing.
func TestArtifactsThatDisagreeAreRefused(t *testing.T) {
	trace, err := os.ReadFile(filepath.Join("testdata", "run", "trace.jsonl"))
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSpace(string(trace)), "\n")
	require.Greater(t, len(lines), 4)
	swapped := append([]string{lines[1], lines[0]}, lines[2:]...)
	for name, text := range map[string]string{
		"empty":     "",
		"cut short": strings.Join(lines[:len(lines)/2], ""),
		"headless":  strings.Join(lines[1:], ""),
		"swapped":   strings.Join(swapped, ""),
	} {
		dir := t.TempDir()
		copyRunWithHistory(t, dir, workload.NewHistory())
		require.NoError(t, os.WriteFile(filepath.Join(dir, "trace.jsonl"), []byte(text), 0o644))
		_, err := LoadRun(dir)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "trace.jsonl: ", name)
	}

	dir := t.TempDir()
	copyRunWithHistory(t, dir, workload.NewHistory())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trace.jsonl"), []byte(lines[0]+`{"i":"two"}`+"\n"), 0o644))
	_, err = LoadRun(dir)
	require.EqualError(t, err, filepath.Join(dir, "trace.jsonl")+":2:10: not a trace event: i: want a whole number, 0 or more, got string")

	dir = t.TempDir()
	copyRunWithHistory(t, dir, workload.NewHistory())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.json"),
		[]byte(`{"scenario": "s", "protocol": "raft", "class": "pass", "trace_hash": "00", "ops": {"ok": 3}}`), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "trace.jsonl")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trace.jsonl"), nil, 0o644))
	_, err = LoadRun(dir)
	require.ErrorContains(t, err, "history.jsonl: holds 0 operations, report.json says the run made 3")
	require.NoError(t, os.Remove(filepath.Join(dir, "history.jsonl")))
	_, err = LoadRun(dir)
	require.ErrorContains(t, err, "history.jsonl: missing, and report.json says the run made 3 operations")
}

// TestRunPageSaysWhereFaultsWentBeyondAssumptions: a run whose report.json
// says its faults went beyond what the protocol assumes shows it above the
// checks; one that does not shows nothing.
func TestRunPageSaysWhereFaultsWentBeyondAssumptions(t *testing.T) {
	require.NotContains(t, renderDir(t, filepath.Join("testdata", "run")), `class="beyond"`)
	dir := t.TempDir()
	for _, name := range []string{"trace.jsonl", "history.jsonl", "report.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "run", name))
		require.NoError(t, err)
		if name == "report.json" {
			var meta map[string]any
			require.NoError(t, json.Unmarshal(data, &meta))
			meta["beyond_assumptions"] = []string{"at 1s: n1's clock jumped 2s; the protocol assumes clocks that never jump"}
			data, err = json.Marshal(meta)
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	require.Contains(t, renderDir(t, dir), `<p class="beyond"><b>beyond the protocol's assumptions:</b> at 1s: n1&#39;s clock jumped 2s;`)
}

// TestSweepStatsListClassesByName: failure classes are listed by name,
// and the failures listed one by one stop at MaxFailuresListed.
func TestSweepStatsListClassesByName(t *testing.T) {
	sc := &Scenario{Name: "a", Results: []Result{{Seed: 1, Class: "safety", Checks: []Check{{"agreement", "fail"}}},
		{Seed: 2, Class: "pass"}, {Seed: 3, Class: "liveness"}}}
	var classes []string
	for _, c := range Stats(sc).Classes {
		classes = append(classes, c.Class)
	}
	require.Equal(t, []string{"liveness", "pass", "safety/agreement"}, classes)

	// Every outcome but pass is a failure, an inconclusive one too: no
	// verdict is never counted as a pass.
	st := Stats(&Scenario{Results: []Result{{Seed: 1, Class: "pass"}, {Seed: 2, Class: "inconclusive"}, {Seed: 3, Class: "inconclusive"}}})
	require.Equal(t, 2, st.Failed.Count)
	require.Len(t, st.Failures, 2)
	require.Equal(t, uint64(2), st.Classes[0].FirstHit)

	many := &Scenario{Name: "a"}
	for seed := range MaxFailuresListed + 1 {
		many.Results = append(many.Results, Result{Seed: uint64(seed), Class: "safety"})
	}
	require.Len(t, Stats(many).Failures, MaxFailuresListed)
}

// TestNondeterminismIsRatedOverTheSeedsRunTwice: of 100 seeds only those
// run twice can show nondeterminism, so its rate and interval are of them;
// the page says how many there were.
func TestNondeterminismIsRatedOverTheSeedsRunTwice(t *testing.T) {
	sc := &Scenario{Name: "a"}
	for seed := range uint64(100) {
		r := Result{Seed: seed, Class: "pass", Rechecked: seed%10 == 0}
		if seed == 10 {
			r.Class = "nondeterministic"
		}
		sc.Results = append(sc.Results, r)
	}
	st := Stats(sc)
	require.Equal(t, 10, st.Rechecked)
	require.Equal(t, "nondeterministic", st.Classes[0].Class)
	require.Equal(t, 10, st.Classes[0].Of)
	require.InDelta(t, 0.1, st.Classes[0].Rate, 1e-9)
	require.Equal(t, 100, st.Classes[1].Of, "pass is of every seed")
	var page bytes.Buffer
	require.NoError(t, RenderSweep(&page, []*Scenario{sc}))
	require.Contains(t, page.String(), "<td>1 of 10 run twice</td><td>10.0%</td>")
	require.Contains(t, page.String(), "10 of 100 seeds were run twice")
}

// TestTraceGoingBackInTimeIsRefused: events numbered one after another but
// with a time earlier than the one before are not a trace the kernel wrote.
func TestTraceGoingBackInTimeIsRefused(t *testing.T) {
	r := &Run{Meta: Meta{Events: 2}, Events: []Event{{I: 1, T: 5}, {I: 2, T: 3}}}
	require.EqualError(t, r.checkTrace(), "event 2 (at 3ns) follows event 1 (at 5ns): not a trace the kernel wrote")
}

// TestSweepOfAScenarioNamedFailures: a scenario's results directory named
// failures is read; only a failures directory beside results is skipped.
func TestSweepOfAScenarioNamedFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "failures", "results.jsonl")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "failures", "failures", "seed-1"), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(`{"scenario":"failures","seed":1,"scenario_hash":"h","class":"safety","checks":[],"trace_hash":"x"}`+"\n"), 0o644))
	files, err := FindResults(dir)
	require.NoError(t, err)
	require.Equal(t, []string{path}, files)
}

// TestSlowestTiesGoBySeed: seeds of equal wall time are listed by seed, so
// that the list does not depend on the order results were read in.
func TestSlowestTiesGoBySeed(t *testing.T) {
	rs := []Result{{Seed: 3, WallTime: 5}, {Seed: 1, WallTime: 5}, {Seed: 2, WallTime: 9}, {Seed: 4, WallTime: 5}}
	require.Equal(t, []uint64{2, 1, 3}, seedsOf(slowest(rs, 3)))
}

// seedsOf lists the results' seeds, in their order.
func seedsOf(results []Result) []uint64 {
	seeds := make([]uint64, len(results))
	for i, r := range results {
		seeds[i] = r.Seed
	}
	return seeds
}

// TestTraceReadingPassesOverBlankLines: a blank line in a trace (an editor's
// trailing newline) is no event and no error.
func TestTraceReadingPassesOverBlankLines(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "run", "trace.jsonl"))
	require.NoError(t, err)
	want, err := ReadTrace(bytes.NewReader(data))
	require.NoError(t, err)
	lines := strings.SplitN(string(data), "\n", 2)
	got, err := ReadTrace(strings.NewReader(lines[0] + "\n\n  \n" + lines[1] + "\n"))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestATraceWindowOfNoEventsIsATrace: a run of no events has a window of
// none, and an empty trace is what it should hold.
func TestATraceWindowOfNoEventsIsATrace(t *testing.T) {
	r := &Run{}
	r.Meta.TraceWindow = &struct {
		First  uint64 `json:"first"`
		Last   uint64 `json:"last"`
		Before int    `json:"before"`
		Events uint64 `json:"events"`
		Full   bool   `json:"full"`
	}{First: 1, Last: 1}
	require.NoError(t, r.checkTrace())
}

// TestReplayLineNamesARelativeProgram: a program run by a relative path
// ("./mysim") is named as typed, with a word that it is relative to where it
// ran, not to the failure's directory; a name on the PATH needs no word.
func TestReplayLineNamesARelativeProgram(t *testing.T) {
	for program, note := range map[string]bool{"./mysim": true, "mysim": false, "": false} {
		meta := Meta{Program: program}
		require.Equal(t, note, meta.ReplayerIsRelative(), program)
		page := renderDir(t, runWithMeta(t, func(m map[string]any) { m["program"] = program }))
		require.Contains(t, page, "Replay: <code>"+meta.Replayer()+" run scenario.yaml</code>", program)
		require.Equal(t, note, strings.Contains(page, "is the program as it was run, from where it ran"), program)
	}
}

// TestPageLinksTheChecksFindings: the files a history check writes beside
// the report (violations, anomalies) are linked from the page, sorted; other
// files are not.
func TestPageLinksTheChecksFindings(t *testing.T) {
	dir := t.TempDir()
	copyRunWithHistory(t, dir, workload.NewHistory())
	for _, name := range []string{"read-your-writes-violations.txt", "serializable-anomaly.txt", "monotonic-reads-violations.txt", "notes.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o644))
	}
	page := renderDir(t, dir)
	require.Contains(t, page, `What the history checks found: <a href="monotonic-reads-violations.txt">monotonic-reads-violations.txt</a>, `+
		`<a href="read-your-writes-violations.txt">read-your-writes-violations.txt</a>, <a href="serializable-anomaly.txt">serializable-anomaly.txt</a>.`)
	require.NotContains(t, page, "notes.txt")
	empty := t.TempDir()
	copyRunWithHistory(t, empty, workload.NewHistory())
	require.NotContains(t, renderDir(t, empty), "What the history checks found")
}

// TestPageSaysWhatTheSwarmDrew: a swarm failure's page lists the fault mix
// and the options the swarm drew for the seed; a run without one says
// nothing of it.
func TestPageSaysWhatTheSwarmDrew(t *testing.T) {
	page := renderDir(t, runWithMeta(t, func(m map[string]any) {
		m["swarm"] = []string{"crash-leader every ~4.722s for 211ms..3.086s (2 firings)", "pause every ~3.393s for 304ms..2.104s (1 firing)"}
		m["swarm_options"] = []string{"nodes 7 (of 3, 5, 7)"}
	}))
	require.Contains(t, page, "Drawn by the swarm for this seed, written out as explicit steps in scenario.yaml: "+
		"crash-leader every ~4.722s for 211ms..3.086s (2 firings); pause every ~3.393s for 304ms..2.104s (1 firing).")
	require.Contains(t, page, "Drawn by swarm_options: nodes 7 (of 3, 5, 7).")
	require.NotContains(t, renderDir(t, filepath.Join("testdata", "run")), "Drawn by the swarm")
}

// runWithMeta copies the hand-made run, with no history, into a new
// directory and edits its report.json with edit.
func runWithMeta(t *testing.T, edit func(meta map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	copyRunWithHistory(t, dir, workload.NewHistory())
	path := filepath.Join(dir, "report.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(data, &meta))
	edit(meta)
	data, err = json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return dir
}

// TestTicksOverAnyTimeRange: the axis of a run that ends near the largest
// time has round ticks and ends; computing them once overflowed into a loop
// that never did.
func TestTicksOverAnyTimeRange(t *testing.T) {
	for _, c := range []struct{ span, want int64 }{
		{0, 1}, {8, 1}, {9, 2}, {80, 10}, {int64(time.Second), 200 * int64(time.Millisecond)},
		{math.MaxInt64, 2e18},
	} {
		assert.Equal(t, c.want, tickStep(c.span), "span %d", c.span)
	}
	var s svg
	s.axis(scale{t0: 0, t1: math.MaxInt64, w: 100}, 0, 10)
	assert.Equal(t, 5, strings.Count(s.String(), "<line"), "ticks at 0, 2e18, ... 8e18")
}
