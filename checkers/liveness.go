package checkers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/sim"
)

// NameLiveness is the liveness check, as scenario files list it.
const NameLiveness = names.Liveness

// Progress follows what the servers apply and who leads, for the liveness
// phase: after the faults heal, every correct server must converge on the
// same applied log prefix and every client's final operation must return.
// It reads observations only, so it serves every protocol.
type Progress struct {
	nodes     []nodeProgress // by node ID: a slice, as every apply of a run updates it
	committed uint64         // highest index any node saw committed
	leader    sim.NodeID     // latest leader, by term
	term      uint64
	leaderAt  sim.Time
	ignore    []sim.NodeID // Byzantine servers: their claims are not evidence
	elections int          // leaders announced of a term higher than any before, but successions
	// succession: the latest committed configuration (configIndex) left the
	// leader out, so the next leader succeeds one that had to step down.
	configIndex uint64
	succession  bool
	asked       askedElection // see ExcuseAskedElection
	// incarnation is each node's current instance (Attach: the world's):
	// what an earlier instance applied died with it, and its restart must
	// apply again (or announce the snapshot it restored).
	incarnation func(sim.NodeID) uint64
}

// nodeProgress is what Progress knows of one node.
type nodeProgress struct {
	applied uint64 // the last index it applied
	inc     uint64 // the incarnation that applied it
	halted  bool   // it announced its storage beyond repair (and applied nothing since)
}

// NewProgress returns an empty tracker that ignores the observations of the
// given (Byzantine) servers.
func NewProgress(byzantine ...sim.NodeID) *Progress {
	return &Progress{leader: sim.None, ignore: slices.Clone(byzantine)}
}

// of returns id's record, the zero record for a node never heard of.
func (p *Progress) of(id sim.NodeID) nodeProgress {
	if id < 0 || int(id) >= len(p.nodes) {
		return nodeProgress{}
	}
	return p.nodes[id]
}

// Attach registers p with w's observations.
func (p *Progress) Attach(w *sim.World) {
	w.OnObservation(func(o sim.Observation) { p.Observe(w.Now(), o) })
	p.incarnation = w.Incarnation
}

// Observe records one observation made at time at.
func (p *Progress) Observe(at sim.Time, o sim.Observation) {
	if o.Node < 0 || slices.Contains(p.ignore, o.Node) {
		return // the kernel names the observing node: never None
	}
	switch o.Kind {
	case sim.ObsHalt:
		nodeSlot(&p.nodes, o.Node).halted = true
	case sim.ObsApply:
		// Working again; a restarted node re-applies from its start.
		*nodeSlot(&p.nodes, o.Node) = nodeProgress{applied: o.Index, inc: uint64(o.Incarnation)}
	case sim.ObsCommit:
		p.committed = max(p.committed, o.Index)
	case sim.ObsLeader:
		if o.Term > p.term {
			p.countElection()
		}
		if o.Term >= p.term {
			p.leader, p.term, p.leaderAt = o.Node, o.Term, at
		}
	case sim.ObsConfig:
		p.observeConfig(o)
	}
}

// Leader returns the latest leader, its term and when it was elected.
func (p *Progress) Leader() (sim.NodeID, uint64, sim.Time) { return p.leader, p.term, p.leaderAt }

// Lagging lists, in the order given, the correct nodes that have not applied
// everything committed so far, as "n2 at 40/57". Empty means converged. A
// node that halted (ObsHalt: its storage is beyond repair) is faulty, not
// correct, and is not waited for.
func (p *Progress) Lagging(correct []sim.NodeID) []string {
	var behind []string
	for _, id := range correct {
		n := p.of(id)
		if n.halted {
			continue
		}
		switch {
		case p.incarnation != nil && n.applied > 0 && n.inc != p.incarnation(id):
			behind = append(behind, fmt.Sprintf("%v at 0/%d (restarted since it applied %d)", id, p.committed, n.applied))
		case n.applied < p.committed:
			behind = append(behind, fmt.Sprintf("%v at %d/%d", id, n.applied, p.committed))
		}
	}
	return behind
}

// clientNames names clients as the history and Porcupine's view do: c0, c1.
func clientNames(clients []int) string {
	names := make([]string, len(clients))
	for i, c := range clients {
		names[i] = "c" + strconv.Itoa(c)
	}
	return strings.Join(names, ", ")
}

// LivenessReport is the verdict of the liveness phase.
type LivenessReport struct {
	Verdict     Verdict
	Detail      string
	ConvergedAt sim.Time // when the phase passed (Forever if it did not)
}

// JudgeLiveness decides the liveness phase at its end: it passes if every
// correct node applied all that was committed and no client is still waiting
// for its final operation.
func (p *Progress) JudgeLiveness(correct []sim.NodeID, waitingClients []int, at sim.Time, within string) LivenessReport {
	lagging := p.Lagging(correct)
	if len(lagging) == 0 && len(waitingClients) == 0 {
		detail := fmt.Sprintf("converged at t=%v: %d applied on every correct node, leader %v in term %d", at, p.committed, p.leader, p.term)
		if halted := p.haltedNodes(correct); len(halted) > 0 {
			detail += fmt.Sprintf("; halted with storage beyond repair: %v", halted)
		}
		return LivenessReport{Verdict: Pass, ConvergedAt: at, Detail: detail}
	}
	var why []string
	if len(waitingClients) > 0 {
		why = append(why, fmt.Sprintf("clients %s still waiting for their final operation", clientNames(waitingClients)))
	}
	if len(lagging) > 0 {
		why = append(why, "behind: "+strings.Join(lagging, ", "))
	}
	leader := "no leader ever"
	if p.leader != sim.None {
		leader = fmt.Sprintf("last leader %v in term %d since t=%v", p.leader, p.term, p.leaderAt)
	}
	return LivenessReport{Verdict: Fail, ConvergedAt: sim.Forever,
		Detail: fmt.Sprintf("not converged within %s after healing: %s; %s", within, strings.Join(why, "; "), leader)}
}

// haltedNodes lists, in the order given, the nodes among ids that halted.
func (p *Progress) haltedNodes(ids []sim.NodeID) []sim.NodeID {
	var out []sim.NodeID
	for _, id := range ids {
		if p.of(id).halted {
			out = append(out, id)
		}
	}
	return out
}
