package checkers

import (
	"github.com/simrun/simrun/sim"
)

// NameDurability is the durability check. It is not a name scenario files
// list: the runner judges every run by it, since no fault model excuses what
// it catches.
const NameDurability = "durability"

// Durability fails a run when a server halts (sim.ObsHalt: it found its
// storage beyond repair) although no fault damaged its disk. A crash loses a
// server's unsynced writes, or with torn writes keeps a prefix of them and
// tears the last, and nothing more: a server whose writes were ordered and
// synced as its recovery assumes always finds what it needs. A halt without
// a corrupted disk therefore means the recovery and the write path disagree:
// state written ahead of what it depends on (a commit index persisted before
// the entries it covers), a record overwritten in place with no second copy,
// a sync left out. Such a server is faulty in every later run of the same
// steps, so the checks that only wait for correct servers (liveness) never
// see it.
type Durability struct {
	damaged func(sim.NodeID) bool
	halts   int // halts judged, of either kind
}

// NewDurability returns the durability check. damaged reports, when a server
// halts, whether a fault has corrupted its disk by then (the injector knows:
// faults.Injector.Damaged); such a halt is the protocol refusing storage it
// cannot trust, which is right.
func NewDurability(damaged func(sim.NodeID) bool) *Durability {
	return &Durability{damaged: damaged}
}

// Judged reports whether a server halted: a run without halts gives the
// check nothing to judge, and reports leave it out.
func (d *Durability) Judged() bool { return d.halts > 0 }

// Name is the check's name in reports.
func (d *Durability) Name() string { return NameDurability }

// Kinds limits the check to halts.
func (d *Durability) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsHalt} }

// Observe judges one halt.
func (d *Durability) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	if o.Kind != sim.ObsHalt {
		return nil
	}
	if d.halts++; d.damaged(o.Node) {
		return nil
	}
	return &Violation{Checker: NameDurability, Event: event, At: at, Node: o.Node,
		Message: o.Node.String() + " halted with its storage beyond repair (" + o.Text + "), though no fault " +
			"corrupted its disk: crashes lose or tear only unsynced writes, which a server must recover from"}
}
