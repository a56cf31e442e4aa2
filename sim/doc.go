// Package sim is simrun's deterministic kernel: a virtual clock, one event
// queue, seeded random streams, the Node API and its Env, the network and disk
// models, the control API that faults use, and the trace with its running hash.
// It imports only the standard library.
//
// # Determinism
//
// A World is single-threaded. Events pop from one binary heap ordered by
// (time, seq), seq being a counter assigned when the event is scheduled, so two
// events at the same time run in the order they were scheduled. Every random
// draw comes from a stream derived from the root seed and a name ("network",
// "faults", "workload", "node/3"); streams are independent, so adding a fault
// does not change what the network or a client draws. The same Config, nodes and
// control calls give the same events in the same order on any machine: the
// trace hash (Result.Hash) is the proof.
//
// Any machine includes other architectures. Draws (Chance, IntN, the
// duration draws) and clock rates use integer and fixed-point arithmetic
// only: a float expression may be fused into a multiply-add on arm64 and
// amd64 v3, the math package has assembly per architecture, and int is 32
// bits on 386, and none of that may change a run.
//
// # Events and the trace
//
// Every processed event writes one canonical trace line ("<t> <kind> <node>
// [<peer>] <detail>"): start, send, deliver, drop, timer, obs (observations,
// including client calls and returns), crash, restart, cut, uncut, heal, link,
// control. The hash chains a compact binary form of every event (its time,
// nodes, kind and a digest of its detail, a message's digest made once when
// it is sent), so a line's text is built only when someone reads it:
// Config.Trace receives the lines as JSONL, and crash reports quote the last
// few.
//
// # The network
//
// A send is decided when it is made: if the link is cut the message is dropped
// at once ("drop ... cut"); else it is lost with the link's Drop probability;
// else it is scheduled after a latency drawn from the link's distribution, and
// with the Duplicate probability a second copy is scheduled with its own
// latency. Reordering follows from independent latencies.
//
// A message in flight is judged again when it arrives:
//   - if the link from sender to target is cut when it arrives, it is dropped
//     ("cut-in-flight"); one cut and healed while it was on its way arrives;
//   - if the target is down (crashed), it is dropped ("target-down");
//   - if the target crashed and restarted meanwhile, the new instance receives
//     it, as a datagram would reach a rebooted host;
//   - if the sender crashed after sending, it is still delivered: it had left.
//
// # Disks and crashes
//
// Each server has a Disk. Writes are visible to reads at once but survive a
// crash only after Sync. Crash discards the node instance and its timers and
// drops every unsynced write; Restart builds a new instance from the node's
// Factory, which must recover from the disk alone.
//
// # Fault mechanisms
//
// Beyond cuts and crashes the control API can pause a node (it keeps its
// memory but handles nothing), clog a link or a node (messages wait and are
// delivered in order when it unclogs), drift or step a node's clock (timers
// are deadlines on the node's local clock, so a faster clock fires them early
// and a forward jump fires them at once), make a disk tear its last unsynced
// writes on a crash, flip a bit of a durable record, or make syncs slow (the
// node is blocked while it syncs and its sends leave late). Whatever reaches a
// node that cannot run waits in the node's backlog and is handed back one
// event at a time, in order, once it can; a restarted instance always runs
// Start before anything else reaches it. A message in the backlog has
// arrived: a cut or a clog of its link since does not touch it, and a crash
// drops it with the rest of what the instance held. Env.Buggify gives protocol code
// FoundationDB-style fault points, enabled per run from the seed.
//
// # Signatures
//
// Env.Sign and Env.Verify model digital signatures for Byzantine-fault-
// tolerant protocols: a node can sign only as itself, and a signature made up
// in another node's name fails verification. The sender of a delivered
// message is always the true one.
//
// # Bounds
//
// RunUntil stops at its deadline, and the whole run stops at Config.MaxEvents.
// Hitting a bound is a reported Outcome, never a hang.
package sim
