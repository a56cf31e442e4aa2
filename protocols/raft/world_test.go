package raft

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func TestElectsOneLeaderAndReplicates(t *testing.T) {
	c := newCluster(t, defaultOpts(1))
	require.Equal(t, sim.Reached, c.w.RunUntil(at(5*time.Second)))
	require.Empty(t, c.safety.violation)
	l := c.leader()
	require.NotNil(t, l)
	for _, id := range c.servers {
		n := c.raftNode(id)
		require.Equal(t, l.term, n.term, "server %v", id)
		require.Equal(t, l.id, n.lead, "server %v", id)
	}
	t.Logf("acked=%d maxCommit=%d elections=%d events=%d", c.acked(), c.safety.maxCommit, c.safety.elections, c.w.Events())
	require.Greater(t, c.acked(), 100)
}

// mixedFaults is the nemesis of the correctness tests: crashes (up to two of
// five servers at once, so a majority may be down too when they overlap) and
// partitions, including isolating the leader.
var mixedFaults = nemesis{
	start: time.Second, end: 20 * time.Second, gapMin: 100 * time.Millisecond, gapMax: time.Second,
	crash: true, crashMax: 2, downMin: 10 * time.Millisecond, downMax: 2 * time.Second,
	partition: true, isolateLeader: true, healMin: 100 * time.Millisecond, healMax: 2 * time.Second,
}

func TestSafetyAndProgressUnderFaults(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.link.Drop, o.link.Duplicate = 0.01, 0.01
			c := newCluster(t, o)
			mixedFaults.install(c)
			out := c.w.RunUntil(at(mixedFaults.end))
			require.Empty(t, c.safety.violation)
			require.Nil(t, c.w.Result().Crash)
			require.Equal(t, sim.Reached, out)
			before := c.acked()
			// Liveness: with every fault healed, client commands commit again.
			require.Equal(t, sim.Reached, c.w.RunUntil(at(mixedFaults.end+5*time.Second)))
			require.Empty(t, c.safety.violation)
			t.Logf("acked %d during faults, %d after; elections=%d maxCommit=%d events=%d",
				before, c.acked()-before, c.safety.elections, c.safety.maxCommit, c.w.Events())
			require.Greater(t, c.acked()-before, 20, "clients make progress once faults heal")
			c.requireDiskMatchesMemory(t)
		})
	}
}

// Heartbeats cost no disk writes: an idle cluster with a stable leader
// writes nothing.
func TestHeartbeatsDoNotWriteTheDisk(t *testing.T) {
	o := defaultOpts(3)
	o.clients = 0
	c := newCluster(t, o)
	c.w.RunUntil(at(2 * time.Second))
	require.Equal(t, 1, c.safety.elections)
	stats := func() (total [2]uint64) {
		for _, id := range c.servers {
			w, s := c.w.Disk(id).Stats()
			total[0], total[1] = total[0]+w, total[1]+s
		}
		return total
	}
	before := stats()
	c.w.RunUntil(at(10 * time.Second))
	require.Equal(t, 1, c.safety.elections)
	require.Equal(t, before, stats(), "writes and syncs during 8s of heartbeats")
}

// Crashing every server loses nothing that was acknowledged: each recovers
// its term, vote and log from disk, relearns the commit index, and rebuilds
// the state machine by re-applying the log, so a counter keeps counting.
func TestRecoveryAfterCrashingEveryServer(t *testing.T) {
	o := defaultOpts(5)
	o.servers, o.clients = 3, 1
	c := newCluster(t, o)
	type durable struct {
		term uint64
		vote sim.NodeID
		log  []Entry
	}
	saved := map[sim.NodeID]durable{}
	var savedCommit uint64
	c.w.At(at(3*time.Second), "crash all", func() {
		for _, id := range c.servers {
			n := c.raftNode(id)
			saved[id] = durable{n.term, n.vote, n.log}
			savedCommit = max(savedCommit, n.commit)
			c.w.Crash(id)
		}
	})
	c.w.At(at(3500*time.Millisecond), "restart all", func() {
		for _, id := range c.servers {
			c.w.Restart(id)
		}
	})
	c.w.At(at(3500*time.Millisecond+time.Microsecond), "inspect", func() {
		for _, id := range c.servers {
			n := c.raftNode(id)
			require.Equal(t, saved[id], durable{n.term, n.vote, n.log}, "server %v", id)
			require.Zero(t, n.commit)
		}
	})
	require.Equal(t, sim.Reached, c.w.RunUntil(at(8*time.Second)))
	require.Empty(t, c.safety.violation)

	acks := c.clients[0].acked
	require.NotEmpty(t, acks)
	counter := 0
	for _, a := range acks {
		if a.op == "add k0" {
			counter++
		}
		require.Equal(t, strconv.Itoa(counter), a.result, "seq %d (%s)", a.seq, a.op)
	}
	require.Greater(t, c.clients[0].lastAck, at(4*time.Second), "the client made progress after the restart")
	l := c.leader()
	require.NotNil(t, l)
	for _, id := range c.servers {
		n := c.raftNode(id)
		require.Equal(t, l.log[:n.applied+1], n.log[:n.applied+1])
		require.GreaterOrEqual(t, n.applied, savedCommit, "server %v re-applied what was committed before", id)
	}
}

// Same seed, same run: the trace hashes agree, under faults too.
func TestSameSeedSameHash(t *testing.T) {
	run := func(seed uint64) uint64 {
		o := defaultOpts(seed)
		o.link.Drop, o.link.Duplicate = 0.01, 0.01
		c := newCluster(t, o)
		mixedFaults.install(c)
		c.w.RunUntil(at(mixedFaults.end))
		return c.w.Result().Hash
	}
	h := run(42)
	require.Equal(t, h, run(42))
	require.NotEqual(t, h, run(43))
}

// everyFault is the kernel's whole fault menu at once: crashes (torn writes,
// slow syncs), partitions, pauses, clogged nodes, clock steps and drift.
var everyFault = nemesis{
	start: time.Second, end: 20 * time.Second, gapMin: 100 * time.Millisecond, gapMax: 800 * time.Millisecond,
	crash: true, crashMax: 2, crashLeader: true, downMin: 10 * time.Millisecond, downMax: time.Second,
	partition: true, isolateLeader: true, healMin: 50 * time.Millisecond, healMax: 1500 * time.Millisecond,
	pause: true, clog: true, clocks: true, slowDisks: true,
}

func TestSafetyAndProgressUnderEveryFault(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.link.Drop, o.link.Duplicate = 0.01, 0.01
			runSafeAndLive(t, newCluster(t, o), everyFault)
		})
	}
}

// runSafeAndLive runs c under nm and requires safety while the faults last,
// liveness once they heal, and disks that match memory at the end.
func runSafeAndLive(t *testing.T, c *cluster, nm nemesis) {
	t.Helper()
	nm.install(c)
	c.w.RunUntil(at(nm.end))
	require.Empty(t, c.safety.violation)
	require.Nil(t, c.w.Result().Crash)
	require.Empty(t, liveAfterHeal(c, nm.end))
	c.requireDiskMatchesMemory(t)
}

// With BUGGIFY on, the fault points fire and the protocol stays safe and live.
func TestSafetyAndProgressWithBuggify(t *testing.T) {
	fired := map[string]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.buggify = 0.7
			c := newCluster(t, o)
			runSafeAndLive(t, c, mixedFaults)
			for _, s := range c.w.BuggifySites() {
				if strings.HasSuffix(s, "=on") {
					fired[strings.TrimSuffix(s, "=on")] = true
				}
			}
		})
	}
	require.Len(t, fired, 4, "every fault point was on in some run: %v", fired)
}
