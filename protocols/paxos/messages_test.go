package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func TestMessageTraces(t *testing.T) {
	c := cmd(5, 3, "put k1 v3")
	snap := Snapshot{Index: 40, Digest: 0xab, Data: []byte("x")}
	tests := []struct {
		msg  sim.Message
		want string
	}{
		{MsgPrepare{Ballot: 7, From: 12}, "MsgPrepare ballot=7 from=12"},
		{MsgPromise{Ballot: 7, Entries: []PromiseEntry{{Slot: 12, Ballot: 4, Cmd: c}, {Slot: 13, Decided: true, Cmd: service.Noop}}},
			`MsgPromise ballot=7 entries=[12:4:client=5 seq=3 op="put k1 v3", 13:chosen:noop]`},
		{MsgPromise{Ballot: 7, Snapshot: snap},
			"MsgPromise ballot=7 snapshot index=40 digest=ab bytes=1 data=af63f54c86021707 entries=[]"},
		{MsgNack{Ballot: 7, Promised: 9}, "MsgNack ballot=7 promised=9"},
		{MsgAccept{Ballot: 7, Slot: 12, Cmds: []service.Command{c, service.Noop}},
			`MsgAccept ballot=7 slot=12 cmds=[client=5 seq=3 op="put k1 v3", noop]`},
		{MsgAccepted{SlotRun{Ballot: 7, Slot: 12, Count: 2}}, "MsgAccepted ballot=7 slot=12 count=2"},
		{MsgDecide{SlotRun{Ballot: 7, Slot: 12, Count: 2}}, "MsgDecide ballot=7 slot=12 count=2"},
		{MsgHeartbeat{Ballot: 7, Commit: 11}, "MsgHeartbeat ballot=7 commit=11"},
		{MsgLearn{From: 3}, "MsgLearn from=3"},
		{MsgChosen{Slot: 3, Cmds: []service.Command{c}}, `MsgChosen slot=3 cmds=[client=5 seq=3 op="put k1 v3"]`},
		{MsgSnapshot{Snapshot: snap}, "MsgSnapshot index=40 digest=ab bytes=1 data=af63f54c86021707"},
	}
	for _, tt := range tests {
		t.Run(tt.want[:len("MsgXxxxxxx")], func(t *testing.T) {
			assert.Equal(t, tt.want, string(tt.msg.AppendTrace(nil)))
			assert.Equal(t, "prefix "+tt.want, string(tt.msg.AppendTrace([]byte("prefix "))), "appends")
		})
	}
}

// The binary forms of the messages that have one (sim.Digester) tell apart
// every two messages whose lines differ: each variant differs from the
// first of its kind in one field.
func TestMessageDigestsSeeEveryField(t *testing.T) {
	c := cmd(5, 3, "put k1 v3")
	cmds := [][]service.Command{{c}, {c, c}, {cmd(6, 3, "put k1 v3")}, {cmd(5, 4, "put k1 v3")},
		{cmd(5, 3, "put k1 v4")}, {service.Noop}, {configCommand(sim.MembersOf(0, 1, 2))},
		{configCommand(sim.MembersOf(0, 1, 3))}, nil}
	var msgs []sim.Message
	for _, cs := range cmds {
		msgs = append(msgs, MsgAccept{Ballot: 7, Slot: 12, Cmds: cs}, MsgChosen{Slot: 12, Cmds: cs})
	}
	msgs = append(msgs, MsgAccept{Ballot: 8, Slot: 12, Cmds: cmds[0]}, MsgAccept{Ballot: 7, Slot: 13, Cmds: cmds[0]},
		MsgChosen{Slot: 13, Cmds: cmds[0]})
	for _, counted := range []struct{ ballot, slot, count uint64 }{{7, 12, 2}, {8, 12, 2}, {7, 13, 2}, {7, 12, 3}} {
		msgs = append(msgs, MsgAccepted{SlotRun{counted.ballot, counted.slot, counted.count}},
			MsgDecide{SlotRun{counted.ballot, counted.slot, counted.count}})
	}
	require.NoError(t, digestcheck.Collision(msgs...))
}
