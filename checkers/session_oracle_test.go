package checkers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Session checks against generated executions whose ground truth is
// known: writes applied to one log per key inside their windows, reads of
// its current state (a linearizable history: every check passes) or of
// any earlier state (only reads weakened: read-your-writes and
// monotonic-reads fail only where the truth says so).

// sessExec is a generated execution: a history plus its ground truth.
type sessExec struct {
	ops    []workload.Operation
	prefix map[int]int      // OK read (get, failed cas) -> prefix of its key's log it saw
	pos    map[int]int      // applied write -> position in its key's log
	logs   map[string][]int // key -> applied effective writes in order
}

type sessResult struct {
	output string
	found  bool
	casOK  bool
}

// genSessExec runs clients against one log per key. Writes (put, append,
// cas) are applied to the log at a point inside their window (so writes are
// linearizable); a get reads the current state (stale=false: the history is
// linearizable) or any prefix of the log (stale=true: only reads weakened).
// Operations may time out (unknown), before or after taking effect; an
// unknown write not yet applied may be applied at any later step, or never.
func genSessExec(t *rapid.T, stale bool, maxOps int) *sessExec {
	return genSessExecKeys(t, stale, maxOps, true)
}

func genSessExecKeys(t *rapid.T, stale bool, maxOps int, twoKeys bool) *sessExec {
	nClients := rapid.IntRange(1, 3+maxOps/10).Draw(t, "clients")
	keys := []string{"k"}
	if twoKeys && rapid.IntRange(0, 3).Draw(t, "twokeys") == 0 {
		keys = append(keys, "j")
	}
	e := &sessExec{prefix: map[int]int{}, pos: map[int]int{}, logs: map[string][]int{}}
	type kstate struct {
		states []string // states[k]: value after k writes ("" = absent at k=0)
	}
	ks := map[string]*kstate{}
	for _, k := range keys {
		ks[k] = &kstate{states: []string{""}}
	}
	cur := func(k string) (string, bool) {
		s := ks[k].states
		return s[len(s)-1], len(s) > 1
	}
	type cl struct {
		busy, applied bool
		op            int
		seq           int
		lastSeen      map[string]string
	}
	clients := make([]*cl, nClients)
	for i := range clients {
		clients[i] = &cl{lastSeen: map[string]string{}}
	}
	results := map[int]sessResult{}
	var pending []int // unknown writes not yet applied
	now := sim.Time(0)
	apply := func(i int) {
		op := &e.ops[i]
		st := ks[op.Key]
		v, found := cur(op.Key)
		push := func(nv string) {
			e.pos[i] = len(e.logs[op.Key])
			e.logs[op.Key] = append(e.logs[op.Key], i)
			st.states = append(st.states, nv)
		}
		switch op.Kind {
		case workload.OpGet:
			k := len(st.states) - 1
			if stale {
				k = rapid.IntRange(0, k).Draw(t, "prefix")
			}
			e.prefix[i] = k
			results[i] = sessResult{output: st.states[k], found: k > 0}
		case workload.OpPut:
			push(op.Value)
			results[i] = sessResult{}
		case workload.OpAppend:
			if found {
				push(v + workload.AppendSeparator + op.Value)
			} else {
				push(op.Value)
			}
			results[i] = sessResult{}
		case workload.OpCAS:
			if found && v == op.Expect {
				push(op.Value)
				results[i] = sessResult{casOK: true}
			} else {
				e.prefix[i] = len(st.states) - 1
				results[i] = sessResult{output: v, found: found}
			}
		}
	}
	steps := rapid.IntRange(5, 10*maxOps).Draw(t, "steps")
	for range steps {
		c := clients[rapid.IntRange(0, nClients-1).Draw(t, "client")]
		now += sim.Time(rapid.IntRange(0, 2).Draw(t, "advance"))
		roll := rapid.IntRange(0, 9).Draw(t, "roll")
		action := 0
		switch {
		case roll == 9 && len(pending) > 0:
			action = 5
		case !c.busy:
			action = 1
		case roll == 8:
			action = 4
		case !c.applied:
			action = 2
		default:
			action = 3
		}
		switch action {
		case 1: // call
			if c.busy || len(e.ops) >= maxOps {
				continue
			}
			ci := 0
			for i := range clients {
				if clients[i] == c {
					ci = i
				}
			}
			c.seq++
			key := rapid.SampledFrom(keys).Draw(t, "key")
			kind := rapid.SampledFrom([]workload.OpKind{workload.OpGet, workload.OpGet, workload.OpPut, workload.OpAppend, workload.OpAppend, workload.OpCAS}).Draw(t, "kind")
			op := workload.Operation{ID: len(e.ops), Client: ci, Seq: uint64(c.seq), Kind: kind, Key: key, Call: now, Return: sim.Forever}
			if kind != workload.OpGet {
				op.Value = "c" + strconv.Itoa(ci) + "." + strconv.Itoa(c.seq)
			}
			if kind == workload.OpCAS {
				st := ks[key].states
				choices := []string{"none"}
				if v, ok := c.lastSeen[key]; ok {
					choices = append(choices, v, v)
				}
				if v, found := cur(key); found {
					choices = append(choices, v, v)
				}
				choices = append(choices, st[1:]...)
				op.Expect = rapid.SampledFrom(choices).Draw(t, "expect")
			}
			e.ops = append(e.ops, op)
			c.busy, c.applied, c.op = true, false, op.ID
		case 2: // apply
			if !c.busy || c.applied {
				continue
			}
			apply(c.op)
			c.applied = true
		case 3: // return OK
			if !c.busy || !c.applied {
				continue
			}
			op := &e.ops[c.op]
			r := results[c.op]
			op.Status, op.Return, op.Output, op.Found, op.CASOK = workload.StatusOK, now, r.output, r.found, r.casOK
			switch {
			case (op.Kind == workload.OpGet || op.Kind == workload.OpCAS && !op.CASOK) && op.Found:
				c.lastSeen[op.Key] = op.Output
			case op.Kind == workload.OpPut || op.Kind == workload.OpCAS && op.CASOK:
				c.lastSeen[op.Key] = op.Value
			}
			c.busy = false
		case 4: // time out: unknown
			if !c.busy {
				continue
			}
			op := &e.ops[c.op]
			op.Status, op.Return = workload.StatusUnknown, sim.Forever
			delete(e.prefix, c.op)
			if !c.applied && op.Kind != workload.OpGet {
				pending = append(pending, c.op)
			}
			c.busy = false
		case 5: // apply a pending unknown write
			if len(pending) == 0 {
				continue
			}
			j := rapid.IntRange(0, len(pending)-1).Draw(t, "pending")
			i := pending[j]
			pending = append(pending[:j], pending[j+1:]...)
			apply(i)
			delete(e.prefix, i)
		}
	}
	for _, c := range clients {
		if c.busy {
			delete(e.prefix, c.op)
		}
	}
	return e
}

func sessChecks() map[string]HistoryCheck {
	return map[string]HistoryCheck{
		"read-your-writes":    sessionCheck{name: "read-your-writes", ownWrites: true},
		"monotonic-reads":     sessionCheck{name: "monotonic-reads"},
		"monotonic-writes":    writeOrderCheck{name: "monotonic-writes"},
		"writes-follow-reads": writeOrderCheck{name: "writes-follow-reads", followReads: true},
	}
}

func showOps(ops []workload.Operation) string {
	var b strings.Builder
	for _, op := range ops {
		ret := "∞"
		if op.Return != sim.Forever {
			ret = strconv.Itoa(int(op.Return))
		}
		fmt.Fprintf(&b, "\n  #%d c%d [%d,%s] %s %s %s", op.ID, op.Client, op.Call, ret, op.Status, op.Kind, op.Key)
		switch op.Kind {
		case workload.OpPut, workload.OpAppend:
			fmt.Fprintf(&b, " %s", op.Value)
		case workload.OpCAS:
			fmt.Fprintf(&b, " %q->%s", op.Expect, op.Value)
		}
		if op.Status == workload.StatusOK {
			switch {
			case op.Kind == workload.OpCAS && op.CASOK:
				b.WriteString(" => ok")
			case op.Kind == workload.OpGet || op.Kind == workload.OpCAS:
				if op.Found {
					fmt.Fprintf(&b, " => %q", op.Output)
				} else {
					b.WriteString(" => absent")
				}
			}
		}
	}
	return b.String()
}

// TestSessionChecksPassLinearizableHistories: every session guarantee holds
// in a linearizable execution, so every check must pass it.
func TestSessionChecksPassLinearizableHistories(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genSessExec(t, false, rapid.SampledFrom([]int{12, 20, 60}).Draw(t, "size"))
		h := workload.NewHistory(e.ops...)
		for name, c := range sessChecks() {
			if r := c.Check(h, 0); r.Verdict != Pass {
				t.Fatalf("%s: %v %s on linearizable history%s", name, r.Verdict, r.Detail, showOps(e.ops))
			}
		}
	})
}

// truthViolations computes, from the ground truth of a stale-read
// execution, which OK reads violate read-your-writes (the client's latest
// OK write on the key not in the prefix read) and monotonic-reads (a
// shorter prefix than an earlier read of the client's on the key).
func truthViolations(e *sessExec) (ryw, mr map[int]bool) {
	ryw, mr = map[int]bool{}, map[int]bool{}
	for i, op := range e.ops {
		k, isRead := e.prefix[i]
		if !isRead || op.Status != workload.StatusOK {
			continue
		}
		last := -1
		for j := range i {
			p := e.ops[j]
			if p.Client == op.Client && p.Key == op.Key && p.Status == workload.StatusOK && isEffectiveWrite(&p) {
				last = j
			}
			if p.Client == op.Client && p.Key == op.Key && p.Status == workload.StatusOK {
				if k1, r1 := e.prefix[j]; r1 && k < k1 {
					mr[i] = true
				}
			}
		}
		if last >= 0 && e.pos[last] >= k {
			ryw[i] = true
		}
	}
	return ryw, mr
}

// TestSessionChecksNoFalsePositiveOnStaleReads: writes linearizable, reads
// see any prefix: a check may fail only when the ground truth violates its
// guarantee; monotonic-writes and writes-follow-reads always hold.
func TestSessionChecksNoFalsePositiveOnStaleReads(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genSessExec(t, true, rapid.SampledFrom([]int{12, 20, 60}).Draw(t, "size"))
		h := workload.NewHistory(e.ops...)
		ryw, mr := truthViolations(e)
		for name, c := range sessChecks() {
			r := c.Check(h, 0)
			truth := false
			switch name {
			case "read-your-writes":
				truth = len(ryw) > 0
			case "monotonic-reads":
				truth = len(mr) > 0
			}
			if r.Verdict == Fail && !truth {
				t.Fatalf("%s: false positive: %s%s", name, r.Detail, showOps(e.ops))
			}
		}
	})
}

func sop(client int, kind workload.OpKind, call, ret int, value string) workload.Operation {
	op := workload.Operation{Client: client, Kind: kind, Key: "k", Call: sim.Time(call), Return: sim.Time(ret), Status: workload.StatusOK, Value: value}
	if ret < 0 {
		op.Return, op.Status = sim.Forever, workload.StatusUnknown
	}
	return op
}

func sget(client, call, ret int, out string) workload.Operation {
	op := sop(client, workload.OpGet, call, ret, "")
	op.Output, op.Found = out, out != ""
	return op
}

func scas(client, call, ret int, expect, value string) workload.Operation {
	op := sop(client, workload.OpCAS, call, ret, value)
	op.Expect, op.CASOK = expect, true
	return op
}

// TestSessionChecksUseWhatTheHistoryTies: violations the order the
// history shows implies, each passed before: a list is a chain of writes
// each right after the one before (what is after any of them is after all),
// a client's next operation follows its last even at the same instant, a
// successful cas's expectation is a state (a chain too), a write with no
// answer that a read shows took effect after what its client read, and an
// append at the head of a list was the key's first write.
func TestSessionChecksUseWhatTheHistoryTies(t *testing.T) {
	tests := []struct {
		name  string
		check string
		want  Verdict
		ops   []workload.Operation
	}{
		{"F1 ryw: b right after a, own W after a: 'a,b' is older than W", "read-your-writes", Fail, []workload.Operation{
			sop(0, workload.OpPut, 0, 1, "a"),
			sop(1, workload.OpAppend, 2, 10, "b"),
			sop(0, workload.OpAppend, 3, 4, "W"),
			sget(0, 5, 6, "a,b"),
		}},
		{"F1 mr: read V (after a), then 'a,b': b is right after a, so before V", "monotonic-reads", Fail, []workload.Operation{
			sop(1, workload.OpPut, 0, 1, "a"),
			sop(2, workload.OpAppend, 2, 10, "b"),
			sop(1, workload.OpPut, 2, 3, "V"),
			sget(0, 4, 5, "V"),
			sget(0, 6, 7, "a,b"),
		}},
		{"F2 mw: next op called at the instant the previous returned (open-loop backlog)", "monotonic-writes", Fail, []workload.Operation{
			sop(0, workload.OpAppend, 0, 5, "w1"),
			sop(0, workload.OpAppend, 5, 8, "w2"),
			sget(1, 9, 10, "w2,w1"),
		}},
		{"F2 mw control: with a gap it is flagged", "monotonic-writes", Fail, []workload.Operation{
			sop(0, workload.OpAppend, 0, 5, "w1"),
			sop(0, workload.OpAppend, 6, 8, "w2"),
			sget(1, 9, 10, "w2,w1"),
		}},
		{"F2 ryw: own append b then own put W at the same instant; 'a,b' misses W", "read-your-writes", Fail, []workload.Operation{
			sop(1, workload.OpPut, 0, 0, "a"),
			sop(1, workload.OpAppend, 0, 1, "b"),
			sop(1, workload.OpPut, 1, 1, "W"),
			sget(1, 1, 1, "a,b"),
		}},
		{"F3 mw: a successful cas expected 'w2,w1': its server held w2 before the earlier w1", "monotonic-writes", Fail, []workload.Operation{
			sop(0, workload.OpAppend, 0, 1, "w1"),
			sop(0, workload.OpAppend, 3, 4, "w2"),
			scas(2, 9, 10, "w2,w1", "z"),
		}},
		{"F3 ryw: a successful cas expected 'p,b,c' (p before b); b's client then reads 'p'", "read-your-writes", Fail, []workload.Operation{
			sop(0, workload.OpPut, 0, 1, "p"),
			sop(1, workload.OpAppend, 0, 5, "b"),
			sop(2, workload.OpAppend, 0, 9, "c"),
			sget(1, 6, 7, "p"),
			scas(0, 10, 11, "p,b,c", "d"),
		}},
		{"F4 wfr: the client read a, then appended w (unknown); a read shows w before a", "writes-follow-reads", Fail, []workload.Operation{
			sop(1, workload.OpAppend, 0, 1, "a"),
			sget(0, 2, 3, "a"),
			sop(0, workload.OpAppend, 4, -1, "w"),
			sget(2, 5, 6, "w,a"),
		}},
		{"F4 wfr control: w answered OK is flagged", "writes-follow-reads", Fail, []workload.Operation{
			sop(1, workload.OpAppend, 0, 1, "a"),
			sget(0, 2, 3, "a"),
			sop(0, workload.OpAppend, 4, 5, "w"),
			sget(2, 6, 7, "w,a"),
		}},
		{"ryw: a list headed by an append shows the key's first write, before the client's put", "read-your-writes", Fail, []workload.Operation{
			sop(1, workload.OpAppend, 0, 10, "a"),
			sop(0, workload.OpPut, 1, 2, "P"),
			sget(0, 3, 4, "a"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sessChecks()[tt.check].Check(workload.NewHistory(tt.ops...), 0)
			if r.Verdict != tt.want {
				t.Errorf("%s: got %v (%s), the definition says %v%s", tt.check, r.Verdict, r.Detail, tt.want, showOps(tt.ops))
			}
		})
	}
}
