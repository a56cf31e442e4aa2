package runner

import (
	"github.com/simrun/simrun/sim"
)

// Asks for a new leader, for the stable-leader check. A server that sends a
// vote request (sim.VoteRequest: a Raft candidate's, a pre-vote's, a PBFT
// replica's view change) asks for a leader of the term it carries. One
// still asking when the quiet window begins, for a term above the current
// leader's, may rightly be granted it (checkers.Progress.ExcuseAskedElection).

// ask is a server's latest request for a new leader: the term it asked for
// and the incarnation that asked (a restart forgets it).
type ask struct {
	term, inc uint64
	set       bool
}

// watchAsks follows the correct servers' vote requests as they are sent.
func (r *run) watchAsks() {
	r.asks = make([]ask, len(r.world.Servers()))
	r.world.OnMessage(func(ev sim.MessageEvent) {
		req, ok := ev.Msg.(sim.VoteRequest)
		if !ok || !ev.Sent || !r.avail.correctServer(ev.From) {
			return
		}
		term, _ := req.MessageTerm()
		r.asks[ev.From] = ask{term: term, inc: r.world.Incarnation(ev.From), set: true}
	})
}

// excuseAskedElection tells the stable-leader check, as its window begins,
// of a correct member up and still asking for a term above the leader's:
// the first, by ID.
func (r *run) excuseAskedElection() {
	_, term, _ := r.progress.Leader()
	for _, id := range r.correctServers() {
		a := r.asks[id]
		if a.set && a.inc == r.world.Incarnation(id) && a.term > term {
			r.progress.ExcuseAskedElection(id, a.term)
			return
		}
	}
}
