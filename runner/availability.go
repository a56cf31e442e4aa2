package runner

import (
	"slices"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/sim"
)

// The availability checks (checkers.NameStaleLeader, checkers.NameProgress,
// checkers.NameIsolatedLeader) need more than what servers announce: what
// terms each server saw and which leader messages it sent, from the
// protocol's sim.Termed messages, and whether a majority of servers is up
// and connected. The runner reads both from the world's message hook
// (sim.World.OnMessage), which neither traces nor changes anything: listing
// these checks never changes a seed's trace.

// healthSample is how often, in virtual time, the progress check samples
// the servers' health: at most once per message hook call, at least this
// far apart.
const healthSample = 20 * time.Millisecond

// availability is the runner's side of the availability checks.
type availability struct {
	r          *run
	stale      bool                    // stale-leader is listed
	check      *checkers.ProgressCheck // progress is listed
	isolated   *checkers.IsolatedLeaderCheck
	nextSample sim.Time
	leads      int  // leader messages seen (stale-leader judged something)
	healthy    bool // a healthy majority was seen (progress judged something)
	stopped    bool
	// core is the healthy majority the progress check watches: the servers
	// healthy at every sample since it began, each in the incarnation it
	// had then (coreInc, by position).
	core    []sim.NodeID
	coreInc []uint64
	reached []sim.NodeID // reach's scratch: the servers reached now
	recent  []sim.NodeID // and those reached within the quorum window
	// leader is the server last announced leader (sim.ObsLeader), since
	// when, and whether it was up and running at the last sample.
	leader      sim.NodeID
	leaderSince sim.Time
	leaderUp    bool
	leaderInc   uint64 // the incarnation that announced it
	// heard marks, per server, the servers a message arrived from since
	// reach last looked at it (heard[to][from]): a late answer, sent
	// before a cut or a crash, still tells the leader that a server was
	// there (isolated-leader).
	heard [][]bool
	// spoke holds, per server link (from*n+to), the last time from sent to
	// a message while the two could reach each other both ways, or -1:
	// what arrives after they were cut apart counts as heard only if it
	// was sent by then (isolated-leader).
	spoke []sim.Time
	// took holds, per server, the last message it was delivered: from
	// whom, when, and whether its sender sent it while the two could reach
	// each other. A message the server sends back in that step, at that
	// instant, answers it, and counts as spoken even on the open way of a
	// link cut since: a server held by slow syncs or a pause takes and
	// answers the leader's messages late, and the leader rightly counts the
	// answers (isolated-leader).
	took []delivery
	// reachedAt holds, per server link (leader*n+peer), the leader's clock
	// when reach last found the peer reached, or -1: within the protocol's
	// quorum window (Servers.QuorumWindow) it still counts (isolated-leader).
	reachedAt []sim.Time
	// haltedAt holds, per server, one more than the incarnation in which it
	// announced its storage beyond repair (sim.ObsHalt); 0 if it has not.
	haltedAt []uint64
	// impairedAt holds, per server, one more than the incarnation in which
	// it announced that it lost state it may have acknowledged
	// (sim.ObsImpaired) and has not announced its repair since; 0 if none.
	impairedAt []uint64
}

// attachAvailability hooks the world's messages if the scenario lists an
// availability check.
func (r *run) attachAvailability(invs []checkers.Invariant) {
	r.avail.r = r
	for _, inv := range invs {
		switch c := inv.(type) {
		case *checkers.ProgressCheck:
			c.CoverWait(r.backoff)
			r.avail.check = c
		case *checkers.IsolatedLeaderCheck:
			c.Watch(r.stepDown, r.window, r.avail.reach)
			r.avail.isolated = c
		default:
			r.avail.stale = r.avail.stale || inv.Name() == checkers.NameStaleLeader
		}
	}
	if r.avail.stale || r.avail.check != nil || r.avail.isolated != nil {
		r.world.OnMessage(r.avail.onMessage)
	}
	if r.avail.check != nil {
		r.avail.leader = sim.None
		r.world.OnObservation(r.avail.announced)
	}
}

// announced follows the leader the servers announce, for leaderStruck, and
// the servers that halt or are impaired, which healthyMajority leaves out.
func (a *availability) announced(o sim.Observation) {
	if !a.correctServer(o.Node) {
		return
	}
	switch o.Kind {
	case sim.ObsLeader:
		a.leader, a.leaderSince, a.leaderUp = o.Node, a.r.world.Now(), true
		a.leaderInc = a.r.world.Incarnation(o.Node)
	case sim.ObsHalt:
		a.mark(&a.haltedAt, o.Node, true)
	case sim.ObsImpaired, sim.ObsRepaired:
		a.mark(&a.impairedAt, o.Node, o.Kind == sim.ObsImpaired)
	}
}

// mark sets (or clears) server id's entry in a per-incarnation table such as
// haltedAt: one more than its current incarnation.
func (a *availability) mark(table *[]uint64, id sim.NodeID, set bool) {
	if *table == nil {
		*table = make([]uint64, len(a.r.world.Servers()))
	}
	(*table)[id] = 0
	if set {
		(*table)[id] = a.r.world.Incarnation(id) + 1
	}
}

// inThisIncarnation reports whether server id's entry in table was set in
// its current incarnation: a restart forgets it.
func (a *availability) inThisIncarnation(table []uint64, id sim.NodeID) bool {
	return int(id) < len(table) && table[id] == a.r.world.Incarnation(id)+1
}

// halted reports whether server id halted in its current incarnation: it
// is up as far as the kernel knows, but stays out of everything (its
// storage is beyond repair), so it is no part of a majority that can
// make progress.
func (a *availability) halted(id sim.NodeID) bool { return a.inThisIncarnation(a.haltedAt, id) }

// impaired reports whether server id lost, in its current incarnation,
// state it may have acknowledged and still misses it (sim.ObsImpaired): it
// may be no help electing a leader (a Raft server withholds its vote from
// candidates that lack what it lost, which the servers up may all lack; a
// Paxos acceptor neither promises nor accepts until it rejoins). A swarm
// run once stalled three correct Raft servers for seconds, the one that
// had acknowledged the latest entries having lost them, and the leader that
// held them down.
func (a *availability) impaired(id sim.NodeID) bool { return a.inThisIncarnation(a.impairedAt, id) }

// leaderStruck reports whether the announced leader went down or was
// paused since the last sample, before it had led for a tenth of the
// progress bound. The progress check's wait then starts again: a fault that
// strikes each leader as soon as it is elected (a pause aimed at the leader
// every 10ms) stalls any protocol with a leader, and is no stall of the
// majority's making. A leader that led longer had its chance to commit, so
// a cluster that elects leaders but never commits under any of them still
// trips the check, as does a majority that fails to replace a leader struck
// once.
func (a *availability) leaderStruck() bool {
	if a.leader == sim.None {
		return false
	}
	w := a.r.world
	up := w.Up(a.leader) && !w.Paused(a.leader)
	struck := a.leaderUp && !up && w.Now().Sub(a.leaderSince) < a.check.Bound/10
	a.leaderUp = up
	return struck
}

// stop ends the progress check's watch with the safety phase.
func (a *availability) stop() {
	a.stopped = true
	if a.check != nil {
		a.check.Stop()
	}
}

func (a *availability) onMessage(ev sim.MessageEvent) {
	w := a.r.world
	if a.stale || a.isolated != nil {
		a.termed(ev)
	}
	if a.isolated != nil {
		a.arrived(ev)
	}
	if a.check != nil && !a.stopped && w.Now() >= a.nextSample {
		a.nextSample = w.Now().Add(healthSample)
		majority := a.healthyMajority()
		a.healthy = a.healthy || majority != nil
		struck := a.leaderStruck()
		if !a.steady(majority) || struck {
			a.check.Healthy(w.Now(), nil) // the majority watched so far broke up, or lost its new leader
		}
		a.check.Healthy(w.Now(), a.core)
		a.r.monitor.Tick(w.Now(), w.Events())
	}
}

// termed turns a Termed message into what the stale-leader check reads: the
// receiver saw its term (sim.ObsTerm), or the sender acted as the leader of
// its term (sim.ObsLead), numbered with the server's incarnation. A vote
// request (sim.VoteRequest) received is not a term seen.
func (a *availability) termed(ev sim.MessageEvent) {
	t, ok := ev.Msg.(sim.Termed)
	if !ok {
		return
	}
	if _, vote := ev.Msg.(sim.VoteRequest); vote && !ev.Sent {
		return // a candidate's term may rightly be disregarded (thesis §4.2.3)
	}
	term, leader := t.MessageTerm()
	o := sim.Observation{Kind: sim.ObsTerm, Node: ev.To, Term: term}
	if ev.Sent {
		if !leader {
			return
		}
		o.Kind, o.Node = sim.ObsLead, ev.From
	}
	if !a.correctServer(o.Node) {
		return
	}
	if o.Kind == sim.ObsLead {
		a.leads++
	}
	w := a.r.world
	o.Index = w.Incarnation(o.Node)
	a.r.monitor.Observe(w.Now(), w.Events(), o)
}

// correctServer reports whether id is a server that is not Byzantine.
func (a *availability) correctServer(id sim.NodeID) bool {
	return int(id) >= 0 && int(id) < len(a.r.world.Servers()) && !a.r.byzantineServer(id)
}

// healthyMajority returns a majority of the members (of each half of a
// joint configuration; for a Byzantine-fault-tolerant protocol, a quorum of
// correct servers: enough) that are up, not paused, not halted, and whose
// links to each other are neither cut nor clogged either way, or nil if
// there is none. An impaired server (sim.ObsImpaired) counts only beside
// the last announced leader, which can repair it (repairerIn): without one
// it may be no help electing one. It starts from every running member and
// drops the one with the most broken links until the rest are connected:
// greedy, so it may miss a majority in some shapes, which only makes the
// check ask less.
func (a *availability) healthyMajority() []sim.NodeID {
	w := a.r.world
	var set []sim.NodeID
	for _, id := range a.r.config.healthMembers(w.Servers()) {
		if w.Up(id) && !w.Paused(id) && a.correctServer(id) && !a.halted(id) {
			set = append(set, id)
		}
	}
	set = a.connected(set)
	if set != nil && !a.repairerIn(set) && slices.ContainsFunc(set, a.impaired) {
		set = a.connected(slices.DeleteFunc(set, a.impaired)) // no leader among them to repair them
	}
	return set
}

// repairerIn reports whether set holds the announced leader, still in the
// incarnation that announced it and not impaired itself: a leader that can
// bring an impaired server back. One that restarted is a follower again,
// and an impaired one does not campaign.
func (a *availability) repairerIn(set []sim.NodeID) bool {
	return slices.Contains(set, a.leader) && a.r.world.Incarnation(a.leader) == a.leaderInc && !a.impaired(a.leader)
}

// connected drops from set the server with the most broken links until the
// rest are connected both ways, and returns them if they are still enough
// to make progress, or nil.
func (a *availability) connected(set []sim.NodeID) []sim.NodeID {
	for a.enough(set) {
		worst, most := -1, 0
		for i, x := range set {
			broken := 0
			for _, y := range set {
				if x != y && (a.broken(x, y) || a.broken(y, x)) {
					broken++
				}
			}
			if broken > most {
				worst, most = i, broken
			}
		}
		if worst < 0 {
			return set
		}
		set = slices.Delete(set, worst, worst+1)
	}
	return nil
}

// enough reports whether set can make progress: a majority of the members
// (of each half of a joint configuration) for a crash-fault protocol; for
// a Byzantine-fault-tolerant one (Servers.Tolerates f), a quorum of n - f
// servers, all correct (healthyMajority leaves the Byzantine ones out): a
// bare majority of 3f+1 cannot commit.
func (a *availability) enough(set []sim.NodeID) bool {
	n := len(a.r.world.Servers())
	if a.r.tolerates > 0 {
		return len(set) >= n-a.r.tolerates
	}
	return a.r.config.hasMajority(set, n)
}

// broken reports whether the link from -> to fails the servers: severed,
// or set by a fault to other settings than the run's network has (a loss
// rate, a latency spike: a majority behind such links may rightly take
// longer than the check's bound to agree on anything).
func (a *availability) broken(from, to sim.NodeID) bool {
	return a.severed(from, to) || a.r.world.Link(from, to) != a.r.world.DefaultLink()
}

// arrived notes, for a message sent, whether its sender and receiver could
// reach each other both ways then (spoke), and, for one delivered while they
// cannot, whether it was sent while they could: an answer the leader
// rightly counts (heard). A message sent on a link that is open while the
// way back is cut is no answer, however the leader takes it: its sender
// hears nothing from the leader.
func (a *availability) arrived(ev sim.MessageEvent) {
	w := a.r.world
	n := len(w.Servers())
	if int(ev.From) >= n || int(ev.To) >= n {
		return // a client's
	}
	if a.spoke == nil {
		a.spoke = slices.Repeat([]sim.Time{-1}, n*n)
	}
	if a.took == nil {
		a.took = make([]delivery, n)
	}
	link := int(ev.From)*n + int(ev.To)
	connected := w.Up(ev.From) && !w.Paused(ev.From) && !a.severed(ev.From, ev.To) && !a.severed(ev.To, ev.From)
	switch {
	case ev.Sent:
		if connected || a.took[ev.From].answeredBy(ev) {
			a.spoke[link] = ev.SentAt
		}
		return
	default:
		a.took[ev.To] = delivery{from: ev.From, at: w.Now(), spoken: ev.SentAt <= a.spoke[link]}
	}
	if connected || ev.SentAt > a.spoke[link] {
		return // reach sees the first; the second was sent after they were cut apart
	}
	if a.heard == nil {
		a.heard = make([][]bool, n)
		for i := range a.heard {
			a.heard[i] = make([]bool, n)
		}
	}
	a.heard[ev.To][ev.From] = true
}

// delivery is a message a server was delivered (availability.took).
type delivery struct {
	from   sim.NodeID
	at     sim.Time
	spoken bool // sent while the two could reach each other
}

// answeredBy reports whether ev, a message sent, answers the delivery: it
// goes back to the delivery's sender at the instant of the delivery (the
// step that took it), and that message was sent while the two could reach
// each other.
func (d delivery) answeredBy(ev sim.MessageEvent) bool {
	return d.spoken && d.from == ev.To && d.at == ev.SentAt
}

// reach says where server id stands, for the isolated-leader check: its
// clock, how long it was held, and whether it is cut off from a majority.
// A server it cannot reach is down or paused, or a link between them is cut
// or clogged either way; a lossy or slow link still reaches, and so does a
// server whose late message reached id since reach last looked (an answer
// sent before a cut or a crash and delivered after it, which a leader
// rightly counts: thesis §6.2 asks only that it heard from a majority
// within an election timeout). While no member of the latest configuration
// has announced it, which majority counts is not clear, and no server is
// cut off.
func (a *availability) reach(id sim.NodeID) checkers.LeaderReach {
	w := a.r.world
	r := checkers.LeaderReach{Clock: w.LocalTime(id), Stalled: w.Stalled(id)}
	var heard []bool
	if int(id) < len(a.heard) {
		heard = a.heard[id]
		defer clear(heard)
	}
	if !a.r.config.knownToMembers() {
		return r
	}
	reached, recent := a.reached[:0], a.recent[:0]
	for _, p := range a.r.config.healthMembers(w.Servers()) {
		now := p == id || w.Up(p) && !w.Paused(p) && !a.severed(id, p) && !a.severed(p, id) || heard != nil && heard[p]
		if now {
			reached = append(reached, p)
		}
		if a.reachedWithin(id, p, now, r.Clock) {
			recent = append(recent, p)
		}
	}
	a.reached, a.recent = reached, recent
	n := len(w.Servers())
	r.Alone, r.CutOff = !a.r.config.hasMajority(reached, n), !a.r.config.hasMajority(recent, n)
	return r
}

// reachedWithin notes, for leader id at its clock reading clock, whether it
// reaches peer p now, and reports whether it reached p now or within the
// protocol's quorum window before (Servers.QuorumWindow).
func (a *availability) reachedWithin(id, p sim.NodeID, now bool, clock sim.Time) bool {
	if a.r.window <= 0 {
		return now
	}
	n := len(a.r.world.Servers())
	if a.reachedAt == nil {
		a.reachedAt = slices.Repeat([]sim.Time{-1}, n*n)
	}
	link := int(id)*n + int(p)
	if now {
		a.reachedAt[link] = clock
		return true
	}
	last := a.reachedAt[link]
	return last >= 0 && clock.Sub(last) < a.r.window
}

// severed reports whether the link from -> to delivers nothing for now.
func (a *availability) severed(from, to sim.NodeID) bool {
	return a.r.world.IsCut(from, to) || a.r.world.IsClogged(from, to)
}

// steady narrows the watched core to the servers of majority still in the
// incarnation they had when the core began, and reports whether it still
// holds a majority; when it does not, the core starts again as majority (nil
// for none). A majority healthy at every sample but made of other servers
// each time (servers crashing and restarting in turn) is not a cluster that
// could have made progress all along.
func (a *availability) steady(majority []sim.NodeID) bool {
	w := a.r.world
	if a.core != nil {
		kept := 0 // filtered in place: this runs at every health sample
		for i, id := range a.core {
			if slices.Contains(majority, id) && w.Incarnation(id) == a.coreInc[i] {
				a.core[kept], a.coreInc[kept] = id, a.coreInc[i]
				kept++
			}
		}
		a.core, a.coreInc = a.core[:kept], a.coreInc[:kept]
		if a.enough(a.core) {
			return true
		}
	}
	a.core, a.coreInc = majority, a.coreInc[:0]
	for _, id := range majority {
		a.coreInc = append(a.coreInc, w.Incarnation(id))
	}
	return false
}

// violationClass classifies the invariants' violations: a safety
// violation, or, when only the availability checks failed, a liveness one
// (nothing wrong was decided; something that should have happened did not).
func violationClass(vs []*checkers.Violation) (Class, string) {
	for _, v := range vs {
		if v.Checker != checkers.NameStaleLeader && v.Checker != checkers.NameProgress && v.Checker != checkers.NameIsolatedLeader {
			return Safety, v.Error()
		}
	}
	return Liveness, vs[0].Error()
}

// vacuity lists why the availability checks judged nothing: no leader
// message of a Termed protocol, or never a healthy majority.
func (a *availability) vacuity(rep *Report) []string {
	var why []string
	if a.stale && a.leads == 0 {
		why = append(why, checkers.NameStaleLeader+" judged nothing: no server sent a leader's message (sim.Termed)")
		markVacuous(rep, checkers.NameStaleLeader)
	}
	if a.isolated != nil && !a.isolated.Judged() {
		why = append(why, checkers.NameIsolatedLeader+" judged nothing: no leader was cut off from a majority")
		markVacuous(rep, checkers.NameIsolatedLeader)
	}
	if a.check != nil && !a.healthy {
		why = append(why, checkers.NameProgress+" judged nothing: a majority of the servers was never up and connected")
		markVacuous(rep, checkers.NameProgress)
	}
	return why
}
