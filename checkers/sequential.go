package checkers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/internal/plural"
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
type sequential struct {
	limit int // states per key past which the search gives up; 0: sequentialWorkLimit
}

func (sequential) Name() string { return names.Sequential }

func (s sequential) Check(h *workload.History, _ time.Duration) HistoryResult {
	limit := cmp.Or(s.limit, sequentialWorkLimit)
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
	orders := buildVersionOrders(ops, h.RealTime())
	for _, k := range keys {
		queues := make([][]int, 0, len(k.order)+len(k.unknown))
		for _, c := range k.order {
			queues = append(queues, k.clients[c])
		}
		for _, u := range k.unknown {
			queues = append(queues, []int{u})
		}
		switch searchKey(ops, queues, len(k.order), orders[k.key], limit) {
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
		return HistoryResult{Verdict: Fail, Detail: fmt.Sprintf("no order of the operations on keys %s respects each client's program order (%s checked)",
			strings.Join(failed, ", "), plural.Of(len(keys), "key"))}
	case len(unknown) > 0:
		return HistoryResult{Verdict: Unknown, Detail: fmt.Sprintf("the search gave up on keys %s (work limit %d states per key)",
			strings.Join(unknown, ", "), limit)}
	}
	return HistoryResult{Verdict: Pass, Detail: fmt.Sprintf("%d operations on %s are sequentially consistent per key", checked, plural.Of(len(keys), "key"))}
}

// searchKey decides one key. A cycle of constraints that rules every order
// out (orderCycle, linear in the history) fails it at once. Otherwise it
// first looks for an order that also keeps real time (a linearization,
// which is a sequential order too): real time prunes the search to the few
// operations that overlap, so a history that is linearizable, the common
// case, passes at once, in about one state per operation on the key. Only
// if none is found does it search every interleaving of the clients, which
// may run past the work limit on a long history that is not sequentially
// consistent. The two
// searches share the limit, the first taking at most a quarter of it: a
// history it cannot order quickly is most likely not linearizable, and the
// second search is the one that decides.
func searchKey(ops []workload.Operation, queues [][]int, optional int, o *versionOrder, limit int) Verdict {
	if orderCycle(ops, queues, optional, o) {
		return Fail
	}
	linear := newSeqSearch(ops, queues, optional, true, limit/4)
	if linear.run() == Pass {
		return Pass
	}
	s := newSeqSearch(ops, queues, optional, false, limit-linear.work)
	return s.run()
}

// seqSearch is the search of one key.
type seqSearch struct {
	ops    []workload.Operation
	queues [][]int // per client its ops in program order; then one queue per unknown write
	// steps holds, beside each queue, its operations' requests, answers
	// and call times, made once instead of at every state.
	steps [][]seqStep
	// optional: queues from this index on are unknown writes, which need
	// not be taken.
	optional int
	// realTime restricts the order to one that keeps real time: an
	// operation may come next only if it was called before every other
	// remaining definite operation returned.
	realTime bool
	pos      []int
	// posHash is the Zobrist hash of pos, updated as a position moves, so
	// that a state's memo key costs its value's length, not the number of
	// clients.
	posHash memoKey
	failed  map[memoKey]struct{} // states known to lead nowhere
	// cands holds, one region per depth of the search, the candidates of
	// every state on the current path: no allocation per state.
	cands  []int
	work   int
	limit  int
	gaveUp bool
}

// memoKey identifies a search state, (positions, found, value), by a
// 128-bit hash. Two states share one with a probability near 2^-128 per
// pair, about 10^-26 for the states a search may visit: what a collision
// would cost (a state wrongly taken as failed) is out of reach, and the
// memo holds 16 bytes a state instead of a string of every client's
// position and the value, allocated anew for each state (6.1 GB allocated
// for a search of 4,000,000 states before, see BENCHMARKS.md).
type memoKey struct{ a, b uint64 }

// seqStep is what the search needs of one operation.
type seqStep struct {
	in   kvInput
	out  kvOutput
	call int64
	// read: a get, or a cas that failed, answered: it changes no state.
	read bool
}

func newSeqSearch(ops []workload.Operation, queues [][]int, optional int, realTime bool, limit int) *seqSearch {
	s := &seqSearch{ops: ops, queues: queues, optional: optional, realTime: realTime, limit: limit,
		steps:  make([][]seqStep, len(queues)),
		failed: map[memoKey]struct{}{}, pos: make([]int, len(queues))}
	for q, queue := range queues {
		s.steps[q] = make([]seqStep, len(queue))
		for j, i := range queue {
			op := &ops[i]
			s.steps[q][j] = seqStep{in: kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
				out: toOutput(op), call: int64(op.Call),
				read: op.Status == workload.StatusOK && (op.Kind == workload.OpGet || (op.Kind == workload.OpCAS && !op.CASOK))}
		}
		s.posHash = s.posHash.xor(zobrist(q, 0))
	}
	return s
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

// advance moves queue q's position by delta (1 or -1), keeping posHash.
func (s *seqSearch) advance(q, delta int) {
	s.posHash = s.posHash.xor(zobrist(q, s.pos[q]))
	s.pos[q] += delta
	s.posHash = s.posHash.xor(zobrist(q, s.pos[q]))
}

func (s *seqSearch) memoKey(st keyState) memoKey {
	k := s.posHash
	if st.found {
		k = k.xor(memoKey{0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f})
	}
	const prime = 1099511628211 // FNV-1a, with two offsets
	a, b := k.a^14695981039346656037, k.b^0x84222325cbf29ce4
	for i := 0; i < len(st.value); i++ {
		a = (a ^ uint64(st.value[i])) * prime
		b = (b ^ uint64(st.value[i])) * prime
	}
	return memoKey{mix64(a), mix64(b ^ uint64(len(st.value)))}
}

func (k memoKey) xor(o memoKey) memoKey { return memoKey{k.a ^ o.a, k.b ^ o.b} }

// zobrist is the random-looking word pair for queue q at position p.
func zobrist(q, p int) memoKey {
	x := uint64(q)<<32 | uint64(uint32(p))
	return memoKey{mix64(x + 0x9e3779b97f4a7c15), mix64(x ^ 0xd6e8feb86659fd93)}
}

// mix64 is splitmix64's finalizer, a bijection that spreads every input bit.
func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
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
	if _, failed := s.failed[key]; failed {
		return false
	}
	s.work++
	if s.work > s.limit {
		s.gaveUp = true
		return false
	}
	base := len(s.cands)
	defer func() { s.cands = s.cands[:base] }()
	cands := s.candidates(st)
	for _, q := range cands {
		op := &s.steps[q][s.pos[q]]
		ok, next := stepChecked(st, op.in, op.out)
		if !ok {
			continue
		}
		s.advance(q, 1)
		found := s.dfs(next)
		s.advance(q, -1)
		if found {
			return true
		}
		if s.gaveUp {
			return false
		}
	}
	s.failed[key] = struct{}{}
	return false
}

// candidates lists, in s.cands' region for this depth, the queues whose
// next operation may come next from state st, in the order of their call
// times.
func (s *seqSearch) candidates(st keyState) []int {
	base := len(s.cands)
	for q := range s.queues {
		if s.pos[q] < len(s.queues[q]) {
			s.cands = append(s.cands, q)
		}
	}
	cands := s.cands[base:]
	if s.realTime {
		cands = s.calledBeforeFirstReturn(cands)
	}
	// A read (a get, a cas that failed) that fits the state now is taken
	// now, without trying the others first: it changes no state and only
	// moves its client on, so if any order completes from here, the one
	// that starts with it does too.
	for _, q := range cands {
		op := &s.steps[q][s.pos[q]]
		if !op.read {
			continue
		}
		if ok, _ := stepChecked(st, op.in, op.out); ok {
			cands[0] = q
			s.cands = s.cands[:base+1]
			return cands[:1]
		}
	}
	slices.SortFunc(cands, func(a, b int) int {
		return cmp.Or(cmp.Compare(s.steps[a][s.pos[a]].call, s.steps[b][s.pos[b]].call), cmp.Compare(a, b))
	})
	return cands
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
