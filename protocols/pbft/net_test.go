package pbft

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// PBFT's use of the shared test kit: a hand-driven net of replicas for the
// paper's rules. Signatures are the kit's: a test acting as a replica signs
// with tn.Sign, and a made-up one fails verification.

type (
	testNet  = prototest.Net[*node]
	envelope = prototest.Envelope
)

func newTestNet(t *testing.T, n int, cfg Config, byz ...ByzantineReplica) *testNet {
	t.Helper()
	f, err := New(cfg, prototest.NewKV, byz...)
	require.NoError(t, err)
	tn := prototest.NewNet[*node](t, n, f)
	tn.Bind, tn.Finish = bind, (*node).finish
	tn.TimerNames = map[sim.TimerKind]string{timerRequest: "request", timerStatus: "status", timerByzantine: "byzantine"}
	return tn
}

// testConfig is a fast configuration for scripted tests: a checkpoint every
// 4 requests, a window of 8.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.CheckpointInterval, cfg.LogWindow = 4, 8
	return cfg
}

// request queues a client's request to replica to.
func request(tn *testNet, client sim.NodeID, seq uint64, op string, to sim.NodeID) service.Command {
	return tn.Request(client, to, seq, op)
}

// sentBy returns the queued messages from id of type M.
func sentBy[M sim.Message](tn *testNet, id sim.NodeID) []M {
	var out []M
	for _, e := range tn.Queue {
		if m, ok := e.Msg.(M); ok && e.From == id {
			out = append(out, m)
		}
	}
	return out
}

// agreementHolds checks that obs agree: one digest per index among commits
// and applies.
func agreementHolds(t *testing.T, obs []sim.Observation) {
	t.Helper()
	if v := prototest.Agreement(obs); v != nil {
		t.Fatal(v)
	}
}

// TestScripts runs the interaction scripts of testdata/ (the normal case, a view change).
// Rewrite their expected output with: go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t *testing.T, n int) *testNet { return newTestNet(t, n, testConfig()) },
		Status: func(n *node) string {
			return fmt.Sprintf("view=%d changing=%v exec=%d stable=%d next=%d", n.view, n.changing, n.exec, n.h, n.next)
		},
	}.Run(t, "testdata")
}

// bind hands a node the Env of a step that the test drives (Net.Do).
func bind(n *node, env *prototest.Env) { n.env = env }
