package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/scenarios"
)

// Artifact file names inside a failure's directory.
const (
	ScenarioFile        = "scenario.yaml"
	ReportFile          = "report.json"
	HistoryFile         = "history.jsonl"
	TraceFile           = "trace.jsonl"
	LinearizabilityFile = checkers.LinearizabilityFile // offered by the linearizability check
)

// ArtifactOptions say how much of a failed run its artifacts keep.
type ArtifactOptions struct {
	// TraceWindow is how many events before and after the first violation
	// trace.jsonl keeps; 0 means DefaultTraceWindow.
	TraceWindow int
	// FullTrace keeps every event of the run instead.
	FullTrace bool
	// Program is the binary that replays the artifacts, which the page names
	// (a user's own cli.Program); empty means simrun.
	Program string
	// KeepScenario leaves dir's scenario file as it is: it is the file run
	// (a failure's directory replayed in place), and rewriting it would
	// lose what its user wrote there, comments and edits.
	KeepScenario bool
}

// WriteArtifacts writes a failure's artifacts with the default trace window
// (WriteArtifactsWith).
func WriteArtifacts(dir string, sc *scenarios.Scenario, proto Protocol, rep *Report, opts Options) ([]string, error) {
	return WriteArtifactsWith(dir, sc, proto, rep, opts, ArtifactOptions{})
}

// WriteArtifactsWith writes what a person needs to study a failed run into
// dir: the scenario pinned to its seed, the trace around the first violation
// (or all of it, with FullTrace; written by replaying the seed, which also
// re-checks that the replay gives the same trace hash, over every event
// whatever the file keeps), the report with the window the trace holds, the
// client history and the files the history checks offer (for a
// linearizability failure, Porcupine's visualization); then report.html, the
// page drawn from those files (package report). It returns the files
// written.
func WriteArtifactsWith(dir string, sc *scenarios.Scenario, proto Protocol, rep *Report, opts Options, keep ArtifactOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := removeOldArtifacts(dir, keep.KeepScenario); err != nil {
		return nil, err
	}
	var files []string
	if keep.KeepScenario {
		files = append(files, filepath.Join(dir, ScenarioFile))
	}
	// A file that could not be written whole is removed: on a full disk its
	// part (a trace of megabytes) would keep the space the seed's results
	// line needs. A diverging replay's trace is written out, and kept.
	write := func(name string, fn func(f *os.File) error) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = fn(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			var diverged *replayDiverged
			if !errors.As(err, &diverged) {
				os.Remove(path)
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, path)
		return nil
	}
	var window TraceWindow
	// The trace goes before report.json, which states the window it holds;
	// the list returned keeps the order a reader wants (listOrder).
	steps := []struct {
		name string
		fn   func(f *os.File) error
		skip bool
	}{
		{ScenarioFile, func(f *os.File) error { return writeScenario(f, sc, rep) }, keep.KeepScenario},
		{TraceFile, func(f *os.File) (err error) {
			window, err = replayTrace(f, sc, proto, rep, opts, keep)
			return err
		}, false},
		{ReportFile, func(f *os.File) error { return writeJSON(f, reportWithWindow{rep, &window, keep.Program}) }, false},
		{HistoryFile, func(f *os.File) error { return rep.History.WriteJSON(f) }, rep.History == nil},
	}
	for _, a := range rep.Artifacts {
		steps = append(steps, struct {
			name string
			fn   func(f *os.File) error
			skip bool
		}{a.Name, func(f *os.File) error { return a.Write(f) }, false})
	}
	for _, s := range steps {
		if s.skip {
			continue
		}
		if err := write(s.name, s.fn); err != nil {
			return files, err
		}
	}
	// Drawn from the files just written, as "simrun report DIR" draws it, so
	// the page shows exactly what the artifacts hold.
	listOrder(files)
	page, err := report.WriteRun(dir)
	if err != nil {
		return files, fmt.Errorf("%s: %w", report.File, err)
	}
	return append(files, page), nil
}

// removeOldArtifacts removes what an earlier run's artifacts left in dir
// (the same seed run again after a change, or another scenario of the same
// name), so that the page, drawn from the directory, shows only this run's
// files: a linearizability view left by an earlier failure would otherwise
// be linked from a page it does not belong to. Files of other names stay,
// and the scenario file with keepScenario.
func removeOldArtifacts(dir string, keepScenario bool) error {
	for _, name := range append([]string{ScenarioFile, ReportFile, HistoryFile, TraceFile, report.File}, checkers.ArtifactFiles()...) {
		if keepScenario && name == ScenarioFile {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// listOrder sorts the artifacts as a reader takes them up: the scenario,
// the report, the history, the trace, then what the checks offered.
func listOrder(files []string) {
	rank := func(path string) int {
		i := slices.Index([]string{ScenarioFile, ReportFile, HistoryFile, TraceFile}, filepath.Base(path))
		if i < 0 {
			return 4
		}
		return i
	}
	slices.SortStableFunc(files, func(a, b string) int { return rank(a) - rank(b) })
}

// reportWithWindow is report.json: the run's report, the part of the trace
// beside it and the binary that replays it.
type reportWithWindow struct {
	*Report
	TraceWindow *TraceWindow `json:"trace_window"`
	Program     string       `json:"program,omitempty"`
}

// swarmDrawnNote heads a pinned scenario whose faults a swarm drew: the
// replay line of the sweep that found it names --swarm, and passing the
// flag to this file would draw a second mix on top of the one written out.
const swarmDrawnNote = "# The faults below are the ones --swarm drew for this seed, written out:\n" +
	"# run this file without --swarm, which would draw a second mix on top.\n"

// swarmKeptNote heads a scenario whose swarm drew more faults than a
// scenario file may hold written out (scenarios.MaxFileSize).
const swarmKeptNote = "# The swarm drew more faults for this seed than a scenario file holds written\n" +
	"# out (%d steps, %d bytes): this file keeps the swarm, which draws the same\n" +
	"# ones from its seed with this build (shrink writes out the few that matter).\n"

// writeScenario writes the scenario that replays rep (Pinned), headed by
// swarmDrawnNote when a swarm drew its faults. Where they are too many to
// read back, it writes the scenario as run, swarm and seed set, instead.
func writeScenario(f *os.File, sc *scenarios.Scenario, rep *Report) error {
	data, err := pinnedFile(sc, rep)
	if err == nil {
		_, err = f.Write(data)
	}
	return err
}

// pinnedFile is the text writeScenario writes.
func pinnedFile(sc *scenarios.Scenario, rep *Report) ([]byte, error) {
	pinned := Pinned(sc, rep)
	data, err := pinned.Marshal()
	if err != nil || len(sc.Swarm) == 0 {
		return data, err
	}
	if note := []byte(swarmDrawnNote); len(note)+len(data) <= scenarios.MaxFileSize {
		return append(note, data...), nil
	}
	steps, size := len(pinned.Faults)-len(sc.Faults), len(data)
	data, err = AsRun(sc, rep).WithSeed(rep.Seed).Marshal()
	return append(fmt.Appendf(nil, swarmKeptNote, steps, size), data...), err
}

func writeJSON(f *os.File, v any) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// replayTrace reruns the seed with the trace going to f, all of it or the
// window around the first violation, and insists on the same trace hash: a
// mismatch is a determinism bug, the worst kind we have.
func replayTrace(f *os.File, sc *scenarios.Scenario, proto Protocol, rep *Report, opts Options, keep ArtifactOptions) (TraceWindow, error) {
	opts.Seed, opts.SkipHistoryCheck = rep.Seed, true
	var ww *windowWriter
	if keep.FullTrace {
		opts.Trace = f
	} else {
		n := keep.TraceWindow
		if n <= 0 {
			n = DefaultTraceWindow
		}
		ww = newWindowWriter(f, focusOf(rep), n, n)
		opts.Trace = ww
	}
	again, err := Run(sc, proto, opts)
	if err != nil {
		return TraceWindow{}, err
	}
	if again.Hash != rep.Hash {
		if ww != nil {
			ww.finish() // what the window holds of the diverging run, kept with the error
		}
		return TraceWindow{}, &replayDiverged{seed: rep.Seed, replay: again.Hash, first: rep.Hash}
	}
	if ww == nil {
		return TraceWindow{First: min(1, again.Events), Last: again.Events, Events: again.Events, Full: true}, nil
	}
	win, err := ww.finish()
	win.Events = again.Events
	return win, err
}

// replayDiverged is a replay whose trace hash is not the first run's: the
// trace written of it is the only record of the diverging run.
type replayDiverged struct {
	seed          uint64
	replay, first string
}

func (e *replayDiverged) Error() string {
	return fmt.Sprintf("determinism broken: replay of seed %d gave trace hash %s, first run %s", e.seed, e.replay, e.first)
}

// focusOf is how the window writer recognises the first violation, found
// as the report page finds it (report.FocusOf), so that the page's anchor
// is in the window.
func focusOf(rep *Report) anchorOf {
	var crashEvent uint64
	if rep.Crash != nil {
		crashEvent = rep.Crash.Event
	}
	var lin []byte
	for _, a := range rep.Artifacts {
		if a.Name == LinearizabilityFile {
			var buf bytes.Buffer
			if a.Write(&buf) == nil {
				lin = buf.Bytes()
			}
		}
	}
	f := report.FocusOf(rep.Reason, crashEvent, lin)
	switch {
	case f.Event > 0:
		return anchorOf{event: f.Event}
	case f.HasOp:
		detail, _ := json.Marshal(report.ReturnPrefix(f.ReturnOp))
		return anchorOf{parts: [][]byte{[]byte(`"kind":"obs"`), append([]byte(`"detail":`), bytes.TrimSuffix(detail, []byte(`"`))...)}}
	}
	return anchorOf{}
}
