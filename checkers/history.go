package checkers

import (
	"io"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/workload"
)

// HistoryCheck judges a run's client history after the run: linearizability
// of a kv history, serializability of a list-append one. Adding one is a new
// file with its implementation plus its line in historyChecks (and its name
// in package names).
type HistoryCheck interface {
	// Name is the check's name as scenario files list it.
	Name() string
	// Check judges h within budget (wall time; 0: no bound). Running out of
	// budget is Unknown, never Pass. It must be deterministic in its Pass and
	// Fail verdicts and details: reports compare across runs.
	Check(h *workload.History, budget time.Duration) HistoryResult
}

// HistoryResult is a history check's verdict.
type HistoryResult struct {
	Verdict Verdict
	// Detail explains the verdict in one line, for reports.
	Detail string
	// Outgrown says an Unknown verdict came from a bound on the check's
	// memory, not on its time: running the seed again, with any budget,
	// gives it again.
	Outgrown bool
	// OutOfSteps says an Unknown verdict came from the time budget counted
	// in search steps (linearizable): every run with the same budget gives
	// it again, a larger one may reach a verdict.
	OutOfSteps bool
	// Artifacts are files that show the verdict (a visualization, the cycle
	// of a dependency graph), written into a failure's artifact directory.
	Artifacts []Artifact
}

// Artifact is one file a history check offers: its name inside the artifact
// directory and how to produce its bytes. Producing them may be costly (a
// verbose rerun of the search), so they are made only when written.
type Artifact struct {
	Name  string
	Write func(w io.Writer) error
}

// historyChecks registers the history checks by name.
var historyChecks = map[string]func() HistoryCheck{
	names.Linearizable:       func() HistoryCheck { return linearizability{} },
	names.Serializable:       func() HistoryCheck { return elle{strict: false} },
	names.StrictSerializable: func() HistoryCheck { return elle{strict: true} },
	names.ReadYourWrites:     func() HistoryCheck { return sessionCheck{name: names.ReadYourWrites, ownWrites: true} },
	names.MonotonicReads:     func() HistoryCheck { return sessionCheck{name: names.MonotonicReads} },
	names.MonotonicWrites:    func() HistoryCheck { return writeOrderCheck{name: names.MonotonicWrites} },
	names.WritesFollowReads:  func() HistoryCheck { return writeOrderCheck{name: names.WritesFollowReads, followReads: true} },
	names.Sequential:         func() HistoryCheck { return sequential{} },
}

// NewHistoryCheck returns the history check with the given name, or false if
// the name is no history check (an invariant, the liveness phase, unknown).
func NewHistoryCheck(name string) (HistoryCheck, bool) {
	mk, ok := historyChecks[name]
	if !ok {
		return nil, false
	}
	return mk(), true
}

// ArtifactFiles names every file a history check may offer: what a
// failure's directory may hold of an earlier run's checks.
func ArtifactFiles() []string {
	files := []string{LinearizabilityFile, AnomalyFile(names.Serializable), AnomalyFile(names.StrictSerializable)}
	for _, check := range []string{names.ReadYourWrites, names.MonotonicReads, names.MonotonicWrites, names.WritesFollowReads} {
		files = append(files, SessionFile(check))
	}
	return files
}

// LinearizabilityFile is the artifact of a failed linearizability check:
// Porcupine's interactive view of the failing keys.
const LinearizabilityFile = "linearizability.html"

// linearizability is CheckLinearizable as a HistoryCheck.
type linearizability struct{}

func (linearizability) Name() string { return names.Linearizable }

func (linearizability) Check(h *workload.History, budget time.Duration) HistoryResult {
	lin := CheckLinearizable(h, budget)
	res := HistoryResult{Verdict: lin.Verdict, Detail: lin.Detail, Outgrown: lin.Outgrown, OutOfSteps: lin.OutOfSteps}
	if lin.Verdict == Fail {
		res.Artifacts = []Artifact{{Name: LinearizabilityFile, Write: lin.WriteVisualization}}
	}
	return res
}
