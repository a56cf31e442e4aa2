package raft

import (
	"math"
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Planted weaker-consistency options: each gives up one thing the log
// guarantees, in a way real systems have, so that the consistency checks can
// be shown to tell which models survive (README, "Checks and data models").

// serveLocalRead answers a get from this server's own applied state, at
// once. Two options do: stale-follower-reads on a follower, however far
// behind it is; leader-local-reads on a leader, with no log round and no
// check that a majority still follows it (a current leader's state holds
// every acknowledged write; a deposed one that has not heard of its
// successor answers from the past). It reports whether it answered (cmd
// was a read).
func (n *node) serveLocalRead(from sim.NodeID, cmd service.Command) bool {
	result, ok := n.sessions.Read(cmd.Op)
	if !ok {
		return false
	}
	n.send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
	return true
}

// reservedClients bounds the session IDs a server keeps for its own proxy
// commands (forwardClient): they lie below it, where no client's ID is.
const reservedClients sim.NodeID = sim.None - 1

// serveFromWriteCache is the follower-write-cache option, a write-back
// cache in front of the log: a follower that knows a leader runs a client's
// command on its applied state with the writes it has acknowledged but not
// yet applied laid over it, answers at once, and forwards a write to the
// leader as a proxy would, under a session of its own (forwardClient),
// resending it with every heartbeat until it applies it. The forwards race
// each other over the network, and the leader logs them as they arrive: a
// client's writes, or a write and the write its client read, reach the log
// in either order. It reports whether it answered.
func (n *node) serveFromWriteCache(from sim.NodeID, cmd service.Command) bool {
	if n.lead == sim.None || n.lead == n.id {
		return false
	}
	result, ok := n.cachedResult(cmd)
	if !ok {
		return false // the state machine cannot be copied
	}
	if !n.sessions.ReadOnly(cmd.Op) && !n.isCached(cmd) {
		proxy, ok := forwardClient(n.id, n.proxies)
		if !ok {
			return false // out of proxy sessions: redirect as usual
		}
		n.proxies++
		n.writeCache = append(n.writeCache, cachedWrite{client: cmd.Client, seq: cmd.Seq,
			forward: service.Command{Client: proxy, Seq: 1, Op: cmd.Op}})
		n.send(n.lead, service.Request{Cmd: n.writeCache[len(n.writeCache)-1].forward})
	}
	n.send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
	return true
}

// cachedWrite is a write a follower acknowledged: the client's command, and
// the command it forwards for it.
type cachedWrite struct {
	client  sim.NodeID
	seq     uint64
	forward service.Command
}

// maxServers bounds the server IDs forwardClient keeps apart.
const maxServers = 1024

// forwardClient is the session of server id's k-th proxy command (a
// forwarded write, a part of a split transaction): one of its own per
// command, below every client's and reservedClients, so the leader's
// session table neither orders nor drops them by their client's sequence
// numbers. False once the IDs run out.
func forwardClient(id sim.NodeID, k uint64) (sim.NodeID, bool) {
	v := int64(reservedClients) - 1 - int64(id) - int64(min(k, math.MaxInt32))*maxServers
	if v < math.MinInt32 {
		return 0, false
	}
	return sim.NodeID(v), true
}

// cachedResult runs cmd on a copy of the applied state with the cached
// writes applied over it.
func (n *node) cachedResult(cmd service.Command) ([]byte, bool) {
	snap, err := n.sessions.Snapshot()
	if err != nil {
		return nil, false
	}
	scratch := service.NewSessions(n.newSM())
	if scratch.Restore(snap) != nil {
		return nil, false
	}
	for _, c := range n.writeCache {
		scratch.Apply(c.forward)
	}
	result, _ := scratch.Apply(cmd)
	return result, true
}

func (n *node) isCached(cmd service.Command) bool {
	return slices.ContainsFunc(n.writeCache, func(c cachedWrite) bool { return c.client == cmd.Client && c.seq == cmd.Seq })
}

// resendCached forwards the cached writes again, to the leader that just
// spoke: the first forward may have been lost, or gone to a deposed leader.
func (n *node) resendCached() {
	for _, c := range n.writeCache {
		n.send(n.lead, service.Request{Cmd: c.forward})
	}
}

// uncacheApplied drops the cached writes this server's applied state now
// holds.
func (n *node) uncacheApplied() {
	n.writeCache = slices.DeleteFunc(n.writeCache, func(c cachedWrite) bool {
		return n.sessions.LastApplied(c.forward.Client) > 0
	})
}

// startSplit is the partial-transactions option: a leader logs a
// transaction in parts (service.TxnSplitter), each under a proxy session of
// its own (forwardClient), the next one only when the one before it
// applied, and answers the client with the parts' results joined when the
// last one applied. Other commands are logged in between, so other
// transactions see the first part's effects without the rest's, and the
// rest sees what they did: the transaction is not atomic. A leader that
// loses its leadership midway leaves the transaction applied partly. It
// reports whether it took cmd.
func (n *node) startSplit(from sim.NodeID, cmd service.Command) bool {
	if slices.ContainsFunc(n.splits, func(s *splitTxn) bool { return s.client == cmd.Client && s.seq == cmd.Seq }) {
		return true // a retry: the answer follows the last part
	}
	parts := n.sessions.SplitTxn(cmd.Op)
	if parts == nil {
		return false
	}
	s := &splitTxn{client: cmd.Client, seq: cmd.Seq, to: from, parts: parts}
	if !n.logNextPart(s) {
		return false
	}
	n.splits = append(n.splits, s)
	n.broadcastAppend()
	n.maybeCommit()
	return true
}

// splitTxn is a transaction a leader logs in parts.
type splitTxn struct {
	client  sim.NodeID
	seq     uint64
	to      sim.NodeID // who asked
	parts   [][]byte
	results [][]byte   // of the parts applied so far
	proxy   sim.NodeID // the session of the part in the log
}

// logNextPart appends the first part not applied yet under a proxy
// session; false once the proxy sessions run out.
func (n *node) logNextPart(s *splitTxn) bool {
	proxy, ok := forwardClient(n.id, n.proxies)
	if !ok {
		return false
	}
	n.proxies++
	s.proxy = proxy
	n.appendEntry(Entry{Term: n.term, Cmd: service.Command{Client: proxy, Seq: 1, Op: s.parts[len(s.results)]}})
	return true
}

// continueSplit is told of every command a leader applies: a part of a
// split transaction gets the next part logged (sent with the next
// heartbeat), or, the last one, the client its answer.
func (n *node) continueSplit(cmd service.Command, result []byte) {
	i := slices.IndexFunc(n.splits, func(s *splitTxn) bool { return s.proxy == cmd.Client })
	if i < 0 {
		return
	}
	s := n.splits[i]
	s.results = append(s.results, result)
	if len(s.results) < len(s.parts) && n.logNextPart(s) {
		// This runs inside the apply of a commit, after maybeCommit counted
		// the leader's own copy: count the new entry's now.
		n.prs[n.id].match = n.lastIndex()
		return
	}
	n.splits = slices.Delete(n.splits, i, i+1)
	if len(s.results) == len(s.parts) {
		n.send(s.to, service.Reply{Client: s.client, Seq: s.seq, Status: service.StatusOK, Result: n.sessions.JoinResults(s.results)})
	}
}
