package checkers

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// LinearizabilityResult is the verdict of CheckLinearizable and what is
// needed to draw it.
type LinearizabilityResult struct {
	Verdict Verdict
	// Detail explains the verdict in one line, for reports.
	Detail string
	// Checked is the number of operations given to Porcupine; Unknown of them
	// had no definite answer. Unknown reads are left out before checking:
	// they constrain nothing.
	Checked, Unknown int
	// Unobserved counts the writes with unknown outcome left out because
	// nothing ever observed them (see unobserved): they change no verdict.
	Unobserved int
	// Keys is the number of keys (Porcupine partitions) checked.
	Keys int
	// FailedKeys lists, on Fail, the keys whose own sub-history is not
	// linearizable, sorted.
	FailedKeys []string

	ops     []porcupine.Operation
	timeout time.Duration
}

// CheckLinearizable checks the history against the KV's sequential
// specification with Porcupine, partitioned by key. Operations with an
// unknown outcome return at infinity: they may take effect at any point
// after their call, or never. timeout bounds Porcupine's search in wall-clock
// time (0: no bound); when it runs out the verdict is Unknown, never Pass.
func CheckLinearizable(h *workload.History, timeout time.Duration) LinearizabilityResult {
	r := LinearizabilityResult{timeout: timeout}
	r.ops, r.Unknown, r.Unobserved = toPorcupine(h.Operations())
	r.Checked, r.Keys = len(r.ops), len(partitionByKey(r.ops))
	switch porcupine.CheckOperationsTimeout(kvModel, r.ops, timeout) {
	case porcupine.Ok:
		r.Verdict = Pass
		r.Detail = fmt.Sprintf("%d operations on %d keys are linearizable (%d with unknown outcome; %d unobserved writes left out)",
			r.Checked, r.Keys, r.Unknown, r.Unobserved)
	case porcupine.Illegal:
		r.Verdict = Fail
		r.FailedKeys = r.failedKeys()
		r.Detail = fmt.Sprintf("%d operations on %d keys are not linearizable; keys %s",
			r.Checked, r.Keys, strings.Join(r.FailedKeys, ", "))
	default:
		r.Verdict = Unknown
		r.Detail = fmt.Sprintf("Porcupine gave up after %v on %d operations on %d keys",
			timeout, r.Checked, r.Keys)
	}
	return r
}

// toPorcupine converts a history, dropping reads with unknown outcome and
// writes with unknown outcome that nothing observed (see unobserved).
func toPorcupine(ops []workload.Operation) (out []porcupine.Operation, unknown, unobservedWrites int) {
	out = make([]porcupine.Operation, 0, len(ops))
	var procs processes
	drop := unobserved(ops)
	for i := range ops {
		op := &ops[i]
		process := procs.of(op)
		if op.Status == workload.StatusUnknown && (op.Kind == workload.OpGet || drop[i]) {
			if drop[i] {
				unobservedWrites++
			}
			continue
		}
		if op.Status == workload.StatusUnknown {
			unknown++
		}
		out = append(out, porcupine.Operation{
			ClientId: process,
			Input:    kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call:     int64(op.Call),
			Output:   toOutput(op),
			Return:   returnTime(op),
			Metadata: "c" + strconv.Itoa(op.Client) + " op " + strconv.Itoa(op.ID) + " seq " + strconv.FormatUint(op.Seq, 10),
		})
	}
	return out, unknown, unobservedWrites
}

// processes numbers Jepsen-style processes for the visualization: an
// operation with unknown outcome stays open forever, so the client's next
// operations are drawn as a new process (a new row) rather than on top of it.
// Linearizability itself does not depend on the numbering.
type processes struct {
	generation []int          // per client: unknown outcomes so far
	ids        map[[2]int]int // (client, generation) -> process number, dense from 0
}

// of returns op's process number; it must see the operations in call order.
func (p *processes) of(op *workload.Operation) int {
	for len(p.generation) <= op.Client {
		p.generation = append(p.generation, 0)
	}
	if p.ids == nil {
		p.ids = map[[2]int]int{}
	}
	k := [2]int{op.Client, p.generation[op.Client]}
	id, ok := p.ids[k]
	if !ok {
		id = len(p.ids)
		p.ids[k] = id
	}
	if op.Status == workload.StatusUnknown {
		p.generation[op.Client]++
	}
	return id
}

func toOutput(op *workload.Operation) kvOutput {
	switch op.Status {
	case workload.StatusOK:
		return kvOutput{value: op.Output, found: op.Found, casOK: op.CASOK}
	case workload.StatusFailed:
		return kvOutput{invalid: op.Output}
	}
	return kvOutput{unknown: true}
}

// returnTime is the operation's return, infinity for an unknown outcome.
func returnTime(op *workload.Operation) int64 {
	if op.Status == workload.StatusUnknown || op.Return == sim.Forever {
		return math.MaxInt64
	}
	return int64(op.Return)
}

// failedKeys checks each key on its own to name the ones that fail.
func (r *LinearizabilityResult) failedKeys() []string {
	single := kvModel
	single.Partition = nil
	var failed []string
	for _, part := range partitionByKey(r.ops) {
		if porcupine.CheckOperationsTimeout(single, part, r.timeout) == porcupine.Illegal {
			failed = append(failed, part[0].Input.(kvInput).key)
		}
	}
	sort.Strings(failed)
	return failed
}

// WriteVisualization writes Porcupine's interactive HTML view of the history
// with its longest partial linearizations and where they break. For a
// failure it shows only the failing keys. It runs Porcupine again (in
// verbose mode, with the same timeout), so call it only when the view is wanted.
func (r LinearizabilityResult) WriteVisualization(w io.Writer) error {
	ops := r.ops
	if r.Verdict == Fail && len(r.FailedKeys) > 0 {
		ops = onlyKeys(r.ops, r.FailedKeys)
	}
	_, info := porcupine.CheckOperationsVerbose(kvModel, ops, r.timeout)
	return porcupine.Visualize(kvModel, info, w)
}

// onlyKeys keeps the operations on the given (sorted) keys.
func onlyKeys(ops []porcupine.Operation, keys []string) []porcupine.Operation {
	var out []porcupine.Operation
	for _, op := range ops {
		key := op.Input.(kvInput).key
		if i := sort.SearchStrings(keys, key); i < len(keys) && keys[i] == key {
			out = append(out, op)
		}
	}
	return out
}

// unobserved marks the writes (put, append, cas) with unknown outcome whose
// value no completed read or failed cas ever returned and no cas ever
// expected. Leaving them out changes no verdict, and it keeps Porcupine
// fast when faults leave many operations unanswered (each one otherwise
// multiplies the orders to try):
//
//   - if the history without such a write W is linearizable, so is the
//     history with it: an operation with unknown outcome may take effect
//     last, after everything else, where it changes nothing observed;
//   - if the history with W is linearizable, so is the one without: whatever
//     follows W's place up to the next put can only be reads that return W's
//     value, appends whose result a later read would show with W's value in
//     it, or a cas that expects it or fails reading it, and none exists.
//
// Values are unique per operation (the workload writes "c<client>.<seq>"),
// so a value seen anywhere is attributed to its write.
func unobserved(ops []workload.Operation) map[int]bool {
	seen := map[string]bool{}
	garbled := map[string]bool{} // keys with an answer we cannot read
	for i := range ops {
		op := &ops[i]
		if op.Kind == workload.OpCAS {
			seen[op.Expect] = true
		}
		switch {
		case op.Status == workload.StatusFailed:
			garbled[op.Key] = true
		case op.Status == workload.StatusOK && op.Found: // a get, or a failed cas
			for _, v := range strings.Split(op.Output, workload.AppendSeparator) {
				seen[v] = true
			}
		}
	}
	drop := map[int]bool{}
	for i := range ops {
		op := &ops[i]
		if op.Status == workload.StatusUnknown && op.Kind != workload.OpGet && !seen[op.Value] && !garbled[op.Key] {
			drop[i] = true
		}
	}
	return drop
}
