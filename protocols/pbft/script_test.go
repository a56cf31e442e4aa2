package pbft

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// TestScripts runs the interaction scripts of testdata/ (the normal case, a
// view change). Rewrite their expected output with:
// go test -run TestScripts -rewrite
func TestScripts(t *testing.T) {
	prototest.Script[*node]{
		New: func(t testing.TB, servers int, d *datadriven.TestData) *testNet {
			return newTestNet(t.(*testing.T), servers, testConfig())
		},
		Timers: map[string]sim.TimerKind{"request": timerRequest, "status": timerStatus},
		Status: func(n *node) string {
			return fmt.Sprintf("view=%d changing=%v exec=%d stable=%d next=%d", n.view, n.changing, n.exec, n.h, n.next)
		},
	}.Run(t, "testdata")
}
