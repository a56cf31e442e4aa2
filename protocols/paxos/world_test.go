package paxos

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// World tests: Paxos servers in a sim.World with the workload's KV clients,
// the agreement and one-leader-per-ballot invariants on every observation,
// Porcupine on the history, and a small seeded nemesis.

type cluster struct {
	t       testing.TB
	w       *sim.World
	servers []sim.NodeID
	nodes   []*node // the current instance of each server
	load    *workload.Workload
	mon     *checkers.Monitor
	down    map[sim.NodeID]bool
}

type clusterOpts struct {
	seed    uint64
	buggify float64
	servers int
	clients int
	think   time.Duration
	cfg     Config
	link    sim.Link
}

func defaultOpts(seed uint64) clusterOpts {
	return clusterOpts{seed: seed, servers: 5, clients: 4, think: 5 * time.Millisecond, cfg: DefaultConfig(),
		link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 5 * time.Millisecond}}
}

func newCluster(t testing.TB, o clusterOpts) *cluster {
	f, err := New(o.cfg, workload.NewKV)
	require.NoError(t, err)
	w, err := sim.NewWorld(sim.Config{Seed: o.seed, Link: o.link, Buggify: o.buggify})
	require.NoError(t, err)
	c := &cluster{t: t, w: w, nodes: make([]*node, o.servers), down: map[sim.NodeID]bool{}}
	for range o.servers {
		c.servers = append(c.servers, w.AddServer(func(id sim.NodeID) sim.Node {
			n := f(id).(*node)
			c.nodes[id] = n
			return n
		}))
	}
	if o.clients > 0 {
		c.load, err = workload.New(workload.Config{Clients: o.clients, Keys: 5,
			Mix:       workload.Mix{Get: 3, Put: 3, Append: 1, CAS: 1},
			ThinkTime: o.think, Timeout: time.Second, RetryInterval: 100 * time.Millisecond})
		require.NoError(t, err)
		c.load.Install(w)
	}
	c.mon = checkers.Attach(w, []checkers.Invariant{checkers.NewAgreement(), checkers.NewOneLeaderPerTerm()})
	return c
}

func at(d time.Duration) sim.Time { return sim.Time(d) }

// run runs to t and requires safety so far.
func (c *cluster) run(until time.Duration) {
	c.t.Helper()
	out := c.w.RunUntil(at(until))
	require.Nil(c.t, c.w.Result().Crash)
	require.Empty(c.t, c.mon.Violations())
	require.Equal(c.t, sim.Reached, out)
}

// acked counts operations answered by their time limit.
func (c *cluster) acked(after time.Duration) int {
	count := 0
	for _, op := range c.load.History().Operations() {
		if op.Status == workload.StatusOK && op.Return >= at(after) && op.Return != sim.Forever {
			count++
		}
	}
	return count
}

// nemesis schedules, from a seeded stream, crashes (at most a minority down
// at once, each restarted after a while) and partitions that isolate a
// random server or split the cluster, each healed after a while, between
// start and end; at end everything heals and restarts.
func (c *cluster) nemesis(start, end time.Duration) {
	rng := c.w.Stream("paxos-test-nemesis")
	minority := (len(c.servers) - 1) / 2
	for t := start; t < end; t += rng.DurationBetween(100*time.Millisecond, time.Second) {
		switch rng.IntN(3) {
		case 0:
			id := c.servers[rng.IntN(len(c.servers))]
			downFor := rng.DurationBetween(10*time.Millisecond, 2*time.Second)
			c.w.At(at(t), "crash "+id.String(), func() {
				if c.down[id] || len(c.down) >= minority {
					return
				}
				c.down[id] = true
				c.w.Crash(id)
				c.w.At(c.w.Now().Add(downFor), "restart "+id.String(), func() {
					delete(c.down, id)
					c.w.Restart(id)
				})
			})
		case 1:
			id := c.servers[rng.IntN(len(c.servers))]
			c.w.At(at(t), "isolate "+id.String(), func() {
				var rest []sim.NodeID
				for _, s := range c.servers {
					if s != id {
						rest = append(rest, s)
					}
				}
				c.w.Partition([]sim.NodeID{id}, rest)
			})
		default:
			c.w.At(at(t), "heal", c.w.HealAll)
		}
	}
	c.w.At(at(end), "heal and restart all", func() {
		c.w.HealAll()
		for _, id := range c.servers {
			delete(c.down, id)
			c.w.Restart(id)
		}
	})
}

func TestCalmClusterElectsOneLeaderAndServes(t *testing.T) {
	c := newCluster(t, defaultOpts(1))
	c.run(5 * time.Second)
	leaders := 0
	for _, n := range c.nodes {
		if n.role == roleLeader {
			leaders++
		}
	}
	assert.Equal(t, 1, leaders)
	assert.Greater(t, c.acked(0), 300)
	lin := checkers.CheckLinearizable(c.load.History(), 10*time.Second)
	assert.Equal(t, checkers.Pass, lin.Verdict, lin.Detail)
}

// duellingConfig has leader timeouts barely above the network's round trip:
// followers suspect live leaders, and proposers duel.
func duellingConfig() Config {
	cfg := DefaultConfig()
	cfg.LeaderTimeoutMin, cfg.LeaderTimeoutMax = 15*time.Millisecond, 30*time.Millisecond
	cfg.HeartbeatInterval = 5 * time.Millisecond
	cfg.BackoffLimit = 4
	return cfg
}

func TestSafetyAndProgressUnderFaults(t *testing.T) {
	configs := []struct {
		name string
		cfg  Config
	}{{"default", DefaultConfig()}, {"duelling", duellingConfig()}}
	for _, tc := range configs {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(tc.name+"/seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
				o := defaultOpts(seed)
				o.link.Drop, o.link.Duplicate = 0.01, 0.01
				o.cfg = tc.cfg
				o.cfg.SnapshotInterval = 16
				c := newCluster(t, o)
				c.nemesis(time.Second, 12*time.Second)
				c.run(12 * time.Second)
				c.run(15 * time.Second)
				assert.Greater(t, c.acked(12*time.Second+500*time.Millisecond), 20, "progress once the faults heal")
				lin := checkers.CheckLinearizable(c.load.History(), 10*time.Second)
				require.Equal(t, checkers.Pass, lin.Verdict, lin.Detail)
			})
		}
	}
}

// BUGGIFY: with the fault points on, runs stay safe and recover, and the
// fault points are reached.
func TestSafetyAndProgressWithBuggify(t *testing.T) {
	reached := map[string]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.buggify = 0.5
			o.link.Drop = 0.01
			o.cfg.SnapshotInterval = 16
			c := newCluster(t, o)
			c.nemesis(time.Second, 8*time.Second)
			c.run(8 * time.Second)
			c.run(12 * time.Second)
			assert.Greater(t, c.acked(8*time.Second+500*time.Millisecond), 20, "progress once the faults heal")
			lin := checkers.CheckLinearizable(c.load.History(), 10*time.Second)
			require.Equal(t, checkers.Pass, lin.Verdict, lin.Detail)
			for _, site := range c.w.BuggifySites() {
				reached[site] = true // "site=on" or "site=off"
			}
		})
	}
	for _, site := range []string{buggifySkipHeartbeat, buggifyMinLeaderTimeout, buggifyOneSlot, buggifySkipDecide, buggifyIgnoreRequest} {
		assert.True(t, reached[site+"=on"], "fault point %s never on", site)
	}
}

// corruptions schedules, from a seeded stream, bit flips in a random
// server's disk, each followed by a crash and a restart (while a majority
// stays up), so that the server finds the damage when it starts.
func (c *cluster) corruptions(start, end time.Duration) {
	rng := c.w.Stream("paxos-test-corruption")
	minority := (len(c.servers) - 1) / 2
	for t := start; t < end; t += rng.DurationBetween(200*time.Millisecond, time.Second) {
		id := c.servers[rng.IntN(len(c.servers))]
		flips := 1 + rng.IntN(2)
		downFor := rng.DurationBetween(10*time.Millisecond, 500*time.Millisecond)
		c.w.At(at(t), "corrupt and crash "+id.String(), func() {
			if c.down[id] || len(c.down) >= minority {
				return
			}
			for range flips {
				c.w.CorruptDisk(id)
			}
			c.down[id] = true
			c.w.Crash(id)
			c.w.At(c.w.Now().Add(downFor), "restart "+id.String(), func() {
				delete(c.down, id)
				c.w.Restart(id)
			})
		})
	}
}

// Disk corruption: servers that lost acceptor state rejoin through the
// others; nothing chosen is lost and the service goes on.
func TestSafetyUnderDiskCorruption(t *testing.T) {
	rejoins := 0
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.cfg.SnapshotInterval = 16
			c := newCluster(t, o)
			c.w.OnObservation(func(ob sim.Observation) {
				if ob.Kind == sim.ObsNote && ob.Text == "paxos: rejoined" {
					rejoins++
				}
			})
			c.corruptions(time.Second, 10*time.Second)
			c.run(10 * time.Second)
			c.w.At(at(10*time.Second), "restart all", func() {
				for _, id := range c.servers {
					c.w.Restart(id)
				}
			})
			c.run(14 * time.Second)
			assert.Greater(t, c.acked(11*time.Second), 20, "progress once the corruption stops")
			lin := checkers.CheckLinearizable(c.load.History(), 10*time.Second)
			require.Equal(t, checkers.Pass, lin.Verdict, lin.Detail)
		})
	}
	assert.Positive(t, rejoins, "some server lost state and rejoined")
}

// Same seed, same run: the trace hashes agree, under faults too.
func TestSameSeedSameHash(t *testing.T) {
	run := func(seed uint64) uint64 {
		o := defaultOpts(seed)
		o.link.Drop = 0.02
		o.cfg.SnapshotInterval = 16
		c := newCluster(t, o)
		c.nemesis(500*time.Millisecond, 5*time.Second)
		c.run(6 * time.Second)
		return c.w.Result().Hash
	}
	h := run(42)
	require.Equal(t, h, run(42))
	require.NotEqual(t, h, run(43))
}

// In a long run the log stays bounded: every server keeps at most a
// snapshot interval of slots (plus those in flight), in memory and on disk.
func TestLogStaysBoundedInLongRuns(t *testing.T) {
	o := defaultOpts(7)
	o.servers = 3
	o.cfg.SnapshotInterval = 32
	c := newCluster(t, o)
	c.run(30 * time.Second)
	for i, n := range c.nodes {
		id := sim.NodeID(i)
		assert.Greater(t, n.base(), uint64(1000), "server %v compacted", id)
		assert.LessOrEqual(t, len(n.log), 32+8, "server %v log", id)
		assert.LessOrEqual(t, len(c.w.Disk(id).Keys(slotKeyPrefix)), 32+8, "server %v disk", id)
	}
}

// Heartbeats cost no disk writes: an idle cluster with a stable leader
// writes nothing.
func TestHeartbeatsDoNotWriteTheDisk(t *testing.T) {
	o := defaultOpts(3)
	o.clients = 0
	c := newCluster(t, o)
	c.run(2 * time.Second)
	stats := func() (total [2]uint64) {
		for _, id := range c.servers {
			w, s := c.w.Disk(id).Stats()
			total[0], total[1] = total[0]+w, total[1]+s
		}
		return total
	}
	before := stats()
	c.run(10 * time.Second)
	assert.Equal(t, before, stats(), "writes and syncs during 8s of heartbeats")
}
