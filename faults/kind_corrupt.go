package faults

import (
	"slices"

	"github.com/simrun/simrun/sim"
)

// The corrupt fault: flip one bit of one durable record of a server's disk.

func (in *Injector) corrupt(i int, s Step) {
	id := in.nodeTarget(i, s.Corrupt)
	if id == sim.None {
		return
	}
	// The configuration may have shrunk since the swarm chose its victims,
	// or be about to (a change a leader took, not announced yet), and
	// servers down for good are lost to it as much as damaged ones. A
	// one-server configuration is exempt: corrupting its only disk is the
	// point of such a run, not an accident of shrinking.
	lost := in.damaged.With(id) | in.forGood
	for _, config := range append([]sim.Members{in.members}, in.requested...) {
		if config.Has(id) && config.Len() > 1 && mostlyDamaged(config, lost) {
			in.skip(i, "damaged disks %v%s would be half the configuration %v or more",
				in.damaged.With(id)&config, in.andDownForGood(config), config)
			return
		}
	}
	if _, ok := in.w.CorruptDisk(id); !ok {
		in.skip(i, "%v has no record to corrupt", id)
		return
	}
	in.counts.Corruptions++
	in.damaged = in.damaged.With(id)
}

var corruptKind = targetKind(func(s *Step) *Target { return &s.Corrupt }, anyServer, actionKind{
	name: "corrupt",
	fire: (*Injector).corrupt,
})

// CorruptedByDesign lists the servers whose disks steps corrupt by number,
// in ID order: faulty by design, as the servers CrashedForGood are, so that
// a swarm's storage faults strike none beside them past the fault budget (a
// swarm once tore the writes of a second PBFT replica of four beside the
// one its timeline corrupts, and two faulty replicas committed different
// requests).
func CorruptedByDesign(steps []Step) []int { return numbered(steps, corruptTarget) }

// corruptTarget is the server whose disk s corrupts, if any.
func corruptTarget(s Step) Target { return s.Corrupt }

// drawCorrupt strikes a random server; the swarm narrows it to its victims.
func drawCorrupt(*sim.Rand, int, Duration) Step { return Step{Corrupt: Random()} }

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

// andDownForGood names the servers of config down for good, for a skip's
// reason: ", and n1 down for good", or nothing.
func (in *Injector) andDownForGood(config sim.Members) string {
	if down := in.forGood & config; down != 0 {
		return ", and " + down.String() + " down for good"
	}
	return ""
}

// DrawsStorageFaults reports whether steps corrupt, or (torn) make tear
// writes, the disk of a server drawn at run time (random or leader), which
// CorruptedByDesign and TornByDesign cannot list.
func DrawsStorageFaults(steps []Step, torn bool) bool {
	drawn := func(t Target) bool { return t.Kind == TargetRandom || t.Kind == TargetLeader }
	return slices.ContainsFunc(steps, func(s Step) bool {
		return drawn(corruptTarget(s)) || torn && drawn(tornTarget(s))
	})
}
