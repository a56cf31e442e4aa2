package faults

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// operable is a pinger that takes operator requests and records them.
type operable struct {
	pinger
	got *[]string
}

func (o *operable) Operate(env sim.Env, req sim.Message) {
	*o.got = append(*o.got, env.ID().String()+" "+string(req.AppendTrace(nil)))
}

// TestTransferAsksTheLeader: a transfer step reaches the leader's Operate
// with the target (a random one drawn among the others, and pinned as that
// node), is skipped when the target leads already or when the servers take
// no operator requests, and is refused by the step's validation for
// targets other than a node or random.
func TestTransferAsksTheLeader(t *testing.T) {
	var got []string
	w, err := sim.NewWorld(sim.Config{Seed: 3})
	require.NoError(t, err)
	for range 3 {
		w.AddServer(func(id sim.NodeID) sim.Node {
			o := &operable{got: &got}
			if id == 1 {
				o.term = 1
			}
			return o
		})
	}
	in, err := Install(w, Plan{Steps: []Step{
		{At: 5 * ms, Transfer: Random()},
		{At: 6 * ms, Transfer: Node(1)},
		{At: 7 * ms, Transfer: Node(2)},
	}})
	require.NoError(t, err)
	require.Equal(t, sim.Reached, w.RunUntil(sim.Time(10*ms)))
	require.Len(t, got, 2)
	require.Regexp(t, `^n1 TransferLeadership to=n[02]$`, got[0])
	require.Equal(t, "n1 TransferLeadership to=n2", got[1])
	require.Equal(t, 2, in.Counts().Transfers)
	require.Equal(t, 1, in.Counts().Skipped)
	pinned := in.Executed()
	require.Len(t, pinned, 2)
	require.Equal(t, TargetNode, pinned[0].Transfer.Kind, "the random target is pinned")
	require.Equal(t, "n1 TransferLeadership to="+pinned[0].Transfer.String(), got[0])

	plain := newTestWorld(t, 1, 3, map[int]uint64{0: 1})
	in = plain.install(t, Step{At: 5 * ms, Transfer: Random()})
	plain.run(t, 10*ms)
	require.Zero(t, in.Counts().Transfers, "pingers take no operator requests")
	require.Equal(t, 1, in.Counts().Skipped)

	var steps []Step
	require.NoError(t, yaml.UnmarshalWithOptions([]byte("- {at: 3s, transfer: random}\n- {at: 4s, transfer: 2}\n"), &steps, yaml.Strict()))
	require.Equal(t, []Step{{At: Duration(3e9), Transfer: Random()}, {At: Duration(4e9), Transfer: Node(2)}}, steps)
	require.Equal(t, "at 3s: transfer random", steps[0].String())
	require.ErrorContains(t, Step{Transfer: Leader()}.Validate(3), "transfer: leader is not allowed here")
	require.ErrorContains(t, Step{Transfer: Node(3)}.Validate(3), "node 3 out of range")
	require.ErrorContains(t, Step{Transfer: Node(1), For: 1 * ms}.Validate(3), "a transfer step cannot have for")
}
