package checkers

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Anomaly names of the list-append checker, after Adya's and Elle's.
const (
	AnomalyG0      = "G0"       // write cycle: ww edges only
	AnomalyG1a     = "G1a"      // aborted read: a read saw an append of a failed transaction
	AnomalyG1b     = "G1b"      // intermediate read: a read ended at an append its writer later extended
	AnomalyG1c     = "G1c"      // circular information flow: ww and wr edges
	AnomalyGSingle = "G-single" // read skew: a cycle with exactly one rw edge
	AnomalyG2Item  = "G2-item"  // write skew and kin: a cycle with two or more rw edges
	// RealtimeSuffix marks a cycle that needs real-time edges: a violation
	// of strict serializability only ("G-single-realtime").
	RealtimeSuffix = "-realtime"
	// Not cycles, but histories no serial order explains.
	AnomalyGarbageRead       = "garbage-read"       // a read saw an element no transaction appended
	AnomalyDuplicateElements = "duplicate-elements" // a read saw an element twice
	AnomalyIncompatibleOrder = "incompatible-order" // two reads of a key disagree on its order
	AnomalyInternal          = "internal"           // a read disagrees with its own transaction's earlier reads and appends
	AnomalySplitAppends      = "split-appends"      // a key's order shows a transaction's appends apart or out of order
	AnomalyInvalidAnswer     = "invalid-answer"     // a transaction answered with something that is no result
)

// Dependency kinds, the edges of the transaction graph.
type depKind uint8

const (
	depWW depKind = iota // T1 appended the version before T2's
	depWR                // T2 read the version T1 appended last
	depRW                // T1 read a version before the one T2 appended
	depRT                // T1 returned before T2 was called (strict only)
	depKinds
)

var depNames = [depKinds]string{"ww", "wr", "rw", "rt"}

// elleWorkLimit bounds the cycle search, in edges visited: past it the
// verdict is Unknown. It counts work, not wall time, so the verdict is the
// same on every machine.
const elleWorkLimit = 200_000_000

// ElleResult is the verdict of CheckListAppend.
type ElleResult struct {
	Verdict Verdict
	Detail  string
	// Anomaly names what failed (G0, G1a, ..., "G-single-realtime"); empty
	// on Pass.
	Anomaly string
	// Cycle lists the transactions of the cycle found, as history operation
	// IDs, and Edges the dependency of each on the next (the last on the
	// first), like "rw k3"; for an anomaly without a cycle, the operations
	// involved.
	Cycle []int
	Edges []string
	// Transactions is how many transactions were checked; Edges of the graph.
	Transactions, GraphEdges int

	ops   []workload.Operation // the transactions, for the artifact
	cycle []int                // Cycle as positions in ops
}

// CheckListAppend checks a list-append history for serializability (strict:
// strict serializability, with real-time edges), as Elle does: appends are
// unique, so each key's version order is recoverable from the longest read
// of it; ww, wr and rw dependencies follow, and a cycle in their graph (found
// with gonum's Tarjan SCC) is an anomaly, named after the weakest kind of
// cycle found. Transactions answered OK are committed; failed ones aborted;
// unknown ones committed if some read saw their appends, else left out.
func CheckListAppend(h *workload.History, strict bool) ElleResult {
	return checkListAppend(h, strict, elleWorkLimit)
}

// checkListAppend is CheckListAppend with the search bounded by limit edge
// visits, which tests lower to reach the Unknown verdict.
func checkListAppend(h *workload.History, strict bool, limit int) ElleResult {
	g := newTxnGraph(h)
	g.limit = limit
	r := ElleResult{Transactions: len(g.txns), ops: g.txns}
	if a := g.nonCycleAnomaly(); a != nil {
		r.Verdict, r.Anomaly, r.cycle, r.Cycle = Fail, a.name, a.ops, g.ids(a.ops)
		r.Detail = a.name + ": " + a.detail
		return r
	}
	g.versionEdges()
	if strict {
		g.realtimeEdges()
	}
	r.GraphEdges = g.edges
	found, complete := g.findAnomaly(strict)
	switch {
	case found != nil:
		r.Verdict, r.Anomaly, r.cycle, r.Cycle, r.Edges = Fail, found.name, found.ops, g.ids(found.ops), found.edges
		r.Detail = found.name + ": " + g.describeCycle(found)
	case !complete:
		r.Verdict = Unknown
		r.Detail = fmt.Sprintf("the cycle search stopped after %d edge visits on %d transactions (%d edges)",
			g.limit, len(g.txns), g.edges)
	default:
		r.Verdict = Pass
		model := names.Serializable
		if strict {
			model = names.StrictSerializable
		}
		r.Detail = fmt.Sprintf("%d transactions (%d edges) are %s: no dependency cycle", len(g.txns), g.edges, model)
	}
	return r
}

// WriteCycle writes the anomaly's transactions in full, one per line, with
// the dependency to the next: the artifact of a failure.
func (r ElleResult) WriteCycle(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", r.Detail)
	for i, t := range r.cycle {
		fmt.Fprintf(&b, "%s\n", describeTxn(&r.ops[t], r.Cycle[i]))
		if i < len(r.Edges) {
			fmt.Fprintf(&b, "    -%s->\n", r.Edges[i])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeTxn renders "op 12 c0 seq 3 ok [append k1 c0.3.0, r k2 [c1.2]]".
func describeTxn(op *workload.Operation, id int) string {
	parts := make([]string, len(op.Txn))
	for i, m := range op.Txn {
		parts[i] = m.String()
	}
	return fmt.Sprintf("op %d c%d seq %d %s [%s]", id, op.Client, op.Seq, op.Status, strings.Join(parts, ", "))
}

// writer identifies the append of one element.
type writer struct {
	txn int // index in txnGraph.txns
	key string
	// prev and next are the transaction's appends to the key just before
	// and after this one ("" for none: next "" is its last append to the
	// key); a serial order keeps them adjacent.
	prev, next string
}

// edge is a dependency u -> to, of one or more kinds, with a key per kind.
type edge struct {
	to    int
	kinds [depKinds]bool
	keys  [depKinds]string
}

// txnGraph is the transactions of a history and their dependencies.
type txnGraph struct {
	txns     []workload.Operation // the transactions; IDs renumbered to positions here
	opID     []int                // each transaction's ID in the history
	writers  map[string]writer    // element -> its append
	observed []bool               // some read saw one of its appends
	out      [][]edge             // adjacency, in insertion order (deterministic)
	index    map[[2]int]int       // (from, to) -> position in out[from]
	edges    int
	order    map[string][]string // key -> version order, the longest read
	inOrder  map[string]bool     // key + "\x00" + element, for each element of a key's order
	keys     []string            // keys read, sorted
	rt       workload.RealTime   // the history's order of calls and returns, by history ID
	work     int                 // edges visited by the cycle search
	limit    int                 // the work past which the search stops (elleWorkLimit)
}

func newTxnGraph(h *workload.History) *txnGraph {
	g := &txnGraph{writers: map[string]writer{}, index: map[[2]int]int{}, order: map[string][]string{}, rt: h.RealTime()}
	for _, op := range h.Operations() {
		if op.Kind != workload.OpTxn {
			continue
		}
		g.opID = append(g.opID, op.ID)
		op.ID = len(g.txns)
		g.txns = append(g.txns, op)
	}
	g.observed = make([]bool, len(g.txns))
	g.out = make([][]edge, len(g.txns))
	for i := range g.txns {
		g.addWriters(i)
	}
	return g
}

// addWriters records the appends of transaction i, each with its
// neighbours among the transaction's appends to the same key.
func (g *txnGraph) addWriters(i int) {
	txn := g.txns[i].Txn
	for j, m := range txn {
		if !m.Append {
			continue
		}
		if _, dup := g.writers[m.Value]; dup {
			continue // a second append of one element: a read of it shows duplicates
		}
		w := writer{txn: i, key: m.Key}
		if p := lastAppend(txn[:j], m.Key); p >= 0 && g.writers[txn[p].Value].txn == i {
			prev := g.writers[txn[p].Value]
			prev.next = m.Value
			g.writers[txn[p].Value], w.prev = prev, txn[p].Value
		}
		g.writers[m.Value] = w
	}
}

// lastAppend is the position of the last append to key among ops, or -1.
// A transaction is a few micro-ops: a scan costs less than a map.
func lastAppend(ops []workload.MicroOp, key string) int {
	for j := len(ops) - 1; j >= 0; j-- {
		if ops[j].Append && ops[j].Key == key {
			return j
		}
	}
	return -1
}

// anomaly is a named finding: a cycle (ops and the edge from each to the
// next) or, for non-cycle anomalies, the operations involved.
type anomaly struct {
	name   string
	ops    []int
	edges  []string
	detail string
}

// reads calls fn for every read of a transaction answered OK, in history order.
func (g *txnGraph) reads(fn func(t int, m workload.MicroOp)) {
	for i := range g.txns {
		if g.txns[i].Status != workload.StatusOK {
			continue
		}
		for _, m := range g.txns[i].Txn {
			if !m.Append {
				fn(i, m)
			}
		}
	}
}

// nonCycleAnomaly finds what needs no graph: garbage, duplicate and aborted
// reads, intermediate reads, reads that disagree on a key's order or with
// their own transaction, appends a key's order splits, and answers that are
// no result. It also records each key's version order and which unknown
// transactions were observed.
func (g *txnGraph) nonCycleAnomaly() *anomaly {
	if a := g.readAnomaly(); a != nil {
		return a
	}
	for t := range g.txns {
		if a := g.internalAnomaly(t); a != nil {
			return a
		}
	}
	for _, k := range g.keys {
		if a := g.splitAppends(k); a != nil {
			return a
		}
	}
	for t := range g.txns {
		if g.txns[t].Status == workload.StatusFailed {
			// Linearizable fails such an answer too: the workload sends
			// only well-formed transactions, so the service corrupted the
			// command or its answer, and whether it applied is unknown.
			return &anomaly{name: AnomalyInvalidAnswer, ops: []int{t},
				detail: fmt.Sprintf("op %d was answered with something that is no result for it: %q", g.opID[t], g.txns[t].Output)}
		}
	}
	return nil
}

// readAnomaly is nonCycleAnomaly's part that reads each read once: garbage,
// duplicate, aborted and intermediate reads, and reads that disagree on a
// key's order.
func (g *txnGraph) readAnomaly() *anomaly {
	var found *anomaly
	note := func(a anomaly) {
		if found == nil {
			found = &a
		}
	}
	g.inOrder = map[string]bool{} // key + "\x00" + element: already in its key's order
	inOrder := g.inOrder
	g.reads(func(t int, m workload.MicroOp) {
		long := g.order[m.Key]
		switch {
		case isPrefix(m.Read, long): // nothing new: its elements were checked once
		case isPrefix(long, m.Read):
			// Check each element once, when it first extends its key's order.
			for _, v := range m.Read[len(long):] {
				w, ok := g.writers[v]
				switch {
				case inOrder[m.Key+"\x00"+v]:
					note(anomaly{name: AnomalyDuplicateElements, ops: []int{t},
						detail: fmt.Sprintf("op %d read %s twice in %s", g.opID[t], v, m.Key)})
				case !ok || w.key != m.Key:
					note(anomaly{name: AnomalyGarbageRead, ops: []int{t},
						detail: fmt.Sprintf("op %d read %s in %s, which no transaction appended there", g.opID[t], v, m.Key)})
				case g.txns[w.txn].Status == workload.StatusFailed:
					note(anomaly{name: AnomalyG1a, ops: []int{t, w.txn},
						detail: fmt.Sprintf("op %d read %s in %s, appended by op %d, which failed (aborted)", g.opID[t], v, m.Key, g.opID[w.txn])})
				default:
					g.observed[w.txn] = true
				}
				inOrder[m.Key+"\x00"+v] = true
			}
			g.order[m.Key] = m.Read
		default:
			note(anomaly{name: AnomalyIncompatibleOrder, ops: []int{t},
				detail: fmt.Sprintf("op %d read %s as [%s], another read as [%s]", g.opID[t], m.Key,
					strings.Join(m.Read, " "), strings.Join(long, " "))})
		}
		if n := len(m.Read); n > 0 {
			if w, ok := g.writers[m.Read[n-1]]; ok && w.key == m.Key && w.txn != t && w.next != "" && g.txns[w.txn].Status != workload.StatusFailed {
				note(anomaly{name: AnomalyG1b, ops: []int{t, w.txn},
					detail: fmt.Sprintf("op %d read %s ending at %s, an intermediate append of op %d", g.opID[t], m.Key, m.Read[n-1], g.opID[w.txn])})
			}
		}
	})
	g.keys = slices.Sorted(maps.Keys(g.order))
	return found
}

// internalAnomaly checks transaction t against itself (Elle's internal
// consistency): a read of a key it had read shows what that read showed
// with its own appends since, in order; a first read ends with its own
// appends so far and shows none it makes later.
func (g *txnGraph) internalAnomaly(t int) *anomaly {
	if g.txns[t].Status != workload.StatusOK {
		return nil // only an answered transaction's reads are known
	}
	txn := g.txns[t].Txn
	for j, m := range txn {
		if m.Append {
			continue
		}
		// The transaction's last read of the key before this one, if any,
		// and its appends to the key since (or since it began).
		r := j - 1
		for r >= 0 && (txn[r].Append || txn[r].Key != m.Key) {
			r--
		}
		var mine []string
		for _, n := range txn[r+1 : j] {
			if n.Append && n.Key == m.Key {
				mine = append(mine, n.Value)
			}
		}
		var why string
		switch {
		case r >= 0 && !(isPrefix(txn[r].Read, m.Read) && slices.Equal(m.Read[len(txn[r].Read):], mine)):
			why = "its earlier read and appends make it [" + strings.Join(append(slices.Clone(txn[r].Read), mine...), " ") + "]"
		case len(m.Read) < len(mine) || !slices.Equal(m.Read[len(m.Read)-len(mine):], mine):
			why = "it does not end with its own appends [" + strings.Join(mine, " ") + "]"
		default:
			why = appendedLater(txn[j+1:], m)
		}
		if why != "" {
			return &anomaly{name: AnomalyInternal, ops: []int{t},
				detail: fmt.Sprintf("op %d read %s as [%s], but %s", g.opID[t], m.Key, strings.Join(m.Read, " "), why)}
		}
	}
	return nil
}

// appendedLater names an element that the read m shows and the rest of its
// transaction, later, appends to m's key, or returns "".
func appendedLater(later []workload.MicroOp, m workload.MicroOp) string {
	for _, n := range later {
		if n.Append && n.Key == m.Key && slices.Contains(m.Read, n.Value) {
			return "it appends " + n.Value + " only later"
		}
	}
	return ""
}

// splitAppends checks key k's version order against the order in which
// each transaction appended to k: a transaction applies atomically, so its
// appends to a key stand next to each other, in its order. A read that
// shows one without the one before it, or another transaction's element
// between them, has no serial order.
func (g *txnGraph) splitAppends(k string) *anomaly {
	order := g.order[k]
	for i, v := range order {
		w := g.writers[v]
		switch {
		case w.prev != "" && (i == 0 || order[i-1] != w.prev):
			return g.split(k, w.txn, w.prev, v, v+" stands without "+w.prev+" just before it")
		case w.next != "" && i+1 < len(order) && order[i+1] != w.next:
			return g.split(k, w.txn, v, w.next, v+" is followed by "+order[i+1])
		}
	}
	return nil
}

// split is the anomaly of key k's order parting first and then, two appends
// of transaction t in a row.
func (g *txnGraph) split(k string, t int, first, then, how string) *anomaly {
	return &anomaly{name: AnomalySplitAppends, ops: []int{t},
		detail: fmt.Sprintf("%s reads as [%s], but op %d appended %s and then %s in one transaction: %s",
			k, strings.Join(g.order[k], " "), g.opID[t], first, then, how)}
}

func isPrefix(short, long []string) bool {
	return len(short) <= len(long) && slices.Equal(short, long[:len(short)])
}

// ids maps transaction positions to history operation IDs.
func (g *txnGraph) ids(ts []int) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = g.opID[t]
	}
	return out
}

// addEdge records the dependency from -> to of kind k on key.
func (g *txnGraph) addEdge(from, to int, k depKind, key string) {
	if from == to {
		return
	}
	i, ok := g.index[[2]int{from, to}]
	if !ok {
		i = len(g.out[from])
		g.index[[2]int{from, to}] = i
		g.out[from] = append(g.out[from], edge{to: to})
		g.edges++
	}
	e := &g.out[from][i]
	if !e.kinds[k] {
		e.kinds[k], e.keys[k] = true, key
	}
}

// versionEdges infers ww, wr and rw edges from each key's version order,
// and rw edges from every read of a key to each committed transaction that
// appended to it an element no read showed: lists only grow, so the read
// saw a version before that append.
func (g *txnGraph) versionEdges() {
	for _, k := range g.keys {
		order := g.order[k]
		for i := 1; i < len(order); i++ {
			g.addEdge(g.writers[order[i-1]].txn, g.writers[order[i]].txn, depWW, k)
		}
	}
	unread := g.unreadAppenders()
	g.reads(func(t int, m workload.MicroOp) {
		order := g.order[m.Key]
		if n := len(m.Read); n > 0 {
			g.addEdge(g.writers[m.Read[n-1]].txn, t, depWR, m.Key)
		}
		if n := len(m.Read); n < len(order) {
			g.addEdge(t, g.writers[order[n]].txn, depRW, m.Key)
		}
		for _, w := range unread[m.Key] {
			g.addEdge(t, w, depRW, m.Key)
		}
	})
}

// unreadAppenders lists, per key, the committed transactions that appended
// to it an element beyond its version order (no read showed it), each once,
// in history order. The transactions a read missed within the order need
// no edge of their own: the rw edge to the next version's writer and the ww
// chain after it reach them.
func (g *txnGraph) unreadAppenders() map[string][]int {
	unread := map[string][]int{}
	for t := range g.txns {
		if !g.committed(t) {
			continue
		}
		for _, m := range g.txns[t].Txn {
			if m.Append && !g.inOrder[m.Key+"\x00"+m.Value] && g.writers[m.Value].txn == t {
				if ws := unread[m.Key]; len(ws) == 0 || ws[len(ws)-1] != t {
					unread[m.Key] = append(ws, t)
				}
			}
		}
	}
	return unread
}

// committed reports whether transaction t belongs in the graph's real-time order.
func (g *txnGraph) committed(t int) bool {
	switch g.txns[t].Status {
	case workload.StatusOK:
		return true
	case workload.StatusUnknown:
		return g.observed[t]
	}
	return false
}

// realtimeEdges adds T1 -rt-> T2 when T1 returned before T2 was called (in
// the history's order of events, workload.RealTime), as a transitive
// reduction: a frontier of the latest returned transactions not yet known
// to precede another returned one. Unknown transactions never return, so
// they are only ever targets.
func (g *txnGraph) realtimeEdges() {
	type event struct {
		at   int64 // a position in the order of events: no two alike
		call bool
		txn  int
	}
	var events []event
	for t := range g.txns {
		if !g.committed(t) {
			continue
		}
		events = append(events, event{g.rt.Call(g.opID[t]), true, t})
		if g.txns[t].Status == workload.StatusOK && g.txns[t].Return != sim.Forever {
			events = append(events, event{g.rt.Return(g.opID[t]), false, t})
		}
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	var frontier []int
	preds := make([][]int, len(g.txns))
	for _, e := range events {
		if e.call {
			preds[e.txn] = slices.Clone(frontier)
			for _, p := range frontier {
				g.addEdge(p, e.txn, depRT, "")
			}
			continue
		}
		frontier = slices.DeleteFunc(frontier, func(p int) bool { return slices.Contains(preds[e.txn], p) })
		frontier = append(frontier, e.txn)
	}
}

// findAnomaly searches the cycles from the weakest kind to the strongest and
// returns the first found; complete is false if the work limit stopped it.
func (g *txnGraph) findAnomaly(strict bool) (found *anomaly, complete bool) {
	type class struct {
		name    string
		allowed [depKinds]bool
		oneRW   bool // exactly one rw edge, the others from allowed
	}
	classes := []class{
		{AnomalyG0, [depKinds]bool{depWW: true}, false},
		{AnomalyG1c, [depKinds]bool{depWW: true, depWR: true}, false},
		{AnomalyGSingle, [depKinds]bool{depWW: true, depWR: true}, true},
		{AnomalyG2Item, [depKinds]bool{depWW: true, depWR: true, depRW: true}, false},
	}
	if strict {
		for _, c := range classes[:4] {
			c.name += RealtimeSuffix
			c.allowed[depRT] = true
			classes = append(classes, c)
		}
	}
	for _, c := range classes {
		var a *anomaly
		if c.oneRW {
			a = g.oneRWCycle(c.allowed)
		} else {
			a = g.cycle(c.allowed)
		}
		if a != nil {
			a.name = c.name
			return a, true
		}
		if g.work > g.limit {
			return nil, false
		}
	}
	return nil, true
}

// uses reports whether e has a kind in allowed, and the first such.
func uses(e *edge, allowed [depKinds]bool) (depKind, bool) {
	for k := range depKinds {
		if allowed[k] && e.kinds[k] {
			return k, true
		}
	}
	return 0, false
}

// components returns, per transaction, the index of its strongly connected
// component in the subgraph of allowed edges (gonum's Tarjan), and the
// components of more than one transaction, each sorted, ordered by their
// smallest member.
func (g *txnGraph) components(allowed [depKinds]bool) (comp []int, cyclic [][]int) {
	dg := simple.NewDirectedGraph()
	for t := range g.txns {
		dg.AddNode(simple.Node(t))
	}
	for u := range g.out {
		for i := range g.out[u] {
			if _, ok := uses(&g.out[u][i], allowed); ok {
				dg.SetEdge(dg.NewEdge(simple.Node(u), simple.Node(g.out[u][i].to)))
			}
		}
	}
	comp = make([]int, len(g.txns))
	for _, scc := range topo.TarjanSCC(dg) {
		if len(scc) < 2 {
			continue
		}
		members := make([]int, len(scc))
		for i, n := range scc {
			members[i] = int(n.ID())
		}
		slices.Sort(members)
		cyclic = append(cyclic, members)
	}
	slices.SortFunc(cyclic, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	for i := range comp {
		comp[i] = -1
	}
	for c, members := range cyclic {
		for _, t := range members {
			comp[t] = c
		}
	}
	return comp, cyclic
}

// cycle finds a cycle of allowed edges: through the smallest transaction of
// the first cyclic component, by breadth-first search (a shortest one).
func (g *txnGraph) cycle(allowed [depKinds]bool) *anomaly {
	comp, cyclic := g.components(allowed)
	if len(cyclic) == 0 {
		return nil
	}
	start := cyclic[0][0]
	return g.path(start, start, allowed, func(t int) bool { return comp[t] == comp[start] }, nil)
}

// oneRWCycle finds a cycle of one rw edge u -> v and a path of allowed
// edges back from v to u.
func (g *txnGraph) oneRWCycle(allowed [depKinds]bool) *anomaly {
	withRW := allowed
	withRW[depRW] = true
	comp, cyclic := g.components(withRW)
	if len(cyclic) == 0 {
		return nil
	}
	for u := range g.out {
		for i := range g.out[u] {
			e := &g.out[u][i]
			if !e.kinds[depRW] || comp[u] < 0 || comp[u] != comp[e.to] {
				continue
			}
			first := &anomaly{ops: []int{u}, edges: []string{"rw " + e.keys[depRW]}}
			if a := g.path(e.to, u, allowed, func(t int) bool { return comp[t] == comp[u] }, first); a != nil {
				return a
			}
			if g.work > g.limit {
				return nil
			}
		}
	}
	return nil
}

// path searches breadth-first for a path of allowed edges from start to
// goal (a cycle if they are equal) among the transactions in, and returns
// prefix followed by it, or nil.
func (g *txnGraph) path(start, goal int, allowed [depKinds]bool, in func(int) bool, prefix *anomaly) *anomaly {
	type step struct {
		from int
		kind depKind
		key  string
	}
	prev := map[int]step{}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for i := range g.out[u] {
			g.work++
			e := &g.out[u][i]
			k, ok := uses(e, allowed)
			if !ok || !in(e.to) {
				continue
			}
			if _, seen := prev[e.to]; seen || e.to == start && e.to != goal {
				continue
			}
			prev[e.to] = step{u, k, e.keys[k]}
			if e.to != goal {
				queue = append(queue, e.to)
				continue
			}
			// Walk back from goal to start.
			var ops []int
			var edges []string
			for at := goal; ; {
				s := prev[at]
				ops = append(ops, s.from)
				edges = append(edges, strings.TrimSpace(depNames[s.kind]+" "+s.key))
				if at = s.from; at == start {
					break
				}
			}
			slices.Reverse(ops)
			slices.Reverse(edges)
			a := &anomaly{ops: ops, edges: edges}
			if prefix != nil {
				a.ops = append(slices.Clone(prefix.ops), ops...)
				a.edges = append(slices.Clone(prefix.edges), edges...)
			}
			return a
		}
	}
	return nil
}

// describeCycle renders "op 3 -rw k1-> op 7 -wr k2-> op 3".
func (g *txnGraph) describeCycle(a *anomaly) string {
	var b strings.Builder
	for i, t := range a.ops {
		b.WriteString("op " + strconv.Itoa(g.opID[t]) + " -" + a.edges[i] + "-> ")
	}
	b.WriteString("op " + strconv.Itoa(g.opID[a.ops[0]]))
	return b.String()
}

// elle is CheckListAppend as a HistoryCheck: serializable, or strict
// serializable.
type elle struct{ strict bool }

func (e elle) Name() string {
	if e.strict {
		return names.StrictSerializable
	}
	return names.Serializable
}

// AnomalyFile is the artifact of a failed serializability check: the cycle
// of dependencies it found, for names.Serializable or StrictSerializable.
func AnomalyFile(check string) string { return check + "-anomaly.txt" }

// Check ignores budget: the search is bounded by elleWorkLimit, in edges
// visited, so that its verdict does not depend on the machine.
func (e elle) Check(h *workload.History, _ time.Duration) HistoryResult {
	r := CheckListAppend(h, e.strict)
	res := HistoryResult{Verdict: r.Verdict, Detail: r.Detail}
	if r.Verdict == Fail {
		res.Artifacts = []Artifact{{Name: AnomalyFile(e.Name()), Write: r.WriteCycle}}
	}
	return res
}
