// Package raft is Raft (Ongaro and Ousterhout, "In Search of an
// Understandable Consensus Algorithm", 2014) as a pure state machine behind
// the sim.Node API: it never does I/O, reads no clock but env.Now and draws
// randomness only from env.Rand, so a seed replays a run exactly.
//
// # Shape
//
// New(cfg, newSM) returns a sim.Factory of servers. Like etcd-io/raft, a
// server's role is a pair of swapped functions: becomeFollower,
// becomeCandidate and becomeLeader install stepFollower/tickElection,
// stepCandidate/tickCandidate or stepLeader/tickHeartbeat. Every message first
// passes the term rules of §5.1 (stepTerm), then the role's step function.
// Messages are named for the paper's RPCs: MsgVote and MsgVoteResp
// (RequestVote), MsgApp and MsgAppResp (AppendEntries), MsgSnapshot
// (InstallSnapshot, answered with a MsgAppResp). They are values (MsgApp,
// MsgAppResp and the replies to applied commands, the most frequent, travel
// as pointers into a slab, so that sending one allocates nothing; a server
// takes either form, and clients read replies with service.ReplyOf), and
// MsgApp.Entries shares a segment of the leader's log (entries.go), which is
// safe because the log is only ever appended to in place: a truncation, and
// a compaction's new sentinel, copy the segment they change first.
//
// # Election (§5.2, §5.4.1)
//
// A follower that hears from no leader for a timeout drawn uniformly from
// [ElectionTimeoutMin, ElectionTimeoutMax] becomes a candidate: a new term, a
// vote for itself, MsgVote to all, retried every HeartbeatInterval to servers
// that have not answered. A server grants one vote per term, only to a
// candidate whose log is at least as up-to-date as its own. The election timer
// is lazy: hearing from the leader only records the time, and the timer, when
// it fires early, re-arms itself for the rest. As Figure 2 has it, only the
// leader's messages and a vote granted restart the timeout: a follower that
// learns a higher term from a candidate it refuses keeps its deadline, so
// that candidates with stale logs cannot keep the servers that could win
// from ever campaigning.
//
// # Replication (§5.3, §5.4.2, §8)
//
// A new leader announces itself (sim.ObsLeader) and appends a no-op
// (service.Noop), which commits the entries of earlier terms once it commits.
// It tracks each follower's match and next index. While it does not know
// where a follower's log matches, it probes: one MsgApp at next-1 per
// heartbeat. A follower rejecting the consistency check answers with a hint,
// the term of its conflicting entry and the first index of that term (or its
// log length), so the leader skips back a term per round trip (Figure 7 takes
// at most two). Once a follower acknowledges, appends are pipelined: next
// advances as entries are sent, at most MaxEntriesPerAppend per MsgApp. A
// follower that acknowledges nothing for three heartbeat intervals while
// entries are in flight is probed again from its match index (a lost MsgApp).
//
// Heartbeats are cheap: an empty MsgApp at the follower's match index, which
// always passes the check, carries the commit index and goes unanswered when
// it succeeds (it tells the leader nothing new); it is skipped for followers
// that received entries during the interval. Heartbeats write nothing to disk.
//
// The leader commits the highest index stored on a majority only if that
// entry is of its current term (§5.4.2, Figure 8); a follower commits up to
// min(leader's commit, last entry the MsgApp verified). Every server announces
// each index it commits (sim.ObsCommit with the entry's term and the command
// digest) and applies it at once (sim.ObsApply).
//
// # Clients (§8)
//
// Client nodes send service.Request. A server that does not lead answers
// StatusNotLeader with the leader it knows. The leader appends the command
// (unless this leader already appended that client's same sequence number and
// has not applied it yet) and answers StatusOK when it applies the entry: the
// reply is built from what was applied at the index, so a command that was
// overwritten is never acknowledged and the client retries. The state machine
// is wrapped in service.Sessions, so a command appended twice (a retry to a
// new leader) runs once and the later copy returns the cached result. By
// default reads are commands too: they go through the log, which makes them
// linearizable without leases.
//
// # Reads outside the log (thesis §6.4)
//
// Config.ReadMode ReadIndex and ReadLease serve a read-only command (one the
// state machine's service.ReadOnly says changes nothing) from the leader's
// applied state, with no log entry. Leadership is checked with rounds of
// MsgHeartbeat, numbered per term, which followers echo in MsgHeartbeatResp;
// they carry no entries, so replication is untouched. ReadIndex answers a
// read once a round sent after it arrived is acknowledged by a majority and
// an entry of the leader's term is committed. ReadLease answers at once while
// the lease holds: ElectionTimeoutMin / LeaseDrift on the leader's clock from
// the start of the last round a majority acknowledged, renewed by a round
// every heartbeat interval; otherwise it waits as ReadIndex does. The lease
// is sound because, in ReadLease mode, a server ignores vote requests for
// ElectionTimeoutMin after hearing from a leader or restarting (thesis
// §4.2.3), term and all, and campaigns past the terms it ignored; with clock
// rates at most LeaseDrift apart and no clock jumps, no other leader is
// elected before the lease ends. reads.go has the argument.
//
// # Persistence and recovery
//
// currentTerm, votedFor and the log live on env.Disk() (Figure 2's persistent
// state), every record ending with a CRC-32C of the rest:
//
//	raft/hard/a, raft/hard/b       the hard state, in two copies: uvarint currentTerm,
//	                               varint votedFor (-1 for none), uvarint and uvarint
//	                               lost (index, term; zero unless corruption cut the log)
//	raft/snap/a, raft/snap/b       the snapshot, in two copies (see Log compaction)
//	raft/log/<20-digit index>      a chunk of up to 16 entries from that index on, each
//	                               a frame (a length with its own checksum) and a
//	                               record: uvarint term, then
//	                               service.Command.AppendBinary
//
// Chunks keep the number of disk keys small (appends are the hot path); an
// append rewrites only the tail chunk, and a truncation rewrites one chunk and
// deletes the later ones.
//
// Writes go to the disk as the state changes; every send first syncs
// whatever was written (node.send calls flush), and every handler ends with a
// sync, so no message leaves ahead of the state it depends on: a vote, a new
// term, the entries it acknowledges. The commit index and the state machine
// are volatile. Start reads the hard state, the snapshot if any and the log
// after it (up to the first missing entry, deleting the rest, which can only
// be writes a crash lost before they were synced; an entry cut short inside
// its frame is the same, an append a crash tore, and goes too), starts as a
// follower with
// the snapshot's state machine (or an empty one), and re-applies the entries
// after it as it learns the commit index again.
//
// # Log compaction (§7; thesis ch. 5)
//
// Every Config.SnapshotInterval applied entries (10,000 by default; 0 keeps
// the whole log) a server snapshots its state machine and client sessions at
// its applied index, with that entry's term and digest and the configuration
// in force there, writes it in two checksummed copies, records its last entry
// in the hard state, and deletes the log it covers from memory and disk: the
// log then starts at the snapshot (its position 0 holds the snapshot's last
// term), and the snapshot's configuration is the base of the configurations.
// A leader whose follower needs compacted entries sends MsgSnapshot; the
// follower installs a snapshot past its commit index, keeping the entries
// after it only if its log holds the snapshot's last entry (thesis §5.1),
// and answers with the snapshot's index. Compaction orders its writes so
// that a crash, a torn write or a torn step always leaves a disk that loads;
// both copies of the snapshot corrupted are a loss at the log's start,
// handled as below with the snapshot's last entry as the lost position.
// snapshot.go has the details.
//
// # Disk corruption
//
// Raft assumes that what a server synced stays; sim.World.CorruptDisk breaks
// that by flipping a bit in a durable record. The checksums catch it, and
// the server recovers as from lost records without giving up safety:
//
//   - a corrupt copy of the hard state is rewritten from the other; if both
//     are corrupt, the term and vote are unknown and the server stays down
//     for good (it ignores everything, after an ObsHalt saying why: the
//     liveness phase then counts it as faulty, like a server that never
//     comes back). Only corruption may bring that about: the durability
//     check fails a run in which a server halts on a disk no fault
//     corrupted, and a crash that tears the very first hard state, before
//     any sync, leaves a server that starts fresh;
//   - a corrupt copy of the snapshot is rewritten from the other; both
//     corrupt drop the whole log, with lost at least the snapshot's last
//     entry (the hard state records it), and the leader's snapshot brings
//     the server back;
//   - a corrupt log entry ends the log there (the rest is deleted), but the
//     lost entries may have been acknowledged, and Raft's safety argument
//     (§5.4.3) needs every server of the majority that stored a committed
//     entry to refuse less up-to-date candidates. The §5.4.1 check only uses
//     the last entry's index and term, so the server records that position
//     ("lost"; the current term stands in for an unreadable last term) and
//     votes as if it still had the entries; it does not campaign, since it
//     could not vote for itself by that rule; and once a leader has brought
//     its log back to at least that position, it is an ordinary server again.
//     It announces the loss when it loads (sim.ObsImpaired, which the
//     durability check allows only on a disk a fault corrupted) and the
//     recovery (sim.ObsRepaired): while the entries it lost are held only by
//     servers that are down, no candidate among those up can have its vote,
//     and the progress check does not count it toward a majority that has
//     no leader to repair it. A leader that sees a follower reject at or
//     below its match index (the follower's log shrank) probes it again from
//     where the follower says its log ends.
//
// Safety holds under any amount of corruption; liveness needs a majority of
// servers that can still vote for some candidate.
//
// # Invariants
//
// Cheap invariants are asserted after every handler and at every state change
// (commit <= last index, applied <= commit, log terms non-decreasing and not
// above the current term, a leader's self-match, no unsynced write at the end
// of a handler, a server recovering lost entries stays a follower). A failed assertion panics with the server, its term, role and
// indexes; the kernel reports it as a protocol crash with the seed. Assertions
// of cross-server safety (no two leaders in a term, a committed entry is never
// truncated) are only made when no planted bug is on, so that a planted bug
// reaches the checkers as a violation instead of stopping the run.
//
// # BUGGIFY
//
// With sim.Config.Buggify > 0, four fault points (sim.Env.Buggify) may be on
// for a run, each a legal behaviour that exercises a rare path:
// raft/one-entry-per-append (catch-up one entry per round trip),
// raft/skip-heartbeat-round (a stalled leader), raft/min-election-timeout
// (timeouts without randomization, so split votes) and
// raft/ignore-client-request (a lost request, so client retries).
//
// # Planted bugs
//
// Config.Bugs switches on deliberate deviations from the paper, off by
// default, each a classic mistake that a shipped scenario's checkers must
// expose: KnownBugs lists them with a description of each (simrun
// protocols prints it), and the README's table of planted bugs names the
// check that catches each. They are listed there only, so that no second
// list here goes stale.
//
// When truncation reaches a committed entry under a bug, the server lowers
// its commit index and rebuilds its state machine from the surviving prefix,
// so that its local invariants hold and it reports the new commits too.
// The scenarios in scenarios/bugs/raft-bug-*.yaml expose each bug, and
// runner/bugs_test.go proves it with a bounded sweep.
package raft
