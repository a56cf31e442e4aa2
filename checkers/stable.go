package checkers

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/sim"
)

// NameStableLeader is the stable-leader check, as scenario files list it.
const NameStableLeader = names.StableLeader

// JudgedAfterPhase reports whether the check named name is judged at the
// end of the liveness phase (liveness, stable-leader), not per observation.
func JudgedAfterPhase(name string) bool { return name == NameLiveness || name == NameStableLeader }

// Elections is how many times a leader of a term higher than any before was
// announced, successions left out: a leader elected because a committed
// configuration removed the one before (thesis §4.2.2: a leader that
// removes itself steps down once the change commits). A change the faults
// started may commit only after the cluster converged, and the election it
// calls for is not a deposed leader.
func (p *Progress) Elections() int { return p.elections }

// ExcuseAskedElection excuses the next election, if one comes: asker, a
// correct member, had asked for a leader of term, above the current
// leader's, before the quiet window began, and was still asking. A
// protocol may rightly grant such a request once one more server joins it:
// a PBFT replica left in a view change when the faults healed never goes
// back to the view the others kept (§4.5.2), and the next replica that asks
// for a later view, a Byzantine one included, makes the f+1 that move
// everyone. A server that asks again and again still shows: only one
// election is excused.
func (p *Progress) ExcuseAskedElection(asker sim.NodeID, term uint64) {
	p.asked = askedElection{asker: asker, term: term, pending: true}
}

// askedElection is the election ExcuseAskedElection excuses.
type askedElection struct {
	asker            sim.NodeID
	term             uint64
	pending, excused bool
}

// countElection counts the announcement of a leader of a new term.
func (p *Progress) countElection() {
	if p.asked.pending && !p.succession {
		p.asked.pending, p.asked.excused = false, true
		return
	}
	if !p.succession {
		p.elections++
	}
	p.succession = false
}

// observeConfig notes a committed configuration newer than any before: one
// that is not joint and leaves the current leader out makes the next
// election a succession.
func (p *Progress) observeConfig(o sim.Observation) {
	if o.Index <= p.configIndex {
		return
	}
	p.configIndex = o.Index
	voters := sim.Members(o.Digest)
	if o.Outgoing == 0 && p.leader != sim.None && !voters.Has(p.leader) {
		p.succession = true
	}
}

// JudgeStableLeader decides the stable-leader check: once the liveness phase
// converged, the cluster ran on for quiet with every fault healed, and
// elections is how many leaders of new terms were announced meanwhile. A
// healthy cluster has no reason to elect anyone: a new leader there means
// something keeps deposing them (a removed server campaigning with ever
// higher terms, thesis §4.2.3; a timeout shorter than a round trip).
func (p *Progress) JudgeStableLeader(elections int, quiet time.Duration) LivenessReport {
	switch {
	case elections == 0 && p.asked.excused:
		return LivenessReport{Verdict: Pass, Detail: fmt.Sprintf("leader %v of term %d kept it for the rest of the %v after converging; "+
			"its election was excused: %v had asked for term %d before the window began", p.leader, p.term, quiet, p.asked.asker, p.asked.term)}
	case elections == 0:
		return LivenessReport{Verdict: Pass, Detail: fmt.Sprintf("leader %v kept term %d for %v after converging", p.leader, p.term, quiet)}
	}
	return LivenessReport{Verdict: Fail, Detail: fmt.Sprintf(
		"%d leaders elected in the %v after the healed cluster converged (last %v in term %d): something keeps deposing them",
		elections, quiet, p.leader, p.term)}
}
