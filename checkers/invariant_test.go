package checkers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func leader(node sim.NodeID, term uint64) sim.Observation {
	return sim.Observation{Kind: sim.ObsLeader, Node: node, Term: term}
}

func commit(node sim.NodeID, index, digest uint64) sim.Observation {
	return sim.Observation{Kind: sim.ObsCommit, Node: node, Term: 1, Index: index, Digest: digest}
}

func apply(node sim.NodeID, index, digest uint64) sim.Observation {
	return sim.Observation{Kind: sim.ObsApply, Node: node, Term: 1, Index: index, Digest: digest}
}

// feed shows obs to inv as events 1, 2, ... and returns the first violation
// with the number of the event that revealed it (0 if none).
func feed(inv Invariant, obs []sim.Observation) (*Violation, int) {
	for i, o := range obs {
		if v := inv.Observe(sim.Time(i)*sim.Time(time.Millisecond), uint64(i+1), o); v != nil {
			return v, i + 1
		}
	}
	return nil, 0
}

// invariantCase is observations fed to an invariant and the violation they
// should reveal.
type invariantCase struct {
	name      string
	obs       []sim.Observation
	wantEvent int // 0: no violation
	wantMsg   string
}

// runInvariantCases feeds each case to a fresh invariant and checks the first
// violation: the event that revealed it, its message, its checker and the
// node of the observation at fault.
func runInvariantCases(t *testing.T, newInv func() Invariant, checker string, tests []invariantCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, event := feed(newInv(), tt.obs)
			require.Equal(t, tt.wantEvent, event, "violation %v", v)
			if tt.wantEvent == 0 {
				return
			}
			assert.Equal(t, tt.wantMsg, v.Message)
			assert.Equal(t, checker, v.Checker)
			assert.Equal(t, uint64(event), v.Event)
			assert.Equal(t, tt.obs[event-1].Node, v.Node)
		})
	}
}

func TestAgreement(t *testing.T) {
	runInvariantCases(t, NewAgreement, NameAgreement, []invariantCase{
		{"every node commits and applies the same digests",
			[]sim.Observation{commit(0, 1, 0xa), commit(1, 1, 0xa), apply(0, 1, 0xa), commit(0, 2, 0xb),
				apply(1, 1, 0xa), apply(2, 1, 0xa), apply(2, 2, 0xb)}, 0, ""},
		{"a restarted node commits and applies its log again",
			[]sim.Observation{commit(0, 1, 0xa), apply(0, 1, 0xa), commit(0, 2, 0xb), apply(0, 2, 0xb),
				leader(1, 2), restarted(commit(0, 1, 0xa)), restarted(apply(0, 1, 0xa)), restarted(commit(0, 2, 0xb)),
				restarted(apply(0, 2, 0xb))}, 0, ""},
		{"a node's applies jump ahead over what a snapshot installed",
			[]sim.Observation{apply(0, 1, 0xa), apply(1, 1, 0xa), apply(1, 7, 0xc), apply(1, 8, 0xd)}, 0, ""},
		{"a node applies an index again without restarting",
			[]sim.Observation{apply(0, 1, 0xa), apply(0, 2, 0xb), apply(1, 1, 0xa), apply(0, 2, 0xb)}, 4,
			"n0 applied index 2 (event 4) after index 2 (event 2), without restarting: its state went back"},
		{"a node goes back to an older snapshot and applies from there",
			[]sim.Observation{apply(0, 1, 0xa), apply(0, 2, 0xb), apply(0, 3, 0xc), restarted(apply(1, 3, 0xc)), apply(0, 2, 0xb)}, 5,
			"n0 applied index 2 (event 5) after index 3 (event 3), without restarting: its state went back"},
		{"leader observations are not about indexes",
			[]sim.Observation{leader(0, 1), leader(1, 1), commit(0, 1, 0xa)}, 0, ""},
		{"two nodes commit different digests at one index",
			[]sim.Observation{commit(0, 1, 0xa), commit(1, 2, 0xb), commit(2, 1, 0xc)}, 3,
			"index 1: n2 committed digest c (term 1, event 3), but n0 committed digest a (term 1, event 1)"},
		{"a node applies what another did not commit",
			[]sim.Observation{commit(0, 5, 0xa), apply(1, 5, 0xb)}, 2,
			"index 5: n1 applied digest b (term 1, event 2), but n0 committed digest a (term 1, event 1)"},
		{"slots learned out of order, then a conflict at one learned ahead of a gap",
			[]sim.Observation{commit(0, 3, 0xa), commit(0, 0, 0xe), commit(1, 1, 0xb), commit(1, 2, 0xc), commit(2, 0, 0xe), commit(2, 3, 0xd)}, 6,
			"index 3: n2 committed digest d (term 1, event 6), but n0 committed digest a (term 1, event 1)"},
		{"a restarted node commits a different digest",
			[]sim.Observation{commit(0, 1, 0xa), apply(0, 1, 0xa), commit(0, 1, 0xf)}, 3,
			"index 1: n0 committed digest f (term 1, event 3), but n0 committed digest a (term 1, event 1)"},
		{"every replica's apply gives the same result; a protocol may give none",
			[]sim.Observation{commit(0, 1, 0xa), applyResult(0, 1, 0xa, 0x5), apply(1, 1, 0xa), applyResult(2, 1, 0xa, 0x5),
				applyResult(1, 2, 0xb, 0x6), applyResult(0, 2, 0xb, 0x6)}, 0, ""},
		{"the same command at one index gives two results: the states diverged",
			[]sim.Observation{commit(0, 1, 0xa), applyResult(0, 1, 0xa, 0x5), apply(1, 1, 0xa), applyResult(2, 1, 0xa, 0x7)}, 4,
			"index 1: n2 applied with result digest 7 (term 1, event 4), but n0 applied with result digest 5 (term 1, event 2): " +
				"the same command applied at the same index gave two results, so the replicas' states had diverged"},
		{"replicas at a checkpoint hold one state; one installed by state transfer agrees",
			[]sim.Observation{applyState(0, 16, 0xa, 0x77), applyState(1, 16, 0xa, 0x77), apply(2, 3, 0xc),
				applyState(2, 16, 0xa, 0x77), apply(0, 17, 0xb), applyState(1, 32, 0xd, 0x88)}, 0, ""},
		{"the same command at one index, with the same result, leaves two states: the states diverged",
			[]sim.Observation{withResult(applyState(0, 16, 0xa, 0x77), 0x5), apply(1, 16, 0xa), withResult(applyState(2, 16, 0xa, 0x99), 0x5)}, 3,
			"index 16: n2 reached state digest 99 (term 1, event 3), but n0 reached state digest 77 (term 1, event 1): " +
				"two replicas held different states after the same index, so the replicas' states had diverged"},
		{"results and states both differ: the results are named, the nearer cause",
			[]sim.Observation{withResult(applyState(0, 16, 0xa, 0x77), 0x5), withResult(applyState(2, 16, 0xa, 0x99), 0x6)}, 2,
			"index 16: n2 applied with result digest 6 (term 1, event 2), but n0 applied with result digest 5 (term 1, event 1): " +
				"the same command applied at the same index gave two results, so the replicas' states had diverged"},
	})
}

// withResult is o with the digest of its command's result.
func withResult(o sim.Observation, result uint64) sim.Observation {
	o.Result = result
	return o
}

// applyState is apply with the digest of the whole state the node reached.
func applyState(node sim.NodeID, index, digest, state uint64) sim.Observation {
	o := apply(node, index, digest)
	o.State = state
	return o
}

// restarted is o made by its node's next incarnation.
func restarted(o sim.Observation) sim.Observation {
	o.Incarnation++
	return o
}

// applyResult is apply with the digest of the result the command produced.
func applyResult(node sim.NodeID, index, digest, result uint64) sim.Observation {
	o := apply(node, index, digest)
	o.Result = result
	return o
}

func TestOneLeaderPerTerm(t *testing.T) {
	runInvariantCases(t, NewOneLeaderPerTerm, NameOneLeaderPerTerm, []invariantCase{
		{"a leader per term", []sim.Observation{leader(0, 1), leader(1, 2), leader(0, 3), leader(2, 5)}, 0, ""},
		{"the same leader announced again after a restart",
			[]sim.Observation{leader(0, 1), commit(0, 1, 0xa), leader(0, 1), leader(1, 2)}, 0, ""},
		{"terms may be skipped and revisited out of order by observers",
			[]sim.Observation{leader(0, 3), leader(1, 1), leader(2, 2)}, 0, ""},
		{"two leaders in one term", []sim.Observation{leader(0, 1), leader(1, 2), leader(2, 2)}, 3,
			"term 2 has two leaders: n2 (event 3) and n1 (event 2)"},
		{"a second leader long after", []sim.Observation{leader(0, 1), leader(1, 2), leader(2, 3), leader(1, 1)}, 4,
			"term 1 has two leaders: n1 (event 4) and n0 (event 1)"},
		{"n0 the second leader of a term", []sim.Observation{leader(1, 2), leader(0, 2)}, 2,
			"term 2 has two leaders: n0 (event 2) and n1 (event 1)"},
	})
}

func TestViolationError(t *testing.T) {
	v := &Violation{Checker: NameAgreement, Event: 812, At: sim.Time(1500 * time.Millisecond), Node: 2, Message: "index 7: ..."}
	assert.Equal(t, "agreement violated at event 812 (t=1.5s, n2): index 7: ...", v.Error())
}

func TestMonitorRecordsFirstViolationPerInvariant(t *testing.T) {
	var stops []string
	m := NewMonitor([]Invariant{NewAgreement(), NewOneLeaderPerTerm()}, func(r string) { stops = append(stops, r) })
	for i, o := range []sim.Observation{
		leader(0, 1), commit(0, 1, 0xa), leader(1, 1), commit(1, 1, 0xb), leader(2, 1), commit(2, 1, 0xc),
	} {
		m.Observe(sim.Time(i), uint64(i+1), o)
	}
	vs := m.Violations()
	require.Len(t, vs, 2)
	assert.Equal(t, NameAgreement, vs[0].Checker)
	assert.Equal(t, uint64(4), vs[0].Event, "the first agreement violation is kept")
	assert.Equal(t, NameOneLeaderPerTerm, vs[1].Checker)
	assert.Equal(t, uint64(3), vs[1].Event)
	assert.Equal(t, []string{vs[1].Error(), vs[0].Error()}, stops, "stop is asked once per failed invariant, as they fail")

	res := m.Results()
	require.Len(t, res, 2)
	assert.Equal(t, InvariantResult{Name: NameAgreement, Verdict: Fail, Detail: vs[0].Error(), Violation: vs[0]}, res[0])
	assert.Equal(t, Fail, res[1].Verdict)
}

// seen records the kinds it is shown in a log shared with others;
// selectiveSeen does so for the kinds it names.
type seen struct {
	name string
	log  *[]string
}

func (s seen) Name() string { return s.name }

func (s seen) Observe(_ sim.Time, _ uint64, o sim.Observation) *Violation {
	*s.log = append(*s.log, s.name+":"+o.Kind.String())
	return nil
}

type selectiveSeen struct {
	seen
	kinds []sim.ObsKind
}

func (s selectiveSeen) Kinds() []sim.ObsKind { return s.kinds }

// A Selective invariant is shown only the kinds it names, the others every
// kind, and each observation reaches its invariants in their given order.
func TestMonitorShowsSelectiveInvariantsTheirKindsOnly(t *testing.T) {
	var log []string
	m := NewMonitor([]Invariant{
		selectiveSeen{seen{"apply", &log}, []sim.ObsKind{sim.ObsApply}},
		seen{"all", &log},
		selectiveSeen{seen{"leader", &log}, []sim.ObsKind{sim.ObsLeader, sim.ObsApply}},
	}, nil)
	for _, k := range []sim.ObsKind{sim.ObsApply, sim.ObsLeader, sim.ObsCommit, sim.ObsConfig} {
		m.Observe(0, 1, sim.Observation{Kind: k})
	}
	assert.Equal(t, []string{"apply:apply", "all:apply", "leader:apply", "all:leader", "leader:leader",
		"all:commit", "all:config"}, log)
}

// announcer is a server that announces what the test scripts at given times.
type announcer struct {
	script map[sim.NodeID][]sim.Observation // per node, one per timer tick
	next   int
}

func (a *announcer) Start(env sim.Env) { env.SetTimer(0, 10*time.Millisecond) }

func (a *announcer) Receive(sim.Env, sim.NodeID, sim.Message) {}

func (a *announcer) Timer(env sim.Env, _ sim.TimerKind) {
	obs := a.script[env.ID()]
	if a.next >= len(obs) {
		return
	}
	env.Observe(obs[a.next])
	a.next++
	env.SetTimer(0, 10*time.Millisecond)
}

func TestAttachStopsTheWorldAtTheFirstViolation(t *testing.T) {
	script := map[sim.NodeID][]sim.Observation{
		0: {leader(0, 1), commit(0, 1, 0xa), commit(0, 2, 0xb), commit(0, 3, 0xc)},
		1: {{Kind: sim.ObsNote, Text: "hello"}, commit(1, 1, 0xa), commit(1, 2, 0xbad), commit(1, 3, 0xc)},
	}
	w, err := sim.NewWorld(sim.Config{Seed: 1})
	require.NoError(t, err)
	for range 2 {
		w.AddServer(func(sim.NodeID) sim.Node { return &announcer{script: script} })
	}
	m := Attach(w, []Invariant{NewOneLeaderPerTerm(), NewAgreement()})
	assert.Equal(t, sim.Stopped, w.RunUntil(sim.Time(time.Second)))
	vs := m.Violations()
	require.Len(t, vs, 1)
	v := vs[0]
	assert.Equal(t, NameAgreement, v.Checker)
	assert.Equal(t, sim.NodeID(1), v.Node)
	assert.Equal(t, sim.Time(30*time.Millisecond), v.At)
	assert.Equal(t, w.Events(), v.Event, "the run stopped right after the violating event")
	assert.Contains(t, w.RecentTrace()[len(w.RecentTrace())-1], "obs n1 commit term=1 index=2 digest=bad")
	assert.Equal(t, v.Error(), w.Result().StopReason)
	assert.Equal(t, []Verdict{Pass, Fail}, []Verdict{m.Results()[0].Verdict, m.Results()[1].Verdict})
}
