package service

import (
	"bytes"

	"github.com/simrun/simrun/sim"
)

// InvariantViolation is the message a protocol's node panics with when one
// of its own invariants fails, "raft: invariant violated at n2: what
// (term=3 role=leader)": the kernel reports the panic as a protocol crash,
// with the seed to replay it. state describes the node as TraceLine fields
// (" term=3 role=leader"); the message shows it in parentheses.
func InvariantViolation(protocol string, id sim.NodeID, what string, state sim.TraceLine) string {
	b := append([]byte(protocol), ": invariant violated at "...)
	b = append(b, id.String()...)
	b = append(append(b, ": "...), what...)
	b = append(append(b, " ("...), bytes.TrimPrefix(state, []byte(" "))...)
	return string(append(b, ')'))
}
