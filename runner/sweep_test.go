package runner_test

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

func TestSeedRange(t *testing.T) {
	odd := func(s uint64) bool { return s%2 == 1 }
	cases := []struct {
		name              string
		from, count, k, n uint64
		skip              func(uint64) bool
		want              []uint64
	}{
		{"whole", 5, 4, 0, 1, nil, []uint64{5, 6, 7, 8}},
		{"shard 0 of 3", 1, 10, 0, 3, nil, []uint64{1, 4, 7, 10}},
		{"shard 2 of 3", 1, 10, 2, 3, nil, []uint64{3, 6, 9}},
		{"skipped", 1, 10, 0, 3, odd, []uint64{4, 10}},
		{"empty", 1, 0, 0, 1, nil, nil},
		{"shard past the range", 1, 2, 3, 4, nil, nil},
		{"up to the largest seed", math.MaxUint64 - 2, 3, 0, 1, nil, []uint64{math.MaxUint64 - 2, math.MaxUint64 - 1, math.MaxUint64}},
		// i+n would wrap around past 2^64 and start over at 1.
		{"huge stride", 0, math.MaxUint64, 1, 1<<63 + 1, nil, []uint64{1, 1<<63 + 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := slices.Collect(runner.SeedRange(c.from, c.count, c.k, c.n, c.skip))
			require.Equal(t, c.want, got)
			if c.skip == nil {
				require.Equal(t, uint64(len(c.want)), runner.ShardSize(c.count, c.k, c.n))
			}
		})
	}
}

// TestShardsCoverTheRangeOnce: the shards of a range hold every seed once.
func TestShardsCoverTheRangeOnce(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 20} {
		var all []uint64
		var size uint64
		for k := range n {
			all = append(all, slices.Collect(runner.SeedRange(10, 17, k, n, nil))...)
			size += runner.ShardSize(17, k, n)
		}
		slices.Sort(all)
		require.Equal(t, slices.Collect(runner.SeedRange(10, 17, 0, 1, nil)), all, "n=%d", n)
		require.Equal(t, uint64(17), size)
	}
}

// TestSweepOfAHugeRangeStopsWhenCancelled: a range of 2^64-1 seeds starts at
// once (nothing is allocated per seed) and a cancelled sweep returns as
// soon as its running seed finishes, having delivered every finished seed.
func TestSweepOfAHugeRangeStopsWhenCancelled(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	so := runner.SweepOptions{Load: func() (*scenarios.Scenario, error) { return sc.Clone(), nil }, Protocol: proto,
		Seeds: runner.SeedRange(1, math.MaxUint64, 0, 1, nil), Parallel: 1}
	var got []uint64
	var cancelledAt time.Time
	err := runner.Sweep(ctx, so, func(r runner.SweepResult) {
		require.NoError(t, r.Err)
		got = append(got, r.Seed)
		if len(got) == 3 {
			cancelledAt = time.Now()
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(cancelledAt), 10*time.Second)
	require.GreaterOrEqual(t, len(got), 3)
	require.LessOrEqual(t, len(got), 4, "at most the seed running at the cancel finishes")
	for i, seed := range got {
		require.Equal(t, uint64(i+1), seed)
	}
}

// TestIdleWorkersLoadNothing: workers beyond the seeds there are never load
// the scenario, so a large Parallel costs idle goroutines, not worlds.
func TestIdleWorkersLoadNothing(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", time.Second)
	var mu sync.Mutex // workers load concurrently
	loads := 0
	so := runner.SweepOptions{Protocol: proto, Seeds: runner.SeedRange(1, 2, 0, 1, nil), Parallel: 64,
		Load: func() (*scenarios.Scenario, error) {
			mu.Lock()
			defer mu.Unlock()
			loads++
			return sc.Clone(), nil
		}}
	seeds := 0
	require.NoError(t, runner.Sweep(context.Background(), so, func(r runner.SweepResult) {
		require.NoError(t, r.Err)
		seeds++
	}))
	require.Equal(t, 2, seeds)
	require.LessOrEqual(t, loads, 2, "one load per worker that got a seed")
}

// TestRecheckCountsFromAFixedSeed: the seeds run twice are those a fixed
// distance apart from RecheckFrom, whatever the shard or the first seed
// dispatched, so a sharded sweep rechecks what the whole sweep would.
func TestRecheckCountsFromAFixedSeed(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", time.Second)
	so := runner.SweepOptions{Load: func() (*scenarios.Scenario, error) { return sc.Clone(), nil }, Protocol: proto,
		Seeds: runner.SeedRange(1, 7, 1, 2, nil), RecheckEvery: 3, RecheckFrom: 1, Parallel: 1}
	rechecked := map[uint64]bool{}
	require.NoError(t, runner.Sweep(context.Background(), so, func(r runner.SweepResult) {
		require.NoError(t, r.Err)
		rechecked[r.Seed] = r.Report.Rechecked
	}))
	require.Equal(t, map[uint64]bool{2: false, 4: true, 6: false}, rechecked)
}
