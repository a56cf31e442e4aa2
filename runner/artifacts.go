package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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

// WriteArtifacts writes what a person needs to study a failed run into dir:
// the scenario pinned to its seed, the report, the client history, the full
// trace (by replaying the seed with tracing on, which also re-checks that the
// replay gives the same trace hash) and the files the history checks offer
// (for a linearizability failure, Porcupine's visualization); then
// report.html, the page drawn from those files (package report). It returns
// the files written.
func WriteArtifacts(dir string, sc *scenarios.Scenario, proto Protocol, rep *Report, opts Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(name string, fn func(f *os.File) error) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		files = append(files, path)
		return nil
	}
	pinned := Pinned(sc, rep)
	steps := []struct {
		name string
		fn   func(f *os.File) error
		skip bool
	}{
		{ScenarioFile, func(f *os.File) error { return writeScenario(f, pinned) }, false},
		{ReportFile, func(f *os.File) error { return writeJSON(f, rep) }, false},
		{HistoryFile, func(f *os.File) error { return rep.History.WriteJSON(f) }, rep.History == nil},
		{TraceFile, func(f *os.File) error { return replayTrace(f, sc, proto, rep, opts) }, false},
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
	page, err := report.WriteRun(dir)
	if err != nil {
		return files, fmt.Errorf("%s: %w", report.File, err)
	}
	return append(files, page), nil
}

func writeScenario(f *os.File, sc *scenarios.Scenario) error {
	data, err := sc.Marshal()
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}

func writeJSON(f *os.File, v any) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// replayTrace reruns the seed with the trace going to f and insists on the
// same trace hash: a mismatch is a determinism bug, the worst kind we have.
func replayTrace(f *os.File, sc *scenarios.Scenario, proto Protocol, rep *Report, opts Options) error {
	opts.Seed, opts.Trace, opts.SkipHistoryCheck = rep.Seed, f, true
	again, err := Run(sc, proto, opts)
	if err != nil {
		return err
	}
	if again.Hash != rep.Hash {
		return fmt.Errorf("determinism broken: replay of seed %d gave trace hash %s, first run %s",
			rep.Seed, again.Hash, rep.Hash)
	}
	return nil
}
