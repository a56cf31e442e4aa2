package faults

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/sim"
)

// Swarm testing (after FoundationDB's simulator and TigerBeetle's VOPR): the
// seed itself decides which fault kinds strike in a run and how often, so a
// sweep covers fault mixes no one wrote by hand. Each kind is on with
// probability one half; an enabled kind gets a mean interval between firings
// and its own durations, all drawn from the "swarm" stream, and fires at
// exponentially distributed times through the safety phase. The result is an
// explicit timeline of one-shot steps, which a failing run exports as is.

// SwarmKinds are the fault kinds a swarm can draw, in the order drawn. New
// kinds go at the end: the draws of every earlier kind stay the same.
var SwarmKinds = []string{"crash", "crash-leader", "pause", "partition", "isolate-leader",
	"clog", "slow-link", "lossy-link", "clock", "skew", "disk", "corrupt", "buggify",
	"bridge", "ring", "swizzle", "crash-all", "rolling-restart", "crash-mid-step"}

// SwarmAll, listed as a kind, means every kind in SwarmKinds.
const SwarmAll = "all"

// ValidateSwarmKinds reports an unknown kind name.
func ValidateSwarmKinds(kinds []string) error {
	for i, k := range kinds {
		if k != SwarmAll && !slices.Contains(SwarmKinds, k) {
			return fieldErr(fmt.Sprintf("[%d]", i), "unknown swarm kind %q (known: all, %s)", k, strings.Join(SwarmKinds, ", "))
		}
	}
	return nil
}

// SwarmDraw is what a swarm drew for one run.
type SwarmDraw struct {
	Steps []Step
	// Mix describes each enabled kind and its rate, e.g. "crash every ~1.2s";
	// it is printed in the run summary and saved with a failure.
	Mix []string
	// Buggify is the probability drawn for the protocol's code-level fault
	// points (sim.Config.Buggify), 0 if the kind is off.
	Buggify float64
}

// BuggifyProbability is the share of fault points a swarm's buggify kind
// enables, as in FoundationDB's simulator.
const BuggifyProbability = 0.25

// SwarmCluster is what a swarm must know of the cluster to stay within the
// faults its protocol tolerates.
type SwarmCluster struct {
	Servers int
	// Tolerates is how many servers may be faulty at once (Byzantine, or
	// with damaged storage) for the protocol to stay correct: f for a
	// Byzantine-fault-tolerant protocol of 3f+1. Zero means a minority,
	// (Servers-1)/2, as for a crash-fault-tolerant protocol.
	Tolerates int
	// Faulty lists the servers already faulty by design (Byzantine): they
	// use up the budget first, and storage faults strike the others.
	Faulty []int
}

// storageBudget is how many correct servers may have their storage
// damaged: what the protocol tolerates, less the servers faulty already.
func (c SwarmCluster) storageBudget() int {
	tolerates := c.Tolerates
	if tolerates <= 0 {
		tolerates = max(1, (c.Servers-1)/2)
	}
	return max(0, tolerates-len(c.Faulty))
}

// Swarm draws the fault mix of one run for servers servers and a safety
// phase of length d, among the given kinds (SwarmAll for every one), from rng.
// At most a minority of servers is ever down (crashed or paused) at once,
// and at most a minority has its storage damaged.
func Swarm(rng *sim.Rand, servers int, d time.Duration, kinds []string) SwarmDraw {
	return SwarmWithin(rng, SwarmCluster{Servers: servers}, d, kinds)
}

// SwarmWithin is Swarm for a cluster with a fault budget of its own (a
// Byzantine-fault-tolerant protocol, Byzantine servers): the servers whose
// storage it damages, and the Byzantine ones, are never more than the
// protocol tolerates, so that a swarm failure is the protocol's, not the
// harness's. A kind with no budget left draws no steps and says so in Mix.
func SwarmWithin(rng *sim.Rand, c SwarmCluster, d time.Duration, kinds []string) SwarmDraw {
	servers := c.Servers
	var draw SwarmDraw
	for _, kind := range SwarmKinds {
		on := rng.Chance(0.5) // drawn for every kind, so the list does not shift draws
		if !on || !(slices.Contains(kinds, kind) || slices.Contains(kinds, SwarmAll)) {
			continue
		}
		if kind == "buggify" {
			draw.Buggify = BuggifyProbability
			draw.Mix = append(draw.Mix, fmt.Sprintf("buggify: each code fault point on with probability %v", BuggifyProbability))
			continue
		}
		mean := rng.DurationBetween(300*time.Millisecond, 5*time.Second).Round(time.Millisecond)
		lasting := Range{Min: Duration(rng.DurationBetween(20*time.Millisecond, 500*time.Millisecond).Round(time.Millisecond))}
		lasting.Max = lasting.Min + Duration(rng.DurationBetween(0, 3*time.Second).Round(time.Millisecond))
		mean, lasting = tame(kind, mean, lasting)
		n := 0
		victims := corruptible(rng, kind, c)
		if victims != nil && len(victims) == 0 {
			draw.Mix = append(draw.Mix, fmt.Sprintf("%s: off (no fault budget left: %d Byzantine of the %d faulty servers the protocol tolerates)",
				kind, len(c.Faulty), c.Tolerates))
			continue
		}
		for at := rng.ExpDuration(mean); at.Round(time.Millisecond) < d; at += rng.ExpDuration(mean) {
			step := swarmStep(rng, kind, servers, lasting)
			if victims != nil {
				step.Corrupt = Node(victims[rng.IntN(len(victims))])
			}
			step.At = Duration(max(at.Round(time.Millisecond), time.Millisecond))
			draw.Steps = append(draw.Steps, step)
			n++
		}
		desc := fmt.Sprintf("%s every ~%v", kind, mean)
		if kind != "skew" && kind != "corrupt" {
			desc += fmt.Sprintf(" for %v..%v", lasting.Min, lasting.Max)
		}
		draw.Mix = append(draw.Mix, fmt.Sprintf("%s (%d firings)", desc, n))
	}
	slices.SortStableFunc(draw.Steps, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	return draw
}

// corruptible draws, for the corrupt kind, the servers whose disks it may
// damage in this run: correct ones, as many as the fault budget allows (a
// minority for a crash-fault protocol). Corruption on a majority can destroy
// a committed entry on every copy, which no protocol survives, and a
// Byzantine-fault-tolerant protocol counts a replica with damaged storage
// among its f; like TigerBeetle's VOPR, the swarm keeps storage faults
// within what the cluster can repair from its healthy replicas. It returns
// nil for other kinds and an empty list when no budget is left.
func corruptible(rng *sim.Rand, kind string, c SwarmCluster) []int {
	if kind != "corrupt" {
		return nil
	}
	victims := []int{}
	for _, id := range rng.Perm(c.Servers) {
		if len(victims) < c.storageBudget() && !slices.Contains(c.Faulty, id) {
			victims = append(victims, id)
		}
	}
	return victims
}

// Whole-cluster crashes stop progress while they last (crash-all) or keep one
// server down all along (rolling-restart): the swarm adds wholeClusterEvery
// to their mean interval and keeps them short, so that a run still spends
// most of its safety phase doing work.
const (
	wholeClusterEvery = 3 * time.Second
	crashAllDownMax   = Duration(time.Second)            // every server down at once
	rollingDownMax    = Duration(400 * time.Millisecond) // each server in turn
)

// tame stretches the mean interval and caps the durations of the kinds that
// take the whole cluster down (crash-all, rolling-restart); the others keep
// what was drawn. It draws nothing, so no later draw shifts.
func tame(kind string, mean time.Duration, lasting Range) (time.Duration, Range) {
	limit := Duration(0)
	switch kind {
	case "crash-all":
		limit = crashAllDownMax
	case "rolling-restart":
		limit = rollingDownMax
	default:
		return mean, lasting
	}
	return mean + wholeClusterEvery, Range{Min: min(lasting.Min, limit), Max: min(lasting.Max, limit)}
}

// swarmStep draws one firing of kind.
func swarmStep(rng *sim.Rand, kind string, servers int, lasting Range) Step {
	hold := Duration(rng.DurationBetween(time.Duration(lasting.Min), time.Duration(lasting.Max)).Round(time.Millisecond))
	minority := max(1, (servers-1)/2)
	switch kind {
	case "crash":
		return Step{Crash: Random(), Down: hold, MaxDown: minority}
	case "crash-leader":
		return Step{Crash: Leader(), Down: hold, MaxDown: minority}
	case "pause":
		return Step{Pause: Random(), Down: hold, MaxDown: minority}
	case "partition":
		return Step{Partition: &Partition{Halves: true}, For: hold}
	case "isolate-leader":
		return Step{Partition: &Partition{Isolate: Leader()}, For: hold}
	case "clog":
		return Step{Clog: &Clog{Node: Random()}, For: hold}
	case "slow-link":
		lo := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond))
		return Step{Link: &LinkChange{From: Random(), To: Random(), Latency: &Range{Min: lo, Max: 2 * lo}}, For: hold}
	case "lossy-link":
		// A whole number of per mille, by integer draw and one exact
		// division: 0.05 + 0.45*rng.Float64() may be fused into one
		// multiply-add on arm64 and amd64 v3 and round differently.
		drop := float64(50+rng.IntN(451)) / 1000
		return Step{Link: &LinkChange{Drop: &drop}, For: hold}
	case "clock":
		rates := []float64{0.5, 0.8, 1.25, 2}
		return Step{Clock: &Clock{Node: Random(), Rate: rates[rng.IntN(len(rates))]}, For: hold}
	case "skew":
		skew := Duration(rng.DurationBetween(-2*time.Second, 2*time.Second))
		if skew == 0 {
			skew = Duration(time.Second)
		}
		return Step{Clock: &Clock{Node: Random(), Skew: skew}}
	case "disk":
		if rng.Chance(0.5) {
			return Step{Disk: &Disk{Node: Random(), TornWrites: true}, For: hold}
		}
		lo := Duration(rng.DurationBetween(time.Millisecond, 20*time.Millisecond))
		return Step{Disk: &Disk{Node: Random(), SyncLatency: &Range{Min: lo, Max: 3 * lo}}, For: hold}
	case "bridge":
		if servers < 3 {
			return Step{Partition: &Partition{Halves: true}, For: hold}
		}
		return Step{Partition: &Partition{Bridge: true}, For: hold}
	case "ring":
		if servers < 4 {
			return Step{Partition: &Partition{Halves: true}, For: hold}
		}
		return Step{Partition: &Partition{Ring: &Ring{Random: true}}, For: hold}
	case "swizzle":
		every := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond).Round(time.Millisecond))
		z := &Swizzle{Every: every}
		return Step{Swizzle: z, For: Duration(z.count(servers)-1)*every + hold}
	case "crash-all":
		return Step{Crash: All(), Down: hold}
	case "rolling-restart":
		return Step{Crash: Rolling(), Down: hold, MaxDown: minority}
	case "crash-mid-step":
		return Step{Crash: Random(), MidStep: true, Down: hold, MaxDown: minority}
	default: // corrupt
		return Step{Corrupt: Random()}
	}
}
