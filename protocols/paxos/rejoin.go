package paxos

import "github.com/simrun/simrun/sim"

// Rejoining after lost acceptor state.
//
// Paxos assumes an acceptor never forgets (PMS §2.3); a corrupted disk
// (sim.World.CorruptDisk) makes it forget. The checksums in storage.go notice
// the loss of a promise (both copies), of an accepted proposal, or of the
// snapshot (which stood for the accepted proposals it compacted). Such a
// server cannot tell what it promised or accepted, so, as Paxos Made Live
// (Chandra, Griesemer, Redstone, 2007, §5.1) has a replica with a corrupted
// disk rebuild its state without taking part, it rejoins:
//
//   - It neither promises nor accepts, and does not follow a leader; it still
//     learns chosen values (learning is always safe), and a prepare or an
//     accept of a ballot above its own ends its own phase 1 (PMS §2.2).
//   - When its failure detector fires it runs phase 1 with a prepare marked
//     Rejoin, and counts only the promises of other servers: every other
//     member of the configurations its ballot covers. An acceptor refuses a
//     Rejoin prepare whose ballot is not above its promise (an ordinary
//     prepare of the promised ballot is a retry; this one might reuse a
//     ballot the server forgot it used).
//   - With those promises it becomes leader and re-proposes, as any new
//     leader does, what they report. A majority of them intersects every
//     majority that chose a value, or that a proposer's phase 1 relied on,
//     in a server other than the rejoining one, so the phase 1 sees every
//     value that may have been chosen, and no lower ballot can complete a
//     choice once those servers promised. All of them are needed for higher
//     ballots: the server may have promised one before its loss, whose
//     phase 1, counting that forgotten promise, may still complete; a
//     proposer promises its own ballot first, on disk, so with every other
//     member's promise the rejoin ballot is above every ballot started
//     before, and the server never accepts below a promise it forgot.
//   - It ends the rejoin once it has proposed, and so recorded in its own
//     acceptor, every slot its phase 1 reported: past the alpha window they
//     wait in memory, and a server that lost its snapshot has no record of
//     the acceptances it compacted. From then on the server's own state is
//     what it accepted in its new ballot: it is an ordinary server again.
//     Deposed before that, it is still rejoining, and runs phase 1 again.
//
// The server announces the loss (sim.ObsImpaired: the durability check
// allows it only on a disk a fault corrupted, and the progress check does
// not count a rejoining server toward a majority with no leader) and the
// rejoin (sim.ObsRepaired). A marker on disk (paxos/rejoin) keeps a restart
// from ending the rejoin early. Rejoining needs every other member up and
// reachable: the price of a lost promise is that the server waits for the
// whole cluster. A one-server cluster has no other, and a server that lost
// its only acceptor's state cannot be made safe, so it carries on with what
// it has.

// startRejoin enters rejoin mode after a loss found at start; the loader
// has put the marker on the disk already (loadState), before it deleted
// what was lost.
func (n *node) startRejoin() {
	n.rejoining = true
	n.env.Observe(sim.Observation{Kind: sim.ObsImpaired, Text: "paxos: acceptor state lost on disk; rejoining"})
}

// finishRejoin ends rejoin mode: this server leads a ballot that every
// other member promised, and has proposed what their promises reported.
func (n *node) finishRejoin() {
	n.probe(ProbeRejoinFinished)
	n.rejoining = false
	// What the rejoin recorded (its proposals) reaches the disk before the
	// marker goes: a disk that reorders unsynced writes (sim.DiskFaults)
	// could otherwise keep the delete and lose them, and the server would
	// restart as an ordinary acceptor without them.
	n.flush()
	n.env.Disk().Delete(rejoinKey)
	n.dirty = true
	n.env.Observe(sim.Observation{Kind: sim.ObsRepaired, Text: "paxos: rejoined"})
}

// repair clears the lost mark of r, now that it holds a fresh acceptance, a
// learned value, or is compacted away.
func (n *node) repair(r *record) {
	if r.lost {
		r.lost = false
		n.lostSlots--
	}
}
