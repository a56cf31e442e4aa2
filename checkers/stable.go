package checkers

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/checkers/names"
)

// NameStableLeader is the stable-leader check, as scenario files list it.
const NameStableLeader = names.StableLeader

// JudgedAfterPhase reports whether the check named name is judged at the
// end of the liveness phase (liveness, stable-leader), not per observation.
func JudgedAfterPhase(name string) bool { return name == NameLiveness || name == NameStableLeader }

// Elections is how many times a leader of a term higher than any before was
// announced.
func (p *Progress) Elections() int { return p.elections }

// JudgeStableLeader decides the stable-leader check: once the liveness phase
// converged, the cluster ran on for quiet with every fault healed, and
// elections is how many leaders of new terms were announced meanwhile. A
// healthy cluster has no reason to elect anyone: a new leader there means
// something keeps deposing them (a removed server campaigning with ever
// higher terms, thesis §4.2.3; a timeout shorter than a round trip).
func (p *Progress) JudgeStableLeader(elections int, quiet time.Duration) LivenessReport {
	if elections == 0 {
		return LivenessReport{Verdict: Pass, Detail: fmt.Sprintf("leader %v kept term %d for %v after converging", p.leader, p.term, quiet)}
	}
	return LivenessReport{Verdict: Fail, Detail: fmt.Sprintf(
		"%d leaders elected in the %v after the healed cluster converged (last %v in term %d): something keeps deposing them",
		elections, quiet, p.leader, p.term)}
}
