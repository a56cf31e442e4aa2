package paxos

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Paxos's use of the shared test kit: a hand-driven net of paxos servers for
// the rules of Paxos Made Simple, and helpers to prepare disks.

type (
	testNet  = prototest.Net[*node]
	envelope = prototest.Envelope
)

// newTestNet builds n servers with cfg over the kit's KV; disks may be
// prepared before start. Fire moves the clock an hour on, past any timeout.
func newTestNet(t *testing.T, n int, cfg Config) *testNet {
	return newTestNetWith(t, n, cfg, prototest.NewKV)
}

// newTestNetWith is newTestNet with another state machine.
func newTestNetWith(t *testing.T, n int, cfg Config, sm service.NewStateMachine) *testNet {
	f, err := New(cfg, sm)
	require.NoError(t, err)
	tn := prototest.NewNet[*node](t, n, f)
	tn.Bind, tn.Finish = bind, (*node).finish
	tn.FireAdvance = time.Hour
	tn.TimerNames = map[sim.TimerKind]string{timerLeader: "leader", timerHeartbeat: "heartbeat"}
	return tn
}

// testConfig is DefaultConfig with small batches and snapshots, so tests
// reach chunking and compaction with few commands.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.MaxSlotsPerMessage = 4
	cfg.SnapshotInterval = 8
	return cfg
}

// writePromise and writeRecord prepare server id's disk, synced.
func writePromise(tn *testNet, id sim.NodeID, ballot uint64) {
	d := tn.Disk(id)
	d.Put(promiseKeyA, encodeUvarint(ballot))
	d.Put(promiseKeyB, encodeUvarint(ballot))
	d.Sync()
}

func writeRecord(tn *testNet, id sim.NodeID, slot, ballot uint64, chosen bool, cmd service.Command) {
	d := tn.Disk(id)
	d.Put(slotKey(slot, 1), encodeRecord(&record{ballot: ballot, chosen: chosen, cmd: cmd}))
	d.Sync()
}

// crash crashes server id after its lazy writes reached the disk. Between
// handlers a server has synced every write but the lazily written commit
// index and chosen flags, which the test checks; syncing them first keeps the
// scripted tests about what a restart recovers, not about what a crash may
// lose (tn.Crash alone loses them, as the whole runs do).
func crash(tn *testNet, id sim.NodeID) {
	if n := tn.Node(id); n != nil {
		require.Equal(tn.T(), n.lazyWrites, tn.Disk(id).Unsynced(), "a server has unsynced writes between handlers")
	}
	tn.Disk(id).Sync()
	tn.Crash(id)
}

// nodes returns the running instances, by server.
func nodes(tn *testNet) []*node {
	out := make([]*node, len(tn.Servers()))
	for i, id := range tn.Servers() {
		out[i] = tn.Node(id)
	}
	return out
}

// campaign makes id run phase 1 now, as if its failure detector fired.
func campaign(tn *testNet, id sim.NodeID) {
	tn.Do(id, func(n *node) { n.startPhase1() })
}

// leaderWith builds a started cluster of n servers whose server 0 leads.
func leaderWith(t *testing.T, n int, cfg Config) *testNet {
	tn := newTestNet(t, n, cfg)
	tn.StartAll()
	campaign(tn, 0)
	tn.Stabilize()
	require.Equal(t, roleLeader, tn.Node(0).role)
	return tn
}

// add has client 10 add to counter a through server to, as its request
// seq, and delivers everything.
func add(tn *testNet, to sim.NodeID, seq uint64) {
	tn.Request(10, to, seq, "add a")
	tn.Stabilize()
}

// addMany has client 10 add to counter a count times through server 0.
func addMany(tn *testNet, from uint64, count int) {
	for i := range uint64(count) {
		add(tn, 0, from+i)
	}
}

// lastResult returns the result of the last reply a client got.
func lastResult(tn *testNet) string {
	return string(tn.Replies[len(tn.Replies)-1].Result)
}

// only returns the single queued message, removing it.
func only(t *testing.T, tn *testNet) envelope {
	t.Helper()
	require.Len(t, tn.Queue, 1, "want exactly one message")
	return tn.Take(nil)[0]
}

// sessionsKV returns the KV state of a server's state machine.
func sessionsKV(t *testing.T, n *node) map[string]string {
	t.Helper()
	state, err := prototest.SessionsState(n.sessions)
	require.NoError(t, err)
	return state
}

// cmd builds a client command.
var cmd = prototest.Cmd

// TestScripts runs the interaction scripts of testdata/ (phase 1 and phase 2, competing proposers).
// Rewrite their expected output with: go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t *testing.T, n int) *testNet { return newTestNet(t, n, testConfig()) },
		Status: func(n *node) string {
			return fmt.Sprintf("%v ballot=%d promise=%d commit=%d applied=%d", n.role, n.ballot, n.promise, n.commit, n.applied)
		},
	}.Run(t, "testdata")
}

// bind hands a node the Env of a step that the test drives (Net.Do).
func bind(n *node, env *prototest.Env) { n.env = env }
