package sim

import (
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"
)

// Fault mechanisms beyond cuts and crashes: pausing a node, clogging links,
// drifting and skewing a node's clock, disk faults (torn writes, corruption,
// slow syncs) and code-level fault points. Like the rest of the control API
// they are mechanisms only; the faults package decides when and where.
//
// Held events. A delivery to a paused or busy node, or one arriving on a
// clogged link, is not lost: it is held, in arrival order, and released at
// the moment the node runs again or the link unclogs, in the same order.
// Timers that come due while a node is paused are held the same way and fire
// when it resumes, as an overdue timer does in a process stopped by SIGSTOP.

// DiskFaults describe how a node's disk misbehaves.
type DiskFaults struct {
	// TornWrites: on a crash, a prefix of the unsynced writes reaches the disk
	// and the last of them is torn (cut short), instead of all being lost.
	TornWrites bool
	// ReorderedWrites: on a crash, each unsynced write reaches the disk or
	// not, on its own, as a file system that writes pages back in any order
	// between syncs lets it (one file's new version without another's it
	// was written after). With TornWrites as well, one of those that reached
	// it is torn.
	ReorderedWrites bool
	// SyncLatencyMin and SyncLatencyMax bound how long a sync takes (uniform).
	// A handler that syncs blocks the node for that long: its sends leave
	// late and the node handles nothing meanwhile. Zero means instant syncs.
	SyncLatencyMin time.Duration
	SyncLatencyMax time.Duration
}

// Validate reports impossible disk fault settings.
func (d DiskFaults) Validate() error {
	if d.SyncLatencyMin < 0 || d.SyncLatencyMax < d.SyncLatencyMin {
		return fmt.Errorf("sync latency %v..%v is not a range", d.SyncLatencyMin, d.SyncLatencyMax)
	}
	return nil
}

// Pause stops node id without losing its memory: it receives and fires
// nothing until Resume, like a long GC pause or a stopped VM. Messages and
// timers due meanwhile are held and delivered, in order, on Resume.
func (w *World) Pause(id NodeID) {
	s := w.nodes[id]
	if !s.up || s.paused {
		return
	}
	s.paused = true
	s.pausedAt = s.clock.local(w.now)
	w.tr.begin(w.now, "pause", id, None)
	w.tr.end()
}

// Resume lets a paused node run again and releases what it held.
func (w *World) Resume(id NodeID) {
	s := w.nodes[id]
	if !s.paused {
		return
	}
	s.paused = false
	s.stalled += max(0, s.clock.local(w.now).Sub(s.pausedAt)) // a clock stepped back meanwhile adds nothing
	w.tr.begin(w.now, "resume", id, None)
	w.tr.end()
	w.releaseNext(s)
}

// Paused reports whether node id is paused.
func (w *World) Paused(id NodeID) bool { return w.nodes[id].paused }

// Stalled is how long, on its own clock, node id has been held without
// running while up: its pauses (each counted when it resumes) and the slow
// disk syncs that blocked it. Its clock runs on meanwhile while its timers
// wait, so a checker that times what a node does on its clock
// (checkers.IsolatedLeaderCheck) leaves these spans out.
func (w *World) Stalled(id NodeID) time.Duration { return w.nodes[id].stalled }

// Clog holds every message arriving on the link from -> to until Unclog, then
// delivers them in order: a congested or stalled link, not a lossy one.
func (w *World) Clog(from, to NodeID) { w.setClog(from, to, true) }

// Unclog releases the link from -> to and what it held.
func (w *World) Unclog(from, to NodeID) {
	w.setClog(from, to, false)
	w.releaseClogged()
}

// ClogNode clogs every link into and out of node id.
func (w *World) ClogNode(id NodeID) {
	for i := range w.nodes {
		if other := NodeID(i); other != id {
			w.setClog(id, other, true)
			w.setClog(other, id, true)
		}
	}
}

// UnclogNode unclogs every link into and out of node id.
func (w *World) UnclogNode(id NodeID) {
	for i := range w.nodes {
		if other := NodeID(i); other != id {
			w.setClog(id, other, false)
			w.setClog(other, id, false)
		}
	}
	w.releaseClogged()
}

// IsClogged reports whether the link from -> to holds its messages.
func (w *World) IsClogged(from, to NodeID) bool {
	w.startNetwork()
	return w.net.clogged[int(from)*w.net.n+int(to)]
}

func (w *World) setClog(from, to NodeID, clog bool) {
	w.startNetwork()
	i := int(from)*w.net.n + int(to)
	if w.net.clogged[i] == clog {
		return
	}
	w.net.clogged[i] = clog
	kind := "clog"
	if !clog {
		kind = "unclog"
	}
	w.tr.begin(w.now, kind, from, to)
	w.tr.end()
}

// DefaultLink returns the link settings every link started with.
func (w *World) DefaultLink() Link { return w.cfg.Link }

// Link returns the current settings of the link from -> to.
func (w *World) Link(from, to NodeID) Link {
	w.startNetwork()
	return *w.net.link(from, to)
}

// holdIfBlocked holds e if it cannot be handled now, and says so in the
// trace: a delivery on a clogged link waits for the link; anything for a
// paused or busy node, or for a node with a backlog (so that order is kept),
// joins the node's backlog.
func (w *World) holdIfBlocked(e *event) bool {
	s := w.nodes[e.node]
	// A released head has crossed its link already: a clog since holds
	// what is still on the link, not what waits in the node's backlog.
	if e.kind == evDeliver && !e.released && w.net.clogged[int(e.from)*w.net.n+int(e.node)] {
		w.traceHold(e, "clogged")
		w.clogged = append(w.clogged, *e)
		w.held++
		return true
	}
	e.inc = s.inc // a crash drops the backlog of the incarnation it held for
	reason := s.blocked(w.now)
	switch {
	case e.kind == evStart && reason == "":
		return false // Start comes first, ahead of any backlog
	case e.kind == evStart:
		s.backlog = append([]event{*e}, s.backlog...)
		w.held++
		w.traceHold(e, reason)
		return true
	case reason == "" && s.starting:
		reason = "starting" // nothing reaches an instance before its Start
	}
	switch {
	case reason != "" && e.released:
		// The backlog's head met a node blocked again: it stays the head.
		s.backlog = append([]event{*e}, s.backlog...)
		w.held++
		return true
	case reason == "" && (e.released || len(s.backlog) == 0):
		return false
	case reason == "":
		reason = "behind" // earlier events of this node wait in its backlog
	}
	w.traceHold(e, reason)
	s.backlog = append(s.backlog, *e)
	w.held++
	return true
}

func (w *World) traceHold(e *event, reason string) { w.tr.hold(w.now, e, reason) }

// blocked names why the node cannot run now, or returns "".
func (s *nodeSlot) blocked(now Time) string {
	switch {
	case !s.up:
		return "" // dropped or ignored by the normal path
	case s.paused:
		return "paused"
	case now < s.busyUntil:
		return "busy"
	}
	return ""
}

// releaseNext hands the head of s's backlog back to the queue, at the
// current time, if s can run. The backlog drains one event at a time: after
// each, the node may block again (a slow sync), and what follows waits in
// the backlog instead of being requeued and held again, so a backlog of n
// events costs O(n) however often the node blocks.
func (w *World) releaseNext(s *nodeSlot) {
	if s.releasing || len(s.backlog) == 0 || s.blocked(w.now) != "" {
		return
	}
	if s.starting && s.backlog[0].kind != evStart {
		return // the start event is still on its way
	}
	e := s.backlog[0]
	s.backlog[0] = event{}
	s.backlog = s.backlog[1:]
	w.held--
	e.at, e.released, s.releasing = w.now, true, true
	w.q.push(e)
}

// releaseClogged requeues, at the current time and in arrival order, every
// delivery held by a link that is no longer clogged.
func (w *World) releaseClogged() {
	if len(w.clogged) == 0 {
		return
	}
	held := w.clogged
	w.clogged = nil
	for _, e := range held {
		if w.net.clogged[int(e.from)*w.net.n+int(e.node)] {
			w.clogged = append(w.clogged, e)
			continue
		}
		e.at = w.now
		w.q.push(e)
		w.held--
	}
}

// dropBacklog empties a crashed node's backlog: its deliveries are lost
// (traced as dropped), its timers died with it.
func (w *World) dropBacklog(s *nodeSlot) {
	for _, e := range s.backlog {
		if e.kind == evDeliver {
			w.drop(e.from, e.node, e.msg, e.sum, "target-down")
		}
	}
	w.held -= len(s.backlog)
	s.backlog, s.releasing = nil, false
}

// Held returns how many events are held, by clogged links and in node
// backlogs (for tests and reports).
func (w *World) Held() int {
	n := len(w.clogged)
	for _, s := range w.nodes {
		n += len(s.backlog)
	}
	return n
}

// nodeClock maps real (virtual world) time to a node's local clock:
// local = anchorLocal + (real - anchorReal) * rate. The zero value is a
// perfect clock.
//
// The rate is fixed point and the arithmetic integer, so that a clock reads
// the same on every platform: in floating point a product or quotient near a
// whole nanosecond can round either way once a compiler fuses or reorders
// operations, and converting an out-of-range float to an integer gives a
// different value on each architecture.
type nodeClock struct {
	rate        uint64 // local nanoseconds per real nanosecond, times rateOne; 0 means rateOne
	anchorReal  Time
	anchorLocal Time
}

// rateOne is a rate of 1 in nodeClock's fixed point (32 fraction bits).
const rateOne = 1 << 32

// fixedRate converts a clock rate in (0, 100) to nodeClock's fixed point,
// rounded to nearest. Scaling by a power of two and rounding to an integer
// are exact, so every platform gets the same rate.
func fixedRate(rate float64) uint64 { return max(1, uint64(math.Round(rate*rateOne))) }

func (c *nodeClock) perfect() bool { return c.rate == 0 || c.rate == rateOne }

func (c *nodeClock) local(real Time) Time {
	elapsed := real - c.anchorReal
	if c.perfect() {
		return c.anchorLocal + elapsed
	}
	if elapsed < 0 {
		return c.anchorLocal - Time(scaleRate(uint64(-elapsed), c.rate))
	}
	return c.anchorLocal.Add(scaleRate(uint64(elapsed), c.rate))
}

// scaleRate returns d * rate / rateOne rounded down, saturating at the
// longest duration.
func scaleRate(d, rate uint64) time.Duration {
	hi, lo := bits.Mul64(d, rate)
	if hi >= 1<<31 {
		return math.MaxInt64
	}
	return time.Duration(hi<<32 | lo>>32)
}

// realDelay converts a local duration into the real time it takes to pass:
// d * rateOne / rate rounded up, so that the local clock has reached the
// deadline when the timer fires.
func (c *nodeClock) realDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if c.perfect() {
		return d
	}
	hi, lo := uint64(d)>>32, uint64(d)<<32
	if hi >= c.rate {
		return math.MaxInt64 // the quotient does not fit 64 bits
	}
	q, rem := bits.Div64(hi, lo, c.rate)
	if rem > 0 {
		q++
	}
	return time.Duration(min(q, math.MaxInt64))
}

// pendingTimers remembers each armed timer's local deadline, so that a clock
// change can move it.
type pendingTimers struct {
	deadline [MaxTimerKinds]Time
	armed    [MaxTimerKinds]bool
}

func (p *pendingTimers) fired(k TimerKind) { p.armed[k] = false }

// armTimer schedules kind k of node s to fire when its local clock reads
// deadline, replacing any pending timer of that kind.
func (w *World) armTimer(s *nodeSlot, k TimerKind, deadline Time) {
	s.timerGen[k]++
	s.timers.deadline[k], s.timers.armed[k] = deadline, true
	at := deadline // a perfect clock: local time is real time
	if s.clock != (nodeClock{}) {
		at = w.now.Add(s.clock.realDelay(deadline.Sub(s.clock.local(w.now))))
	}
	// A deadline the node's clock has already passed (a clock moved forward,
	// or back to perfect, after the timer was set) fires now, never in the
	// past: the queue's order assumes no event time is below the clock's.
	at = max(at, w.now)
	w.q.push(event{at: at, kind: evTimer, node: s.id, from: None,
		inc: s.inc, gen: s.timerGen[k], tk: k})
}

// rearmTimers moves every pending timer of s after its clock changed. Kinds
// are visited in order, so the requeued events keep a deterministic order.
func (w *World) rearmTimers(s *nodeSlot) {
	for k := range MaxTimerKinds {
		if s.timers.armed[k] {
			w.armTimer(s, TimerKind(k), s.timers.deadline[k])
		}
	}
}

// SetClockRate makes node id's clock run at rate local seconds per real
// second from now on (1.1: 10% fast, its timers fire early; 0.9: slow, late).
// Pending timers move accordingly.
func (w *World) SetClockRate(id NodeID, rate float64) error {
	if !(rate > 0 && rate < 100) {
		return fmt.Errorf("clock rate %v must be in (0, 100)", rate)
	}
	s := w.nodes[id]
	s.clock = nodeClock{rate: fixedRate(rate), anchorReal: w.now, anchorLocal: s.clock.local(w.now)}
	w.rearmTimers(s)
	w.tr.begin(w.now, "clock-rate", id, None)
	w.tr.line = strconv.AppendFloat(w.tr.line, rate, 'g', -1, 64)
	w.tr.end()
	return nil
}

// SkewClock makes node id's clock jump by d (negative: backwards). Timers are
// deadlines on the local clock, so a forward jump fires pending timers early
// and a backward jump delays them, as with a wall clock stepped by NTP.
func (w *World) SkewClock(id NodeID, d time.Duration) {
	s := w.nodes[id]
	s.clockHigh = max(s.clockHigh, s.clock.local(w.now))
	s.clock = nodeClock{rate: s.clock.rate, anchorReal: w.now, anchorLocal: s.clock.local(w.now).Add(d)}
	w.rearmTimers(s)
	w.tr.begin(w.now, "clock-skew", id, None)
	w.tr.line = append(w.tr.line, d.String()...)
	w.tr.end()
}

// LocalTime returns node id's clock reading now.
func (w *World) LocalTime(id NodeID) Time { return w.nodes[id].clock.local(w.now) }

// ClockBehind returns how far node id's clock reads behind the furthest it
// read before it was stepped back (SkewClock with a negative step), on that
// clock; 0 once it has caught up. Until then the timers it set before the
// step wait: a leader stepped back is silent that long, whatever heals.
func (w *World) ClockBehind(id NodeID) time.Duration {
	s := w.nodes[id]
	return max(0, s.clockHigh.Sub(s.clock.local(w.now)))
}

// SetDiskFaults sets how node id's disk misbehaves from now on.
func (w *World) SetDiskFaults(id NodeID, f DiskFaults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s := w.nodes[id]
	if s.disk == nil {
		return fmt.Errorf("node %v has no disk", id)
	}
	s.diskFaults = f
	w.tr.begin(w.now, "disk-faults", id, None)
	w.tr.line = fmt.Appendf(w.tr.line, "torn=%t sync=%v..%v", f.TornWrites, f.SyncLatencyMin, f.SyncLatencyMax)
	if f.ReorderedWrites { // only then, so that the lines of runs without it stay as they were
		w.tr.line = append(w.tr.line, " reordered"...)
	}
	w.tr.end()
	return nil
}

// CorruptDisk flips one bit of one durable record of node id, chosen with the
// "disk" stream, and returns its key. A protocol must notice (checksums) and
// recover as from a lost record, never use the bad bytes. It reports false if
// the disk holds no non-empty record.
func (w *World) CorruptDisk(id NodeID) (string, bool) {
	d := w.nodes[id].disk
	if d == nil {
		return "", false
	}
	key, ok := d.corrupt(w.Stream("disk"))
	if ok {
		w.tr.begin(w.now, "corrupt", id, None)
		w.tr.line = append(w.tr.line, key...)
		w.tr.end()
	}
	return key, ok
}

// slowSync blocks node s after a handler that synced on a slow disk, and
// returns how late its sends leave.
func (w *World) slowSync(s *nodeSlot, syncsBefore uint64) time.Duration {
	f := s.diskFaults
	if f.SyncLatencyMax == 0 || s.disk.syncCount() == syncsBefore {
		return 0
	}
	d := w.Stream("disk").DurationBetween(f.SyncLatencyMin, f.SyncLatencyMax)
	if d == 0 {
		return 0
	}
	s.busyUntil = w.now.Add(d)
	s.stalled += s.clock.local(s.busyUntil).Sub(s.clock.local(w.now))
	w.q.push(event{at: s.busyUntil, kind: evWake, node: s.id, from: None})
	return d
}

// buggify implements Env.Buggify for node s.
func (w *World) buggify(s *nodeSlot, site string) bool {
	if w.cfg.Buggify <= 0 || w.calm {
		return false
	}
	on, known := w.sites[site]
	if !known {
		on = w.streams.Stream("buggify/site/" + site).Chance(w.cfg.Buggify)
		w.sites[site] = on
	}
	if !on {
		return false
	}
	if s.buggify == nil {
		s.buggify = w.streams.Stream(fmt.Sprintf("buggify/node/%d", s.id))
	}
	if !s.buggify.Chance(0.25) {
		return false
	}
	w.tr.begin(w.now, "buggify", s.id, None)
	w.tr.line = append(w.tr.line, site...)
	w.tr.end()
	return true
}

// QuietCode turns every code-level fault point off for the rest of the run:
// Env.Buggify answers false from now on, and draws nothing. A run that
// heals its faults to see whether the protocol converges heals these too,
// as FoundationDB's simulator stops BUGGIFY once it quiesces: a leader
// that skips heartbeat rounds on purpose is deposed on purpose.
func (w *World) QuietCode() { w.calm = true }

// BuggifySites returns the fault points asked about so far and whether each
// is enabled, sorted by name.
func (w *World) BuggifySites() []string {
	out := make([]string, 0, len(w.sites))
	for _, site := range slices.Sorted(maps.Keys(w.sites)) {
		if w.sites[site] {
			out = append(out, site+"=on")
		} else {
			out = append(out, site+"=off")
		}
	}
	return out
}

func (e *nodeEnv) Buggify(site string) bool { return e.w.buggify(e.slot, site) }
