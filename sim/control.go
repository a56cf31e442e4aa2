package sim

import (
	"fmt"
	"iter"
)

// The control API: mechanisms only. The faults package decides when and where.
// Every control call writes a trace line, so a fault is visible in the trace
// and changes the trace hash.

// Crash stops node id at once: its instance is discarded, its pending timers
// die with it, messages reaching it while down are dropped, and its disk loses
// every unsynced write. Crashing a crashed node does nothing.
func (w *World) Crash(id NodeID) {
	s := w.nodes[id]
	if !s.up {
		return
	}
	s.up = false
	s.inc++
	s.inst = nil
	s.paused, s.busyUntil, s.timers, s.starting = false, 0, pendingTimers{}, false
	s.tear = tearState{} // a crash by other means disarms a torn step
	lost := 0
	if s.disk != nil {
		var rng *Rand
		if s.diskFaults.TornWrites || s.diskFaults.ReorderedWrites {
			rng = w.Stream("disk")
		}
		lost = s.disk.crash(s.diskFaults, rng)
	}
	w.tr.begin(w.now, "crash", id, None)
	w.tr.line = append(w.tr.line, "lost-writes="...)
	w.tr.line = appendUint(w.tr.line, uint64(lost))
	w.tr.end()
	w.dropBacklog(s) // what waited for the paused node now meets a down one
}

// Restart boots a new instance of a crashed node from its factory; it starts
// (Node.Start) at the current time and knows only its disk. Restarting a
// running node does nothing.
func (w *World) Restart(id NodeID) {
	s := w.nodes[id]
	if s.up {
		return
	}
	s.up, s.starting = true, true
	s.inc++
	s.inst = s.instance()
	w.tr.begin(w.now, "restart", id, None)
	w.tr.end()
	w.q.push(event{at: w.now, kind: evStart, node: id, from: None, inc: s.inc})
}

// Cut loses every message from -> to from now on, including those in flight
// (they are dropped when they would arrive). The reverse direction is untouched:
// a one-way partition.
func (w *World) Cut(from, to NodeID) {
	w.setCut(from, to, true)
}

// Uncut restores the link from -> to.
func (w *World) Uncut(from, to NodeID) {
	w.setCut(from, to, false)
}

func (w *World) setCut(from, to NodeID, cut bool) {
	w.startNetwork()
	w.net.cut[int(from)*w.net.n+int(to)] = cut
	kind := "cut"
	if !cut {
		kind = "uncut"
	}
	w.tr.begin(w.now, kind, from, to)
	w.tr.end()
}

// Partition cuts every link between nodes of different groups, both ways.
// Nodes in no group keep their links (clients, usually). Existing cuts stay.
func (w *World) Partition(groups ...[]NodeID) {
	for from, to := range CrossGroupLinks(groups) {
		w.Cut(from, to)
	}
}

// CrossGroupLinks yields the directed links between nodes of different
// groups, group by group in order: the links a partition into groups cuts,
// in the order the cuts reach the trace.
func CrossGroupLinks(groups [][]NodeID) iter.Seq2[NodeID, NodeID] {
	return func(yield func(from, to NodeID) bool) {
		for gi, g := range groups {
			for gj, h := range groups {
				if gi == gj {
					continue
				}
				for _, a := range g {
					for _, b := range h {
						if !yield(a, b) {
							return
						}
					}
				}
			}
		}
	}
}

// IsCut reports whether messages from -> to are currently lost.
func (w *World) IsCut(from, to NodeID) bool {
	w.startNetwork()
	return w.net.isCut(from, to)
}

// HealAll removes every cut.
func (w *World) HealAll() {
	w.startNetwork()
	for i := range w.net.cut {
		w.net.cut[i] = false
	}
	w.tr.begin(w.now, "heal", None, None)
	w.tr.end()
}

// SetLink replaces the faults of the link from -> to.
func (w *World) SetLink(from, to NodeID, l Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	w.startNetwork()
	*w.net.link(from, to) = l
	w.tr.begin(w.now, "link", from, to)
	w.tr.line = appendLink(w.tr.line, l)
	w.tr.end()
	return nil
}

// SetAllLinks replaces the faults of every link.
func (w *World) SetAllLinks(l Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	w.startNetwork()
	for i := range w.net.links {
		w.net.links[i] = l
	}
	w.tr.begin(w.now, "link-all", None, None)
	w.tr.line = appendLink(w.tr.line, l)
	w.tr.end()
	return nil
}

// startNetwork makes sure the network exists for control calls made before
// Run (a partition from time zero, say). Nodes must all be added by then.
func (w *World) startNetwork() {
	if w.net == nil {
		w.net = newNetwork(len(w.nodes), w.cfg.Link, w.Stream("network"))
	}
}

func appendLink(b []byte, l Link) []byte {
	if l.LatencyDist != nil {
		b = fmt.Appendf(b, "latency=%v", l.LatencyDist)
	} else {
		b = fmt.Appendf(b, "latency=%v..%v", l.LatencyMin, l.LatencyMax)
	}
	return fmt.Appendf(b, " tail=%g/%v drop=%g dup=%g", l.TailProb, l.TailMean, l.Drop, l.Duplicate)
}
