package checkers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func TestProgressJudgesConvergence(t *testing.T) {
	servers := []sim.NodeID{0, 1, 2}
	obs := func(p *Progress, kind sim.ObsKind, node sim.NodeID, term, index uint64) {
		p.Observe(sim.Time(index), sim.Observation{Kind: kind, Node: node, Term: term, Index: index})
	}
	cases := []struct {
		name    string
		setup   func(p *Progress)
		waiting []int
		pass    bool
		detail  string
	}{
		{"all applied, no client waiting", func(p *Progress) {
			obs(p, sim.ObsLeader, 1, 2, 0)
			for _, n := range servers {
				obs(p, sim.ObsCommit, n, 2, 5)
				obs(p, sim.ObsApply, n, 2, 5)
			}
		}, nil, true, "leader n1 in term 2"},
		{"a node behind", func(p *Progress) {
			obs(p, sim.ObsCommit, 0, 2, 5)
			obs(p, sim.ObsApply, 0, 2, 5)
			obs(p, sim.ObsApply, 1, 2, 5)
			obs(p, sim.ObsApply, 2, 2, 3)
		}, nil, false, "behind: n2 at 3/5"},
		{"a restarted node re-applying from the start is behind", func(p *Progress) {
			obs(p, sim.ObsCommit, 0, 2, 5)
			for _, n := range servers {
				obs(p, sim.ObsApply, n, 2, 5)
			}
			obs(p, sim.ObsApply, 1, 2, 1)
		}, nil, false, "n1 at 1/5"},
		{"a client waiting", func(p *Progress) {}, []int{2}, false, "clients c2 still waiting"},
		{"never a leader", func(p *Progress) {}, []int{0}, false, "no leader ever"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewProgress()
			c.setup(p)
			rep := p.JudgeLiveness(servers, c.waiting, 100, "10s")
			if c.pass {
				require.Equal(t, Pass, rep.Verdict, rep.Detail)
			} else {
				require.Equal(t, Fail, rep.Verdict, rep.Detail)
				require.Equal(t, sim.Forever, rep.ConvergedAt)
			}
			require.Contains(t, rep.Detail, c.detail)
		})
	}
}

// TestHaltedNodesAreNotWaitedFor: a node whose storage is beyond repair says
// so (ObsHalt) and is faulty from then on; it is waited for again once it
// applies entries.
func TestHaltedNodesAreNotWaitedFor(t *testing.T) {
	p := NewProgress()
	p.Observe(1, sim.Observation{Kind: sim.ObsCommit, Node: 0, Index: 5})
	p.Observe(1, sim.Observation{Kind: sim.ObsApply, Node: 0, Index: 5})
	p.Observe(2, sim.Observation{Kind: sim.ObsHalt, Node: 1, Text: "disk beyond repair"})
	rep := p.JudgeLiveness([]sim.NodeID{0, 1}, nil, 10, "1s")
	require.Equal(t, Pass, rep.Verdict, rep.Detail)
	require.Contains(t, rep.Detail, "halted with storage beyond repair: [n1]")
	p.Observe(3, sim.Observation{Kind: sim.ObsApply, Node: 1, Index: 1})
	require.Equal(t, []string{"n1 at 1/5"}, p.Lagging([]sim.NodeID{0, 1}))
}

// TestStableLeaderExcusesTheSuccessorOfARemovedLeader: a leader that a
// committed configuration leaves out steps down (thesis §4.2.2), so the
// election after it is no sign of a deposed leader; a joint configuration
// keeps the leader in office, and any other new term counts.
func TestStableLeaderExcusesTheSuccessorOfARemovedLeader(t *testing.T) {
	leader := func(p *Progress, id sim.NodeID, term uint64) {
		p.Observe(sim.Time(term), sim.Observation{Kind: sim.ObsLeader, Node: id, Term: term})
	}
	config := func(p *Progress, index uint64, voters, outgoing sim.Members) {
		p.Observe(sim.Time(index), sim.Observation{Kind: sim.ObsConfig, Node: 1, Index: index,
			Digest: uint64(voters), Outgoing: outgoing})
	}
	p := NewProgress()
	leader(p, 0, 1)
	before := p.Elections()
	config(p, 10, sim.MembersOf(1, 2, 3), sim.MembersOf(0, 1, 2)) // joint: n0 still leads
	config(p, 11, sim.MembersOf(0, 1, 2), 0)                      // keeps n0
	leader(p, 1, 2)
	require.Equal(t, 1, p.Elections()-before, "a leader kept by every configuration was deposed")

	before = p.Elections()
	config(p, 20, sim.MembersOf(0, 2, 3), 0) // leaves n1, the leader, out
	config(p, 20, sim.MembersOf(0, 2, 3), 0) // another server learns the same configuration
	leader(p, 2, 3)
	require.Equal(t, 0, p.Elections()-before, "the successor of a removed leader counted as an election")
	leader(p, 3, 4)
	require.Equal(t, 1, p.Elections()-before, "only the first election after the removal is a succession")

	before = p.Elections()
	config(p, 19, sim.MembersOf(0, 2), 0) // older than the newest configuration seen
	leader(p, 0, 5)
	require.Equal(t, 1, p.Elections()-before, "an old configuration made a succession")
}

// TestStableLeaderExcusesOneAskedElection: an election a correct member
// asked for before the quiet window is excused, once, and the check says
// so; the next election counts, and fails the check.
func TestStableLeaderExcusesOneAskedElection(t *testing.T) {
	p := NewProgress()
	p.Observe(1, sim.Observation{Kind: sim.ObsLeader, Node: 0, Term: 1})
	p.ExcuseAskedElection(2, 2)
	before := p.Elections()
	p.Observe(2, sim.Observation{Kind: sim.ObsLeader, Node: 1, Term: 2})
	require.Equal(t, 0, p.Elections()-before)
	rep := p.JudgeStableLeader(p.Elections()-before, 2e9)
	require.Equal(t, Pass, rep.Verdict)
	require.Equal(t, "leader n1 of term 2 kept it for the rest of the 2s after converging; its election was excused: n2 had asked for term 2 before the window began", rep.Detail)

	p.Observe(3, sim.Observation{Kind: sim.ObsLeader, Node: 2, Term: 3})
	require.Equal(t, 1, p.Elections()-before, "a second election is no longer the one asked for")
	require.Equal(t, Fail, p.JudgeStableLeader(p.Elections()-before, 2e9).Verdict)
}

// A server one index behind the commit index has not converged.
func TestProgressOneIndexBehindIsLagging(t *testing.T) {
	p := NewProgress()
	p.Observe(1, sim.Observation{Kind: sim.ObsCommit, Node: 0, Term: 1, Index: 5})
	p.Observe(2, sim.Observation{Kind: sim.ObsApply, Node: 0, Term: 1, Index: 5})
	p.Observe(3, sim.Observation{Kind: sim.ObsApply, Node: 1, Term: 1, Index: 5})
	p.Observe(4, sim.Observation{Kind: sim.ObsApply, Node: 2, Term: 1, Index: 4})
	servers := []sim.NodeID{0, 1, 2}
	require.Equal(t, []string{"n2 at 4/5"}, p.Lagging(servers))
	rep := p.JudgeLiveness(servers, nil, 100, "10s")
	require.Equal(t, Fail, rep.Verdict, rep.Detail)
}

// TestProgressCommittedIsTheHighestSeen: the index every server must reach
// is the highest any server announced committed, whatever order the
// announcements came in: a late commit of a lower index (a server catching
// up) does not lower it.
func TestProgressCommittedIsTheHighestSeen(t *testing.T) {
	p := NewProgress()
	p.Observe(1, sim.Observation{Kind: sim.ObsCommit, Node: 0, Term: 1, Index: 5})
	p.Observe(2, sim.Observation{Kind: sim.ObsCommit, Node: 1, Term: 1, Index: 3})
	p.Observe(3, sim.Observation{Kind: sim.ObsApply, Node: 1, Term: 1, Index: 3})
	require.Equal(t, []string{"n1 at 3/5"}, p.Lagging([]sim.NodeID{1}))
}

// TestStableLeaderExcusesNothingUnasked: no election is excused unless a
// correct member asked for one: a fresh tracker's first leader counts as
// an election, one new leader in a quiet window that nobody excused fails
// stable-leader, and a window without one passes and says nothing of an
// excuse.
func TestStableLeaderExcusesNothingUnasked(t *testing.T) {
	p := NewProgress()
	before := p.Elections()
	p.Observe(1, sim.Observation{Kind: sim.ObsLeader, Node: 0, Term: 1})
	require.Equal(t, 1, p.Elections()-before)
	rep := p.JudgeStableLeader(p.Elections()-before, 2e9)
	require.Equal(t, Fail, rep.Verdict, rep.Detail)
	quiet := p.JudgeStableLeader(0, 2e9)
	require.Equal(t, Pass, quiet.Verdict)
	require.NotContains(t, quiet.Detail, "excused")
}

// TestARestartedServerMustApplyAgain: what a server applied died with its
// instance; restarted, it has converged only once the new instance applied
// (or announced a restored snapshot), even when nothing new committed.
func TestARestartedServerMustApplyAgain(t *testing.T) {
	p := NewProgress()
	incarnations := map[sim.NodeID]uint64{0: 1, 1: 1, 2: 1}
	p.incarnation = func(id sim.NodeID) uint64 { return incarnations[id] }
	for n := sim.NodeID(0); n < 3; n++ {
		for i := uint64(1); i <= 5; i++ {
			p.Observe(0, sim.Observation{Kind: sim.ObsApply, Node: n, Index: i, Incarnation: 1})
		}
	}
	p.Observe(0, sim.Observation{Kind: sim.ObsCommit, Node: 0, Index: 5})
	servers := []sim.NodeID{0, 1, 2}
	require.Empty(t, p.Lagging(servers))

	incarnations[2] = 3 // crashed and restarted
	require.Equal(t, []string{"n2 at 0/5 (restarted since it applied 5)"}, p.Lagging(servers))
	p.Observe(0, sim.Observation{Kind: sim.ObsApply, Node: 2, Index: 5, Incarnation: 3}) // a snapshot restored at start
	require.Empty(t, p.Lagging(servers))
}
