package scenarios

import (
	"testing"

	"github.com/simrun/simrun/faults"
	"github.com/stretchr/testify/require"
)

// TestEditedScenarioIsJudgedByItsValue: after a scenario read from a file is
// changed in code (by a shrinker, a test helper), its new fault steps and
// protocol options are validated and decoded from the value, not from what
// the file once said.
func TestEditedScenarioIsJudgedByItsValue(t *testing.T) {
	sc, err := Parse("e.yaml", []byte("protocol: raft\nnodes: 3\nfaults:\n  - {at: 1s, heal: all}\nprotocol_options: {bugs: [x]}\n"))
	require.NoError(t, err)
	edited := sc.Clone()
	edited.Faults = []faults.Step{{At: faults.Duration(2e9), Crash: faults.Random()}}
	require.NoError(t, edited.Validate())
	delete(edited.ProtocolOptions, "bugs")
	var opts struct {
		Bugs []string `yaml:"bugs"`
	}
	require.NoError(t, edited.DecodeProtocolOptions(&opts))
	require.Empty(t, opts.Bugs)
	require.NoError(t, sc.DecodeProtocolOptions(&opts))
	require.Equal(t, []string{"x"}, opts.Bugs, "the original keeps its options")
}
