package checkers

import (
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

func TestStaleLeader(t *testing.T) {
	inv := NewStaleLeader()
	obs := func(kind sim.ObsKind, node sim.NodeID, term, inc uint64) *Violation {
		return inv.Observe(sim.Time(time.Second), 7, sim.Observation{Kind: kind, Node: node, Term: term, Index: inc})
	}
	require.Nil(t, obs(sim.ObsLead, 0, 2, 1), "a leader of its term")
	require.Nil(t, obs(sim.ObsTerm, 0, 3, 1), "seeing a higher term is no fault")
	require.Nil(t, obs(sim.ObsLead, 1, 2, 1), "another server saw nothing")
	require.Nil(t, obs(sim.ObsLead, 0, 3, 1), "leading the term it saw")
	v := obs(sim.ObsLead, 0, 2, 1)
	require.NotNil(t, v, "leading term 2 after seeing term 3")
	require.Contains(t, v.Error(), "stale-leader violated at event 7")
	require.Contains(t, v.Message, "n0 acted as leader of term 2 after it saw term 3")
	require.Nil(t, obs(sim.ObsLead, 0, 2, 2), "a restarted server knows only its disk")
	require.Nil(t, obs(sim.ObsNote, 0, 1, 2))
}

func TestProgressCheck(t *testing.T) {
	p := NewProgressCheck(0)
	require.Equal(t, DefaultProgressBound, p.Bound)
	at := func(d time.Duration) sim.Time { return sim.Time(d) }
	majority := []sim.NodeID{0, 1, 2}
	require.Nil(t, p.Tick(at(10*time.Second), 1), "never healthy: nothing to ask")
	p.Healthy(at(0), majority)
	p.Observe(at(time.Second), 2, sim.Observation{Kind: sim.ObsReturn, Node: 5, Text: `op=3 c0 seq=4 ok "x"`})
	p.Observe(at(2*time.Second), 3, sim.Observation{Kind: sim.ObsReturn, Node: 5, Text: `op=4 c0 seq=5 unknown timeout`})
	require.Nil(t, p.Tick(at(3900*time.Millisecond), 4), "2.9s since the last success")
	v := p.Tick(at(4100*time.Millisecond), 5)
	require.NotNil(t, v, "3.1s without a success while healthy")
	require.Contains(t, v.Message, "no client operation succeeded for 3.1s (since t=1s)")

	p = NewProgressCheck(time.Second)
	p.Healthy(at(0), majority)
	p.Healthy(at(500*time.Millisecond), nil)
	require.Nil(t, p.Tick(at(2*time.Second), 1), "not healthy now")
	p.Healthy(at(2*time.Second), majority)
	require.Nil(t, p.Tick(at(2900*time.Millisecond), 2), "healthy again for 0.9s only")
	require.NotNil(t, p.Tick(at(3100*time.Millisecond), 3))
	p.Stop()
	require.Nil(t, p.Tick(at(9*time.Second), 4), "the workload stopped")
}

func TestReturnedOK(t *testing.T) {
	require.True(t, returnedOK(`op=1 c2 seq=3 ok "v"`))
	require.False(t, returnedOK(`op=1 c2 seq=3 unknown timeout`))
	require.False(t, returnedOK(`op=1 c2 seq=3 failed "err"`))
	require.False(t, returnedOK(`garbage`))
	require.False(t, returnedOK(`op=1 c2 seq=3 okay`))
	require.True(t, returnedOK([]byte(`op=1 c2 seq=3 ok "v"`)), "a client's Bytes")
	require.False(t, returnedOK([]byte(`op=1 c2 seq=3 unknown timeout`)))
}

// TestProgressCoverWait: the bound covers a protocol's backoff and a second
// more, and never shrinks.
func TestProgressCoverWait(t *testing.T) {
	p := NewProgressCheck(0)
	p.CoverWait(600 * time.Millisecond)
	require.Equal(t, DefaultProgressBound, p.Bound, "a short backoff keeps the default")
	p.CoverWait(4800 * time.Millisecond)
	require.Equal(t, 5800*time.Millisecond, p.Bound)
	p.CoverWait(time.Second)
	require.Equal(t, 5800*time.Millisecond, p.Bound)
}

// A leader may lead cut off from a majority for the bound, on its own clock,
// and no longer; reaching a majority again, a new term or a restart starts
// the count afresh, time held by pauses and slow syncs is left out, and a
// clock stepped back holds the count.
func TestIsolatedLeader(t *testing.T) {
	c := NewIsolatedLeaderCheck()
	var r LeaderReach
	c.Watch(500*time.Millisecond, 0, func(sim.NodeID) LeaderReach { return r })
	ms := time.Millisecond
	lead := func(clock time.Duration, term, inc uint64) *Violation {
		r.Clock = sim.Time(clock)
		return c.Observe(r.Clock, uint64(clock/ms), sim.Observation{Kind: sim.ObsLead, Node: 0, Term: term, Index: inc})
	}
	require.Nil(t, lead(0, 1, 1), "a leader that reaches a majority")
	require.False(t, c.Judged())
	r.CutOff = true
	require.Nil(t, lead(100*ms, 1, 1), "cut off: the count starts")
	require.True(t, c.Judged())
	require.Nil(t, lead(600*ms, 1, 1), "500ms cut off: within the bound")
	r.CutOff = false
	require.Nil(t, lead(650*ms, 1, 1), "healed in time")
	r.CutOff = true
	require.Nil(t, lead(700*ms, 1, 1), "cut off again: a new count")
	require.Nil(t, lead(1300*ms, 2, 1), "a new term (elected by a majority): a new count")
	require.Nil(t, lead(1400*ms, 2, 2), "a new incarnation: a new count")
	r.Stalled = 300 * ms
	require.Nil(t, lead(1800*ms, 2, 2), "400ms, 300ms of them paused or held by slow syncs")
	require.Nil(t, lead(100*ms, 2, 2), "the clock stepped back 1.7s: its timers wait until it is past 1.8s again")
	require.Nil(t, lead(2200*ms, 2, 2), "500ms led, held time left out")
	v := lead(2201*ms, 2, 2)
	require.NotNil(t, v, "501ms cut off in one leadership, held time left out")
	require.Equal(t, NameIsolatedLeader, v.Checker)
	require.Equal(t, "n0 still leads term 2, cut off from a majority for 501ms on its clock (pauses and slow syncs left out, since event 1400), past the 500ms in which it should step down", v.Message)
	require.Nil(t, c.Observe(0, 1, sim.Observation{Kind: sim.ObsTerm, Node: 1, Term: 9}), "only leaders' acts are judged")
}

// Only the time a leader was held (paused, or blocked on slow syncs) since
// it was cut off is left out of how long it led cut off: a pause earlier in
// its life, while it was connected, buys it nothing.
func TestIsolatedLeaderStallBeforeCutOffDoesNotCount(t *testing.T) {
	_, r, lead := oneLeadership()
	ms := time.Millisecond
	r.Stalled = 300 * ms // held for 300ms earlier, while connected
	require.Nil(t, lead(0))
	r.CutOff = true
	require.Nil(t, lead(100*ms), "cut off: the count starts")
	require.Nil(t, lead(600*ms), "500ms: within the bound")
	require.NotNil(t, lead(601*ms), "501ms cut off, never held since: past the bound")
}

// A leader that reaches no majority now but did within the protocol's
// quorum window (LeaderReach.Alone without CutOff) is judged, not counted;
// once the window has run out (CutOff) the count starts from when it last
// reached a majority: the window before, or when it was last seen
// reaching one at an instant if that is later. Counting from the end of
// the window instead let a leader lead a whole window longer than its
// bound.
func TestIsolatedLeaderCountsFromWhenItLastReachedAMajority(t *testing.T) {
	c, r, lead := oneLeadership()
	ms := time.Millisecond
	r.Alone = true
	require.Nil(t, lead(0))
	require.True(t, c.Judged(), "a leader seen alone was judged")
	require.Nil(t, lead(900*ms), "reached a majority within the window: no count")
	r.CutOff = true
	require.Nil(t, lead(1000*ms), "the window ran out: it last reached a majority at 700ms")
	require.Nil(t, lead(1200*ms))
	v := lead(1201 * ms)
	require.NotNil(t, v, "501ms since it last reached a majority")
	require.Contains(t, v.Message, "cut off from a majority for 501ms")

	r.Alone, r.CutOff = false, false
	require.Nil(t, lead(1300*ms), "it reaches a majority again")
	r.Alone = true
	require.Nil(t, lead(2000*ms), "alone from 2000ms")
	r.CutOff = true
	require.Nil(t, lead(2100*ms), "cut off for the window: it reached a majority at 2000ms, later than 1800ms")
	require.Nil(t, lead(2500*ms))
	require.NotNil(t, lead(2501*ms))
}

// oneLeadership returns an isolated-leader check with a 500ms bound and a
// 300ms quorum window, the
// reach it reads, and lead, which has n0 act as the leader of term 1 in its
// first incarnation at a clock reading.
func oneLeadership() (*IsolatedLeaderCheck, *LeaderReach, func(clock time.Duration) *Violation) {
	c := NewIsolatedLeaderCheck()
	r := &LeaderReach{}
	c.Watch(500*time.Millisecond, 300*time.Millisecond, func(sim.NodeID) LeaderReach { return *r })
	lead := func(clock time.Duration) *Violation {
		r.Clock = sim.Time(clock)
		return c.Observe(r.Clock, uint64(clock/time.Millisecond), sim.Observation{Kind: sim.ObsLead, Node: 0, Term: 1, Index: 1})
	}
	return c, r, lead
}
