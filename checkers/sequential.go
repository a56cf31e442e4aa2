package checkers

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/workload"
)

// sequentialWorkLimit bounds the search of one key, in states visited: past
// it the verdict is Unknown. It counts work, not wall time, so a Pass or
// Fail is the same on every machine.
const sequentialWorkLimit = 2_000_000

// sequential checks sequential consistency (Lamport 1979) of a kv history:
// some total order of the operations respects each client's program order
// (its operations in the order it called them) and the register's
// sequential specification (the same one linearizable checks). Real time
// across clients is not required: a client may read a value another client
// overwrote long ago, as long as all reads fit one order.
//
// It is checked per key: a cycle of constraints every order must keep fails
// the key at once (orderCycle); otherwise a depth-first search over
// interleavings of the clients' operations on that key decides it,
// memoizing the (positions, value) states that fail. Sequential consistency
// is not local: a history whose every key is sequentially consistent may
// not be as a whole, so this check is a necessary condition, sound in its
// failures; it misses violations that need two keys to show. Operations
// with an unknown outcome are treated as linearizable treats them: reads
// are left out, so are writes nothing observed (see unobserved), and the
// other writes may take effect at any point or never (their client's
// program order does not bind them, which only makes the check more
// permissive). Running past sequentialWorkLimit
// is Unknown. The wall-clock budget is not used: a limit counted in search
// states gives the same verdict on every machine and under any load.
type sequential struct{}

func (sequential) Name() string { return names.Sequential }

func (sequential) Check(h *workload.History, _ time.Duration) HistoryResult {
	ops := h.Operations()
	drop := unobserved(ops)
	type perKey struct {
		key      string
		clients  map[int][]int // client -> its definite ops on the key, in call order
		unknown  []int         // writes with unknown outcome: anywhere or never
		order    []int         // clients in order of first op
		complete int
	}
	var keys []*perKey
	index := map[string]*perKey{}
	for i := range ops {
		op := &ops[i]
		if op.Kind == workload.OpTxn || (op.Status == workload.StatusUnknown && (op.Kind == workload.OpGet || drop[i])) {
			continue
		}
		k := index[op.Key]
		if k == nil {
			k = &perKey{key: op.Key, clients: map[int][]int{}}
			index[op.Key] = k
			keys = append(keys, k)
		}
		if op.Status == workload.StatusUnknown {
			k.unknown = append(k.unknown, i)
			continue
		}
		if _, ok := k.clients[op.Client]; !ok {
			k.order = append(k.order, op.Client)
		}
		k.clients[op.Client] = append(k.clients[op.Client], i)
		k.complete++
	}
	checked := 0
	var failed, unknown []string
	orders := buildVersionOrders(ops)
	for _, k := range keys {
		queues := make([][]int, 0, len(k.order)+len(k.unknown))
		for _, c := range k.order {
			queues = append(queues, k.clients[c])
		}
		for _, u := range k.unknown {
			queues = append(queues, []int{u})
		}
		switch searchKey(ops, queues, len(k.order), orders[k.key]) {
		case Pass:
			checked += k.complete + len(k.unknown)
		case Fail:
			failed = append(failed, k.key)
		default:
			unknown = append(unknown, k.key)
		}
	}
	slices.Sort(failed)
	slices.Sort(unknown)
	switch {
	case len(failed) > 0:
		return HistoryResult{Verdict: Fail, Detail: fmt.Sprintf("no order of the operations on keys %s respects each client's program order (%d keys checked)",
			strings.Join(failed, ", "), len(keys))}
	case len(unknown) > 0:
		return HistoryResult{Verdict: Unknown, Detail: fmt.Sprintf("the search gave up on keys %s (work limit %d states per key)",
			strings.Join(unknown, ", "), sequentialWorkLimit)}
	}
	return HistoryResult{Verdict: Pass, Detail: fmt.Sprintf("%d operations on %d keys are sequentially consistent per key", checked, len(keys))}
}

// searchKey decides one key. A cycle of constraints that rules every order
// out (orderCycle, linear in the history) fails it at once. Otherwise it
// first looks for an order that also keeps real time (a linearization,
// which is a sequential order too): real time prunes the search to the few
// operations that overlap, so a history that is linearizable, the common
// case, passes at once however long it is. Only if none is found does it
// search every interleaving of the clients, which may run past the work
// limit on a long history that is not sequentially consistent.
func searchKey(ops []workload.Operation, queues [][]int, optional int, o *versionOrder) Verdict {
	if orderCycle(ops, queues, optional, o) {
		return Fail
	}
	linear := seqSearch{ops: ops, queues: queues, optional: optional, realTime: true,
		failed: map[string]bool{}, pos: make([]int, len(queues))}
	if linear.run() == Pass {
		return Pass
	}
	s := seqSearch{ops: ops, queues: queues, optional: optional,
		failed: map[string]bool{}, pos: make([]int, len(queues))}
	return s.run()
}

// seqSearch is the search of one key.
type seqSearch struct {
	ops    []workload.Operation
	queues [][]int // per client its ops in program order; then one queue per unknown write
	// optional: queues from this index on are unknown writes, which need
	// not be taken.
	optional int
	// realTime restricts the order to one that keeps real time: an
	// operation may come next only if it was called before every other
	// remaining definite operation returned.
	realTime bool
	pos      []int
	failed   map[string]bool // (positions, state) known to lead nowhere
	work     int
	gaveUp   bool
}

func (s *seqSearch) run() Verdict {
	if s.dfs(keyState{}) {
		return Pass
	}
	if s.gaveUp {
		return Unknown
	}
	return Fail
}

func (s *seqSearch) done() bool {
	for q := 0; q < s.optional; q++ {
		if s.pos[q] < len(s.queues[q]) {
			return false
		}
	}
	return true
}

func (s *seqSearch) memoKey(st keyState) string {
	b := make([]byte, 0, 4*len(s.pos)+len(st.value)+1)
	for _, p := range s.pos {
		b = binary.AppendUvarint(b, uint64(p))
	}
	if st.found {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return string(append(b, st.value...))
}

// dfs extends the order from state st and the positions; it tries the
// candidates in the order of their call times, so a history that is
// linearizable finds its order with little backtracking.
func (s *seqSearch) dfs(st keyState) bool {
	if s.done() {
		return true
	}
	if s.gaveUp {
		return false
	}
	key := s.memoKey(st)
	if s.failed[key] {
		return false
	}
	s.work++
	if s.work > sequentialWorkLimit {
		s.gaveUp = true
		return false
	}
	var cands []int
	for q := range s.queues {
		if s.pos[q] < len(s.queues[q]) {
			cands = append(cands, q)
		}
	}
	if s.realTime {
		cands = s.calledBeforeFirstReturn(cands)
	}
	// A read (a get, a cas that failed) that fits the state now is taken
	// now, without trying the others first: it changes no state and only
	// moves its client on, so if any order completes from here, the one
	// that starts with it does too.
	for _, q := range cands {
		op := &s.ops[s.queues[q][s.pos[q]]]
		if op.Status != workload.StatusOK || !(op.Kind == workload.OpGet || (op.Kind == workload.OpCAS && !op.CASOK)) {
			continue
		}
		if ok, _ := step(st, kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect}, toOutput(op)); ok {
			cands = []int{q}
			break
		}
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		return cmp.Compare(s.ops[s.queues[a][s.pos[a]]].Call, s.ops[s.queues[b][s.pos[b]]].Call)
	})
	for _, q := range cands {
		op := &s.ops[s.queues[q][s.pos[q]]]
		ok, next := step(st, kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect}, toOutput(op))
		if !ok {
			continue
		}
		s.pos[q]++
		found := s.dfs(next.(keyState))
		s.pos[q]--
		if found {
			return true
		}
		if s.gaveUp {
			return false
		}
	}
	s.failed[key] = true
	return false
}

// calledBeforeFirstReturn keeps the candidates called before the earliest
// return among the next definite operations of every client: anything
// called later must follow that operation in real time.
func (s *seqSearch) calledBeforeFirstReturn(cands []int) []int {
	first := false
	var earliest int64
	for q := 0; q < s.optional; q++ {
		if s.pos[q] < len(s.queues[q]) {
			ret := int64(s.ops[s.queues[q][s.pos[q]]].Return)
			if !first || ret < earliest {
				first, earliest = true, ret
			}
		}
	}
	if !first {
		return cands
	}
	return slices.DeleteFunc(cands, func(q int) bool { return int64(s.ops[s.queues[q][s.pos[q]]].Call) > earliest })
}
