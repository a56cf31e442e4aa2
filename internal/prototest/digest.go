package prototest

import (
	"testing"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/sim"
)

// RequireDigestsTellApart fails t if two of msgs that are sim.Digesters have
// different canonical lines but the same binary form (see
// digestcheck.Collision). Give it variants that each differ in one field.
func RequireDigestsTellApart(t testing.TB, msgs ...sim.Message) {
	t.Helper()
	if err := digestcheck.Collision(msgs...); err != nil {
		t.Fatal(err)
	}
}
