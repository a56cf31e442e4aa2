package simtest_test

import (
	"fmt"
	"testing"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/simtest"
)

// vote is a user's message whose binary form may forget its Granted field.
type vote struct {
	Term    uint64
	Granted bool
	forget  bool
}

func (v vote) AppendTrace(b []byte) []byte {
	return fmt.Appendf(b, "Vote term=%d granted=%t", v.Term, v.Granted)
}

func (v vote) AppendDigest(b []byte) []byte {
	f := sim.DigestForm(b).Kind("Vote").Uint(v.Term)
	if !v.forget {
		f = f.Bool(v.Granted)
	}
	return f
}

// failures records a check's failure instead of ending the test.
type failures struct {
	testing.TB
	failed string
}

func (f *failures) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

// A binary form that leaves out a field the line shows fails the check.
func TestRequireDigestsTellApart(t *testing.T) {
	simtest.RequireDigestsTellApart(t, vote{Term: 1}, vote{Term: 2}, vote{Term: 1, Granted: true})
	f := &failures{TB: t}
	simtest.RequireDigestsTellApart(f, vote{Term: 1, forget: true}, vote{Term: 1, Granted: true, forget: true})
	if f.failed == "" {
		t.Fatal("a binary form without Granted passed")
	}
}
