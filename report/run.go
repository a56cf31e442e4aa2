package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/internal/jsonl"
	"github.com/simrun/simrun/workload"
)

// Artifact file names, as runner.WriteArtifacts writes them (the runner
// imports this package, so the names are repeated here, not imported).
const (
	reportJSON  = "report.json"
	traceFile   = "trace.jsonl"
	historyFile = "history.jsonl"
	linFile     = "linearizability.html"
	// File is the page this package writes into a run or sweep directory.
	File = "report.html"
)

// Meta is what the page needs of a run's report.json (runner.Report).
type Meta struct {
	Scenario  string   `json:"scenario"`
	Protocol  string   `json:"protocol"`
	Seed      uint64   `json:"seed"`
	Class     string   `json:"class"`
	Reason    string   `json:"reason"`
	Events    uint64   `json:"events"`
	SimTime   int64    `json:"sim_time_ns"`
	Hash      string   `json:"trace_hash"`
	Byzantine []string `json:"byzantine"`
	// Swarm and SwarmOptions are what a swarm drew for this seed: the fault
	// mix, and the cluster size, clients and workload (runner.Report).
	Swarm        []string `json:"swarm"`
	SwarmOptions []string `json:"swarm_options"`
	Faults       string   `json:"faults"`
	// Beyond says where the faults went beyond what the protocol assumes
	// (runner.Report.Beyond).
	Beyond []string `json:"beyond_assumptions"`
	// Program is the binary that replays the run (runner.ArtifactOptions);
	// empty where the writer named none (then simrun's own).
	Program string `json:"program"`

	Checks []struct {
		Name    string `json:"name"`
		Verdict string `json:"verdict"`
		Detail  string `json:"detail"`
	} `json:"checks"`
	// TraceWindow says which events trace.jsonl holds (runner.TraceWindow);
	// nil in artifacts written before windows existed: then all of them.
	TraceWindow *struct {
		First  uint64 `json:"first"`
		Last   uint64 `json:"last"`
		Before int    `json:"before"`
		Events uint64 `json:"events"`
		Full   bool   `json:"full"`
	} `json:"trace_window"`
	// Ops counts the run's client operations, which history.jsonl holds;
	// nil in artifacts that have no count.
	Ops *struct {
		OK      int `json:"ok"`
		Failed  int `json:"failed"`
		Unknown int `json:"unknown"`
	} `json:"ops"`
	Crash *struct {
		Node  int    `json:"Node"`
		Event uint64 `json:"Event"`
		Value string `json:"Value"`
	} `json:"crash"`
}

// Replayer is the binary the page tells a reader to replay the run with.
func (m Meta) Replayer() string {
	if m.Program != "" {
		return m.Program
	}
	return "simrun"
}

// ReplayerIsRelative reports whether Replayer is a path relative to where
// the program ran ("./mysim"), not a name the shell finds on its PATH.
func (m Meta) ReplayerIsRelative() bool {
	return strings.ContainsAny(m.Replayer(), `/\`) && !filepath.IsAbs(m.Replayer())
}

// Run is one run's artifacts, read back.
type Run struct {
	Meta    Meta
	Events  []Event
	Ops     []workload.Operation
	HasLin  bool   // linearizability.html is beside the report
	linPage []byte // linearizability.html, for the stuck operation (FocusOf)
	// Findings are the history checks' other files beside the report
	// (<check>-violations.txt, <check>-anomaly.txt), sorted.
	Findings []string
}

// LoadRun reads the artifacts in dir: report.json and trace.jsonl are
// required, history.jsonl and linearizability.html are used when present.
func LoadRun(dir string) (*Run, error) {
	r := &Run{}
	if err := readMeta(filepath.Join(dir, reportJSON), &r.Meta); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, traceFile)
	f, err := jsonl.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if r.Events, err = ReadTrace(f); err != nil {
		return nil, inFile(path, err)
	}
	if err := r.checkTrace(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := r.loadHistory(filepath.Join(dir, historyFile)); err != nil {
		return nil, err
	}
	if lin, err := os.ReadFile(filepath.Join(dir, linFile)); err == nil {
		r.HasLin, r.linPage = true, lin
	}
	r.Findings = findings(dir)
	return r, nil
}

// findingPatterns match the files a history check writes beside the report
// besides Porcupine's view (checkers.SessionFile, checkers.AnomalyFile; the
// runner clears a rerun's directory of an earlier run's, so those present
// are this run's).
var findingPatterns = []string{"*-violations.txt", "*-anomaly.txt"}

// findings lists the history checks' files in dir, sorted (os.ReadDir
// sorts; matched by name, so that dir's own name is never a pattern).
func findings(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		for _, pattern := range findingPatterns {
			if ok, _ := filepath.Match(pattern, e.Name()); ok && e.Type().IsRegular() {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

// maxMeta bounds report.json, which holds a run's report and its trace
// window: a few kilobytes.
const maxMeta = 16 << 20

// readMeta decodes report.json, after checking that it is a regular file of
// at most maxMeta bytes: reading anything else whole could take any amount
// of memory.
func readMeta(path string, m *Meta) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Size() > maxMeta {
		return fmt.Errorf("%s: not a run's report: not a regular file of at most %d bytes", path, maxMeta)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, m); err != nil {
		col, msg := jsonl.Describe(err)
		line, col := jsonl.LineCol(data, col-1) // col counts the bytes read, the offending one last
		return fmt.Errorf("%s:%d:%d: not a run's report: %s", path, line, col, msg)
	}
	if missing := m.missing(); missing != "" {
		return fmt.Errorf("%s: not a run's report: it has no %s", path, missing)
	}
	if !slices.Contains(Classes, m.Class) {
		line, col := jsonl.LineCol(data, bytes.Index(data, []byte(`"class"`)))
		return fmt.Errorf("%s:%d:%d: not a run's report: class: unknown class %q (known: %s)", path, line, col, m.Class, strings.Join(Classes, ", "))
	}
	return nil
}

// Classes are the failure classes a report may hold, as runner.Class names
// them (runner imports this package, so it cannot name them itself; a test
// in cli keeps the two in step).
var Classes = []string{"pass", "safety", "liveness", "crash", "inconclusive", "vacuous", "nondeterministic"}

// missing names the first field every report the runner writes has and m
// lacks: any JSON object decodes into a Meta, and a page drawn from one of
// another program's would describe a run that never was.
func (m Meta) missing() string {
	for _, f := range []struct{ key, value string }{
		{"scenario", m.Scenario}, {"protocol", m.Protocol}, {"class", m.Class}, {"trace_hash", m.Hash},
	} {
		if f.value == "" {
			return f.key
		}
	}
	return ""
}

func (r *Run) loadHistory(path string) error {
	f, err := jsonl.OpenRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		if m := r.Meta.Ops; m != nil && m.OK+m.Failed+m.Unknown > 0 {
			return fmt.Errorf("%s: missing, and %s says the run made %d operations", path, reportJSON, m.OK+m.Failed+m.Unknown)
		}
		return nil // a run without clients, or a report made from a trace alone
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := workload.ReadJSON(f)
	if err != nil {
		return inFile(path, err)
	}
	r.Ops = h.Operations()
	if m := r.Meta.Ops; m != nil && len(r.Ops) != m.OK+m.Failed+m.Unknown {
		return fmt.Errorf("%s: holds %d operations, %s says the run made %d: not this run's history, or cut short",
			path, len(r.Ops), reportJSON, m.OK+m.Failed+m.Unknown)
	}
	return nil
}

// checkTrace refuses a trace that is not the one report.json describes: its
// events must be numbered one after another, in time order, from the
// window's first to its last (a trace cut short, emptied or of another run
// would otherwise draw a page that shows nothing and says nothing).
func (r *Run) checkTrace() error {
	for i := 1; i < len(r.Events); i++ {
		prev, e := r.Events[i-1], r.Events[i]
		if e.I != prev.I+1 || e.T < prev.T {
			return fmt.Errorf("event %d (at %dns) follows event %d (at %dns): not a trace the kernel wrote", e.I, e.T, prev.I, prev.T)
		}
	}
	wantFirst, wantLast := uint64(1), r.Meta.Events // the whole run: events are numbered from 1
	if w := r.Meta.TraceWindow; w != nil {
		wantFirst, wantLast = w.First, w.Last
		if w.Events == 0 {
			wantLast = 0
		}
	}
	if wantLast == 0 {
		return nil // a run without events
	}
	first, last := uint64(0), uint64(0)
	if n := len(r.Events); n > 0 {
		first, last = r.Events[0].I, r.Events[n-1].I
	}
	if first != wantFirst || last != wantLast {
		return fmt.Errorf("holds %d events (%d to %d), %s says events %d to %d: not this run's trace, or cut short",
			len(r.Events), first, last, reportJSON, wantFirst, wantLast)
	}
	return nil
}

// WriteRun writes dir/report.html from the artifacts in dir and returns its path.
func WriteRun(dir string) (string, error) {
	r, err := LoadRun(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, File)
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := r.Render(out); err != nil {
		out.Close()
		return "", err
	}
	return path, out.Close()
}

// Anchor is the event the page centres on and highlights.
type Anchor struct {
	Event   uint64   // trace event number (1-based); 0 if none was found
	Why     string   // what happened there, one line
	Related []uint64 // other events the reason names (the conflicting commit)
	// AtEnd says the verdict names no event (a liveness bound that ran out,
	// a vacuous or inconclusive run): the page centres on the run's last.
	AtEnd bool
}

var eventRe = regexp.MustCompile(`\bevent (\d+)\b`)

// Focus is where a failure's first violation lies, as far as its reason, its
// crash and Porcupine's page tell without reading the trace: an event
// number, or the operation whose return the trace must be searched for. The
// runner uses it to choose the part of the trace a failure keeps, the page
// (Violation) to centre the diagram, so that both agree.
type Focus struct {
	Event    uint64   // 0 if none is named
	Related  []uint64 // other events the reason names (the conflicting commit)
	ReturnOp int      // the operation Porcupine could not place, if HasOp
	HasOp    bool
}

// FocusOf finds the focus: the event the reason names ("agreement violated
// at event 9196 ..."), a protocol crash's event (crashEvent, 0 if none), or
// the first operation Porcupine could not linearize (linPage is
// linearizability.html, nil if none).
func FocusOf(reason string, crashEvent uint64, linPage []byte) Focus {
	var f Focus
	if m := eventRe.FindAllStringSubmatch(reason, -1); len(m) > 0 {
		for i, sub := range m {
			n, _ := strconv.ParseUint(sub[1], 10, 64)
			if i == 0 {
				f.Event = n
			} else if !slices.Contains(f.Related, n) && n != f.Event {
				f.Related = append(f.Related, n)
			}
		}
		return f
	}
	if crashEvent > 0 {
		f.Event = crashEvent
		return f
	}
	f.ReturnOp, f.HasOp = stuckOp(porcupineData(linPage))
	return f
}

// ReturnPrefix begins the detail of the observation of operation op's
// return ("return op=17 ..."), the event a Porcupine failure centres on.
func ReturnPrefix(op int) string { return "return op=" + strconv.Itoa(op) + " " }

// Violation finds the first violation (FocusOf) in the trace; for a verdict
// without an event (liveness: the bound ran out) it is the last event the
// trace holds.
func (r *Run) Violation() Anchor {
	a := Anchor{Why: r.Meta.Reason}
	var crashEvent uint64
	if r.Meta.Crash != nil {
		crashEvent = r.Meta.Crash.Event
	}
	f := FocusOf(r.Meta.Reason, crashEvent, r.linPage)
	if f.Event > 0 {
		a.Event, a.Related = f.Event, f.Related
		return a
	}
	if f.HasOp {
		if ev := r.returnEvent(f.ReturnOp); ev > 0 {
			a.Event = ev
			a.Why = fmt.Sprintf("operation %d returns here and no linearization can place it (Porcupine); %s", f.ReturnOp, r.Meta.Reason)
			return a
		}
	}
	if n := len(r.Events); n > 0 {
		a.Event, a.AtEnd = r.Events[n-1].I, true
		if a.Why == "" {
			a.Why = "end of the run"
		} else {
			a.Why = "end of the run: " + a.Why
		}
	}
	return a
}

// returnEvent finds the observation "return op=N ..." of operation op.
func (r *Run) returnEvent(op int) uint64 {
	prefix := ReturnPrefix(op)
	for _, e := range r.Events {
		if e.Kind == "obs" && strings.HasPrefix(e.Detail, prefix) {
			return e.I
		}
	}
	return 0
}

// find returns the position of event number i in r.Events.
func (r *Run) find(i uint64) (int, bool) {
	return slices.BinarySearchFunc(r.Events, i, func(e Event, i uint64) int {
		switch {
		case e.I < i:
			return -1
		case e.I > i:
			return 1
		}
		return 0
	})
}
