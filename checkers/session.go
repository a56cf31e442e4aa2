package checkers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/simrun/simrun/workload"
)

// Session guarantees (Terry et al., 1994) over the kv history, per client
// session and per key, for a register that put, append and cas write:
//
//   - read-your-writes: a read (a get, or a cas that failed and so read the
//     key) must not return a value older than the client's own latest write
//     to that key that completed before the read was called;
//   - monotonic-reads: a read must not return a value older than one the
//     same client already read from that key.
//
// "Older" is the version order of the key's writes, as far as the history
// makes it recoverable. Values are unique per operation (the workload writes
// "c<client>.<seq>"), and the last element of a key's value is always the
// value of the write that produced it (a put and a cas replace the value, an
// append adds at its end), so a read names its write. Write V is known older
// than write W (V ≺ W) by the transitive closure of:
//
//   - derivation: a read of "…,a,b" shows b appended right after a's write;
//     a cas that succeeded expecting "…,a" came right after a's write;
//   - real time: V was answered (and took effect) before W was called.
//
// The real-time edges assume the writes themselves are linearizable (one
// replicated log orders them, as in the protocols here, where only the read
// path is weakened). A system whose writes are weaker may be flagged for
// their order, not the reads'. The approximation is sound for the reads
// under that assumption, and it misses what the history does not show: two
// writes concurrent in real time that no read or cas orders; a read of a
// value whose write is unknown (garbled answers); and a read whose value
// contains the reference write's element is taken as not older even if the
// history orders the two in a cycle, and so is a read of a write that
// real time puts after the reference (linearizable reports cycles). A read
// that finds the key absent after the client wrote or read it is older
// than everything (there are no deletes).
type sessionCheck struct {
	name string
	// ownWrites: the reference is the client's latest completed write
	// (read-your-writes); otherwise the client's earlier reads
	// (monotonic-reads).
	ownWrites bool
}

func (c sessionCheck) Name() string { return c.name }

// SessionFile is the artifact of a failed session check: every violation,
// one per line, for names.ReadYourWrites, MonotonicReads, MonotonicWrites or
// WritesFollowReads.
func SessionFile(check string) string { return check + "-violations.txt" }

func (c sessionCheck) Check(h *workload.History, _ time.Duration) HistoryResult {
	ops := h.Operations()
	orders := buildVersionOrders(ops, h.RealTime())
	type ref struct {
		write   int   // read-your-writes: the client's latest completed write, -1 if none
		reads   []int // monotonic-reads: distinct writers already read, -1 for "absent"
		last    int   // monotonic-reads: the writer the client read last (as reads holds them)
		nonzero bool  // the client has a reference on this key
	}
	refs := map[clientKey]*ref{}
	var violations []string
	checked := 0
	for i := range ops {
		op := &ops[i]
		if op.Status != workload.StatusOK || op.Kind == workload.OpTxn {
			continue
		}
		k := clientKey{op.Client, op.Key}
		r := refs[k]
		if r == nil {
			r = &ref{write: -1}
			refs[k] = r
		}
		o := orders[op.Key]
		if isEffectiveWrite(op) {
			if c.ownWrites {
				r.write, r.nonzero = i, true
			}
			continue
		}
		// A read: a get, or a failed cas.
		checked++
		if o == nil {
			continue // a key nothing wrote: absent is right, a value garbage (not ours to judge)
		}
		var elems []string
		reader := -1 // the write whose value the read returned; -1: absent
		if op.Found {
			elems = strings.Split(op.Output, workload.AppendSeparator)
			w, ok := o.writer[elems[len(elems)-1]]
			if !ok {
				continue // a value no write wrote: not ours to judge
			}
			reader = w
		}
		older := func(ref int) bool {
			switch {
			case ref < 0:
				return false // nothing is older than absent
			case reader < 0:
				return true // absent after the key was seen or written
			case reader == ref:
				return false
			}
			for _, e := range elems {
				if w, ok := o.writer[e]; ok && w == ref {
					return false // the read includes ref's write
				}
			}
			// The list is a chain of writes each right after the one
			// before (buildVersionOrders drew its edges): if any of them
			// is before ref, which it lacks, ref came after all of them,
			// and a search from the head of each run of known writes
			// reaches the rest.
			head := true
			for _, e := range elems {
				w, ok := o.writer[e]
				switch {
				case !ok:
					head = true // an element no write wrote breaks the chain
				case head:
					if o.before(w, ref) {
						return true
					}
					head = false
				}
			}
			return false
		}
		if c.ownWrites {
			if r.nonzero && older(r.write) {
				violations = append(violations, fmt.Sprintf("client %d op %d read %s -> %s, older than its own write %s (op %d)",
					op.Client, op.ID, op.Key, showRead(op), ops[r.write].Value, r.write))
			}
			continue
		}
		wentBack := false
		for _, prev := range r.reads {
			if older(prev) {
				violations = append(violations, fmt.Sprintf("client %d op %d read %s -> %s, older than %s it read before",
					op.Client, op.ID, op.Key, showRead(op), showWriter(ops, prev)))
				wentBack = true
				break
			}
		}
		// A state read again after another: each write makes one state,
		// so whichever of the two came first, one read went back, though
		// the history may not show which.
		if !wentBack && len(r.reads) > 0 && r.last != reader && containsInt(r.reads, reader) {
			violations = append(violations, fmt.Sprintf("client %d op %d read %s -> %s again, after %s: one of its reads went back",
				op.Client, op.ID, op.Key, showRead(op), showWriter(ops, r.last)))
		}
		r.last = reader
		// Keep only the newest writers read: one known older than the
		// writer just read is covered by it (older is transitive).
		if !containsInt(r.reads, reader) {
			kept := r.reads[:0]
			for _, prev := range r.reads {
				if prev < 0 || (reader >= 0 && o.before(prev, reader)) {
					continue
				}
				kept = append(kept, prev)
			}
			r.reads = append(kept, reader)
		}
	}
	if len(violations) == 0 {
		return HistoryResult{Verdict: Pass, Detail: fmt.Sprintf("%d reads of %d operations satisfy %s", checked, len(ops), c.name)}
	}
	return sessionFailure(c.name, fmt.Sprintf("%d of %d reads", len(violations), checked), violations)
}

// clientKey is one client's session on one key.
type clientKey struct {
	client int
	key    string
}

// sessionFailure is the verdict of a session check that found violations
// ("3 of 40 reads violate it; first: …"), with all of them in its artifact.
func sessionFailure(check, counted string, violations []string) HistoryResult {
	return HistoryResult{Verdict: Fail,
		Detail: fmt.Sprintf("%s violate it; first: %s", counted, violations[0]),
		Artifacts: []Artifact{{Name: SessionFile(check), Write: func(w io.Writer) error {
			_, err := io.WriteString(w, strings.Join(violations, "\n")+"\n")
			return err
		}}}}
}

func showRead(op *workload.Operation) string {
	if !op.Found {
		return "absent"
	}
	return op.Output
}

func showWriter(ops []workload.Operation, w int) string {
	if w < 0 {
		return "absent"
	}
	return fmt.Sprintf("%s (op %d)", ops[w].Value, w)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// versionOrder is what a history shows of one key's version order: its
// writes (operation indices into the history) and the edges of derivation
// between them; real-time edges are implicit (see before).
type versionOrder struct {
	ops    []workload.Operation
	rt     workload.RealTime // the history's order of calls and returns
	writer map[string]int    // value written -> operation index
	writes []int             // the key's writes, in call order
	next   map[int][]int     // derivation edges: the write right after (sequential's anti-dependencies rely on it)
	// first is the key's first write, an append a list showed at its head,
	// before every other write; -1: unknown.
	first int
	// visited marks, by position in writes, what search number search
	// reached; queue is its queue, kept between searches.
	visited []uint32
	search  uint32
	queue   []int
}

// buildVersionOrders builds the version order of every key of a kv history,
// ops, whose order of events is rt.
func buildVersionOrders(ops []workload.Operation, rt workload.RealTime) map[string]*versionOrder {
	orders := map[string]*versionOrder{}
	get := func(key string) *versionOrder {
		o := orders[key]
		if o == nil {
			o = &versionOrder{ops: ops, rt: rt, writer: map[string]int{}, next: map[int][]int{}, first: -1}
			orders[key] = o
		}
		return o
	}
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case workload.OpPut, workload.OpAppend, workload.OpCAS:
			o := get(op.Key)
			if _, dup := o.writer[op.Value]; !dup {
				o.writer[op.Value] = i
			}
			o.writes = append(o.writes, i)
		}
	}
	edge := func(o *versionOrder, a, b string) {
		wa, okA := o.writer[a]
		wb, okB := o.writer[b]
		if okA && okB && wa != wb && !containsInt(o.next[wa], wb) {
			o.next[wa] = append(o.next[wa], wb)
		}
	}
	// A cas with unknown outcome whose value an answer shows took effect
	// (values are unique per operation), and its expectation held then, as
	// a successful cas's did.
	shown := observedBy(len(ops), func(i int) workload.Operation { return ops[i] }, rt)
	for i := range ops {
		op := &ops[i]
		_, took := shown[int32(i)]
		if op.Status != workload.StatusOK && !(op.Kind == workload.OpCAS && took) {
			continue
		}
		o := orders[op.Key]
		if o == nil {
			continue
		}
		switch {
		case op.Kind == workload.OpCAS && (op.CASOK || op.Status == workload.StatusUnknown):
			// Its expectation is a state its server held: a chain, as a
			// read's list is, and then the cas.
			prev := strings.Split(op.Expect, workload.AppendSeparator)
			for j := 1; j < len(prev); j++ {
				edge(o, prev[j-1], prev[j])
			}
			edge(o, prev[len(prev)-1], op.Value)
			o.headOf(prev)
		case (op.Kind == workload.OpGet || op.Kind == workload.OpCAS) && op.Found:
			elems := strings.Split(op.Output, workload.AppendSeparator)
			for j := 1; j < len(elems); j++ {
				edge(o, elems[j-1], elems[j])
			}
			o.headOf(elems)
		}
	}
	return orders
}

// headOf notes the write at the head of a list a state showed, if it was an
// append: it found the key absent (an append to a present key adds to its
// list), and a key once written is never absent again, so it was the key's
// first write.
func (o *versionOrder) headOf(elems []string) {
	w, ok := o.writer[elems[0]]
	if ok && o.ops[w].Kind == workload.OpAppend && o.first < 0 {
		o.first = w
	}
}

// effective reports whether write i is known to have taken effect at its
// answer: an OK put or append, a cas that succeeded.
func (o *versionOrder) effective(i int) bool {
	op := &o.ops[i]
	return op.Status == workload.StatusOK && (op.Kind != workload.OpCAS || op.CASOK)
}

// before reports whether write v is known older than write w: a path of
// derivation and real-time edges (a client's program order among them:
// workload.RealTime), or through the key's first write, before every
// other. Real-time successors of a write are the
// writes called after its return, a suffix of the writes in call order, so
// the search keeps the earliest return reached and the suffix it opens.
// Its marks and queue are kept between searches: one read costs a search,
// and a long history has many reads.
func (o *versionOrder) before(v, w int) bool {
	switch {
	case o.effective(v) && o.rt.Precedes(v, w):
		return true
	case o.effective(w) && o.rt.Precedes(w, v):
		// w is before v in real time: v before w too would be a cycle, a
		// history no order of writes explains, which linearizable reports.
		return false
	}
	o.search++
	if len(o.visited) != len(o.writes) || o.search == 0 { // first search, or the count wrapped
		o.visited, o.search = make([]uint32, len(o.writes)), 1
	}
	visit := func(y int) bool { // reports whether y is new to this search, marking it
		i := sort.SearchInts(o.writes, y)
		if o.visited[i] == o.search {
			return false
		}
		o.visited[i] = o.search
		return true
	}
	visit(v)
	queue := append(o.queue[:0], v)
	defer func() { o.queue = queue[:0] }()
	pos := len(o.writes) // o.writes[pos:] are queued
	var minRet int64 = -1
	for head := 0; head < len(queue); head++ {
		x := queue[head]
		if x == o.first {
			return true // the key's first write is before every other, w too
		}
		for _, y := range o.next[x] {
			if y == w {
				return true
			}
			if visit(y) {
				queue = append(queue, y)
			}
		}
		if !o.effective(x) {
			continue
		}
		if ret := o.rt.Return(x); minRet < 0 || ret < minRet {
			minRet = ret
			for pos > 0 && o.rt.Call(o.writes[pos-1]) > minRet {
				pos--
				y := o.writes[pos]
				if y == w {
					return true
				}
				if visit(y) {
					queue = append(queue, y)
				}
			}
		}
	}
	return false
}
