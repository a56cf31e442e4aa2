package checkers

import (
	"github.com/simrun/simrun/sim"
)

// NameDurability is the durability check. It is not a name scenario files
// list: the runner judges every run by it, since no fault model excuses what
// it catches.
const NameDurability = "durability"

// Durability fails a run when a server halts (sim.ObsHalt: it found its
// storage beyond repair), or finds that it lost state it may have
// acknowledged (sim.ObsImpaired), although no fault damaged its disk. A crash loses a
// server's unsynced writes; with torn writes it keeps a prefix of them and
// tears the last that reaches the disk, which destroys the value that write
// overwrites in place; with reordered writes it keeps any subset of them
// (one perhaps torn), so only a sync orders two writes. That is all a crash
// does, and a write path built for it (a second copy of what an overwrite
// may destroy, what a record depends on written and synced before the
// record) always leaves its recovery something sound to start from. A halt
// on such a disk therefore means the write path and the recovery disagree:
// state written ahead of what it depends on (a commit index persisted
// before the entries it covers), a record overwritten in place with no
// second copy, a first write torn that recovery takes for a lost one. Such
// a server is faulty in every later run of the same steps, and the liveness
// phase, which waits only for correct servers, would never say so.
//
// The excuse is per server and lasts: once a fault damaged a server's disk,
// every later halt of that server passes, whatever record it halts on.
type Durability struct {
	damaged func(sim.NodeID) bool
	judged  bool // a server halted or lost state
}

// NewDurability returns the durability check. damaged reports, when a server
// halts, whether a fault has damaged its disk by then (the injector knows:
// faults.Injector.Damaged, and for a protocol with a fault budget the disks
// that tore writes, which it counts among its faulty servers); such a halt
// is the protocol refusing storage it cannot trust, which is right.
func NewDurability(damaged func(sim.NodeID) bool) *Durability {
	return &Durability{damaged: damaged}
}

// Judged reports whether a server halted or lost state: a run without
// either gives the check nothing to judge, and reports leave it out.
func (d *Durability) Judged() bool { return d.judged }

// Name is the check's name in reports.
func (d *Durability) Name() string { return NameDurability }

// Kinds limits the check to halts and losses.
func (d *Durability) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsHalt, sim.ObsImpaired} }

// Observe judges one halt or loss.
func (d *Durability) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	what := "halted with its storage beyond repair"
	switch o.Kind {
	case sim.ObsHalt:
	case sim.ObsImpaired:
		what = "lost state it may have acknowledged"
	default:
		return nil
	}
	d.judged = true
	if d.damaged(o.Node) {
		return nil
	}
	return &Violation{Checker: NameDurability, Event: event, At: at, Node: o.Node,
		Message: o.Node.String() + " " + what + " (" + o.Text + "), though no fault " +
			"corrupted its disk: a crash loses unsynced writes, or keeps some of them with one perhaps torn, which a " +
			"server must recover from"}
}
