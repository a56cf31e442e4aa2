package runner

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShrinkKeepsWithinTheProtocolsAssumptions: a candidate whose faults go
// past what the protocol tolerates is no smaller version of a failure whose
// faults did not (a swarm failure shrank to one server corrupting its only
// disk, which fails any protocol); one whose failing run already went past
// them may keep doing so.
func TestShrinkKeepsWithinTheProtocolsAssumptions(t *testing.T) {
	beyond := &Report{Beyond: []string{"n0 corrupted disk: 1 faulty server over the run, more than the 0 the protocol tolerates"}}
	within := &Report{}
	require.True(t, (&shrinker{first: within}).goesBeyond(beyond))
	require.False(t, (&shrinker{first: within}).goesBeyond(within))
	require.False(t, (&shrinker{first: beyond}).goesBeyond(beyond))
}
