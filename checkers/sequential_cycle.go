package checkers

import (
	"strings"

	"github.com/simrun/simrun/workload"
)

// orderCycle reports whether the operations on one key are bound in a cycle
// by constraints every sequential order must keep, which proves that none
// exists, however long a search for one would take. It is the refutation
// Elle (Kingsbury and Alvaro, 2020) makes from a dependency graph, over one
// key and with program order in place of real time. For any sequential
// order S of the key's operations:
//
//   - program order: a client's definite operations stand in S in the order
//     it called them;
//   - reads-from: the write whose value a read ends with comes before it;
//   - version order: a read or a successful cas showing "…,a,b" shows b
//     written right after a (values are unique per write, and the last
//     element of a value names the write that made it);
//   - anti-dependency: a read whose value ends with a comes before the write
//     that came right after a, or it would have seen that one.
//
// ops are the history; queues, as searchKey takes them, hold each client's
// definite operations in program order and then the writes of unknown
// outcome, which take part without a place in program order; o is the key's
// version order (buildVersionOrders). A cycle of these edges, found as the
// operations a topological sort cannot reach, is a definite Fail.
func orderCycle(ops []workload.Operation, queues [][]int, optional int, o *versionOrder) bool {
	if o == nil {
		return false
	}
	g := newOpGraph(queues)
	for q := range optional {
		for j := 1; j < len(queues[q]); j++ {
			g.edge(queues[q][j-1], queues[q][j])
		}
	}
	for _, w := range o.writes {
		for _, v := range o.next[w] {
			g.edge(w, v)
		}
	}
	for _, queue := range queues[:optional] {
		for _, r := range queue {
			g.readEdges(ops, r, o)
		}
	}
	return g.cyclic()
}

// opGraph is a graph over operation indices, deduplicated by node.
type opGraph struct {
	node  map[int]int // operation index -> node
	succ  [][]int
	indeg []int
}

func newOpGraph(queues [][]int) *opGraph {
	g := &opGraph{node: map[int]int{}}
	for _, queue := range queues {
		for _, i := range queue {
			if _, ok := g.node[i]; !ok {
				g.node[i] = len(g.succ)
				g.succ = append(g.succ, nil)
				g.indeg = append(g.indeg, 0)
			}
		}
	}
	return g
}

// edge adds a -> b when both are operations on the key.
func (g *opGraph) edge(a, b int) {
	na, okA := g.node[a]
	nb, okB := g.node[b]
	if !okA || !okB {
		return
	}
	g.succ[na] = append(g.succ[na], nb)
	g.indeg[nb]++
}

// readEdges adds the reads-from and anti-dependency edges of operation r,
// if it is a definite read of a present value: a get, or a cas that failed
// and so read the key.
func (g *opGraph) readEdges(ops []workload.Operation, r int, o *versionOrder) {
	op := &ops[r]
	if op.Status != workload.StatusOK || !op.Found || !(op.Kind == workload.OpGet || (op.Kind == workload.OpCAS && !op.CASOK)) {
		return
	}
	last := op.Output[strings.LastIndex(op.Output, workload.AppendSeparator)+1:]
	w, ok := o.writer[last]
	if !ok {
		return
	}
	g.edge(w, r)
	for _, next := range o.next[w] {
		g.edge(r, next)
	}
}

// cyclic reports whether the graph has a cycle: Kahn's topological sort
// leaves the nodes on or behind one unvisited.
func (g *opGraph) cyclic() bool {
	indeg := append([]int(nil), g.indeg...)
	var ready []int
	for n, d := range indeg {
		if d == 0 {
			ready = append(ready, n)
		}
	}
	visited := 0
	for len(ready) > 0 {
		n := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		visited++
		for _, m := range g.succ[n] {
			if indeg[m]--; indeg[m] == 0 {
				ready = append(ready, m)
			}
		}
	}
	return visited < len(g.succ)
}
