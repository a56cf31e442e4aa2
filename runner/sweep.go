package runner

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// SweepOptions describe a sweep: many seeds of one scenario, each in its own
// world. Parallelism lives here, above the worlds: every world is single-
// threaded and deterministic, so a seed's result does not depend on Parallel.
type SweepOptions struct {
	// Load returns a fresh copy of the scenario; each worker loads its own so
	// that no scenario value is shared between goroutines.
	Load     func() (*scenarios.Scenario, error)
	Protocol Protocol
	// Seeds yields the seeds to run, in order of dispatch. It is pulled one
	// seed at a time as workers free up, so a range of any length costs
	// nothing up front and a cancelled sweep stops pulling at once
	// (SeedRange builds one).
	Seeds    iter.Seq[uint64]
	Parallel int     // worker count; 0 means one per CPU
	Options  Options // per-run options; Seed is set per run, Trace must be nil
	// OnFailure, if set, runs in the worker for every failed run before its
	// report is delivered (to write artifacts while the history is at hand),
	// once a recheck has had its say: not for a nondeterministic seed, nor
	// for one that ended without a trace (a panic outside the protocol, a
	// Build that failed).
	OnFailure func(sc *scenarios.Scenario, rep *Report) error
	// RecheckEvery, if positive, runs every RecheckEvery-th seed of the
	// shard a second time and compares trace hashes; a mismatch turns the
	// result into Nondeterministic. The shard's seeds are RecheckFrom plus
	// a multiple of RecheckShards plus the shard's index; they are counted
	// by that multiple, from a fixed seed (the sweep's first) and not from
	// the first seed dispatched, so that a resumed sweep rechecks the same
	// seeds, and every shard of a fanned-out sweep, each on its own
	// machine, rechecks some (0 shards means 1).
	RecheckEvery  int
	RecheckFrom   uint64
	RecheckShards uint64
}

// DefaultRecheckEvery is how often the sweeps of the CLI and of simtest run
// a seed twice unless told otherwise: 1% more runs, the first seed always
// among them, so that a protocol that lets map order or the clock into its
// run fails its first sweep.
const DefaultRecheckEvery = 100

// SeedRange yields, lazily, the seeds from, from+1, ..., from+count-1 that
// belong to shard k of n (every nth, starting with the kth, so that slow
// seeds spread over the shards), without those skip reports (nil: none).
// It allocates nothing per seed, so any count starts at once.
func SeedRange(from, count, k, n uint64, skip func(uint64) bool) iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		if n == 0 {
			return
		}
		for i := k; i < count; i += n {
			seed := from + i
			if (skip == nil || !skip(seed)) && !yield(seed) {
				return
			}
			if count-i <= n { // i+n would pass count, or wrap around
				return
			}
		}
	}
}

// ShardSize is how many seeds of a range of count seeds shard k of n holds.
func ShardSize(count, k, n uint64) uint64 {
	if n == 0 || k >= count {
		return 0
	}
	return (count-k-1)/n + 1
}

// SweepResult is one seed's outcome, delivered in completion order.
type SweepResult struct {
	Report *Report
	Err    error // the run could not be built, or OnFailure failed
	Seed   uint64
}

// Sweep runs the seeds and calls onResult for each, from the calling
// goroutine, as results finish. Cancelling ctx stops dispatching new seeds;
// seeds already running finish and are delivered, so nothing finished is
// lost. It returns ctx.Err() if cancelled.
func Sweep(ctx context.Context, so SweepOptions, onResult func(SweepResult)) error {
	workers := so.Parallel
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	seeds := make(chan uint64)
	results := make(chan SweepResult)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sweepWorker(so, seeds, results)
		}()
	}
	go dispatch(ctx, so.Seeds, seeds)
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		onResult(r)
	}
	return ctx.Err()
}

// dispatch hands the seeds to the workers one at a time, pulling the next
// only when a worker is free, and stops pulling as soon as ctx is cancelled.
func dispatch(ctx context.Context, all iter.Seq[uint64], seeds chan<- uint64) {
	defer close(seeds)
	if all == nil {
		return
	}
	for s := range all {
		if ctx.Err() != nil { // select picks at random when both are ready
			return
		}
		select {
		case seeds <- s:
		case <-ctx.Done():
			return
		}
	}
}

// sweepWorker runs seeds until there are no more. It loads its scenario when
// its first seed comes, so that workers beyond the seeds there are cost
// nothing but an idle goroutine.
func sweepWorker(so SweepOptions, seeds <-chan uint64, results chan<- SweepResult) {
	var sc *scenarios.Scenario
	var loadErr error
	loaded := false
	for seed := range seeds {
		if !loaded {
			sc, loadErr = so.Load()
			loaded = true
		}
		if loadErr != nil {
			results <- SweepResult{Seed: seed, Err: loadErr}
			continue
		}
		res := runSeed(sc, so, seed)
		if res.Report != nil && so.recheck(seed) {
			recheck(sc, so, res.Report)
		}
		writeArtifacts(sc, so, &res)
		results <- res
	}
}

// recheck reports whether seed is one of the seeds run twice.
func (so SweepOptions) recheck(seed uint64) bool {
	if so.RecheckEvery <= 0 {
		return false
	}
	return (seed-so.RecheckFrom)/max(so.RecheckShards, 1)%uint64(so.RecheckEvery) == 0
}

// recheck runs rep's seed again and marks rep Nondeterministic if the trace
// hash differs. Determinism is the contract every other verdict rests on.
func recheck(sc *scenarios.Scenario, so SweepOptions, rep *Report) {
	opts := so.Options
	opts.SkipHistoryCheck = true // the hash is all we compare
	again := runSeed(sc, SweepOptions{Protocol: so.Protocol, Options: opts}, rep.Seed)
	switch {
	case again.Err != nil:
		rep.Class, rep.Reason = Nondeterministic, "the rerun could not be built: "+again.Err.Error()
	case again.Report.Hash != rep.Hash:
		rep.MarkNondeterministic(again.Report)
	}
	rep.Rechecked = true
}

// MarkNondeterministic classes r, whose seed ran again as again with
// another trace hash, as nondeterministic, with both hashes in the reason.
func (r *Report) MarkNondeterministic(again *Report) {
	r.Class = Nondeterministic
	r.Reason = fmt.Sprintf("seed %d ran twice with different trace hashes: %s then %s (%d then %d events)",
		r.Seed, r.Hash, again.Hash, r.Events, again.Events)
}

// runSeed runs one seed, turning a panic outside protocol code (the runner or
// a checker) into a reported crash so one bad seed never ends a sweep, and
// so a protocol's Build that fails for this seed only.
func runSeed(sc *scenarios.Scenario, so SweepOptions, seed uint64) (res SweepResult) {
	res.Seed = seed
	defer func() {
		if r := recover(); r != nil {
			res.Report = &Report{Scenario: sc.Name, Protocol: sc.Protocol, Seed: seed, Class: ProtocolCrash,
				Reason: fmt.Sprintf("panic outside protocol code: %s\n%s", sim.PanicValue(r), debug.Stack())}
		}
	}()
	opts := so.Options
	opts.Seed = seed
	opts.Trace = nil
	rep, err := Run(sc, so.Protocol, opts)
	if be, broken := AsBuildError(err); broken {
		// A Build that fails for this seed (the Byzantine servers it
		// draws, say): the seed's protocol crash.
		res.Report = &Report{Scenario: sc.Name, Protocol: sc.Protocol, Seed: seed, Class: ProtocolCrash,
			Reason: be.Error() + "\n" + be.Stack}
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Report = rep
	return res
}

// writeArtifacts hands a failing seed's report to OnFailure once its class
// is final: after the recheck, so that a seed found nondeterministic gets
// none (its replay line is the way to look at it). Then it lets go of the
// history and artifacts, to keep memory flat over long sweeps.
func writeArtifacts(sc *scenarios.Scenario, so SweepOptions, res *SweepResult) {
	rep := res.Report
	if rep == nil {
		return
	}
	if rep.Class.Failed() && rep.Class != Nondeterministic && rep.Hash != "" && so.OnFailure != nil {
		res.Err = so.OnFailure(sc, rep)
	}
	rep.History, rep.Artifacts = nil, nil
}
