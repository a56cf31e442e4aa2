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
//     whose value the client read last, before it wrote, on that key.
//
// Terry's definitions say "at every server", and that is the evidence the
// checks take: one read that shows an appended list with the client's write
// before the earlier write. One read is one server's state at one moment,
// so the order it shows is one that server applied. Chains of reads are not
// evidence here: a system weak enough to break these guarantees may show
// each server its own order, and a chain across servers proves nothing.
// What no single read shows goes unseen (puts, which replace the list; a
// write lost rather than reordered; for writes-follow-reads, reads before
// the client's last one). Only writes that took effect count.
type writeOrderCheck struct {
	name string
	// followReads: the reference is what the client read (writes-follow-
	// reads); otherwise the client's own earlier writes (monotonic-writes).
	followReads bool
}

func (c writeOrderCheck) Name() string { return c.name }

func (c writeOrderCheck) Check(h *workload.History, _ time.Duration) HistoryResult {
	ops := h.Operations()
	orders := buildVersionOrders(ops, h.RealTime())
	var lastRead map[int]int
	if c.followReads {
		lastRead = lastReadBeforeWrite(ops, orders)
	}
	seen := map[[2]int]bool{} // (write, reference) pairs reported
	var violations []string
	lists := 0
	for i := range ops {
		op := &ops[i]
		shown, ok := shownState(op)
		if !ok {
			continue
		}
		o := orders[op.Key]
		elems := strings.Split(shown, workload.AppendSeparator)
		if o == nil || len(elems) < 2 {
			continue
		}
		lists++
		var found [][2]int
		if c.followReads {
			found = o.writesBeforeTheirReads(elems, lastRead)
		} else {
			found = o.writesBeforeEarlierOwn(elems)
		}
		for _, pair := range found {
			if !seen[pair] {
				seen[pair] = true
				violations = append(violations, c.describe(ops, pair[0], pair[1], op))
			}
		}
	}
	if len(violations) == 0 {
		return HistoryResult{Verdict: Pass, Detail: fmt.Sprintf("%d reads of appended lists, of %d operations, satisfy %s", lists, len(ops), c.name)}
	}
	return sessionFailure(c.name, fmt.Sprintf("%d writes", len(violations)), violations)
}

// describe says which write a read showed before which reference.
func (c writeOrderCheck) describe(ops []workload.Operation, w, ref int, read *workload.Operation) string {
	op := &ops[w]
	what := "its own earlier write"
	if c.followReads {
		what = "the write it had read"
	}
	return fmt.Sprintf("client %d op %d wrote %s %s; read op %d (client %d) shows it before %s %s (op %d)",
		op.Client, op.ID, op.Key, op.Value, read.ID, read.Client, what, ops[ref].Value, ref)
}

// shownState is the state of its key an answered operation shows: what a
// get or a failed cas read, or what a successful cas found there (its
// expectation, one server's whole state then).
func shownState(op *workload.Operation) (string, bool) {
	switch {
	case op.Status != workload.StatusOK || op.Kind == workload.OpTxn:
		return "", false
	case op.Kind == workload.OpCAS && op.CASOK:
		return op.Expect, true
	case isEffectiveWrite(op) || !op.Found:
		return "", false
	}
	return op.Output, true
}

// isEffectiveWrite reports an operation that changes its key if it takes
// effect: a put, an append, a cas that succeeded.
func isEffectiveWrite(op *workload.Operation) bool {
	return op.Kind == workload.OpPut || op.Kind == workload.OpAppend || (op.Kind == workload.OpCAS && op.CASOK)
}

// writesBeforeEarlierOwn scans one read's list for a write that stands
// before a write its client made earlier: (the later write, the earlier).
// Per client it keeps the write called last of those seen so far (a client
// runs one operation at a time, so call order is its session order); an
// element written earlier, answered OK before that write was called, is
// out of order.
func (o *versionOrder) writesBeforeEarlierOwn(elems []string) [][2]int {
	var out [][2]int
	newest := map[int]int{} // client -> its write called last of those seen so far
	for _, e := range elems {
		w, ok := o.writer[e]
		if !ok {
			continue
		}
		op := &o.ops[w]
		prev, seen := newest[op.Client]
		switch {
		case !seen || w > prev: // called later: operations are in call order
			newest[op.Client] = w
		case o.effective(w): // answered before its client called prev
			out = append(out, [2]int{prev, w})
		}
	}
	return out
}

// writesBeforeTheirReads scans one read's list for a write that stands
// before the write its client had read last: (the write, what was read).
func (o *versionOrder) writesBeforeTheirReads(elems []string, lastRead map[int]int) [][2]int {
	pos := make(map[string]int, len(elems))
	for i, e := range elems {
		if _, dup := pos[e]; !dup {
			pos[e] = i
		}
	}
	var out [][2]int
	for i, e := range elems {
		w, ok := o.writer[e]
		if !ok {
			continue
		}
		r, read := lastRead[w]
		if !read {
			continue
		}
		if j, shown := pos[o.ops[r].Value]; shown && j > i {
			out = append(out, [2]int{w, r})
		}
	}
	return out
}

// lastReadBeforeWrite maps each write to the write whose value its client
// read last on the same key before calling it (a get or a failed cas that
// found a value some write wrote).
func lastReadBeforeWrite(ops []workload.Operation, orders map[string]*versionOrder) map[int]int {
	last := map[clientKey]int{}
	out := map[int]int{}
	for i := range ops {
		op := &ops[i]
		k := clientKey{op.Client, op.Key}
		if op.Status == workload.StatusUnknown && (op.Kind == workload.OpPut || op.Kind == workload.OpAppend || op.Kind == workload.OpCAS) {
			// No answer, but a read may show it took effect: after the
			// client's read, as any write its client called then.
			if r, ok := last[k]; ok {
				out[i] = r
			}
			continue
		}
		if op.Status != workload.StatusOK || op.Kind == workload.OpTxn {
			continue
		}
		if isEffectiveWrite(op) {
			if r, ok := last[k]; ok {
				out[i] = r
			}
			continue
		}
		if w, ok := readFrom(orders[op.Key], op); ok {
			last[k] = w
		}
	}
	return out
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
