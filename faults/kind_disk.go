package faults

import (
	"strings"
	"time"

	"github.com/simrun/simrun/sim"
)

// The disk fault: make a server's disk tear its unsynced writes on a crash,
// or let them through out of order, or sync slowly.

func (in *Injector) disk(i int, s Step) {
	id := in.nodeTarget(i, s.Disk.Node)
	if id == sim.None {
		return
	}
	slow := s.Disk.slowSyncs()
	faults := sim.DiskFaults{TornWrites: s.Disk.TornWrites, ReorderedWrites: s.Disk.ReorderedWrites,
		SyncLatencyMin: slow.Min.Duration(), SyncLatencyMax: slow.Max.Duration()}
	in.diskFaults.change(in, i, s, id, faults, "disk "+id.String()+" healthy")
	in.counts.Disks++
}

var diskKind = valueKind(func(s *Step) **Disk { return &s.Disk }, actionKind{
	name: "disk", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Disk.validate(servers) },
	fire:     (*Injector).disk,
	targets:  func(s *Step) []*Target { return []*Target{&s.Disk.Node} },
	clone:    func(s *Step) { s.Disk.SyncLatency = clonePtr(s.Disk.SyncLatency) },
})

// TornByDesign lists the servers whose disks steps make tear writes by
// number, in ID order: for a protocol with a fault budget of its own, which
// counts a server that crashes on such a disk among its faulty ones, they
// are faulty by design, as the servers CorruptedByDesign are.
func TornByDesign(steps []Step) []int { return numbered(steps, tornTarget) }

// tornTarget is the server whose disk s makes tear writes, if any.
func tornTarget(s Step) Target {
	if s.Disk == nil || !s.Disk.TornWrites {
		return Target{}
	}
	return s.Disk.Node
}

// drawDisk draws one of the disk faults, each as likely: torn writes,
// reordered writes, both, or slow syncs.
func drawDisk(rng *sim.Rand, _ int, hold Duration) Step {
	switch rng.IntN(4) {
	case 0:
		return Step{Disk: &Disk{Node: Random(), TornWrites: true}, For: hold}
	case 1:
		return Step{Disk: &Disk{Node: Random(), ReorderedWrites: true}, For: hold}
	case 2:
		return Step{Disk: &Disk{Node: Random(), TornWrites: true, ReorderedWrites: true}, For: hold}
	}
	lo := Duration(rng.DurationBetween(time.Millisecond, 20*time.Millisecond))
	return Step{Disk: &Disk{Node: Random(), SyncLatency: &Range{Min: lo, Max: 3 * lo}}, For: hold}
}

// Disk makes a server's disk misbehave: TornWrites makes a crash keep a
// prefix of the unsynced writes with the last one torn, instead of losing
// them all; ReorderedWrites makes it keep any subset of them, each write on
// its own (and tear one of those with TornWrites); SyncLatency makes every
// sync block the server that long.
type Disk struct {
	Node            Target `yaml:"node"`
	TornWrites      bool   `yaml:"torn_writes,omitempty"`
	ReorderedWrites bool   `yaml:"reordered_writes,omitempty"`
	SyncLatency     *Range `yaml:"sync_latency,omitempty,flow"`
}

// String is "n1 torn_writes reordered_writes sync_latency=1ms..10ms".
func (d Disk) String() string {
	var parts []string
	parts = append(parts, d.Node.String())
	if d.TornWrites {
		parts = append(parts, "torn_writes")
	}
	if d.ReorderedWrites {
		parts = append(parts, "reordered_writes")
	}
	if d.SyncLatency != nil {
		parts = append(parts, "sync_latency="+d.SyncLatency.String())
	}
	return strings.Join(parts, " ")
}

// slowSyncs is the sync latency range, zero when syncs are instant.
func (d *Disk) slowSyncs() Range {
	if d.SyncLatency == nil {
		return Range{}
	}
	return *d.SyncLatency
}

func (d *Disk) validate(servers int) error {
	if err := validateTarget("disk.node", d.Node, servers, anyServer...); err != nil {
		return err
	}
	if d.SyncLatency != nil {
		if err := d.SyncLatency.validate("disk.sync_latency"); err != nil {
			return err
		}
	}
	if !d.TornWrites && !d.ReorderedWrites && d.slowSyncs().Max == 0 {
		return fieldErr("disk", "give a fault: torn_writes, reordered_writes, or a sync_latency above 0")
	}
	return nil
}
