package paxos

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Reconfiguration (membership.go): scripted rules, then whole runs.

// membershipNet is a started cluster of five servers, n0 to n2 the initial
// configuration and n3, n4 spares, with n0 leading and a window of four
// slots.
func membershipNet(t *testing.T) *testNet { return membershipNetOf(t, 5) }

// membershipNetOf is membershipNet with servers servers, the ones past n2
// spares.
func membershipNetOf(t *testing.T, servers int) *testNet {
	cfg := testConfig()
	cfg.Members, cfg.Alpha = 3, 4
	return leaderWith(t, servers, cfg)
}

// change asks server id for a membership change and delivers everything.
func change(tn *testNet, id sim.NodeID, c sim.ChangeMembers) {
	tn.Within(id, func(n *node, env *prototest.Env) { n.Operate(env, c) })
	tn.Stabilize()
}

var (
	first    = sim.MembersOf(0, 1, 2)
	replaced = sim.MembersOf(0, 2, 3)
)

// A change is a command chosen in a slot; the configuration it names
// governs alpha slots later. The leader fills the old configuration's rest
// with no-ops, runs phase 1 again in a new ballot with the new one, and
// then sends proposals to the new members only: the removed server gets
// none, the added one accepts them.
func TestChangeIsChosenAndGovernsAlphaSlotsLater(t *testing.T) {
	tn := membershipNet(t)
	addMany(tn, 1, 2)
	ballot := tn.Node(0).ballot
	change(tn, 0, sim.ChangeMembers{Add: sim.MembersOf(3), Remove: sim.MembersOf(1)})

	n := tn.Node(0)
	require.Len(t, n.history, 2)
	at := n.history[1].Slot
	assert.Equal(t, replaced, n.history[1].Members)
	assert.Equal(t, first, n.confAt(at+3), "the old configuration governs the window after the change")
	assert.Equal(t, replaced, n.confAt(at+4))
	assert.GreaterOrEqual(t, n.commit, at+3, "the no-ops after the change are chosen at once")
	assert.Equal(t, roleLeader, n.role)
	assert.Greater(t, n.ballot, ballot, "phase 1 again, in a new ballot")
	assert.Equal(t, []sim.Members{replaced}, n.ballotConfs)

	add(tn, 0, 3)
	assert.Equal(t, "3", lastResult(tn))
	s := tn.Node(0).commit
	assert.Less(t, tn.Node(1).lastSlot(), s, "the removed server was sent no proposal")
	require.NotNil(t, tn.Node(3).rec(s), "the added server accepted")
	assert.Equal(t, tn.Node(0).ballot, tn.Node(3).rec(s).ballot)
	for _, o := range tn.Observed(2, sim.ObsConfig) {
		assert.Equal(t, uint64(replaced), o.Digest)
	}
	require.Len(t, tn.Observed(2, sim.ObsConfig), 2, "the change, then the end of the old configuration's window")
	assert.Equal(t, first, tn.Observed(2, sim.ObsConfig)[0].Outgoing)
	assert.Equal(t, sim.Members(0), tn.Observed(2, sim.ObsConfig)[1].Outgoing)
	tn.RequireSafe(t)
}

// One change at a time; a change of nothing, a non-member removed or a
// member added is refused, and so is a request to a follower.
func TestChangesRefused(t *testing.T) {
	tn := membershipNet(t)
	for _, c := range []struct {
		to  sim.NodeID
		req sim.ChangeMembers
	}{
		{1, sim.ChangeMembers{Add: sim.MembersOf(3)}},
		{0, sim.ChangeMembers{Add: sim.MembersOf(2)}},
		{0, sim.ChangeMembers{Remove: sim.MembersOf(4)}},
		{0, sim.ChangeMembers{Remove: first}},
		{0, sim.ChangeMembers{Add: sim.MembersOf(9)}},
	} {
		change(tn, c.to, c.req)
		assert.Len(t, tn.Node(0).history, 1, "%+v", c)
	}
	tn.Within(0, func(n *node, env *prototest.Env) {
		n.Operate(env, sim.ChangeMembers{Add: sim.MembersOf(3)})
		n.Operate(env, sim.ChangeMembers{Add: sim.MembersOf(4)})
	})
	tn.Stabilize()
	assert.Equal(t, sim.MembersOf(0, 1, 2, 3), tn.Node(0).newestConf(), "the second request came during the first change")
}

// A leader the change removes leads the old configuration's last slots,
// then steps down and hands over: a member of the new configuration leads
// without waiting for its failure detector. The removed server, a spare
// now, never campaigns, and redirects clients.
func TestRemovedLeaderStepsDownAndHandsOver(t *testing.T) {
	tn := membershipNet(t)
	addMany(tn, 1, 2)
	change(tn, 0, sim.ChangeMembers{Add: sim.MembersOf(3), Remove: sim.MembersOf(0)})
	assert.Equal(t, roleFollower, tn.Node(0).role)
	var leaders []sim.NodeID
	for id := range sim.NodeID(5) {
		if tn.Node(id).role == roleLeader {
			leaders = append(leaders, id)
		}
	}
	assert.Equal(t, []sim.NodeID{1}, leaders, "n1, the first member of both configurations, took over")

	tn.Fire(0, timerLeader)
	assert.Equal(t, roleFollower, tn.Node(0).role, "a removed server does not campaign")
	tn.Fire(4, timerLeader)
	assert.Equal(t, roleFollower, tn.Node(4).role, "nor does a spare")
	add(tn, 1, 3)
	assert.Equal(t, "3", lastResult(tn))
	tn.RequireSafe(t)
}

// Replacing every member at once: no member of the new configuration took
// part in choosing it. The removed leader hands over to one that must first
// learn, in chunks and past a snapshot, that it is a member; when the
// hand-over is lost, the new members' failure detectors ask the servers in
// turn for what they know chosen, and the first to learn it campaigns.
func TestReplacingEveryMemberAtOnce(t *testing.T) {
	old, spares := sim.MembersOf(0, 1, 2), sim.MembersOf(3, 4, 5)
	for _, lost := range []bool{false, true} {
		t.Run(map[bool]string{false: "hand-over", true: "hand-over lost"}[lost], func(t *testing.T) {
			tn := membershipNetOf(t, 6)
			change(tn, 0, sim.ChangeMembers{Add: spares, Remove: old})
			require.Equal(t, roleLeader, tn.Node(3).role, "n3, the lowest new member, took over")

			for id := range sim.NodeID(3) {
				crash(tn, id) // the old members miss what follows
			}
			for seq := range uint64(20) { // several snapshot intervals
				add(tn, 3, seq+1)
			}
			for id := range sim.NodeID(3) {
				tn.Start(id)
			}
			tn.Within(3, func(n *node, env *prototest.Env) {
				n.Operate(env, sim.ChangeMembers{Add: old, Remove: spares})
			})
			for tn.Step() {
				if lost {
					tn.DropQueued(func(e envelope) bool { _, ok := e.Msg.(MsgHandOver); return ok })
				}
			}
			require.Equal(t, roleFollower, tn.Node(3).role, "the removed leader stepped down")
			if lost {
				require.Less(t, tn.Node(0).commit, tn.Node(3).commit, "n0 does not know it is a member")
				// Each timeout, every old member asks the next server: n0
				// asks n1, n2 (who know no more), then n3, whose snapshot
				// and the slots past it it takes in one go; then it campaigns.
				rounds := 0
				for ; leading(tn) == sim.None && rounds < 10; rounds++ {
					for id := range sim.NodeID(6) {
						tn.Fire(id, timerLeader)
						tn.Stabilize()
					}
				}
				assert.LessOrEqual(t, rounds, 4, "timeouts until a new member led")
			}
			require.NotEqual(t, sim.None, leading(tn), "a member of the new configuration leads")
			assert.True(t, old.Has(leading(tn)))
			add(tn, leading(tn), 21)
			assert.Equal(t, "21", lastResult(tn))
			tn.RequireSafe(t)
		})
	}
}

// leading returns the server that leads, or sim.None.
func leading(tn *testNet) sim.NodeID {
	for _, id := range tn.Servers() {
		if n := tn.Node(id); n != nil && n.role == roleLeader {
			return id
		}
	}
	return sim.None
}

// Configurations survive a restart: in the log, and in the snapshot once
// the log is compacted past the change.
func TestRestartKeepsTheConfiguration(t *testing.T) {
	tn := membershipNet(t)
	change(tn, 0, sim.ChangeMembers{Add: sim.MembersOf(3), Remove: sim.MembersOf(1)})
	at := tn.Node(0).history[1].Slot
	crash(tn, 2)
	tn.Start(2)
	assert.Equal(t, replaced, tn.Node(2).newestConf(), "from the log")

	addMany(tn, 1, 20) // several snapshot intervals
	require.Greater(t, tn.Node(2).base(), at+4)
	crash(tn, 2)
	tn.Start(2)
	n := tn.Node(2)
	assert.Equal(t, replaced, n.newestConf(), "from the snapshot")
	assert.Equal(t, []ConfigChange{{Slot: at, Members: replaced}}, n.snap.Configs)
	assert.Equal(t, replaced, n.confAt(n.commit+1))
}

// The window: which configuration governs a slot, and which ones phase 1
// needs, before and after the change takes effect; with the planted bug
// the new one governs from the next slot, and phase 1 asks it alone.
func TestWindowConfigurations(t *testing.T) {
	n := &node{cfg: Config{Alpha: 4}, history: []ConfigChange{{Members: first}, {Slot: 10, Members: replaced}}}
	for _, c := range []struct {
		slot uint64
		want sim.Members
	}{{1, first}, {10, first}, {13, first}, {14, replaced}, {99, replaced}} {
		assert.Equal(t, c.want, n.confAt(c.slot), "slot %d", c.slot)
	}
	n.commit = 10
	assert.Equal(t, []sim.Members{first, replaced}, n.windowConfs())
	n.commit = 13
	assert.Equal(t, []sim.Members{replaced}, n.windowConfs())
	assert.Equal(t, []ConfigChange{{Slot: 10, Members: replaced}}, n.configsFor(13))
	assert.Equal(t, []ConfigChange{{Members: first}, {Slot: 10, Members: replaced}}, n.configsFor(12))

	n.bugs, n.commit = service.BugsOf(noAlphaWindow), 10
	assert.Equal(t, replaced, n.confAt(11))
	assert.Equal(t, []sim.Members{replaced}, n.windowConfs())
}

func TestConfigCommandsAndSnapshotsRoundTrip(t *testing.T) {
	m, ok := configOf(configCommand(replaced))
	require.True(t, ok)
	assert.Equal(t, replaced, m)
	assert.True(t, configCommand(replaced).IsNoop(), "a no-op to the state machine")
	_, ok = configOf(service.Noop)
	assert.False(t, ok)
	assert.Equal(t, " cmds=[config=[n0 n2 n3], noop]", string(appendCommands(nil, []service.Command{configCommand(replaced), service.Noop})))

	s := Snapshot{Index: 40, Digest: 0xfeed, Data: []byte("state"), Configs: []ConfigChange{{Slot: 30, Members: replaced}}}
	got, err := decodeSnapshot(encodeSnapshot(s))
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

// Whole runs: every member replaced in turn under load and crashes, then
// growth to five and back; all safe, converged, and every server that is
// up ends in the configuration of the last change.
func TestMembershipWholeRuns(t *testing.T) {
	insts := map[sim.NodeID]*node{}
	proto := prototest.Protocol("paxos", DefaultConfig(), func(cfg Config, c runner.Cluster) (runner.Servers, error) {
		cfg.Members = c.Scenario.InitialMembers()
		f, err := New(cfg, c.NewStateMachine)
		if err != nil {
			return runner.Servers{}, err
		}
		return runner.Servers{Factory: func(id sim.NodeID) sim.Node {
			n := f(id).(*node)
			insts[id] = n
			return n
		}}, nil
	})
	proto.ChangesMembers = true
	text := prototest.ScenarioText("paxos", 5, 9*time.Second, kit.Body+`members: 3
network: {latency: {min: 1ms, max: 5ms}}
protocol_options: {snapshot_interval: 16, alpha: 8}
faults:
  - {at: 1s, member: {add: [n3], remove: [n0]}}
  - {at: 2s, member: {add: [n4], remove: [leader]}}
  - {at: 3s, member: {add: [random], remove: [random]}}
  - {at: 4s, member: {add: [random]}}
  - {at: 5s, member: {add: [random]}}
  - {at: 6s, member: {remove: [random]}}
  - {at: 7s, member: {remove: [leader]}}
  - {from: 1500ms, to: 8s, every: 1300ms, crash: random, down: 500ms, max_down: 1}
`)
	for _, seed := range prototest.Seeds(4, 1) {
		clear(insts)
		rep := prototest.RunScenario(t, proto, text, seed, runner.Options{})
		prototest.RequirePass(t, rep)
		assert.Regexp(t, `member-changes=[5-7]\b`, rep.Faults, "seed %d: a step may find its spare down, or no leader known", seed)
		final := insts[0].newestConf()
		for id := range sim.NodeID(5) {
			assert.Equal(t, final, insts[id].newestConf(), "seed %d: %v", seed, id)
		}
		assert.Contains(t, []int{3, 4}, final.Len(), "seed %d: grown and back", seed)
	}
}

// syncWatch is a handler's env that notes, at every commit the server
// announces, how many of its disk writes are not synced yet.
type syncWatch struct {
	*prototest.Env
	unsynced []int
}

func (w *syncWatch) Observe(o sim.Observation) {
	if o.Kind == sim.ObsCommit {
		w.unsynced = append(w.unsynced, w.Disk().Unsynced())
	}
	w.Env.Observe(o)
}

// A change may leave one member, whose acceptor alone is a majority: the
// leader decides its proposals without any answer. Its acceptance counts
// once it is on disk, so nothing is unsynced when it announces a commit:
// a crash inside the step (after the announcement, before the sync) would
// lose the acceptance, and the next ballot could choose another value in
// the slot the server announced.
func TestOneMemberLeaderSyncsBeforeItDecides(t *testing.T) {
	tn := membershipNet(t)
	change(tn, 0, sim.ChangeMembers{Remove: sim.MembersOf(1, 2)})
	require.Equal(t, sim.MembersOf(0), tn.Node(0).confAt(tn.Node(0).commit+1))
	require.Equal(t, roleLeader, tn.Node(0).role)
	for seq := uint64(1); seq <= 3; seq++ {
		w := &syncWatch{}
		tn.Within(0, func(n *node, env *prototest.Env) {
			w.Env = env
			n.Receive(w, 10, prototest.Request(10, seq, "add a"))
		})
		assert.Equal(t, []int{0}, w.unsynced, "request %d: decided at once, after the sync", seq)
		tn.Stabilize()
		assert.Equal(t, strconv.FormatUint(seq, 10), lastResult(tn))
	}
	tn.RequireSafe(t)
}

// Whole runs of a one-server cluster (the one-member configuration a
// change may leave) whose server crashes inside its steps again and again:
// a crash between a decision and the sync of the acceptance behind it would
// have a restarted server choose another value in a slot it announced.
func TestOneMemberCrashesInsideSteps(t *testing.T) {
	kit.SweepPassing(t, kit.Scenario(1, 8*time.Second, `network: {latency: {min: 1ms, max: 5ms}}
protocol_options: {snapshot_interval: 16}
faults:
  - {from: 500ms, to: 7s, every: 200ms, crash: 0, mid_step: true, down: 50ms}
`), prototest.Seeds(8, 2), nil)
}

// An acknowledgement counts towards the configuration that governs its
// slot, not the newest one. Shrinking five servers to three leaves the
// five governing the window after the change: n1's acknowledgement of the
// first no-op there, which n0 reads knowing the change chosen, makes two
// of the three but not three of the five, and choosing on it would let a
// quorum of the five that holds neither choose otherwise.
func TestAcknowledgementsCountAgainstTheirSlotsConfiguration(t *testing.T) {
	cfg := testConfig()
	cfg.Alpha, cfg.MaxSlotsPerMessage = 4, 1 // one slot a message: the change's answers come first
	tn := leaderWith(t, 5, cfg)
	add(tn, 0, 1)
	tn.Drop = func(e envelope) bool {
		if e.To >= 3 || e.From >= 3 {
			return true
		}
		a, ok := e.Msg.(MsgAccept)
		if !ok || e.To != 2 {
			return false
		}
		_, isChange := configOf(a.Cmds[0])
		return !isChange // n2 accepts the change alone
	}
	change(tn, 0, sim.ChangeMembers{Remove: sim.MembersOf(3, 4)})

	n := tn.Node(0)
	require.Len(t, n.history, 2, "n0, n1 and n2 chose the change")
	at := n.history[1].Slot
	require.NotNil(t, n.rec(at+1), "the leader proposed the old configuration's rest")
	assert.Equal(t, sim.MembersOf(0, 1), sim.Members(n.rec(at+1).acks), "only n1 answered")
	assert.Equal(t, at, n.commit, "two of five choose nothing")
	assert.False(t, n.rec(at+1).chosen)
	tn.RequireSafe(t)
}
