package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// operableNode forwards every operator request it gets to node 1.
type operableNode struct{ funcNode }

func (n *operableNode) Operate(env Env, req Message) { env.Send(1, req) }

// TestOperateRunsAsAHandler: an operator request reaches an Operable node as
// a handler whose effects apply (its send is delivered), and is refused,
// with nothing traced, by a node that is paused, down or not Operable.
func TestOperateRunsAsAHandler(t *testing.T) {
	var r recorder
	w := newTestWorld(t, Config{Seed: 1, Link: Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
	w.AddServer(func(NodeID) Node { return &operableNode{} })
	w.AddServer(r.node())
	req := TransferLeadership{To: 1}
	var took []bool
	w.At(ms(1), "operate", func() { took = append(took, w.Operate(0, req), w.Operate(1, req)) })
	w.At(ms(2), "pause", func() { w.Pause(0); took = append(took, w.Operate(0, req)); w.Resume(0) })
	w.At(ms(3), "crash", func() { w.Crash(0); took = append(took, w.Operate(0, req)) })
	before := w.Events()
	w.RunUntil(ms(10))
	require.Equal(t, []bool{true, false, false, false}, took)
	require.Len(t, r.got, 1)
	require.Equal(t, req, r.got[0].msg)
	require.Equal(t, NodeID(0), r.got[0].from)
	require.Greater(t, w.Events(), before)
	require.Equal(t, "TransferLeadership to=n1", string(req.AppendTrace(nil)))
}
