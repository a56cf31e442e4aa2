package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProbesCountAndLeaveTheTraceAlone: probes are counted per name, and a
// run with probes has the same trace hash as the same run without them.
func TestProbesCountAndLeaveTheTraceAlone(t *testing.T) {
	run := func(probe bool) (Result, map[string]uint64) {
		w, err := NewWorld(Config{Seed: 4})
		require.NoError(t, err)
		w.AddServer(nodeOf(funcNode{
			start: func(env Env) { env.SetTimer(0, time.Millisecond) },
			timer: func(env Env, _ TimerKind) {
				if probe {
					Probe(env, "test/tick")
					if env.Now() > Time(5*time.Millisecond) {
						Probe(env, "test/late")
					}
				}
				env.SetTimer(0, time.Millisecond)
			},
		}))
		w.RunUntil(Time(10 * time.Millisecond))
		return w.Result(), w.Probes()
	}
	with, probes := run(true)
	without, none := run(false)
	require.Equal(t, without.Hash, with.Hash)
	require.Empty(t, none)
	require.Equal(t, map[string]uint64{"test/tick": 10, "test/late": 5}, probes)
}

// TestProbeOnAnEnvThatDoesNotCount: a scripted Env without Probe is fine.
func TestProbeOnAnEnvThatDoesNotCount(t *testing.T) {
	require.NotPanics(t, func() { Probe(nil, "x") })
}
