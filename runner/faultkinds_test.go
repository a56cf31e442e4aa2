package runner_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// The fault catalogue reaches protocol code: for every fault kind, a Raft
// run with only that fault shows a consequence in the protocol's behaviour
// (a new leader elected, a slower commit, a record recovered from) that the
// same run without the fault never shows. A fault that the kernel applied
// but no protocol noticed would fail here.

const faultKindBase = `protocol: raft
nodes: 5
duration: 6s
drain: 2s
network: {latency: {min: 1ms, max: 3ms}}
workload: {clients: 3, keys: 4, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
checks: [linearizable, agreement, one-leader-per-term]
`

// observed is what a run showed, read from its report and trace.
type observed struct {
	rep   *runner.Report
	kinds map[string]int // trace lines per kind ("hold", "buggify", ...)
	holds map[string]int // hold lines per reason
	notes []string       // observation texts of notes, halts and losses
}

func runObserved(t *testing.T, yaml string, seed uint64) observed {
	t.Helper()
	sc, err := scenarios.Parse("kind.yaml", []byte(yaml))
	require.NoError(t, err, yaml)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	var buf bytes.Buffer
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed, Trace: &buf})
	require.NoError(t, err)
	require.Equal(t, runner.Pass, rep.Class, "the correct protocol keeps every check: %s", rep.Reason)
	o := observed{rep: rep, kinds: map[string]int{}, holds: map[string]int{}}
	sc2 := bufio.NewScanner(&buf)
	sc2.Buffer(make([]byte, 1<<20), 1<<24)
	for sc2.Scan() {
		var line struct {
			Kind   string `json:"kind"`
			Detail string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal(sc2.Bytes(), &line))
		o.kinds[line.Kind]++
		switch {
		case line.Kind == "hold":
			o.holds[strings.Fields(line.Detail)[0]]++
		case line.Kind == "obs" && hasAnyPrefix(line.Detail, "note", "halt", "impaired", "repaired"):
			o.notes = append(o.notes, line.Detail)
		}
	}
	return o
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// medianLatency is the median duration of the OK operations called in
// [from, to).
func medianLatency(h *workload.History, from, to time.Duration) time.Duration {
	var ds []time.Duration
	for _, op := range h.Operations() {
		if op.Status == workload.StatusOK && op.Call >= sim.Time(from) && op.Call < sim.Time(to) {
			ds = append(ds, op.Return.Sub(op.Call))
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func everyServer(step string) string {
	var b strings.Builder
	for n := range 5 {
		b.WriteString(strings.ReplaceAll(step, "N", string(rune('0'+n))))
	}
	return b.String()
}

func TestEveryFaultKindReachesTheProtocol(t *testing.T) {
	calm := runObserved(t, faultKindBase, 1)
	require.Equal(t, 1, calm.rep.LeaderChanges, "one leader for the whole calm run")
	require.Zero(t, calm.kinds["hold"]+calm.kinds["buggify"])
	require.Empty(t, calm.notes)
	calmLatency := medianLatency(calm.rep.History, 2*time.Second, 4*time.Second)

	newLeader := func(t *testing.T, o observed) {
		require.Greater(t, o.rep.LeaderChanges, 1, "the fault forced an election")
	}
	cases := []struct {
		kind   string
		faults string
		extra  string
		check  func(t *testing.T, o observed)
	}{
		{"crash", "  - {at: 2s, crash: leader, down: 1s}\n", "", newLeader},
		{"pause", "  - {at: 2s, pause: leader, down: 1s}\n", "", func(t *testing.T, o observed) {
			newLeader(t, o)
			require.Positive(t, o.holds["paused"], "messages to the paused leader were held")
		}},
		{"partition", "  - {at: 2s, partition: isolate-leader, for: 1s}\n", "", newLeader},
		{"leadership transfer", "  - {at: 2s, transfer: random}\n", "", newLeader},
		{"one-way cut", "  - {at: 2s, partition: {groups: [[0], [1, 2, 3, 4]]}, for: 1s}\n" +
			everyServer("  - {at: 2s, cut: {from: leader, to: N}, for: 1s}\n"), "", newLeader},
		{"clog", "  - {at: 2s, clog: leader, for: 1s}\n", "", func(t *testing.T, o observed) {
			newLeader(t, o)
			require.Positive(t, o.holds["clogged"])
			require.Zero(t, o.rep.Messages.Dropped, "clogged messages wait; none is lost")
		}},
		{"loss", "  - {at: 2s, link: {drop: 0.95}, for: 1s}\n", "", func(t *testing.T, o observed) {
			newLeader(t, o)
			require.Positive(t, o.rep.Messages.Dropped)
		}},
		// Longer than any election timeout (300-600ms): no heartbeat arrives
		// in time at the start of the spike, so a follower campaigns.
		{"latency spike", "  - {at: 2s, link: {latency: {min: 700ms, max: 800ms}}, for: 2s}\n", "", newLeader},
		{"duplication", "", "", func(t *testing.T, o observed) {
			require.Positive(t, o.rep.Messages.Duplicated)
			require.Greater(t, o.rep.Messages.Delivered, o.rep.Messages.Sent, "duplicates were delivered")
		}},
		// Clocks 20 times fast: the leader's heartbeat timer fires 20 times
		// as often for that second (client traffic keeps followers quiet).
		{"clock drift", everyServer("  - {at: 2s, clock: {node: N, rate: 20}, for: 1s}\n"), "", func(t *testing.T, o observed) {
			require.Greater(t, o.kinds["timer"], calm.kinds["timer"]+200, "timers fired early (calm: %d)", calm.kinds["timer"])
		}},
		{"clock skew", everyServer("  - {at: 2s, clock: {node: N, skew: 10s}}\n"), "", newLeader},
		{"slow disk", everyServer("  - {at: 2s, disk: {node: N, sync_latency: {min: 40ms, max: 40ms}}, for: 2s}\n"), "",
			func(t *testing.T, o observed) {
				slow := medianLatency(o.rep.History, 2*time.Second, 4*time.Second)
				require.Greater(t, slow, calmLatency+40*time.Millisecond, "commits wait for slow syncs (calm: %v)", calmLatency)
			}},
		{"corruption", everyServer("  - {at: 2s, corrupt: N}\n") + "  - {at: 3s, crash: 0, down: 100ms}\n  - {at: 3s, crash: 1, down: 100ms}\n",
			"", func(t *testing.T, o observed) {
				require.NotEmpty(t, o.notes, "a restarted server found a corrupt record and said so")
			}},
		{"buggify", "", "buggify: 1\n", func(t *testing.T, o observed) {
			require.Positive(t, o.kinds["buggify"], "raft asked its fault points and some fired")
		}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			yaml := faultKindBase + c.extra
			if c.kind == "duplication" {
				yaml = strings.Replace(yaml, "3ms}}", "3ms}, duplicate: 0.3}", 1)
			}
			if c.faults != "" {
				yaml += "faults:\n" + c.faults
			}
			c.check(t, runObserved(t, yaml, 1))
		})
	}
}

// TestTornWritesReachTheChecksums: torn writes matter only to a protocol
// that leaves unsynced data at a crash (here the ack-before-sync bug); with
// them, a crash leaves a torn entry that Raft's loader finds cut inside its
// frame, drops and reports, which a plain crash (all unsynced writes lost)
// never does.
func TestTornWritesReachTheChecksums(t *testing.T) {
	const scenario = `protocol: raft
nodes: 5
duration: 6s
network: {latency: {min: 1ms, max: 3ms}}
workload: {clients: 3, keys: 4, think_time: 5ms, timeout: 1s, retry_interval: 100ms}
checks: [one-leader-per-term]
protocol_options: {bugs: [ack-before-sync]}
faults:
  - {from: 1s, to: 6s, every: 300ms, crash: random, down: 100ms, max_down: 1}
`
	torn := everyServer("  - {at: 500ms, disk: {node: N, torn_writes: true}}\n")
	found := false
	for seed := uint64(1); seed <= 10 && !found; seed++ {
		with := runObserved(t, scenario+torn, seed)
		without := runObserved(t, scenario, seed)
		require.Empty(t, without.notes, "seed %d: without torn writes nothing is ever torn", seed)
		found = len(with.notes) > 0
	}
	require.True(t, found, "no torn record reached Raft's checksums in 10 seeds")
}

// TestReorderingDisksLoseNothing: on disks that reorder unsynced writes, a
// crash inside a step keeps any subset of its writes; each protocol orders
// with a sync what must reach the disk first (a snapshot before the
// deletes it stands for, records before the commit index that covers
// them), and its loader accepts whatever subset it finds; so does its
// start-up's repair, which the recovery-crash scenarios cut. Each seed
// count reaches the first seed that failed before those syncs and loader
// rules (raft 2, paxos 30 and 285; without the sync of a repaired copy,
// raft 6; without the loss on record before a slot's versions go, paxos
// 84; without the sync between a snapshot's copies and the hard state that
// records it, raft 33, which the durability check saw as a loss on a disk
// no fault corrupted).
func TestReorderingDisksLoseNothing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file  string
		seeds uint64
	}{
		{"raft-reordered-mid-step.yaml", 100},
		{"paxos-reordered-mid-step.yaml", 300},
		{"pbft-reordered-mid-step.yaml", 30},
		{"raft-recovery-crashes.yaml", 30},
		{"paxos-recovery-crashes.yaml", 100},
	} {
		t.Run(tt.file, func(t *testing.T) {
			if testing.Short() {
				tt.seeds = min(tt.seeds, 20)
			}
			sc, proto := load(t, tt.file, 0)
			for seed := uint64(1); seed <= tt.seeds; seed++ {
				rep := runSeed(t, sc, proto, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
			}
		})
	}
}

// TestSwarmKeepsStorageFaultsOffServersCrashedForGood: a server the
// timeline crashes for good is faulty by design, as a Byzantine one is, and
// uses up the fault budget of a swarm's storage faults. raft-torn-tail
// crashes n1 for good; under --swarm all, seed 7400255 once corrupted n2's
// log too, which held the only copy of entries n0 had torn away, and no
// leader could be elected again (a progress failure of the correct
// protocol). Now the swarm leaves corruption off, says why, and the seed
// passes.
func TestSwarmKeepsStorageFaultsOffServersCrashedForGood(t *testing.T) {
	rep := runShipped(t, "raft-torn-tail.yaml", 7400255, "all")
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Contains(t, rep.Swarm, "corrupt: off (no fault budget left: 1 of the 1 faulty servers the protocol tolerates are faulty by design)")
	require.NotContains(t, rep.Faults, "corruptions=")
}

// TestSwarmKeepsStorageFaultsOffServersCorruptedByDesign: a server whose
// disk the timeline corrupts is faulty by design too. pbft-corrupt-restarts
// corrupts n3 over and over, all of PBFT's budget of one; under --swarm all,
// seed 10300006 also tore the writes of n2, and the two faulty replicas of
// four let n0 and n2 commit different requests at one sequence number. Now
// the swarm leaves both storage faults off n2, says why, and the seed
// passes.
func TestSwarmKeepsStorageFaultsOffServersCorruptedByDesign(t *testing.T) {
	rep := runShipped(t, "pbft-corrupt-restarts.yaml", 10300006, "all")
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Contains(t, rep.Swarm, "corrupt: off (no fault budget left: 1 of the 1 faulty servers the protocol tolerates are faulty by design)")
	require.Empty(t, rep.Beyond)
}

// TestSwarmCountsTornDisksAgainstAFaultBudget: for a protocol with a fault
// budget of its own, a server whose disk the timeline makes tear writes by
// number is faulty by design too (PBFT counts a replica that crashes on
// such a disk among its f): the swarm's storage faults stay off the others.
// A crash-fault protocol counts no torn disk as faulty: its swarm still
// corrupts.
func TestSwarmCountsTornDisksAgainstAFaultBudget(t *testing.T) {
	for _, tt := range []struct {
		protocol string
		off      bool
	}{{"pbft", true}, {"raft", false}} {
		sc, proto := parsed(t, "torn.yaml", "protocol: "+tt.protocol+`
nodes: 4
duration: 3s
checks: [agreement]
faults:
  - {at: 0s, disk: {node: 3, torn_writes: true}}
`)
		sc.Swarm = []string{"corrupt"}
		for seed := uint64(1); seed <= 8; seed++ {
			rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
			require.NoError(t, err)
			off := slices.ContainsFunc(rep.Swarm, func(line string) bool { return strings.HasPrefix(line, "corrupt: off (no fault budget left") })
			if len(rep.Swarm) > 0 {
				require.Equal(t, tt.off, off, "%s seed %d: %v", tt.protocol, seed, rep.Swarm)
			}
		}
	}
}

// TestBeyondAMinorityOfIntactServers: raft-lost-log-follower corrupts n2's
// disk and later crashes n1 for good, counting on n2 to recover what it
// lost first. Under --swarm all, seed 9100074 once paused the leader for
// most of that time, n2 could not recover, and no leader could be elected
// after n1's crash: a progress failure, which the report said went beyond
// what a crash-fault protocol tolerates (no majority of intact servers
// left; TestBeyondMinorityNamesTheLostServers has that line). The progress
// check now leaves an impaired server with no leader to repair it out of a
// majority, and the swarm's corruption off the rest of the budget: the
// seed passes. So does the scenario as written, n2 recovered, and neither
// says anything went beyond.
func TestBeyondAMinorityOfIntactServers(t *testing.T) {
	for _, seed := range []uint64{1, 9100074} {
		rep := runShipped(t, "raft-lost-log-follower.yaml", seed, "all")
		if seed == 1 {
			rep = runShipped(t, "raft-lost-log-follower.yaml", seed)
		}
		require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
		require.Empty(t, rep.Beyond)
	}
}

// TestQuietWindowWaitsForClocksSteppedBack: under --swarm all,
// raft-membership-grow seed 10500010 stepped the leader's clock back 2s
// just before the heal; the healed cluster converged, then the leader,
// its heartbeat timer held until its clock caught up, fell silent and was
// replaced, which the stable-leader check took for something deposing
// leaders. Its quiet window now starts once every clock has caught up.
func TestQuietWindowWaitsForClocksSteppedBack(t *testing.T) {
	rep := runShipped(t, "raft-membership-grow.yaml", 10500010, "all")
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
}

// TestCoreHealKeepsAnIntactMajority: a core heal takes a minority down for
// the liveness phase, damaged servers first, but never leaves a core whose
// intact servers are no majority: under --swarm all, paxos-crash-churn seed
// 9500158 corrupts n4, a change a leader took keeps n4 from going down, and
// taking n1 down instead left n4, which rejoins only through the others,
// and n0 alone, which never converged.
func TestCoreHealKeepsAnIntactMajority(t *testing.T) {
	rep := runShipped(t, "paxos-crash-churn.yaml", 9500158, "all")
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
}

// runShipped runs one seed of a shipped scenario, with the swarm kinds
// given (as --swarm does) or as written.
func runShipped(t *testing.T, file string, seed uint64, swarm ...string) *runner.Report {
	t.Helper()
	sc, err := scenarios.ParseFile("../scenarios/" + file)
	require.NoError(t, err)
	if len(swarm) > 0 {
		sc.Swarm = swarm
	}
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
	require.NoError(t, err)
	return rep
}

// TestPBFTSwarmStorageFaultsStayWithinF: a swarm keeps a Byzantine-fault
// tolerant protocol's storage faults within its budget f, counting first
// the servers the scenario damages. A timeline that damages a server it
// draws at run time (corrupt: leader) leaves no budget the swarm can know
// of: it draws no storage fault then. It counted only numbered targets, and
// damaged f more disks beside the leader's (3 faulty of 7 replicas).
func TestPBFTSwarmStorageFaultsStayWithinF(t *testing.T) {
	sc, proto := parsed(t, "pbft7-corrupt-swarm", `protocol: pbft
nodes: 7
duration: 5s
network:
  latency: {min: 1ms, max: 5ms}
workload: {clients: 4, keys: 8, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {at: 500ms, corrupt: leader}
swarm: [corrupt]
checks: [linearizable, agreement, one-leader-per-term, liveness]
`)
	for seed := uint64(1); seed <= 4; seed++ {
		rep := runSeed(t, sc, proto, seed)
		require.Empty(t, rep.Beyond, "seed %d: swarm %v", seed, rep.Swarm)
	}
}

// TestSwarmPinnedScenarioKeepsItsClass: the scenario a swarm seed exports
// replays the same run, and its verdict too. A membership change the swarm
// drew may rightly be cut short, so the swarm run is not vacuous for one
// that no server announced; the exported file writes the drawn steps out
// (marked drawn) and is judged alike: it read as vacuous on raft-swarm's
// and paxos-swarm's seeds 2 and 11.
func TestSwarmPinnedScenarioKeepsItsClass(t *testing.T) {
	for _, file := range []string{"raft-swarm.yaml", "paxos-swarm.yaml"} {
		sc, proto := load(t, file, 0)
		for _, seed := range []uint64{2, 11} {
			rep := runSeed(t, sc, proto, seed)
			text, err := runner.Pinned(sc, rep).Marshal()
			require.NoError(t, err)
			back, err := scenarios.Parse("pinned.yaml", text)
			require.NoError(t, err)
			again := runSeed(t, back, proto, seed)
			require.Equal(t, rep.Hash, again.Hash, "%s seed %d: the same run", file, seed)
			require.Equal(t, rep.Class, again.Class, "%s seed %d: %s", file, seed, again.Reason)
		}
	}
}
