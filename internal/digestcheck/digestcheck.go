package digestcheck

import (
	"bytes"
	"fmt"

	"github.com/simrun/simrun/sim"
)

// Collision returns an error naming the first two of msgs that are
// sim.Digesters with different canonical lines but the same binary form, or
// nil. The trace hash reads only the binary form, so a field it leaves out
// is a field the determinism check cannot see.
func Collision(msgs ...sim.Message) error {
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
				return fmt.Errorf("%q and %q have the same binary form %x", a.line, b.line, a.digest)
			}
		}
	}
	return nil
}
