// Package pbft is Practical Byzantine Fault Tolerance behind simrun's Node
// API: a pure state machine per replica that replicates opaque commands for a
// service.StateMachine and stays safe with up to f Byzantine replicas out of
// n >= 3f+1, after Castro and Liskov, "Practical Byzantine Fault Tolerance"
// (OSDI 1999; § numbers below are the paper's). It also plays the Byzantine
// replicas themselves (see Byzantine behaviours).
//
// # Normal case (§4.1, §4.2)
//
// Replicas are 0..n-1 and the primary of view v is v mod n. f = (n-1)/3 and
// a quorum is 2f+1 replicas (ceil((n+f+1)/2) when n is not 3f+1, so that two
// quorums always share a correct replica).
//
//   - A client sends its request (service.Request, the paper's REQUEST,
//     signed by the client: a replica refuses one its client did not sign,
//     in a relay or a pre-prepare, service.ClientSigned) to a
//     replica; a backup relays it to the primary and starts its view-change
//     timer. The primary assigns the next sequence number n between the low
//     and high water marks and multicasts MsgPrePrepare ⟨v, n, d⟩ with the
//     request.
//   - A backup accepts a pre-prepare signed by its view's primary whose d is
//     the request's digest and whose (v, n) has no other accepted
//     pre-prepare, and multicasts MsgPrepare. prepared(m, v, n, i): the
//     pre-prepare and 2f matching prepares from distinct backups. A prepared
//     replica multicasts MsgCommit. committed-local(m, v, n, i): prepared and
//     2f+1 matching commits from distinct replicas.
//   - Committed requests execute in sequence order; client sessions
//     (service.Sessions) run each request once. Every replica replies to the
//     client (service.Reply, StatusOK); the client takes a result once f+1
//     replicas gave it (runner.Servers.ReplyQuorum, set by the registry from
//     Config.ReplyQuorum) and resends to all replicas when late.
//
// # Checkpoints and state transfer (§4.3)
//
// Every CheckpointInterval (K) sequence numbers a replica snapshots its state
// (service.Sessions.Snapshot) and multicasts MsgCheckpoint with its digest.
// 2f+1 matching checkpoint messages make it stable: the low water mark h
// moves there, the high one to h+LogWindow, and the log below is discarded.
//
// The paper leaves retransmission to the implementation. Here every replica
// multicasts MsgStatus (view, last executed, h) every StatusInterval and
// retransmits its messages for requests in progress. A replica ahead answers
// a replica behind with what it lacks: the MsgNewView of its view, commit
// certificates (MsgCommitted: 2f+1 signed commits each) for what it has not
// executed, or its stable state (MsgState, state transfer) with the
// checkpoint's proof, checked against the signed digest. The state goes
// also to a replica that executed past the checkpoint but never saw it
// stable (it missed the checkpoint votes, which are not sent again) and has
// filled its window: it takes the proof as its own stable checkpoint, and
// its window moves.
//
// # View changes (§4.4, §4.5.2)
//
// A backup whose oldest awaited request has waited RequestTimeout multicasts
// MsgViewChange for v+1: its stable checkpoint with the proof and, for every
// sequence number above it that prepared there, the prepared certificate
// (the primary's signed pre-prepare and 2f signed prepares) of the latest
// view. The new primary, with 2f+1 valid view-change messages, multicasts
// MsgNewView with them and O: for each sequence number between the latest
// stable checkpoint in them (min-s) and the highest prepared one (max-s), a
// pre-prepare of the request whose certificate has the highest view, or of a
// null request (service.Noop). Backups check every signature of every
// certificate (a forged or short one spoils its message), recompute O, and
// prepare it in the new view. If the new view does not come, or comes but
// executes no request before a request's timer runs out, a replica moves on
// to the next one waiting twice as long, for the new view and for requests
// in it (up to BackoffLimit doublings; an execution resets the next view
// change's wait to RequestTimeout). Requests also wait at least twice as
// long as the slowest took lately, so that on a network slower than
// RequestTimeout a view that executes requests is not deposed at the next;
// f+1 view-change messages for later views make a replica join the smallest
// of them. A replica that keeps executing (from the others' certificates)
// while it waits does not move on: its old view is alive. A client's newer
// request takes the place of its older one among those awaited but keeps the
// older one's start (an execution of the client's restarts it, §4.4), so
// that clients that give up sooner than RequestTimeout still depose a primary
// that executes nothing.
//
// # Signatures
//
// Every statement that ends up in a certificate (pre-prepare, prepare,
// commit, checkpoint, view change) is signed with sim.Env.Sign over a digest
// of its fields and checked with sim.Env.Verify: only a replica can sign as
// itself, so a Byzantine replica can relay the others' signatures but not
// make them up. The delivered sender of a message is its true one.
//
// # Durability
//
// Before any message that depends on it leaves, a replica syncs its view
// (after a view-change message it takes no part in older views), accepted
// pre-prepares (no conflicting prepare after a restart), prepared and commit
// certificates, and its stable checkpoint with the state. A restarted replica
// re-executes from its stable state and catches up. See storage.go.
//
// # Observations
//
// sim.ObsLeader{Term: view} when a primary starts a view (once per view per
// replica); sim.ObsCommit{Term: view, Index: seq, Digest} when a request
// commits (committed-local, or a commit certificate received, and again
// after a restart); sim.ObsApply when it executes, and for the state a
// snapshot installs.
//
// # Byzantine behaviours
//
// New takes the Byzantine replicas and their behaviours (KnownBehaviours):
// silent; crash (stops for good at a moment drawn from its stream);
// equivocate (a primary sending conflicting pre-prepares for one sequence
// number to different backups, colluding backups backing it, and claiming
// in its view changes what it pre-prepared itself); wrong-digest;
// conflicting-votes; forge-view-change (certificates with too few, wrong or
// repeated signers, forged checkpoint proofs, stale data, new-view messages
// whose O does not follow from V); wrong-results (wrong answers to clients); delay
// (holds messages to some replicas); forge-requests (requests made up in a
// client's name: a replica takes only requests their client signed,
// service.ClientSigned); and more (KnownBehaviours). Correct replicas stay
// safe with up to f of them; the scenarios with f+1 show that the bound is
// tight.
//
// # BUGGIFY
//
// With sim.Config.Buggify > 0, four fault points (sim.Env.Buggify) may be on
// for a run, each a loss the protocol must survive, struck on every link of
// one message at once: pbft/withhold-vote (a prepare or commit leaves only
// when retransmitted, an interval later), pbft/skip-checkpoint-multicast (a
// checkpoint message reaches no one, so checkpoints become stable late or by
// state transfer), pbft/skip-status-round (a replica neither reports nor
// retransmits for an interval) and pbft/ignore-client-request (a primary
// drops a request: clients retry to every replica, and backups that relay
// it suspect the primary).
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
// The scenarios in scenarios/bugs/pbft-bug-*.yaml expose each bug, and
// runner/bugs_test.go proves it with a bounded sweep.
package pbft
