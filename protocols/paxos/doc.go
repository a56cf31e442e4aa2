// Package paxos is Multi-Paxos behind simrun's Node API: a pure state machine
// per server that replicates opaque commands for a service.StateMachine,
// after Lamport's "Paxos Made Simple" (ACM SIGACT News 32(4), 2001; PMS
// below), with the leader, no-op and catch-up practice of its §3.
//
// # Roles
//
// Every server is a proposer, an acceptor and a learner (PMS §2.1). Commands
// are chosen one slot at a time, each slot an instance of single-decree
// Paxos; one distinguished proposer, the leader, runs phase 1 once for all
// slots from a point on and then phase 2 per slot (PMS §3).
//
//   - Ballots (PMS §2.2 "proposal numbers") are round*N + id for N servers:
//     unique to their owner, ordered by (round, id). ObsLeader reports the
//     ballot as the term, so the one-leader-per-term checker holds a ballot to
//     one leader. A server picks a ballot above every ballot it has seen or
//     promised; it promises its own ballot first, on disk, so it never reuses
//     one after a restart.
//   - Phase 1 (MsgPrepare, MsgPromise): a proposer asks for promises for
//     every slot it does not know chosen. An acceptor promises a ballot higher
//     than any it promised and reports, per slot, the proposal it accepted
//     with the highest ballot, or the value it knows chosen (PMS §2.2, 1b).
//     A lower ballot gets MsgNack (the optimization PMS §2.2 suggests), and
//     its proposer abandons the attempt.
//   - With a majority of promises the proposer becomes leader and proposes in
//     its ballot, for every slot up to the highest one reported, the value of
//     the highest-ballot proposal reported there (P2c), or a no-op
//     (service.Noop) in a gap (PMS §3). New commands take the slots after.
//   - Phase 2 (MsgAccept, MsgAccepted): an acceptor accepts a proposal unless
//     it promised a higher ballot (PMS §2.2, P1a); accepting also promises the
//     ballot. The leader counts acceptances: a majority makes the slot chosen.
//   - Learning (PMS §2.3): the leader is the distinguished learner. It
//     announces chosen slots with MsgDecide (ballot and slots, no values: a
//     learner that accepted that ballot's proposal in the slot holds the
//     chosen value, since a leader proposes one value per slot per ballot).
//     A learner missing a value asks for it (MsgLearn) and gets the values
//     (MsgChosen) or, for slots compacted away, the snapshot (MsgSnapshot).
//     Chosen slots are applied in slot order.
//
// # Failure detection and duelling proposers
//
// A leader sends MsgHeartbeat every HeartbeatInterval. A follower that hears
// no leader for a timeout drawn at random from [LeaderTimeoutMin,
// LeaderTimeoutMax] runs phase 1; so does a proposer whose phase 1 did not
// finish in such a timeout, with a higher ballot. Each failed attempt in a row
// (preempted by a higher ballot, or timed out) doubles the timeout, up to
// BackoffLimit times, and seeing a slot chosen resets it: duelling proposers
// (PMS §2.4's livelock) spread apart until one completes both phases.
// Heartbeats serve failure detection and catch-up only: no read is served on
// a lease, every command (reads included) is chosen in a slot.
//
// # Durability
//
// The promise and every accepted proposal are written to env.Disk() and
// synced before the reply that reveals them leaves (PMS §2.3: an acceptor
// remembers across failures); a leader whose own acceptor is a majority (a
// one-member configuration) syncs its acceptance before it decides. What a server learned is kept too (a commit
// index synced along with the next sync, and values learned from elsewhere
// in their records), so a restarted server re-applies what it knew without
// asking. See storage.go for the layout.
//
// # Disk corruption
//
// Every stored value carries a CRC-32C, and the promise and the snapshot are
// stored twice. A server that finds an accepted proposal corrupt keeps a
// "lost" record in its place and reports the slot as lost in its promises; a
// proposer then needs, for that slot, a majority of promisers that can
// report on it. The next proposal it accepts there, or the value it learns,
// repairs it. A server that lost its promise or its snapshot (both copies)
// rejoins: it neither promises nor accepts until it leads a ballot that
// every other member promised and has proposed what they reported (after
// Paxos Made Live, §5.1, which waits, less strictly, for one later instance).
// See rejoin.go. Rejoining needs every other member up: while one is down,
// or lost state too, the server waits, and stays safe.
//
// # Flow control
//
// A leader sends a server at most a few accepts it has not answered; a
// server that falls behind (a slow disk, a clogged link, a pause) catches up
// from the heartbeat's retransmissions and by catch-up, in batches, instead
// of working through a backlog of single-slot messages one sync at a time.
//
// # Compaction
//
// Every SnapshotInterval applied slots a server saves the state machine and
// the client sessions (service.Sessions.Snapshot, when the state machine is a
// service.Snapshotter) with the applied slot, and deletes the log up to it.
// A learner that asks for a deleted slot receives the snapshot; so does a
// proposer whose phase 1 starts below an acceptor's snapshot (in MsgPromise).
// Only chosen, applied slots are compacted, so no acceptor state that a
// future phase 1 needs is lost.
//
// # Membership
//
// The cluster changes its configuration (the acceptors whose majorities
// choose) with Lamport's alpha window (PMS §3, end; Lamport, Malkhi and
// Zhou, "Reconfiguring a State Machine", 2010), not a stop-sign (Stoppable
// Paxos, 2008). A stop-sign ends the old configuration's slots at the stop,
// so a slot's configuration depends on whether an earlier slot, possibly
// not chosen yet, holds a stop: with slots pipelined, a later ballot may
// choose a stop below slots the old configuration already chose, and
// telling those apart needs one Paxos instance per configuration. The
// window keeps one slot sequence and makes a slot's configuration depend
// only on slots already chosen, at the price of at most Alpha slots in
// flight, which a client load never reaches at the default of 64. The rules
// (membership.go):
//
//   - The operator's request (sim.ChangeMembers, through sim.Operable) goes
//     to the leader, which proposes the new configuration as a command
//     (a no-op to the state machine) in a slot like any other, one change at
//     a time: none while one is proposed and not chosen, or chosen and not in
//     force.
//   - The configuration chosen at slot i governs the slots from i+Alpha on.
//     A leader never proposes past commit+Alpha, so the configuration of
//     every slot it proposes in is fixed by slots it knows chosen; it sends
//     accepts to that configuration's members and counts a majority of
//     them. After a change it fills the old configuration's last slots with
//     no-ops at once, so the new one takes over within a round trip.
//   - Phase 1 covers the window [commit+1, commit+Alpha] and needs a
//     majority of every configuration governing it (two during a change).
//     A leader whose window reaches a configuration its ballot has no
//     promises from runs phase 1 again, in a new ballot, once its slots
//     before it are chosen.
//   - A leader the change removed keeps leading the old configuration's
//     last slots, then steps down and asks a member of the new one to
//     campaign at once (MsgHandOver); the others' failure detectors do the
//     same if the message is lost.
//   - Spares (servers outside the newest configuration they know) never
//     campaign and are never sent proposals; they learn from the leader's
//     heartbeats like any follower, so an added server has caught up (by
//     catch-up or snapshot) when it joins, and they redirect clients. A
//     spare that hears no leader asks the servers in turn for what they
//     know chosen: after a change that replaced every member, no member
//     heard it chosen, and once the old leader stepped down they learn
//     that they are members from servers that no longer are.
//   - The configurations are in the log; a snapshot carries those that
//     govern slots after it, so that a restarted server, or one that
//     installs the snapshot, knows them.
//
// Config.Members sets the initial configuration (servers 0 to Members-1).
// A server announces each configuration it applies with sim.ObsConfig at
// its slot (Outgoing: the old one, which still governs the window), and
// again, without Outgoing, at the last slot the old one governs.
//
// # Clients
//
// Only the leader takes commands; others answer service.StatusNotLeader with
// the leader they follow as a hint. A command waits in the leader's queue
// while the window is full or a change's no-ops are due. service.Sessions applies a retried
// command once and answers retries with the cached result. The leader
// answers a client when the command's slot is applied.
//
// # Observations
//
// sim.ObsLeader{Term: ballot} when phase 1 completes; sim.ObsCommit{Index:
// slot, Digest} when a server learns a slot chosen (again after a restart,
// for the chosen slots it finds on disk); sim.ObsApply when it applies one,
// and when it installs a snapshot, for the snapshot's last slot (a snapshot
// carries that slot's digest), so that progress checkers see where it is.
//
// # BUGGIFY
//
// With sim.Config.Buggify > 0, five fault points (sim.Env.Buggify) may be on
// for a run, each a legal behaviour that exercises a rare path:
// paxos/skip-heartbeat-round (a stalled leader), paxos/min-leader-timeout
// (timeouts without randomization, so duels), paxos/one-slot-per-message
// (accepts and catch-up in single slots), paxos/skip-decide (an unannounced
// decision, so learners fetch it) and paxos/ignore-client-request (a lost
// request, so client retries).
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
// The scenarios in scenarios/bugs/paxos-bug-*.yaml expose each bug, and
// runner/bugs_test.go proves it with a bounded sweep.
package paxos
