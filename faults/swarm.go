package faults

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/internal/suggest"
	"github.com/simrun/simrun/sim"
)

// Swarm testing (after FoundationDB's simulator and TigerBeetle's VOPR): the
// seed itself decides which fault kinds strike in a run and how often, so a
// sweep covers fault mixes no one wrote by hand. Each kind is on with
// probability one half; an enabled kind gets a mean interval between firings
// and its own durations, all drawn from the "swarm" stream, and fires at
// exponentially distributed times through the safety phase. The result is an
// explicit timeline of one-shot steps, which a failing run exports as is.

// swarmKind is one kind a swarm can draw: its name in a scenario's swarm
// list and how it draws one firing (hold: how long the fault lasts). The
// draws live beside their actions, in the kind files.
type swarmKind struct {
	name string
	draw func(rng *sim.Rand, servers int, hold Duration) Step
}

// swarmKinds are the fault kinds a swarm can draw, in the order drawn. New
// kinds go at the end: the draws of every earlier kind stay the same.
var swarmKinds = []swarmKind{
	{"crash", drawCrash}, {"crash-leader", drawCrashLeader}, {"pause", drawPause},
	{"partition", drawHalves}, {"isolate-leader", drawIsolateLeader}, {"clog", drawClog},
	{"slow-link", drawSlowLink}, {"lossy-link", drawLossyLink}, {"clock", drawClockRate},
	{"skew", drawSkew}, {"disk", drawDisk}, {"corrupt", drawCorrupt}, {"buggify", nil},
	{"bridge", drawBridge}, {"ring", drawRing}, {"swizzle", drawSwizzle},
	{"crash-all", drawCrashAll}, {"rolling-restart", drawRollingRestart}, {"crash-mid-step", drawCrashMidStep},
	{"membership", drawMembership}, {"crash-recovery", drawCrashRecovery},
}

// SwarmKinds names the kinds a swarm can draw, in the order drawn.
var SwarmKinds = func() []string {
	names := make([]string, len(swarmKinds))
	for i, k := range swarmKinds {
		names[i] = k.name
	}
	return names
}()

// SwarmAll, listed as a kind, means every kind in SwarmKinds.
const SwarmAll = "all"

// SwarmLeaveOut, before a kind's name in a list with SwarmAll, leaves that kind
// out of all: "all,-corrupt,-disk" for a protocol whose disk records carry
// no checksums.
const SwarmLeaveOut = "-"

// MaxSwarmFiringsPerKind bounds the steps a swarm draws of one kind. A
// kind fires every 300ms at the most often, so a swarm over a day would
// otherwise draw millions of steps, each kept to pin the run, long before
// the run's event bound stopped it; this many is about 35 minutes of the
// most frequent kind, and the swarm's description says where a kind stopped.
const MaxSwarmFiringsPerKind = 7000

// ValidateSwarmKinds reports an unknown kind name, one listed twice, a kind
// left out without SwarmAll, and a kind listed beside SwarmAll, which holds
// it already.
func ValidateSwarmKinds(kinds []string) error {
	all := slices.Contains(kinds, SwarmAll)
	for i, k := range kinds {
		at := fmt.Sprintf("[%d]", i)
		name, leftOut := strings.CutPrefix(k, SwarmLeaveOut)
		switch {
		case k != SwarmAll && !slices.Contains(SwarmKinds, name):
			return fieldErr(at, "unknown swarm kind %q%s", k, suggest.Hint(k, swarmWords()))
		case slices.Contains(kinds[:i], k):
			return fieldErr(at, "swarm kind %q is listed twice", k)
		case leftOut && !all:
			return fieldErr(at, "%q leaves %s out of %s: list %s too", k, name, SwarmAll, SwarmAll)
		case leftOut && slices.Contains(kinds, name):
			return fieldErr(at, "%q leaves out %s, which the list also names", k, name)
		case !leftOut && k != SwarmAll && all:
			return fieldErr(at, "swarm kind %q is in %s already: list %s alone, or leave kinds out of it with %s%s", k, SwarmAll, SwarmAll, SwarmLeaveOut, k)
		}
	}
	return nil
}

// swarmWords is every word a swarm list may hold, for suggestions.
func swarmWords() []string {
	words := append([]string{SwarmAll}, SwarmKinds...)
	for _, k := range SwarmKinds {
		words = append(words, SwarmLeaveOut+k)
	}
	return words
}

// swarmOn reports whether a valid swarm list enables kind.
func swarmOn(kinds []string, kind string) bool {
	return slices.Contains(kinds, kind) ||
		slices.Contains(kinds, SwarmAll) && !slices.Contains(kinds, SwarmLeaveOut+kind)
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
	// Faulty lists the servers already faulty by design (Byzantine, crashed
	// for good by the timeline, CrashedForGood, with disks it corrupts,
	// CorruptedByDesign, or, with a fault budget, tears, TornByDesign): they
	// use up the budget first, and storage faults strike the others.
	Faulty []int
	// DrawsStorageFaults says the timeline corrupts a disk, or makes one
	// tear writes, of a server it draws at run time (random, leader): for
	// a protocol with a fault budget of its own, the swarm cannot tell how
	// much of it is left and damages no storage.
	DrawsStorageFaults bool
	// Reconfigurable says the protocol changes its membership on request
	// (sim.ChangeMembers): only then does the membership kind draw steps.
	Reconfigurable bool
	// Members is the size of the initial configuration when some servers
	// start as spares (0: every server is a member).
	Members int
	// ClockDrift, above 0, bounds how much faster one server's clock may
	// run than another's for the protocol to stay correct, with no clock
	// jumping (a lease's assumption): the clock kind draws rates within it
	// and the skew kind draws nothing.
	ClockDrift float64
}

// storageBudget is how many correct servers may have their storage
// damaged: what the protocol tolerates, less the servers faulty already.
func (c SwarmCluster) storageBudget() int {
	if c.Tolerates > 0 && c.DrawsStorageFaults {
		return 0 // the timeline damages servers it draws at run time: no budget is known to be left
	}
	return max(0, c.tolerated()-len(c.Faulty))
}

// tolerated is how many faulty servers the protocol tolerates. A
// crash-fault protocol tolerates a minority of its initial configuration,
// not of every server: the damaged ones may all be members.
func (c SwarmCluster) tolerated() int {
	if c.Tolerates > 0 {
		return c.Tolerates
	}
	members := c.Servers
	if c.Members > 0 {
		members = min(c.Members, c.Servers)
	}
	return (members - 1) / 2
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
	// The servers whose storage the swarm may damage, drawn once, when a
	// kind first needs them: corruption and, for a protocol with a fault
	// budget of its own, torn writes (a torn overwrite destroys the synced
	// value it replaces), so that both strike the same few servers.
	var storage []int
	storageVictims := func() []int {
		if storage == nil {
			storage = corruptible(rng, "corrupt", c)
		}
		return storage
	}
	tornWithinBudget := c.Tolerates > 0
	for _, kind := range SwarmKinds {
		on := rng.Chance(0.5) // drawn for every kind, so the list does not shift draws
		if !on || !swarmOn(kinds, kind) {
			continue
		}
		if kind == "membership" && !c.Reconfigurable {
			draw.Mix = append(draw.Mix, "membership: off (the protocol does not change its membership)")
			continue
		}
		if kind == "skew" && c.ClockDrift > 0 {
			draw.Mix = append(draw.Mix, "skew: off (the protocol assumes clocks that never jump)")
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
		n, first := 0, len(draw.Steps)
		var unfit error
		var victims []int
		if kind == "corrupt" {
			victims = storageVictims()
		}
		if victims != nil && len(victims) == 0 && c.Tolerates > 0 && c.DrawsStorageFaults {
			draw.Mix = append(draw.Mix, kind+": off (the timeline damages the storage of servers it draws at run time: no fault budget is known to be left)")
			continue
		}
		if victims != nil && len(victims) == 0 {
			draw.Mix = append(draw.Mix, fmt.Sprintf("%s: off (no fault budget left: %d of the %d faulty servers the protocol tolerates are faulty by design)",
				kind, len(c.Faulty), c.tolerated()))
			continue
		}
		capped := false
		for at := rng.ExpDuration(mean); at.Round(time.Millisecond) < d; at += rng.ExpDuration(mean) {
			if n == MaxSwarmFiringsPerKind {
				capped = true
				break
			}
			step := swarmStep(rng, kind, servers, lasting)
			if victims != nil {
				step.Corrupt = Node(victims[rng.IntN(len(victims))])
			}
			if step.Member != nil && storage != nil {
				step.Member.Min = membersBeyond(storage, servers)
			}
			if step.Clock != nil && c.ClockDrift > 0 {
				step.Clock.Rate = withinDrift(step.Clock.Rate, c.ClockDrift)
			}
			if tornWithinBudget && step.Disk != nil && step.Disk.TornWrites {
				v := storageVictims()
				if len(v) == 0 {
					continue // no budget left for a damaged disk
				}
				step.Disk.Node = Node(v[rng.IntN(len(v))])
			}
			step.At = Duration(max(at.Round(time.Millisecond), time.Millisecond))
			if unfit = fitsMinority(step, servers); unfit != nil {
				break // a clog, cut or partition of a one-server cluster; a crash of one of one or two
			}
			draw.Steps = append(draw.Steps, step)
			n++
		}
		if unfit != nil {
			draw.Steps = draw.Steps[:first] // none of the kind, not the ones before the first that did not fit
			draw.Mix = append(draw.Mix, fmt.Sprintf("%s: off (does not fit a cluster of %s: %v)", kind, plural.Of(servers, "server"), unfit))
			continue
		}
		desc := fmt.Sprintf("%s every ~%v", kind, mean)
		if kind != "skew" && kind != "corrupt" {
			desc += fmt.Sprintf(" for %v..%v", lasting.Min, lasting.Max)
		}
		firings := plural.Of(n, "firing")
		if capped {
			firings += fmt.Sprintf(", the most a kind draws; none after %v", draw.Steps[len(draw.Steps)-1].At)
		}
		draw.Mix = append(draw.Mix, fmt.Sprintf("%s (%s)", desc, firings))
	}
	slices.SortStableFunc(draw.Steps, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	for i := range draw.Steps {
		draw.Steps[i].Drawn = true
	}
	return draw
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

// swarmStep draws one firing of kind: how long it lasts, then what the
// kind's own draw adds.
func swarmStep(rng *sim.Rand, kind string, servers int, lasting Range) Step {
	hold := Duration(rng.DurationBetween(time.Duration(lasting.Min), time.Duration(lasting.Max)).Round(time.Millisecond))
	i := slices.IndexFunc(swarmKinds, func(k swarmKind) bool { return k.name == kind })
	return swarmKinds[i].draw(rng, servers, hold)
}

// minority is how many servers the swarm lets be down at once.
func minority(servers int) int { return max(1, (servers-1)/2) }

// fitsMinority is step.Validate, and for a step that holds back with
// max_down (the kinds that take servers down, drawn with a minority), that
// it still leaves a majority up: a cluster of one or two servers has no
// minority to take down.
func fitsMinority(step Step, servers int) error {
	if err := step.Validate(servers); err != nil {
		return err
	}
	if step.MaxDown > 0 && 2*step.MaxDown >= servers {
		return fmt.Errorf("max_down %d is half or more of it: no minority to take down", step.MaxDown)
	}
	return nil
}
