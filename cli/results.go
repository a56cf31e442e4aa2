package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/internal/jsonl"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
)

// result is one line of results.jsonl: a run's report and the sweep flags
// that shaped its verdict, so that a replay line printed later (by a resumed
// sweep, or by merge on another machine) carries them. runner.Report is
// embedded so that a line stays one flat JSON object.
type result struct {
	runner.Report
	// SwarmKinds is the sweep's --swarm.
	SwarmKinds []string `json:"swarm_kinds,omitempty"`
	// LinTimeout is the --lin-timeout the seed was judged with.
	LinTimeout time.Duration `json:"lin_timeout_ns,omitempty"`
	// Build is the Program.Build that ran the seed.
	Build string `json:"build,omitempty"`
	// Platform is where it ran, GOOS/GOARCH (and the GOAMD64 or GOARM64
	// level when not the baseline): merge names it beside a build whose
	// trace hash differs from another's.
	Platform string `json:"platform,omitempty"`
	// Swept is the range of seeds the sweep that ran the seed was asked
	// for, so that merge can tell a shard that is missing or was cut short
	// from a finished one. Absent in results of older sweeps.
	Swept *sweptRange `json:"swept,omitempty"`
	// NoArtifacts says a failing seed was left without artifacts on
	// purpose (--max-artifacts): a sweep run again does not take it for
	// one whose writing failed.
	NoArtifacts bool `json:"no_artifacts,omitempty"`
}

// sweptRange is a sweep's --from, --seeds and --shard K/N.
type sweptRange struct {
	From  uint64 `json:"from"`
	Seeds uint64 `json:"seeds"`
	Shard uint64 `json:"shard"`
	Of    uint64 `json:"of"`
}

// end is the seed after the range, saturated at the largest seed.
func (r sweptRange) end() uint64 {
	if r.Seeds > math.MaxUint64-r.From {
		return math.MaxUint64
	}
	return r.From + r.Seeds
}

// replayFlags are the flags a replay of this result needs to reach the same
// verdict.
func (r *result) replayFlags() string {
	flags := swarmFlag(r.SwarmKinds) + linTimeoutFlag(r.LinTimeout)
	if r.Class == runner.Nondeterministic {
		flags += " --check-determinism" // one run cannot show it; two, compared, can
	}
	return flags
}

// retriable reports whether the result is an inconclusive verdict that
// --lin-timeout decides: Porcupine's budget ran out (counted in its steps,
// or on a very slow machine its wall-clock timer). Running the seed again
// with a larger --lin-timeout may reach a verdict; an event bound, a search
// that outgrew its memory or a stop, by contrast, happens again on every
// run.
func (r *result) retriable() bool { return r.budgetCheck() != nil }

// budgetCheck returns the linearizability check whose Unknown verdict
// --lin-timeout decides, or nil.
func (r *result) budgetCheck() *runner.CheckResult {
	if r.Class != runner.Inconclusive {
		return nil
	}
	for i, c := range r.Checks {
		if c.Name == checkers.NameLinearizable && c.Verdict == checkers.Unknown.String() && !c.Outgrown {
			return &r.Checks[i]
		}
	}
	return nil
}

// retryWith reports whether a sweep with --lin-timeout linTimeout runs the
// seed again: its verdict is one the budget decides, and the budget may
// decide it otherwise now. A budget counted in search steps that ran out
// (OutOfSteps) runs out again at the same step with the same budget, on
// any machine, so only a larger one retries it; one that Porcupine's
// wall-clock timer stopped (a very slow machine, or a result of an older
// build) may finish on another run.
func (r *result) retryWith(linTimeout time.Duration) bool {
	c := r.budgetCheck()
	return c != nil && (!c.OutOfSteps || linTimeout > r.LinTimeout)
}

// requiredFields are the keys every complete result has: without them a line
// cannot say which scenario version and seed it judged, or how.
var requiredFields = []string{"scenario", "seed", "scenario_hash", "class", "trace_hash"}

var knownClasses = []runner.Class{runner.Pass, runner.Safety, runner.Liveness, runner.ProtocolCrash,
	runner.Inconclusive, runner.Vacuous, runner.Nondeterministic}

// repairHint tells how to get past a broken line: its seed simply runs again.
const repairHint = "delete this line, or the whole file, and run the same command again"

// parseResult decodes one results line and insists that it is a complete
// result: a partial or foreign line must never count as a finished seed. An
// error about one field says where the field stands in the line.
func parseResult(line []byte) (result, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return result{}, &jsonl.Error{Col: 1, Msg: "an empty line"} // not JSON cut short, as Unmarshal would say
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return result{}, jsonl.DescribeError("not JSON: ", err)
	}
	if err := checkKeys(line, fields); err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(line, &r); err != nil {
		return result{}, jsonl.DescribeError("", err)
	}
	field := func(key, format string, args ...any) error {
		return &jsonl.Error{Col: columnOf(line, key), Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Scenario == "":
		return result{}, field("scenario", `empty "scenario"`)
	case r.ScenarioHash == "":
		return result{}, field("scenario_hash", `empty "scenario_hash"`)
	case !isHash(r.ScenarioHash):
		return result{}, field("scenario_hash", `"scenario_hash" %q is not 16 hexadecimal digits`, r.ScenarioHash)
	case !slices.Contains(knownClasses, r.Class):
		return result{}, field("class", "unknown class %q", r.Class)
	case r.Hash == "" && r.Class != runner.ProtocolCrash:
		// Only a panic outside a handler (the runner's, a checker's, a
		// protocol's Build) ends a run without a trace hash.
		return result{}, field("trace_hash", `empty "trace_hash"`)
	case r.Hash != "" && !isHash(r.Hash):
		return result{}, field("trace_hash", `"trace_hash" %q is not 16 hexadecimal digits`, r.Hash)
	case r.WallTime < 0:
		return result{}, field("wall_time_ns", `"wall_time_ns" %d is negative`, int64(r.WallTime))
	case r.SimTime < 0:
		return result{}, field("sim_time_ns", `"sim_time_ns" %d is negative`, int64(r.SimTime))
	case r.LinTimeout < 0:
		return result{}, field("lin_timeout_ns", `"lin_timeout_ns" %d is negative`, int64(r.LinTimeout))
	case r.Swept != nil && (r.Swept.Of == 0 || r.Swept.Shard >= r.Swept.Of || r.Swept.Seeds == 0 || r.Swept.Seeds > math.MaxUint64-r.Swept.From):
		return result{}, field("swept", `"swept" (from %d, %d seeds, shard %d of %d) is no sweep's range: want seeds of 1 or more, none past the last seed, and a shard below of`,
			r.Swept.From, r.Swept.Seeds, r.Swept.Shard, r.Swept.Of)
	case r.Swept != nil && (r.Seed < r.Swept.From || r.Seed >= r.Swept.end()):
		return result{}, field("seed", `seed %d is outside the range it was swept in (from %d, %d seeds)`, r.Seed, r.Swept.From, r.Swept.Seeds)
	}
	return r, nil
}

// checkKeys refuses the keys a decoder would take with another meaning
// than the line's writer gave them: a required key missing, null or given
// twice (the decoder keeps the last), and a key that differs from one of a
// result's in case only (the decoder matches it anyway).
func checkKeys(line []byte, fields map[string]json.RawMessage) error {
	var missing []string
	for _, k := range requiredFields {
		raw, ok := fields[k]
		switch {
		case !ok:
			missing = append(missing, strconv.Quote(k))
		case string(raw) == "null":
			return &jsonl.Error{Col: columnOf(line, k), Msg: fmt.Sprintf("null %q", k)}
		}
	}
	if len(missing) > 0 { // what lacks them is the record, which starts the line
		return &jsonl.Error{Col: 1, Msg: "no " + strings.Join(missing, ", ")}
	}
	if k, col, ok := duplicateKey(line); ok { // however it is spelt: "k" :, "\u006b"
		return &jsonl.Error{Col: col, Msg: fmt.Sprintf("%q given twice", k)}
	}
	var miscased []string // sorted below only when there is one: every line is checked
	for k := range fields {
		if known, ok := resultKeys()[strings.ToLower(k)]; ok && known != k {
			miscased = append(miscased, k)
		}
	}
	if len(miscased) == 0 {
		return nil
	}
	k := slices.Min(miscased)
	return &jsonl.Error{Col: columnOf(line, k), Msg: fmt.Sprintf("key %q: the key is %q", k, resultKeys()[strings.ToLower(k)])}
}

// columnOf is the 1-based column of key's name in line, or 0.
func columnOf(line []byte, key string) int {
	return bytes.Index(line, []byte(strconv.Quote(key)+":")) + 1
}

// resultKeys maps the lower-case form of every key a result line may hold
// (the JSON names of result's fields, runner.Report's among them) to the key.
var resultKeys = sync.OnceValue(func() map[string]string {
	keys := map[string]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-" || !f.IsExported() && !f.Anonymous:
			case f.Anonymous && name == "":
				walk(f.Type)
			case name == "":
				keys[strings.ToLower(f.Name)] = f.Name
			default:
				keys[strings.ToLower(name)] = name
			}
		}
	}
	walk(reflect.TypeFor[result]())
	return keys
})

// isHash reports whether s is a hash as runs write them: 16 lowercase
// hexadecimal digits.
func isHash(s string) bool {
	return len(s) == 16 && strings.Trim(s, "0123456789abcdef") == ""
}

// byteOrderMark is UTF-8's, which some editors put first in a file.
var byteOrderMark = []byte("\ufeff")

// readResults calls fn with every result in the file, in order, and returns
// the length of its complete lines. A last line without its newline that
// begins a JSON object was cut short by an interruption and is left out;
// any other line that is not a complete result is bad input naming
// file:line and the repair.
func readResults(path string, fn func(line int, r result) error) (complete int64, err error) {
	f, err := jsonl.OpenRegular(path)
	if errors.Is(err, jsonl.ErrNotRegular) {
		return 0, badInput("%s: not a results file: not a regular file", path)
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var stopped error // what parsing or fn said: returned as it is
	complete, err = jsonl.Lines(f, jsonl.MaxLine, func(line int, text []byte) error {
		if line == 1 {
			text = bytes.TrimPrefix(text, byteOrderMark) // an editor's, as scenario files may have
		}
		r, err := parseResult(text)
		if err != nil {
			pe := &jsonl.Error{Msg: err.Error()}
			errors.As(err, &pe) // a JSON error knows its column
			pe.Line = line
			stopped = badInput("%s: not a complete sweep result: %s; %s", pe.At(path), pe.Msg, repairHint)
			if line == 1 && filepath.Base(path) != report.ResultsFile {
				// Most likely another kind of file: deleting it is not the fix.
				stopped = badInput("%s: not a sweep's results file: line 1 is not a result (%s); give the %s files a sweep wrote, or directories holding them",
					pe.At(path), pe.Msg, report.ResultsFile)
			}
		} else {
			stopped = fn(line, r)
		}
		return stopped
	})
	var tooLong *jsonl.TooLongError
	var torn *jsonl.Error
	switch {
	case err == nil || err == stopped:
		return complete, err
	case errors.As(err, &tooLong):
		return complete, badInput("%s:%d:%d: not a complete sweep result: longer than %d bytes; %s", // the column past the bound
			path, tooLong.Line, tooLong.Max+1, tooLong.Max, repairHint)
	case errors.As(err, &torn):
		return complete, badInput("%s: not a complete sweep result: %s; %s", torn.At(path), torn.Msg, repairHint)
	default:
		return complete, internalErr(err)
	}
}

// openResults opens the results file for appending, creating it and its
// directory if needed, and makes a new file's name durable: fsyncing lines
// into a file whose directory entry a crash loses would save nothing.
func openResults(path string) (*os.File, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil || statErr == nil {
		return f, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// syncDir fsyncs a directory, so that the entries just created in it survive
// a crash. Where directories cannot be synced (not every system allows it),
// there is nothing more to do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// syncWriter is what appendResult needs of the results file.
type syncWriter interface {
	io.Writer
	Sync() error
}

// appendResult writes one result as one line with one write and fsyncs it,
// so that a machine crash loses at most the line being written (a partial
// last line is dropped when the sweep continues). One fsync per seed costs
// little beside a run: about half a millisecond on an ext4 disk, against
// tens of milliseconds or more per seed.
func appendResult(f syncWriter, r *result) error {
	line, err := json.Marshal(r)
	if err == nil && len(line) >= maxResultLine {
		line, err = json.Marshal(shortened(r))
	}
	if err != nil {
		return err
	}
	if len(line) >= maxResultLine {
		return fmt.Errorf("seed %d: a result of %d bytes, past the %d a results line may hold", r.Seed, len(line), maxResultLine)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

// maxResultLine bounds a results line as written: well below the bound it
// is read back with (jsonl.MaxLine), so that every line a sweep writes is
// one that sweep, merge and report read.
const maxResultLine = jsonl.MaxLine / 4

// keptText bounds each long text of a result that shortened cuts.
const keptText = 4 << 10

// shortened is r with its unbounded parts cut (the reason, each check's
// detail, the list of faults beyond the protocol's assumptions) and the
// crash's stack and last events left out: they stay in the failure's
// artifacts (report.json), and a results line must stay readable.
func shortened(r *result) *result {
	out := *r
	out.Reason = cutText(r.Reason)
	out.Checks = slices.Clone(r.Checks)
	for i := range out.Checks {
		out.Checks[i].Detail = cutText(out.Checks[i].Detail)
	}
	if len(r.Beyond) > maxBeyondKept {
		out.Beyond = append(slices.Clone(r.Beyond[:maxBeyondKept]), fmt.Sprintf("... and %d more", len(r.Beyond)-maxBeyondKept))
	}
	if r.Crash != nil {
		crash := *r.Crash
		crash.Value, crash.Stack, crash.Recent = cutText(crash.Value), "(left out of the results line: see the failure's report.json)", nil
		out.Crash = &crash
	}
	return &out
}

// maxBeyondKept is how many faults beyond the assumptions a shortened
// result names.
const maxBeyondKept = 20

// cutText keeps the first keptText bytes of s.
func cutText(s string) string { return sim.CutText(s, keptText) }

// duplicateKey finds a key the line's object gives twice, as the decoder
// reads keys (escapes undone, whitespace before the colon allowed), and the
// 1-based column where its second occurrence ends.
func duplicateKey(line []byte) (key string, col int, found bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", 0, false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", 0, false
		}
		k, _ := tok.(string)
		if seen[k] {
			return k, int(dec.InputOffset()), true
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", 0, false
		}
	}
	return "", 0, false
}
