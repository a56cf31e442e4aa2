package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSwarmOptionsErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown option", base + "swarm_options: [nodes, client]\n",
			`t.yaml:4:24: swarm_options[1]: unknown option "client" (known: all, nodes, clients, workload)`},
		{"listed twice", base + "swarm_options:\n  - workload\n  - workload\n",
			`t.yaml:6:5: swarm_options[1]: option "workload" is listed twice`},
		{"not a list", base + "swarm_options: nodes\n", "t.yaml:4:16: swarm_options:"},
		{"workload without clients", base + "workload: {clients: 0}\nswarm_options: [workload]\n",
			"t.yaml:5:16: swarm_options: draws the workload's shape, but the workload has no clients"},
		{"misspelt key", base + "swarm_option: [all]\n", "t.yaml:4:1: swarm_option: unknown field (did you mean swarm_options?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSwarmOptionsParseAndRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want map[string]bool
	}{
		{"", map[string]bool{}},
		{"swarm_options: [all]\n", map[string]bool{SwarmOptionNodes: true, SwarmOptionClients: true, SwarmOptionWorkload: true}},
		{"swarm_options: [clients]\n", map[string]bool{SwarmOptionClients: true}},
		{"workload: {clients: 0}\nswarm_options: [clients, workload]\n", map[string]bool{SwarmOptionClients: true, SwarmOptionWorkload: true}},
	} {
		sc, err := Parse("t.yaml", []byte(base+tt.src))
		require.NoError(t, err, tt.src)
		for _, o := range SwarmOptionKinds {
			assert.Equal(t, tt.want[o], sc.DrawsOption(o), "%q draws %s", tt.src, o)
		}
		assertRoundTrip(t, sc)
		assert.Equal(t, sc.SwarmOptions, sc.Clone().SwarmOptions)
	}
}
