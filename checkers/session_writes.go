package checkers

import (
	"fmt"
	"strings"
	"time"

	"github.com/simrun/simrun/workload"
)

// The two session guarantees about writes (Terry et al., 1994), per client
// session and per key:
//
//   - monotonic-writes: a client's write takes effect after the writes the
//     same client made earlier (answered OK before it was called);
//   - writes-follow-reads: a client's write takes effect after the write
//     whose value the client read earlier.
//
// The evidence of a violation is the key's version order as the reads show
// it, and nothing else: a read of an appended list "…,a,…,b" puts a before b,
// and a cas that succeeded expecting "…,a" came right after a's write (the
// derivation edges of versionOrder). Real time is left out on purpose: it
// would assume the very order these checks test. So the checks see a write
// applied out of order only when some read shows the two writes the wrong
// way round, which on a register of appends is the common case; two puts
// that no read or cas links go unseen. Only writes that took effect count
// (an OK put or append, a cas that succeeded).
type writeOrderCheck struct {
	name string
	// followReads: the reference is what the client read (writes-follow-
	// reads); otherwise the client's own earlier writes (monotonic-writes).
	followReads bool
}

func (c writeOrderCheck) Name() string { return c.name }

func (c writeOrderCheck) Check(h *workload.History, _ time.Duration) HistoryResult {
	ops := h.Operations()
	orders := buildVersionOrders(ops)
	refs := map[clientKey][]int{} // earlier writes (own or read from) per client and key
	var violations []string
	checked := 0
	for i := range ops {
		op := &ops[i]
		if op.Status != workload.StatusOK || op.Kind == workload.OpTxn {
			continue
		}
		k := clientKey{op.Client, op.Key}
		o := orders[op.Key]
		if !isEffectiveWrite(op) {
			if c.followReads {
				if w, ok := readFrom(o, op); ok && !containsInt(refs[k], w) {
					refs[k] = append(refs[k], w)
				}
			}
			continue
		}
		checked++
		if prev, found := o.derivedAfter(i, refs[k]); found {
			violations = append(violations, c.describe(ops, i, prev))
		}
		if !c.followReads {
			refs[k] = append(refs[k], i)
		}
	}
	if len(violations) == 0 {
		return HistoryResult{Verdict: Pass, Detail: fmt.Sprintf("%d writes of %d operations satisfy %s", checked, len(ops), c.name)}
	}
	return sessionFailure(c.name, fmt.Sprintf("%d of %d writes", len(violations), checked), violations)
}

// describe says which write took effect before which reference.
func (c writeOrderCheck) describe(ops []workload.Operation, w, ref int) string {
	op := &ops[w]
	if c.followReads {
		return fmt.Sprintf("client %d op %d wrote %s %s, ordered before %s that it had read",
			op.Client, op.ID, op.Key, op.Value, showWriter(ops, ref))
	}
	return fmt.Sprintf("client %d op %d wrote %s %s, ordered before its own earlier write %s",
		op.Client, op.ID, op.Key, op.Value, showWriter(ops, ref))
}

// isEffectiveWrite reports an OK operation that changed its key.
func isEffectiveWrite(op *workload.Operation) bool {
	return op.Kind == workload.OpPut || op.Kind == workload.OpAppend || (op.Kind == workload.OpCAS && op.CASOK)
}

// readFrom returns the write whose value a read (a get, or a failed cas)
// returned: the writer of the last element. False for an absent key or a
// value no write wrote.
func readFrom(o *versionOrder, op *workload.Operation) (int, bool) {
	if o == nil || !op.Found {
		return 0, false
	}
	elems := strings.Split(op.Output, workload.AppendSeparator)
	w, ok := o.writer[elems[len(elems)-1]]
	return w, ok
}

// derivedAfter reports a write among refs that the derivation edges alone
// place after write w (a path w → … → ref): w took effect before it.
func (o *versionOrder) derivedAfter(w int, refs []int) (int, bool) {
	if len(refs) == 0 {
		return 0, false
	}
	seen := map[int]bool{w: true}
	queue := []int{w}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, y := range o.next[x] {
			if containsInt(refs, y) {
				return y, true
			}
			if !seen[y] {
				seen[y] = true
				queue = append(queue, y)
			}
		}
	}
	return 0, false
}
