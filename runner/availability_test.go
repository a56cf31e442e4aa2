package runner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/sim"
)

// quiet is a server that does nothing.
type quiet struct{}

func (quiet) Start(sim.Env)                            {}
func (quiet) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (quiet) Timer(sim.Env, sim.TimerKind)             {}

// quietWorld is a started world of five quiet servers and 1ms links.
func quietWorld(t *testing.T) *sim.World {
	w, err := sim.NewWorld(sim.Config{Seed: 1, Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
	require.NoError(t, err)
	for range 5 {
		w.AddServer(func(sim.NodeID) sim.Node { return quiet{} })
	}
	w.RunUntil(0)
	return w
}

// The progress check watches one majority that stays healthy, server by
// server and incarnation by incarnation: a majority made of other servers at
// each sample (servers crashing and restarting in turn, a swarm's
// mid-step crashes) breaks the watch, and so does a link a fault degraded
// (a loss rate, a latency spike), as a cut or a clog does. A swarm sweep
// reported progress failures of healthy-looking majorities that were never
// the same servers, or talked through 40% loss.
func TestProgressWatchesOneSteadyMajority(t *testing.T) {
	w := quietWorld(t)
	a := &availability{r: &run{world: w, config: configView{everyone: true}}}
	ids := func(ns ...sim.NodeID) []sim.NodeID { return ns }

	require.False(t, a.steady(ids(0, 1, 2, 3, 4)), "a new watch")
	require.True(t, a.steady(ids(0, 1, 2, 3)))
	require.True(t, a.steady(ids(0, 1, 2, 4)), "n0, n1, n2 stayed")
	require.Equal(t, ids(0, 1, 2), a.core)
	require.False(t, a.steady(ids(0, 3, 4)), "only n0 stayed: another majority")
	require.Equal(t, ids(0, 3, 4), a.core)
	w.Crash(3)
	w.Restart(3)
	require.False(t, a.steady(ids(0, 3, 4)), "n3 restarted: not the server watched")
	require.False(t, a.steady(nil))
	require.Nil(t, a.core)

	require.False(t, a.broken(0, 1))
	require.NoError(t, w.SetLink(0, 1, sim.Link{LatencyMin: time.Second, LatencyMax: time.Second}))
	require.True(t, a.broken(0, 1), "a latency spike")
	require.False(t, a.broken(1, 0))
	w.Cut(1, 0)
	require.True(t, a.broken(1, 0))
}

// TestLeaderStruckOnlyJustAfterItsElection: the progress check's wait
// restarts once when the leader announced last (by a correct server) goes
// down or is paused less than a tenth of the bound after its latest
// announcement; not again while it stays down, not when it led that long,
// not for a Byzantine server's announcement.
func TestLeaderStruckOnlyJustAfterItsElection(t *testing.T) {
	w := quietWorld(t)
	at := func(d time.Duration) { w.RunUntil(sim.Time(0).Add(d)) }
	a := &availability{r: &run{world: w, config: configView{everyone: true}, byzantine: []ByzantineServer{{ID: 4}}},
		check: checkers.NewProgressCheck(time.Second), leader: sim.None} // a tenth of the bound: 100ms
	leader := func(id sim.NodeID) { a.announced(sim.Observation{Kind: sim.ObsLeader, Node: id}) }

	require.False(t, a.leaderStruck(), "no leader yet")
	leader(1)
	at(50 * time.Millisecond)
	require.False(t, a.leaderStruck(), "up and running")
	w.Pause(1)
	require.True(t, a.leaderStruck(), "paused 50ms after its election")
	require.False(t, a.leaderStruck(), "still paused: struck once, not at every sample")
	w.Resume(1)
	require.False(t, a.leaderStruck())

	at(300 * time.Millisecond)
	leader(1) // elected again
	at(350 * time.Millisecond)
	w.Crash(1)
	require.True(t, a.leaderStruck(), "crashed 50ms after its latest election")
	w.Restart(1)
	require.False(t, a.leaderStruck())

	leader(2)
	at(450 * time.Millisecond)
	w.Crash(2)
	require.False(t, a.leaderStruck(), "crashed a tenth of the bound after its election: it had its chance")

	at(500 * time.Millisecond)
	leader(3)
	leader(4) // Byzantine: not followed
	at(520 * time.Millisecond)
	w.Crash(4)
	require.False(t, a.leaderStruck(), "a Byzantine server's announcement")
	w.Crash(3)
	require.True(t, a.leaderStruck(), "the correct leader announced last")
}

// TestImpairedServersCountOnlyBesideTheLeader: a server that lost entries
// it may have acknowledged (sim.ObsImpaired) withholds its vote from
// candidates that lack them, so without a leader up among the servers it
// is no part of a majority that must make progress; beside the announced
// leader, which can repair it, it is; a restart or its repair
// (sim.ObsRepaired) ends the exclusion. A swarm sweep reported a Raft stall
// as a progress failure of correct code: of the three servers up, the one
// that had acknowledged the latest entries had lost them, and the leader
// that held them was down.
func TestImpairedServersCountOnlyBesideTheLeader(t *testing.T) {
	w := quietWorld(t)
	a := &availability{r: &run{world: w, config: configView{everyone: true}}, leader: sim.None}
	ids := func(ns ...sim.NodeID) []sim.NodeID { return ns }
	w.Crash(0)
	w.Crash(1)
	require.Equal(t, ids(2, 3, 4), a.healthyMajority())

	a.announced(sim.Observation{Kind: sim.ObsImpaired, Node: 3})
	require.Nil(t, a.healthyMajority(), "n3 impaired, no leader: n2 and n4 are no majority")
	a.announced(sim.Observation{Kind: sim.ObsLeader, Node: 0, Term: 2})
	require.Nil(t, a.healthyMajority(), "the leader announced is down")
	a.announced(sim.Observation{Kind: sim.ObsLeader, Node: 4, Term: 3})
	require.Equal(t, ids(2, 3, 4), a.healthyMajority(), "beside the leader, which can repair it")

	a.announced(sim.Observation{Kind: sim.ObsImpaired, Node: 4})
	require.Nil(t, a.healthyMajority(), "the leader is impaired itself: it does not campaign, nor repair")
	a.announced(sim.Observation{Kind: sim.ObsRepaired, Node: 4})
	w.Crash(4)
	w.Restart(4)
	require.Nil(t, a.healthyMajority(), "the leader restarted: a follower again")

	a.leader = sim.None
	a.announced(sim.Observation{Kind: sim.ObsRepaired, Node: 3})
	require.Equal(t, ids(2, 3, 4), a.healthyMajority(), "repaired")
	a.announced(sim.Observation{Kind: sim.ObsImpaired, Node: 3})
	w.Crash(3)
	w.Restart(3)
	require.Equal(t, ids(2, 3, 4), a.healthyMajority(), "a restart forgets it: the server says again what it finds")
}

// TestBeyondMinorityNamesTheLostServers: a crash-fault run whose corrupted
// disks and servers down for good make half its configuration or more says
// it went beyond what the protocol tolerates, naming them; a corrupted disk
// beside an intact majority is within it.
func TestBeyondMinorityNamesTheLostServers(t *testing.T) {
	w, err := sim.NewWorld(sim.Config{Seed: 1})
	require.NoError(t, err)
	for range 3 {
		w.AddServer(func(sim.NodeID) sim.Node { return quiet{} })
	}
	w.RunUntil(0)
	for id := range 3 {
		w.Disk(sim.NodeID(id)).Put("record", []byte("synced"))
		w.Disk(sim.NodeID(id)).Sync()
	}
	in, err := faults.Install(w, faults.Plan{Steps: []faults.Step{
		{At: faults.Duration(time.Millisecond), Corrupt: faults.Node(2)},
		{At: faults.Duration(2 * time.Millisecond), Crash: faults.Node(1)},
	}})
	require.NoError(t, err)
	r := &run{world: w, faults: in}
	w.RunUntil(sim.Time(time.Millisecond + time.Microsecond))
	require.Empty(t, r.beyondMinority(), "n2 damaged beside n0 and n1")
	w.RunUntil(sim.Time(3 * time.Millisecond))
	require.Equal(t, []string{"n2 with a corrupted disk, n1 down for good: 2 of the 3 servers of the configuration, no majority of intact servers left"},
		r.beyondMinority())
}
