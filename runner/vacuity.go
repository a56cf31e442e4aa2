package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/sim"
)

// Vacuity. The checkers judge what servers announce (sim.Observation) and
// what clients saw. A protocol that announces nothing passes every invariant
// trivially: agreement over no commits, one leader per term over no leaders,
// liveness over no applies. A run whose checks had nothing to judge is
// therefore its own class, Vacuous, never a pass: for the shipped protocols
// it means a broken run, for a user's protocol usually a missing Observe
// call (docs/PROTOCOLS.md says which observations each check needs).

// Announced counts what the servers announced during a run.
type Announced struct {
	Leaders int `json:"leaders"`
	Commits int `json:"commits"`
	Applies int `json:"applies"`
	Configs int `json:"configs,omitempty"`
}

// leadership is one server's leadership of one term. Two servers leading
// one term count twice: the one-leader-per-term check reports that.
type leadership struct {
	node sim.NodeID
	term uint64
}

// count follows the servers' announcements; clients observe calls and
// returns, which the history checks judge. Of a Byzantine server only the
// leaderships count: a Byzantine primary never replaced leads a real view
// (the faults aimed at the leader strike it), but what it says it
// committed or applied is no evidence, and the checkers judge the correct
// servers' alone: a cluster of Byzantine servers only is vacuous.
func (r *run) count(o sim.Observation) {
	if int(o.Node) >= len(r.world.Servers()) { // servers come first: 0..n-1
		return
	}
	if o.Kind != sim.ObsLeader && r.byzantineServer(o.Node) {
		return
	}
	switch o.Kind {
	case sim.ObsLeader:
		r.seen.Leaders++
		if r.leaders == nil {
			r.leaders = map[leadership]struct{}{}
		}
		r.leaders[leadership{o.Node, o.Term}] = struct{}{}
	case sim.ObsCommit:
		r.seen.Commits++
		if o.Digest != 0 {
			r.digested++
		}
	case sim.ObsApply:
		r.seen.Applies++
		if o.Digest != 0 || o.Result != 0 {
			r.digested++
		}
	case sim.ObsConfig:
		r.seen.Configs++
	}
}

// writesMemberSteps reports whether the scenario's own timeline changes the
// membership, with no swarm on top: a run of it that announced no
// configuration missed its point. (A swarm's changes, and the written ones
// under a swarm's other faults, may all be cut short: a leader isolated
// every second never gets a learner caught up. A swarm seed's exported
// scenario writes the drawn steps out, marked Drawn, and is judged alike.)
func (r *run) writesMemberSteps() bool {
	return len(r.swarm.Steps) == 0 &&
		!slices.ContainsFunc(r.sc.Faults, func(s faults.Step) bool { return s.Drawn }) &&
		slices.ContainsFunc(r.sc.Faults, func(s faults.Step) bool { return s.Member != nil })
}

// checkVacuity turns a pass whose checks judged nothing into Vacuous, with
// every reason in one line.
func (r *run) checkVacuity(rep *Report) {
	if rep.Class != Pass {
		return
	}
	if why := r.vacuity(rep); len(why) > 0 {
		rep.Class, rep.Reason = Vacuous, strings.Join(why, "; ")
	}
}

// markVacuous shows, in the check's own line, that it judged nothing. A
// liveness phase that judged nothing converged on nothing: the report says
// no convergence time either.
func markVacuous(rep *Report, check string) {
	if check == checkers.NameLiveness {
		rep.ConvergedAfter = 0
	}
	for i := range rep.Checks {
		if rep.Checks[i].Name == check {
			rep.Checks[i].Verdict, rep.Checks[i].Detail = string(Vacuous), "nothing to judge"
		}
	}
}

// vacuity lists why the run's checks had nothing to judge.
func (r *run) vacuity(rep *Report) []string {
	var why []string
	needs := []struct {
		check string
		seen  int
		what  string
	}{
		{checkers.NameAgreement, r.seen.Commits, "a commit (sim.ObsCommit)"},
		{checkers.NameOneLeaderPerTerm, r.seen.Leaders, "a leader (sim.ObsLeader)"},
		{checkers.NameLiveness, r.seen.Applies, "an apply (sim.ObsApply)"},
	}
	for _, n := range needs {
		servers := "server"
		if len(r.byzantine) > 0 && n.check != checkers.NameOneLeaderPerTerm {
			servers = "correct server" // a Byzantine server's commits and applies are not judged
		}
		if r.sc.HasCheck(n.check) && n.seen == 0 {
			why = append(why, fmt.Sprintf("%s judged nothing: no %s announced %s", n.check, servers, n.what))
			markVacuous(rep, n.check)
		}
	}
	if r.sc.HasCheck(checkers.NameAgreement) && r.seen.Commits > 0 && r.digested == 0 {
		// Commits and applies that all carry digest 0 (and no result) all
		// agree, whatever was committed.
		why = append(why, fmt.Sprintf("%s judged nothing: all %d commits were announced with digest 0 (sim.Observation.Digest: the command's service.Command.Digest)",
			checkers.NameAgreement, r.seen.Commits))
		markVacuous(rep, checkers.NameAgreement)
	}
	if len(rep.Checks) == 0 {
		why = append(why, "no check judged the run (checks: [] asks for none)")
	}
	why = append(why, r.avail.vacuity(rep)...)
	if calls := rep.Ops.OK + rep.Ops.Failed + rep.Ops.Unknown; r.sc.Workload.Clients > 0 && rep.Ops.OK == 0 {
		why = append(why, fmt.Sprintf("no client operation succeeded (%d called)", calls))
	}
	if changes := r.faults.Counts().MemberChanges; changes > 0 && r.seen.Configs == 0 && r.writesMemberSteps() {
		why = append(why, fmt.Sprintf("the leader took %d membership changes, but no server announced a configuration (sim.ObsConfig)", changes))
	}
	if misses := r.faults.Counts().LeaderMisses; misses > 0 && r.seen.Leaders == 0 {
		why = append(why, fmt.Sprintf("%d faults aimed at the leader struck a random server: no leader was ever announced", misses))
	}
	return why
}
