package faults

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func TestSwarmDrawsValidDeterministicMixes(t *testing.T) {
	mixes := map[string]bool{}
	kindsSeen := map[string]bool{}
	for seed := uint64(1); seed <= 200; seed++ {
		draw := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 20*time.Second, []string{SwarmAll})
		again := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 20*time.Second, []string{SwarmAll})
		require.Equal(t, draw, again, "seed %d: the seed alone decides the mix", seed)
		require.NoError(t, Plan{Steps: draw.Steps}.Validate(5), "seed %d", seed)
		for i, s := range draw.Steps {
			require.Less(t, time.Duration(s.At), 20*time.Second)
			if i > 0 {
				require.LessOrEqual(t, draw.Steps[i-1].At, s.At, "sorted by time")
			}
		}
		mixes[strings.Join(draw.Mix, ";")] = true
		for _, m := range draw.Mix {
			kindsSeen[strings.Fields(m)[0]] = true
		}
	}
	require.Greater(t, len(mixes), 150, "different seeds draw different mixes")
	require.Len(t, kindsSeen, len(SwarmKinds), "every kind gets drawn")
}

// A kind that needs two servers (a clog, a partition, a slow link) is off
// for a one-server cluster, and says so: it drew steps the scenario then
// refused, at a line of the file that had no faults.
func TestSwarmLeavesOutKindsThatDoNotFitTheCluster(t *testing.T) {
	off := 0
	for seed := uint64(1); seed <= 50; seed++ {
		draw := Swarm(sim.NewStreams(seed).Stream("swarm"), 1, 20*time.Second, []string{SwarmAll})
		require.NoError(t, Plan{Steps: draw.Steps}.Validate(1), "seed %d", seed)
		for _, m := range draw.Mix {
			if strings.Contains(m, ": off (does not fit a cluster of 1 server: ") {
				off++
			}
		}
	}
	require.Positive(t, off)
}

func TestSwarmKeepsToTheListedKinds(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		draw := Swarm(sim.NewStreams(seed).Stream("swarm"), 3, 10*time.Second, []string{"crash", "clog"})
		for _, s := range draw.Steps {
			require.True(t, !s.Crash.IsZero() || s.Clog != nil, "seed %d: %v", seed, s)
		}
	}
	require.NoError(t, ValidateSwarmKinds([]string{"all", "-corrupt", "-disk"}))
	for list, want := range map[string]string{
		"crash,meteor":     `[1]: unknown swarm kind "meteor"`,
		"crsh":             `unknown swarm kind "crsh" (did you mean crash?)`,
		"all,-corupt":      `unknown swarm kind "-corupt" (did you mean -corrupt?)`,
		"crash,clog,crash": `[2]: swarm kind "crash" is listed twice`,
		"all,crash":        `[1]: swarm kind "crash" is in all already: list all alone, or leave kinds out of it with -crash`,
		"crash,-disk":      `[1]: "-disk" leaves disk out of all: list all too`,
		"all,-disk,-disk":  `[2]: swarm kind "-disk" is listed twice`,
		"all,-disk,disk":   `[1]: "-disk" leaves out disk, which the list also names`,
		"-all":             `unknown swarm kind "-all"`,
	} {
		require.ErrorContains(t, ValidateSwarmKinds(strings.Split(list, ",")), want, list)
	}
}

// TestSwarmLeavesOutWhatAllIsToldTo: all with kinds left out draws none of
// them, and still draws the others.
func TestSwarmLeavesOutWhatAllIsToldTo(t *testing.T) {
	kinds := map[bool]int{}
	for seed := uint64(1); seed <= 50; seed++ {
		every := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 10*time.Second, []string{SwarmAll})
		some := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 10*time.Second, []string{SwarmAll, "-corrupt", "-pause"})
		for _, s := range some.Steps {
			require.True(t, s.Corrupt.IsZero() && s.Pause.IsZero(), "seed %d: %v", seed, s)
		}
		for _, s := range every.Steps {
			kinds[s.Corrupt.IsZero() && s.Pause.IsZero()]++
		}
		require.Equal(t, len(every.Mix) > 0, len(some.Mix) > 0, "seed %d", seed)
	}
	require.Positive(t, kinds[false], "all alone draws the kinds left out")
	require.Positive(t, kinds[true])
}

// TestSwarmRunsInAWorld installs drawn timelines and runs them.
func TestSwarmRunsInAWorld(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		w, err := sim.NewWorld(sim.Config{Seed: seed, Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
		require.NoError(t, err)
		for range 5 {
			w.AddServer(func(sim.NodeID) sim.Node { return idleNode{} })
		}
		draw := Swarm(w.Stream("swarm"), 5, 5*time.Second, []string{SwarmAll})
		_, err = Install(w, Plan{Steps: draw.Steps})
		require.NoError(t, err)
		require.Equal(t, sim.Reached, w.RunUntil(sim.Time(6*time.Second)))
	}
}

type idleNode struct{}

func (idleNode) Start(sim.Env)                            {}
func (idleNode) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (idleNode) Timer(sim.Env, sim.TimerKind)             {}

// TestSwarmCorruptsAMinorityOnly: over a run, corruption hits at most a
// minority of the servers.
// TestSwarmOverADayStaysBounded: a swarm over a day draws at most
// MaxSwarmFiringsPerKind steps of a kind, and says where it stopped.
func TestSwarmOverADayStaysBounded(t *testing.T) {
	drawn := 0
	for seed := range uint64(8) {
		draw := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 24*time.Hour, []string{"crash"})
		if len(draw.Steps) == 0 {
			continue // the kind is off for this seed
		}
		drawn++
		require.Len(t, draw.Steps, MaxSwarmFiringsPerKind)
		require.Contains(t, draw.Mix[0], "7000 firings, the most a kind draws; none after ")
	}
	require.Positive(t, drawn)
}

func TestSwarmCorruptsAMinorityOnly(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		draw := Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 20*time.Second, []string{"corrupt"})
		hit := map[int]bool{}
		for _, s := range draw.Steps {
			require.Equal(t, TargetNode, s.Corrupt.Kind)
			hit[s.Corrupt.Node] = true
		}
		require.LessOrEqual(t, len(hit), 2, "seed %d", seed)
	}
}

// TestSwarmStaysWithinTheFaultBudget: for a Byzantine-fault-tolerant cluster
// the Byzantine servers and the correct ones whose storage the swarm damages
// together never exceed what the protocol tolerates; with the budget spent
// on Byzantine servers, corruption is off and the mix says why.
func TestSwarmStaysWithinTheFaultBudget(t *testing.T) {
	spent := SwarmCluster{Servers: 4, Tolerates: 1, Faulty: []int{2}}
	seven := SwarmCluster{Servers: 7, Tolerates: 2, Faulty: []int{3}}
	offSeen, hitSeen := false, false
	for seed := uint64(1); seed <= 200; seed++ {
		draw := SwarmWithin(sim.NewStreams(seed).Stream("swarm"), spent, 20*time.Second, []string{"corrupt"})
		require.Empty(t, draw.Steps, "seed %d: f=1 is spent on the Byzantine server", seed)
		for _, m := range draw.Mix {
			offSeen = offSeen || strings.HasPrefix(m, "corrupt: off")
		}
		hit := map[int]bool{}
		for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), seven, 20*time.Second, []string{"corrupt"}).Steps {
			require.NotEqual(t, 3, s.Corrupt.Node, "seed %d: the Byzantine server is not a storage victim", seed)
			hit[s.Corrupt.Node] = true
		}
		require.LessOrEqual(t, len(hit), 1, "seed %d: f=2 with one Byzantine leaves one storage victim", seed)
		hitSeen = hitSeen || len(hit) == 1
	}
	require.True(t, offSeen && hitSeen)
}

// TestSwarmTornWritesShareTheStorageBudget: for a protocol with a fault
// budget, torn-write disks and corruption strike the same damaged servers
// (a torn overwrite destroys the synced value it replaces), and none when
// the budget is spent on Byzantine servers.
func TestSwarmTornWritesShareTheStorageBudget(t *testing.T) {
	spent := SwarmCluster{Servers: 4, Tolerates: 1, Faulty: []int{2}}
	seven := SwarmCluster{Servers: 7, Tolerates: 2, Faulty: []int{3}}
	sawTorn := false
	for seed := uint64(1); seed <= 200; seed++ {
		for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), spent, 20*time.Second, []string{"disk", "corrupt"}).Steps {
			require.False(t, s.Disk != nil && s.Disk.TornWrites, "seed %d: no budget, no torn writes", seed)
		}
		hit := map[int]bool{}
		for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), seven, 20*time.Second, []string{"disk", "corrupt"}).Steps {
			switch {
			case s.Disk != nil && s.Disk.TornWrites:
				hit[s.Disk.Node.Node], sawTorn = true, true
			case !s.Corrupt.IsZero():
				hit[s.Corrupt.Node] = true
			}
		}
		require.LessOrEqual(t, len(hit), 1, "seed %d: one damaged server at most (f=2, one Byzantine)", seed)
		require.False(t, hit[3], "seed %d: the Byzantine server is not a storage victim", seed)
	}
	require.True(t, sawTorn)
}

// TestSwarmDrawsEveryDiskFault: a swarm's disk faults are torn writes,
// reordered writes, both, and slow syncs, each on some seed; reordered
// writes alone spend no fault budget (nothing a crash keeps of them was
// ever seen by another server), so a protocol whose budget is spent still
// gets them.
func TestSwarmDrawsEveryDiskFault(t *testing.T) {
	seen := map[string]bool{}
	spent := SwarmCluster{Servers: 4, Tolerates: 1, Faulty: []int{2}}
	for seed := uint64(1); seed <= 100; seed++ {
		for _, cluster := range []SwarmCluster{{Servers: 5}, spent} {
			for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), cluster, 20*time.Second, []string{"disk"}).Steps {
				d := s.Disk
				kind := fmt.Sprintf("torn=%t reordered=%t slow=%t", d.TornWrites, d.ReorderedWrites, d.SyncLatency != nil)
				seen[kind] = true
				if cluster.Tolerates > 0 && d.ReorderedWrites && !d.TornWrites {
					seen["reordered within a spent budget"] = true
				}
			}
		}
	}
	require.Equal(t, map[string]bool{
		"torn=true reordered=false slow=false": true, "torn=false reordered=true slow=false": true,
		"torn=true reordered=true slow=false": true, "torn=false reordered=false slow=true": true,
		"reordered within a spent budget": true,
	}, seen)
}

// TestSwarmLossIsAWholePerMille: a lossy link's drop probability is drawn as
// an integer, so it is the same on every platform and prints exactly.
func TestSwarmLossIsAWholePerMille(t *testing.T) {
	seen := 0
	for seed := uint64(1); seed <= 100; seed++ {
		for _, s := range Swarm(sim.NewStreams(seed).Stream("swarm"), 5, 20*time.Second, []string{"lossy-link"}).Steps {
			p := *s.Link.Drop
			require.True(t, p >= 0.05 && p <= 0.5, "seed %d: drop %v", seed, p)
			require.Equal(t, p, float64(int(p*1000+0.5))/1000, "seed %d: drop %v", seed, p)
			seen++
		}
	}
	require.Positive(t, seen)
}

// TestSwarmMembershipKeepsAHealthyMajority: with spares, corruption strikes
// at most a minority of the initial configuration, and membership changes
// never shrink the configuration below a majority of healthy storage; a
// protocol that does not change its membership draws no changes.
func TestSwarmMembershipKeepsAHealthyMajority(t *testing.T) {
	cluster := SwarmCluster{Servers: 5, Members: 3, Reconfigurable: true}
	sawChange := false
	for seed := range uint64(200) {
		draw := SwarmWithin(sim.NewStreams(seed).Stream("swarm"), cluster, 20*time.Second, []string{"corrupt", "membership"})
		victims := map[int]bool{}
		for _, s := range draw.Steps {
			if s.Corrupt.Kind == TargetNode {
				victims[s.Corrupt.Node] = true
			}
			if s.Member != nil {
				sawChange = true
				require.GreaterOrEqual(t, s.Member.Min, 2*len(victims)+1, "seed %d: %s", seed, s)
				require.NoError(t, s.Validate(5))
			}
		}
		require.LessOrEqual(t, len(victims), 1, "seed %d: a minority of three members", seed)
	}
	require.True(t, sawChange)
	cluster.Reconfigurable = false
	for seed := range uint64(50) {
		for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), cluster, 20*time.Second, []string{"membership"}).Steps {
			require.Nil(t, s.Member, "seed %d", seed)
		}
	}
}

// TestSwarmKeepsClocksWithinTheProtocolsBound: for a protocol that bounds
// clock drift (a lease), the clock kind draws rates no two of which differ
// by the bound, and the skew kind draws no jumps; without a bound both
// range freely.
func TestSwarmKeepsClocksWithinTheProtocolsBound(t *testing.T) {
	rates := func(cluster SwarmCluster) (lo, hi float64, skews int) {
		lo, hi = math.Inf(1), math.Inf(-1)
		for seed := range uint64(200) {
			for _, s := range SwarmWithin(sim.NewStreams(seed).Stream("swarm"), cluster, 20*time.Second, []string{"clock", "skew"}).Steps {
				switch {
				case s.Clock != nil && s.Clock.Skew != 0:
					skews++
				case s.Clock != nil:
					lo, hi = min(lo, s.Clock.Rate), max(hi, s.Clock.Rate)
				}
			}
		}
		return lo, hi, skews
	}
	lo, hi, skews := rates(SwarmCluster{Servers: 5, ClockDrift: 1.25})
	require.Zero(t, skews)
	require.Less(t, hi/lo, 1.25, "two clocks differ by less than the bound")
	require.Greater(t, hi/lo, 1.2, "and by nearly as much")
	lo, hi, skews = rates(SwarmCluster{Servers: 5})
	require.Positive(t, skews)
	require.Equal(t, 4.0, hi/lo)
}

// TestSwarmKindsDrawWhatTheirNamesSay: each swarm kind's draw has the shape
// its name promises, on every cluster size it fits, and falls back to
// halves exactly where the shape does not fit: a mix that says
// "crash-mid-step" must tear handlers, and "ring" must be a ring on five
// servers. (A draw that quietly became a plain crash or plain halves
// passed every other test, and only moved the golden hashes.)
func TestSwarmKindsDrawWhatTheirNamesSay(t *testing.T) {
	halves := func(s Step) bool { return s.Partition != nil && s.Partition.Halves }
	shapes := map[string]func(s Step, servers int) bool{
		"crash":          func(s Step, _ int) bool { return !s.Crash.IsZero() && !s.MidStep && !s.RecoveryCrash },
		"crash-mid-step": func(s Step, _ int) bool { return !s.Crash.IsZero() && s.MidStep },
		"crash-recovery": func(s Step, _ int) bool { return !s.Crash.IsZero() && s.RecoveryCrash },
		"partition":      func(s Step, _ int) bool { return halves(s) },
		"bridge": func(s Step, servers int) bool {
			return servers < 3 && halves(s) || servers >= 3 && s.Partition != nil && s.Partition.Bridge
		},
		"ring": func(s Step, servers int) bool {
			return servers < 4 && halves(s) || servers >= 4 && s.Partition != nil && s.Partition.Ring != nil
		},
	}
	lasting := Range{Min: Duration(time.Second), Max: Duration(2 * time.Second)}
	for kind, shaped := range shapes {
		for servers := 2; servers <= 7; servers++ {
			for seed := uint64(1); seed <= 5; seed++ {
				s := swarmStep(sim.NewStreams(seed).Stream("swarm"), kind, servers, lasting)
				require.True(t, shaped(s, servers), "%s on %d servers, seed %d: %+v", kind, servers, seed, s)
			}
		}
	}
}

// TestSwarmTinyClustersKeepAMinority: the swarm promises never more than a
// minority down (crash, pause, rolling-restart, crash-mid-step,
// crash-recovery) and storage damage on at most a minority: a cluster of 1
// or 2 servers has none to spare, and those kinds are off. It used to
// allow one down (all of one, half of two) and corrupt the only disk of a
// one-server cluster.
func TestSwarmTinyClustersKeepAMinority(t *testing.T) {
	kinds := []string{"crash", "pause", "rolling-restart", "crash-mid-step", "crash-recovery", "corrupt"}
	for _, n := range []int{1, 2} {
		var overDown, damaged string
		for seed := uint64(1); seed <= 20; seed++ {
			d := Swarm(sim.NewStreams(seed).Stream("swarm"), n, 30*time.Second, kinds)
			for _, s := range d.Steps {
				if s.MaxDown > 0 && 2*s.MaxDown >= n && overDown == "" {
					overDown = s.Describe()
				}
				if s.Corrupt.Kind != TargetNone && damaged == "" {
					damaged = s.Describe()
				}
			}
		}
		require.Empty(t, overDown, "%d servers: a step lets half or more be down", n)
		require.Empty(t, damaged, "%d servers: a step damages storage of half or more", n)
	}
}

// TestMaxDownNeverExceeded: crashes (plain, mid-step, with recovery
// crashes), pauses and rolling restarts with max_down 2 of 5, firing every
// few milliseconds: at no moment are more than 2 servers crashed, paused or
// armed to crash mid-step.
func TestMaxDownNeverExceeded(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		tw := newTestWorld(t, seed, 5, map[int]uint64{1: 1, 3: 2})
		tw.install(t,
			Step{From: 1 * ms, To: 400 * ms, Every: 3 * ms, Crash: Random(), Down: 7 * ms, MaxDown: 2},
			Step{From: 2 * ms, To: 400 * ms, Every: 5 * ms, Crash: Random(), MidStep: true, Down: 4 * ms, MaxDown: 2},
			Step{From: 2 * ms, To: 400 * ms, Every: 11 * ms, Crash: Leader(), RecoveryCrash: true, Down: 6 * ms, MaxDown: 2},
			Step{From: 3 * ms, To: 400 * ms, Every: 4 * ms, Pause: Random(), Down: 9 * ms, MaxDown: 2},
			Step{From: 0, To: 400 * ms, Every: 60 * ms, Crash: Rolling(), Down: 5 * ms, MaxDown: 2},
		)
		worst, at := 0, sim.Time(0)
		var check func()
		check = func() {
			n := 0
			for _, id := range tw.Servers() {
				if !tw.Up(id) || tw.Paused(id) || tw.TearArmed(id) {
					n++
				}
			}
			if n > worst {
				worst, at = n, tw.Now()
			}
			if tw.Now() < sim.Time(400*ms) {
				tw.At(tw.Now().Add(20*time.Microsecond), "check", check)
			}
		}
		tw.At(0, "check", check)
		tw.run(t, 400*ms)
		require.LessOrEqual(t, worst, 2, "seed %d: %d servers down at %v", seed, worst, at)
	}
}
