package faults

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// faultLines runs plan on five idle servers and returns the trace lines of
// what the faults did to the world, and the injector.
func faultLines(t *testing.T, seed uint64, plan Plan) ([]string, *Injector) {
	t.Helper()
	var buf bytes.Buffer
	w, err := sim.NewWorld(sim.Config{Seed: seed, Trace: &buf})
	require.NoError(t, err)
	for range 5 {
		w.AddServer(func(sim.NodeID) sim.Node { return idleNode{} })
	}
	in, err := Install(w, plan)
	require.NoError(t, err)
	w.RunUntil(sim.Time(10 * time.Second))
	require.NoError(t, w.FlushTrace())
	var lines []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var rec struct {
			T      int64  `json:"t"`
			Kind   string `json:"kind"`
			Node   *int   `json:"node"`
			Peer   *int   `json:"peer"`
			Detail string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		switch rec.Kind {
		case "crash", "restart", "pause", "resume", "cut", "uncut", "clog", "unclog", "clock-rate", "corrupt":
			lines = append(lines, sc.Text())
		}
	}
	return lines, in
}

// TestExecutedPinsEveryRandomChoice: replaying the pinned timeline does to
// the world exactly what the random, repeating plan did.
func TestExecutedPinsEveryRandomChoice(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	plan := Plan{Steps: []Step{
		{From: ms(100), To: ms(9000), Every: ms(700), Crash: Random(), Down: ms(300), MaxDown: 2},
		{From: ms(200), To: ms(9000), Every: ms(1100), Partition: &Partition{Halves: true}, For: ms(400)},
		{From: ms(300), To: ms(9000), Every: ms(900), Clog: &Clog{From: Random(), To: Random()}, For: ms(200)},
		{From: ms(400), To: ms(9000), Every: ms(1300), Pause: Random(), Down: ms(100), MaxDown: 2},
		{From: ms(500), To: ms(9000), Every: ms(1700), Clock: &Clock{Node: Random(), Rate: 2}, For: ms(300)},
		{At: ms(5000), Heal: HealEverything},
	}}
	for seed := uint64(1); seed <= 10; seed++ {
		original, in := faultLines(t, seed, plan)
		pinned := in.Executed()
		require.NoError(t, Plan{Steps: pinned}.Validate(5))
		for _, s := range pinned {
			require.False(t, s.Repeats())
			for _, tg := range s.targets() {
				require.NotEqual(t, TargetRandom, tg.Kind, "seed %d: %v", seed, s)
			}
			if s.Partition != nil {
				require.False(t, s.Partition.Halves)
			}
		}
		replayed, _ := faultLines(t, seed+1000, Plan{Steps: pinned})
		require.Equal(t, original, replayed, "seed %d: the pinned timeline, under another seed, does the same", seed)
	}
	require.NotNil(t, plan.Steps[1].Partition)
	require.True(t, plan.Steps[1].Partition.Halves, "pinning never writes through to the plan")
}
