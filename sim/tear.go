package sim

import "strconv"

// Torn steps. A handler's effects (sends, timer changes, observations, disk
// writes, deletes and syncs) happen in program order, but a real process can
// die between any two of them: after it sent a vote and before it persisted
// it, after it wrote an entry and before it synced it. CrashMidStep arms such
// a crash: the node's next handler that makes at least two effects keeps only
// a prefix of them, cut at a point drawn from the "tear" stream strictly
// between two effects, and the node crashes right there (losing its unsynced
// writes, as any crash does). "Send, then persist" becomes a bug the
// simulator can expose, not one its effect model hides.
//
// Disk effects apply at once, so that the handler reads its own writes. To
// cut between them, the kernel watches the disk while a tear is armed: it
// copies the disk's state before the handler's first disk effect and records
// each disk effect in the effect list. When the step is torn, the copy is put
// back and the disk effects before the cut are replayed onto it.

// tearState is a node's armed torn step.
type tearState struct {
	armed  bool
	keep   int            // effects to keep; 0: drawn
	then   func(kept int) // called right after the torn crash (the injector's restart timer)
	before *Disk          // the disk as it was before the handler's first disk effect
}

// CrashMidStep arms a torn step on node id: its next handler with at least
// two effects is cut between two of them and the node crashes there; then,
// if not nil, runs right after the crash with the number of effects kept.
// keep > 0 pins the cut (at most all but the last effect), so that a pinned
// scenario cuts where the original run did; 0 draws it from the "tear"
// stream. A node that is down is not armed (it reports false); arming an
// armed node replaces its arming. A crash by other means disarms it.
func (w *World) CrashMidStep(id NodeID, keep int, then func(kept int)) bool {
	s := w.nodes[id]
	if !s.up {
		return false
	}
	s.tear = tearState{armed: true, keep: keep, then: then}
	w.tr.begin(w.now, "tear-armed", id, None)
	w.tr.end()
	return true
}

// DisarmTear clears a torn step armed on node id that has not struck yet.
func (w *World) DisarmTear(id NodeID) {
	s := w.nodes[id]
	if !s.tear.armed {
		return
	}
	s.tear = tearState{}
	w.tr.begin(w.now, "tear-disarmed", id, None)
	w.tr.end()
}

// TearArmed reports whether node id has a torn step armed and not yet struck.
func (w *World) TearArmed(id NodeID) bool { return w.nodes[id].tear.armed }

// watchDisk records the disk effects of the handler about to run into the
// effect list, and copies the disk before the first of them.
func (w *World) watchDisk(s *nodeSlot) {
	s.tear.before = nil
	w.diskOps = w.diskOps[:0]
	if s.disk == nil {
		return
	}
	s.disk.tap = func(op diskEffect) {
		if s.tear.before == nil {
			s.tear.before = s.disk.clone()
		}
		w.effects = append(w.effects, effect{kind: effDisk, op: int32(len(w.diskOps))})
		w.diskOps = append(w.diskOps, op)
	}
}

// tearStep cuts the step that just ran, if it made at least two effects,
// and crashes the node; it reports whether it did. A step with fewer
// effects runs as usual and the tear stays armed for the next one.
func (w *World) tearStep(s *nodeSlot) bool {
	if s.disk != nil {
		s.disk.tap = nil
	}
	n := len(w.effects)
	if n < 2 {
		s.tear.before = nil
		return false
	}
	keep := min(s.tear.keep, n-1) // cut strictly between two effects
	if keep <= 0 {
		keep = 1 + w.Stream("tear").IntN(n-1)
	}
	then, inc := s.tear.then, s.inc
	if s.tear.before != nil {
		s.disk.restore(s.tear.before)
	}
	for i := range w.effects[:keep] {
		if !s.up || s.inc != inc {
			break // an observer crashed the node meanwhile: the rest never happened
		}
		ef := &w.effects[i]
		if ef.kind == effDisk {
			s.disk.replay(w.diskOps[ef.op])
		} else {
			w.apply(s, ef, 0)
		}
	}
	for i := range w.effects {
		w.effects[i] = effect{}
	}
	w.effects, w.diskOps = w.effects[:0], w.diskOps[:0]
	w.forgetObserved()
	if !s.up || s.inc != inc {
		return true // crashed by other means inside the step: that crash stands
	}
	w.tr.begin(w.now, "torn-step", s.id, None)
	w.tr.line = append(w.tr.line, "kept="...)
	w.tr.line = strconv.AppendInt(w.tr.line, int64(keep), 10)
	w.tr.line = append(w.tr.line, '/')
	w.tr.line = strconv.AppendInt(w.tr.line, int64(n), 10)
	w.tr.end()
	w.Crash(s.id)
	if then != nil {
		then(keep)
	}
	return true
}
