// Package etcdraft runs etcd's Raft library (go.etcd.io/raft/v3) under
// simrun: an adapter that drives one raft.RawNode per simulated server, so
// that simrun's faults and checkers judge the library and, above all, the
// code an application writes around it. Protocol returns its registry entry
// (protocol name "etcdraft"); cmd/etcdsim is a simrun binary that knows it.
//
// # The Ready loop
//
// etcd-raft does no I/O: the application feeds it ticks and messages and
// handles the raft.Ready it hands back. Every handler of a server (Start,
// Receive, Timer) ends in handleReady, which handles each pending Ready in
// the order of the library's documentation (package raft, "Usage"):
//
//  1. write the HardState and the Entries to the disk and sync them ("no
//     messages be sent until the latest HardState has been persisted to
//     disk"; Raft Figure 2 keeps currentTerm, votedFor and the log "on stable
//     storage before responding to RPCs"), then append them to the
//     raft.MemoryStorage the library reads;
//  2. send the Messages;
//  3. apply the CommittedEntries;
//  4. Advance.
//
// Ticks come from a kernel timer every Config.TickInterval. Messages travel
// as Message values holding the marshalled raftpb.Message, so a duplicated
// or late delivery never shares memory with the sender's log.
//
// # Determinism
//
// etcd-raft draws its randomized election timeouts from crypto/rand. Every
// call into the RawNode (creation, Step, Tick, Propose, HasReady, Ready,
// Advance) runs inside pinrand.Do with the server's own stream (env.Rand),
// so those draws come from the seed. The adapter itself starts no
// goroutine, reads no clock and iterates no map into a message or decision.
//
// # Disk and recovery
//
// A server's durable state lives on env.Disk() (storage.go): the bootstrap
// snapshot's metadata (index 1, term 1, every server a voter: the library's
// recommended alternative to raft.Bootstrap), two copies of the HardState
// and one key per log entry, each a checksummed record (record.go). Start
// builds a new RawNode over a MemoryStorage rebuilt from the disk alone:
// snapshot, HardState, entries. Records that only unsynced writes can have
// left (a torn record, entries after a gap) are dropped; a corrupt copy of
// the HardState is repaired from the other; a corrupt log entry, or two
// corrupt HardState copies, halt the server for good (sim.ObsHalt), as etcd
// refuses to start on a WAL checksum mismatch: the lost record may have been
// acknowledged. The state machine is volatile: a restarted server applies
// the committed log again. Logs are never compacted, so no MsgSnap is ever
// sent.
//
// # Clients and observations
//
// Clients send service.Request. A server that does not lead answers
// StatusNotLeader with the leader it knows (followers do not forward
// proposals); the leader proposes the encoded service.Command and answers
// when it applies the entry, with the result of service.Sessions, which
// runs a retried command once. Reads go through the log too. Each applied
// entry is announced as sim.ObsCommit and sim.ObsApply (index, entry term,
// command digest; the empty entry of a new leader is service.Noop), and a
// server that becomes leader announces sim.ObsLeader with its term, so
// simrun's agreement, one-leader-per-term, linearizability and liveness
// checks judge the run.
//
// # Planted integrator bugs
//
// Config.Bugs switches on mistakes of the application around a correct
// library, off by default (KnownBugs):
//
//   - send-before-persist: each Ready's messages leave before its entries
//     and HardState are written and synced. Both happen in one step, so only
//     a crash that cuts a step (a mid_step crash) exposes it.
//   - no-hardstate: the HardState is never written; a restarted server
//     forgets its term and vote and may vote twice in one term.
//   - sync-on-tick: writes are synced at the next tick, after the messages
//     that depend on them have left.
//   - one-hardstate-copy: the HardState is one record overwritten in place;
//     a torn overwrite leaves no vote on record.
//   - local-reads: the leader answers gets from its own state machine, so a
//     deposed leader that does not know it serves stale values.
//   - no-duplicate-reply: a retried command the sessions answer from their
//     record gets no reply, and its client waits for good.
//   - corrupt-as-torn: recovery drops a corrupt record and what follows as
//     if it were a torn tail, forgetting committed entries.
//
// The scenarios in scenarios/bugs catch each within a few seeds; the tests
// prove it, and that the same faults pass without the bug.
package etcdraft
