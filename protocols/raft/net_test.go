package raft

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Raft's use of the shared test kit: a hand-driven net of raft nodes for the
// paper's figures, and helpers to prepare disks and read logs.

type (
	testNet  = prototest.Net[*node]
	envelope = prototest.Envelope
)

// newTestNet builds n servers with cfg; disks may be prepared with
// writeState before they start. Fire moves the clock an hour on, past any
// election deadline.
func newTestNet(t *testing.T, n int, cfg Config) *testNet {
	tn := newNetWith(t, n, cfg, prototest.NewKV)
	tn.FireAdvance = time.Hour
	return tn
}

// newNetWith builds n servers with cfg over sm whose clock moves only when
// the test moves it.
func newNetWith(t *testing.T, n int, cfg Config, sm service.NewStateMachine) *testNet {
	f, err := New(cfg, sm)
	require.NoError(t, err)
	tn := prototest.NewNet[*node](t, n, f)
	tn.Bind, tn.Finish = bind, (*node).finish
	tn.TimerNames = map[sim.TimerKind]string{timerElection: "election", timerHeartbeat: "heartbeat"}
	return tn
}

// writeState puts a hard state and a log (given as entries) on server id's
// disk, synced.
func writeState(tn *testNet, id sim.NodeID, term uint64, vote sim.NodeID, log []Entry) {
	d := tn.Disk(id)
	for _, k := range hardStateKeys {
		d.Put(k, encodeHardState(hardState{term: term, vote: vote}))
	}
	putLog(d, append([]Entry{{}}, log...))
	d.Sync()
}

// entries builds a log from terms, each entry a distinct command.
func entries(terms ...uint64) []Entry {
	log := make([]Entry, len(terms))
	for i, t := range terms {
		log[i] = Entry{Term: t, Cmd: prototest.Cmd(99, uint64(i+1), "set t"+strconv.FormatUint(t, 10)+" x")}
	}
	return log
}

// terms lists the terms of a log's entries, without the sentinel.
func terms(log []Entry) []uint64 {
	out := make([]uint64, len(log)-1)
	for i := range out {
		out[i] = log[i+1].Term
	}
	return out
}

// forceLeader makes id a candidate and then leader at once, as if it had won
// the votes, dropping its vote requests: for scripting the paper's figures.
func forceLeader(tn *testNet, id sim.NodeID) {
	tn.Do(id, func(n *node) {
		n.becomeCandidate(false)
		if n.role != roleLeader {
			n.becomeLeader()
		}
	})
	tn.Take(func(e envelope) bool {
		_, ok := e.Msg.(MsgVote)
		return ok && e.From == id
	})
}

// newLeaderNet returns three started servers led by server 0 (term 1, its
// no-op replicated).
func newLeaderNet(t *testing.T) *testNet { return newLeaderNetWith(t, DefaultConfig()) }

// newLeaderNetWith is newLeaderNet with cfg.
func newLeaderNetWith(t *testing.T, cfg Config) *testNet {
	tn := newTestNet(t, 3, cfg)
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	return tn
}

// heartbeats runs two heartbeat rounds of leader id, delivering each: the
// first may be skipped for followers that just received entries.
func heartbeats(tn *testNet, id sim.NodeID) {
	for range 2 {
		tn.Fire(id, timerHeartbeat)
		tn.Stabilize()
	}
}

// takeLast returns the last message from sent to, and empties the queue.
func takeLast(tn *testNet, from, to sim.NodeID) sim.Message {
	var m sim.Message
	for _, e := range tn.Take(nil) {
		if e.From == from && e.To == to {
			m = byValue(e.Msg)
		}
	}
	return m
}

// byValue undoes byPointer, so that tests compare what servers send with
// message values.
func byValue(m sim.Message) sim.Message {
	switch p := m.(type) {
	case *MsgApp:
		return *p
	case *MsgAppResp:
		return *p
	}
	return m
}

// receive hands m from from to server to at once.
func receive(tn *testNet, from, to sim.NodeID, m sim.Message) {
	tn.DeliverOne(envelope{From: from, To: to, Msg: m})
}

// TestScripts runs the interaction scripts of testdata/ (election, replication, a follower catching up, a crashed follower recovering from its disk).
// Rewrite their expected output with: go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t *testing.T, n int) *testNet { return newTestNet(t, n, DefaultConfig()) },
		Status: func(n *node) string {
			return fmt.Sprintf("%v term=%d vote=%v lead=%v commit=%d applied=%d log=%v",
				n.role, n.term, n.vote, n.lead, n.commit, n.applied, terms(n.log.all()))
		},
	}.Run(t, "testdata")
}

// bind hands a node the Env of a step that the test drives (Net.Do).
func bind(n *node, env *prototest.Env) { n.env = env }
