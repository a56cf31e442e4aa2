package checkers

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// LinearizabilityResult is the verdict of CheckLinearizable and what is
// needed to draw it.
type LinearizabilityResult struct {
	Verdict Verdict
	// Detail explains the verdict in one line, for reports.
	Detail string
	// Checked is the number of operations checked (replayed in sequential
	// parts, or given to Porcupine); Unknown of them had no definite answer. Unknown reads are left out before checking:
	// they constrain nothing.
	Checked, Unknown int
	// Unobserved counts the writes with unknown outcome left out because
	// nothing ever observed them (see unobserved): they change no verdict.
	Unobserved int
	// Keys is the number of keys (Porcupine partitions) checked.
	Keys int
	// Outgrown says an Unknown verdict came from a search that outgrew its
	// memory bound (searchMemory), not from the time budget: it comes again
	// on every run of the seed, however long the timeout. (The time budget
	// is counted in steps, searchSteps, so that it runs out at the same
	// point on every machine; a longer one allows more.)
	Outgrown bool
	// OutOfSteps says an Unknown verdict came from the time budget, counted
	// in the search's steps: every run with the same budget gives it again,
	// on every machine; a larger one may reach a verdict.
	OutOfSteps bool
	// FailedKeys lists, on Fail, the keys whose own sub-history is not
	// linearizable, sorted.
	FailedKeys []string

	keyed   *keyedHistory
	timeout time.Duration
}

// CheckLinearizable checks the history against the KV's sequential
// specification, partitioned by key and cut in time into parts: a part whose
// operations ran one after another is replayed against the specification,
// the others are searched by Porcupine. Operations with an
// unknown outcome return at infinity: they may take effect at any point
// after their call, or never. timeout bounds Porcupine's search in wall-clock
// time (0: no bound); when it runs out the verdict is Unknown, never Pass.
//
// The keys are checked one at a time, each in parts cut where no operation
// is in flight (see checkKeys), converted to Porcupine's form only for their
// own check and released after it, so the peak memory is one batch of
// parts' search rather than all keys' at once. The
// history must not change while the result is in use: WriteVisualization
// reads it again.
func CheckLinearizable(h *workload.History, timeout time.Duration) LinearizabilityResult {
	return checkLinearizableWithin(h, timeout, searchMemory)
}

// checkLinearizableWithin is CheckLinearizable with memory in place of
// searchMemory.
func checkLinearizableWithin(h *workload.History, timeout time.Duration, memory int64) LinearizabilityResult {
	r := LinearizabilityResult{timeout: timeout}
	r.keyed = groupByKey(h)
	r.keyed.memory = memory
	r.Checked, r.Unknown, r.Unobserved, r.Keys = r.keyed.checked, r.keyed.unknown, r.keyed.unobserved, len(r.keyed.keys)
	out := checkKeys(r.keyed, timeout)
	switch {
	case len(out.failed) > 0:
		r.Verdict = Fail
		r.FailedKeys = out.failed
		// The keys that fail lead: the counts are of everything checked.
		keys := "key " + r.FailedKeys[0] + " has"
		if len(r.FailedKeys) > 1 {
			keys = "keys " + strings.Join(r.FailedKeys, ", ") + " have"
		}
		r.Detail = fmt.Sprintf("%s no linearization (%d operations on %s checked)", keys, r.Checked, plural.Of(r.Keys, "key"))
	case out.gaveUp && out.overworked > 0:
		r.Verdict, r.OutOfSteps = Unknown, true // a larger budget may reach a verdict
		r.Detail = fmt.Sprintf("Porcupine gave up on key %s (%d operations) when its search took the %s its share of "+
			"the %v budget, %v, allows: too many operations in flight at once on one key (%d operations on %s)",
			out.gaveUpKey, out.gaveUpOps, plural.Of(searchSteps(out.overworked), "step"), timeout, out.overworked,
			r.Checked, plural.Of(r.Keys, "key"))
	case out.gaveUp && out.outgrown:
		r.Verdict, r.Outgrown = Unknown, true
		r.Detail = fmt.Sprintf("Porcupine gave up on key %s (%d operations) when its search outgrew the %s it may hold: "+
			"too many operations in flight at once on one key (%d operations on %s)",
			out.gaveUpKey, out.gaveUpOps, memoryText(memory), r.Checked, plural.Of(r.Keys, "key"))
	case out.gaveUp:
		r.Verdict = Unknown
		r.Detail = fmt.Sprintf("Porcupine gave up on key %s (%d operations) when its share of the %v budget, %v, ran out (%d operations on %s)",
			out.gaveUpKey, out.gaveUpOps, timeout, out.gaveUpBudget, r.Checked, plural.Of(r.Keys, "key"))
	default:
		r.Verdict = Pass
		r.Detail = fmt.Sprintf("%d operations on %s are linearizable (%d with unknown outcome; %d unobserved writes left out)",
			r.Checked, plural.Of(r.Keys, "key"), r.Unknown, r.Unobserved)
	}
	return r
}

// keyedHistory is a history grouped by key without copying it: per key, the
// positions of the operations Porcupine is given, and their process numbers.
// A key's Porcupine operations are made from it only while that key is
// checked (see operations).
type keyedHistory struct {
	h    *workload.History
	keys []string   // in order of first appearance among the kept operations
	ops  [][]keptOp // per key, in call order
	// checked, unknown, unobserved: see LinearizabilityResult.
	checked, unknown, unobserved int
	// memory is what the searches of one batch of parts may hold
	// (searchMemory).
	memory int64
	// overworked is, once a part's search took every step its share of the
	// time budget allowed (searchSteps), its batch's budget; 0 until then
	// (checkKeys clears it for each key).
	overworked time.Duration
	// bound is the return given to a write with unknown outcome that a
	// completed operation observed, by position (observedBy).
	bound map[int32]int64
	// rt orders the calls and returns: Porcupine's times are its
	// positions, not virtual times (see workload.RealTime).
	rt workload.RealTime
}

// keptOp is an operation given to Porcupine: its position in the history
// and its process number (see processes), which depends on the operations
// of every key before it and so is fixed in the one pass over the history.
type keptOp struct {
	index, process int32
}

// groupByKey drops reads with unknown outcome and writes with unknown
// outcome that nothing observed (see unobserved), and groups the rest by key.
func groupByKey(h *workload.History) *keyedHistory {
	k := &keyedHistory{h: h, rt: h.RealTime()}
	var procs processes
	drop := unobservedAt(h.Len(), h.At)
	k.bound = observedBy(h.Len(), h.At, k.rt)
	index := map[string]int{}
	for i := range h.Len() {
		op := h.At(i)
		process := procs.of(&op)
		if op.Status == workload.StatusUnknown && (op.Kind == workload.OpGet || drop[i]) {
			if drop[i] {
				k.unobserved++
			}
			continue
		}
		if op.Status == workload.StatusUnknown {
			k.unknown++
		}
		k.checked++
		j, ok := index[op.Key]
		if !ok {
			j = len(k.keys)
			index[op.Key] = j
			k.keys = append(k.keys, op.Key)
			k.ops = append(k.ops, nil)
		}
		k.ops[j] = append(k.ops[j], keptOp{index: int32(i), process: int32(process)})
	}
	return k
}

// operations returns the Porcupine operations of the given keys (indices
// into k.keys, in increasing order), in call order within each key and the
// keys one after the other, so that partitionByKey finds the keys in the
// order of the whole history.
func (k *keyedHistory) operations(keys ...int) []porcupine.Operation {
	n := 0
	for _, j := range keys {
		n += len(k.ops[j])
	}
	out := make([]porcupine.Operation, 0, n)
	for _, j := range keys {
		for _, kept := range k.ops[j] {
			out = append(out, k.operation(kept, true))
		}
	}
	return out
}

// operation is kept's Porcupine operation; its metadata, which only the
// visualization shows, is made if named.
func (k *keyedHistory) operation(kept keptOp, named bool) porcupine.Operation {
	op := k.h.At(int(kept.index))
	out := porcupine.Operation{
		ClientId: int(kept.process),
		Input:    kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
		Call:     k.callOf(kept),
		Output:   toOutput(&op),
		Return:   k.returnOf(kept),
	}
	if named {
		// The view's times are positions in the order of events: the
		// virtual times are in the description.
		meta := "c" + strconv.Itoa(op.Client) + " op " + strconv.Itoa(op.ID) + " seq " +
			strconv.FormatUint(op.Seq, 10) + ", called at " + time.Duration(op.Call).String()
		if op.Return != sim.Forever {
			meta += ", returned at " + time.Duration(op.Return).String()
		}
		out.Metadata = meta
	}
	return out
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
		return kvOutput{failed: true, invalid: op.Output}
	}
	return kvOutput{unknown: true}
}

// callOf is the call of the operation kept in k, as a position in the
// order of events (k.rt).
func (k *keyedHistory) callOf(kept keptOp) int64 { return k.rt.Call(int(kept.index)) }

// returnOf is the return of the operation kept in k, as a position in the
// order of events: for an unknown outcome, the earliest return that
// observed it (observedBy), or infinity.
func (k *keyedHistory) returnOf(kept keptOp) int64 {
	if t, ok := k.bound[kept.index]; ok {
		return t
	}
	return k.rt.Return(int(kept.index))
}

// WriteVisualization writes Porcupine's interactive HTML view of the history
// with its longest partial linearizations and where they break. For a
// failure it shows only the failing keys. It runs Porcupine again on them
// (in verbose mode, with the same timeout and memory bound: a key whose
// search outgrows its memory is drawn as far as it got), so call it only
// when the view is wanted.
func (r LinearizabilityResult) WriteVisualization(w io.Writer) error {
	k := r.keyed
	if k == nil {
		k = &keyedHistory{}
	}
	var keys []int
	for j, key := range k.keys {
		if r.Verdict != Fail || len(r.FailedKeys) == 0 || slices.Contains(r.FailedKeys, key) {
			keys = append(keys, j)
		}
	}
	ops := k.operations(keys...)
	memory := k.memory
	if memory == 0 {
		memory = searchMemory
	}
	_, info := porcupine.CheckOperationsVerbose(meteredKV(ops, memory, r.timeout), ops, r.timeout)
	sortLinearizations(info.PartialLinearizations())
	return porcupine.Visualize(kvModel, info, w)
}

// sortLinearizations puts each partition's partial linearizations longest
// first, then in the order of their operation ids. Porcupine returns them as
// a set, in a map's iteration order, so that without this the same failure's
// page differed from run to run, and so did the operation a report centres
// on (the first of several longest). The slices are Porcupine's own: sorting
// them sorts what Visualize shows.
func sortLinearizations(partitions [][][]int) {
	for _, lins := range partitions {
		slices.SortFunc(lins, func(a, b []int) int {
			if c := cmp.Compare(len(b), len(a)); c != 0 {
				return c
			}
			return slices.Compare(a, b)
		})
	}
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
	return unobservedAt(len(ops), func(i int) workload.Operation { return ops[i] })
}

// unobservedAt is unobserved of the n operations at(0), ..., at(n-1), for a
// history walked without a copy of it. Only the values of writes with
// unknown outcome are looked for, so its memory grows with those writes,
// not with the history.
func unobservedAt(n int, at func(int) workload.Operation) map[int]bool {
	seen := map[string]bool{}    // the values of writes with unknown outcome: observed?
	garbled := map[string]bool{} // keys with an answer we cannot read
	for i := range n {
		op := at(i)
		if op.Status == workload.StatusUnknown && op.Kind != workload.OpGet {
			seen[op.Value] = false
		}
	}
	if len(seen) == 0 {
		return nil
	}
	for i := range n {
		op := at(i)
		if op.Kind == workload.OpCAS {
			eachValue(op.Expect, func(v string) { markSeen(seen, v) }) // an expected list names each append
		}
		switch {
		case op.Status == workload.StatusFailed:
			garbled[op.Key] = true
		case op.Status == workload.StatusOK && reads(&op):
			eachValue(op.Output, func(v string) { markSeen(seen, v) })
		}
	}
	drop := map[int]bool{}
	for i := range n {
		op := at(i)
		if op.Status == workload.StatusUnknown && op.Kind != workload.OpGet && !seen[op.Value] && !garbled[op.Key] {
			drop[i] = true
		}
	}
	return drop
}

// observedBy gives each write with unknown outcome whose value a completed
// operation on its key observed (a get returned it, in a list or alone; a
// cas failed reading it, or succeeded expecting it) the earliest return of
// those operations, by position. (A value seen on another key is a wrong
// answer of that key's, and bounds nothing here.) Values are unique per
// operation, so only that write wrote the value: it took effect, and before
// any operation that observed it returned. Its return may be put there
// instead of at infinity, which changes no verdict, and it stops being in
// flight, with every later operation, for the rest of the history:
// Porcupine need not try it at every later point, and quiet points cut the
// key's history into parts again (linearizable_parts.go). Open-loop clients
// under faults leave hundreds of such writes.
func observedBy(n int, at func(int) workload.Operation, rt workload.RealTime) map[int32]int64 {
	type written struct{ key, value string }
	earliest := map[written]int64{} // the writes with unknown outcome: the first return that showed them, on their key
	for i := range n {
		if op := at(i); op.Status == workload.StatusUnknown && op.Kind != workload.OpGet {
			earliest[written{op.Key, op.Value}] = math.MaxInt64
		}
	}
	if len(earliest) == 0 {
		return nil
	}
	for i := range n {
		op := at(i)
		if op.Status != workload.StatusOK {
			continue
		}
		ret := rt.Return(i)
		show := func(v string) {
			if t, ok := earliest[written{op.Key, v}]; ok && ret < t {
				earliest[written{op.Key, v}] = ret
			}
		}
		if op.Kind == workload.OpCAS && op.CASOK {
			eachValue(op.Expect, show) // an expected list names each append
		}
		if reads(&op) {
			eachValue(op.Output, show)
		}
	}
	bound := map[int32]int64{}
	for i := range n {
		op := at(i)
		if op.Status != workload.StatusUnknown || op.Kind == workload.OpGet {
			continue
		}
		if t := earliest[written{op.Key, op.Value}]; t != math.MaxInt64 && t > rt.Call(i) {
			bound[int32(i)] = t
		}
	}
	return bound
}

// reads reports whether op's answer shows the key's state: a get's or a
// failed cas's that found the key (a put's or an append's answer holds no
// value, whatever a broken service put in it).
func reads(op *workload.Operation) bool {
	return op.Found && (op.Kind == workload.OpGet || op.Kind == workload.OpCAS && !op.CASOK)
}

// eachValue calls fn with each value an answer shows: the answer itself,
// or each element of an appended list.
func eachValue(output string, fn func(v string)) {
	for rest, more := output, true; more; {
		var v string
		v, rest, more = strings.Cut(rest, workload.AppendSeparator)
		fn(v)
	}
}

// markSeen marks v observed if it is one of the values looked for.
func markSeen(seen map[string]bool, v string) {
	if _, ok := seen[v]; ok {
		seen[v] = true
	}
}
