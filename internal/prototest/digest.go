package prototest

import (
	"bytes"
	"testing"

	"github.com/simrun/simrun/sim"
)

// RequireDigestsTellApart fails t if two of msgs that are sim.Digesters have
// different canonical lines but the same binary form: the trace hash reads
// only the binary form, so a field it leaves out is a field the determinism
// check cannot see. Give it variants that each differ in one field.
func RequireDigestsTellApart(t testing.TB, msgs ...sim.Message) {
	t.Helper()
	type form struct{ line, digest []byte }
	var forms []form
	for _, m := range msgs {
		if d, ok := m.(sim.Digester); ok {
			forms = append(forms, form{m.AppendTrace(nil), d.AppendDigest(nil)})
		}
	}
	for i, a := range forms {
		for _, b := range forms[i+1:] {
			if !bytes.Equal(a.line, b.line) && bytes.Equal(a.digest, b.digest) {
				t.Fatalf("%q and %q have the same binary form %x", a.line, b.line, a.digest)
			}
		}
	}
}
