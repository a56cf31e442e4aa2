package paxos

import (
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Coverage probes (sim.Probe): each acceptance and rejection check of the
// acceptor, proposer and learner fires its own probe, as do the rare paths;
// a sweep that leaves one cold never exercised it.

// Probe describes a coverage probe.
type Probe = service.Probe

// The probes, by name.
const (
	ProbeNotOwner              = "paxos/rejected-ballot-not-senders"
	ProbeRejoiningIgnored      = "paxos/rejoining-acceptor-ignored-proposal"
	ProbePrepareNacked         = "paxos/prepare-nacked-lower-ballot"
	ProbePromised              = "paxos/promised"
	ProbeAcceptNacked          = "paxos/accept-nacked-lower-ballot"
	ProbeAccepted              = "paxos/accepted"
	ProbeAcceptChosenSlot      = "paxos/accept-of-chosen-slot-ignored"
	ProbeAcceptRetransmit      = "paxos/accept-retransmission"
	ProbePreempted             = "paxos/preempted-by-higher-ballot"
	ProbeLeaderPreempted       = "paxos/leader-preempted-by-higher-ballot"
	ProbeStaleNackIgnored      = "paxos/stale-nack-ignored"
	ProbeStalePromiseIgnored   = "paxos/stale-promise-ignored"
	ProbeStaleAcceptedIgnored  = "paxos/stale-accepted-ignored"
	ProbeLeaderElected         = "paxos/leader-elected"
	ProbeAdoptedValue          = "paxos/adopted-accepted-value"
	ProbeNoopFilled            = "paxos/gap-filled-with-noop"
	ProbeHeartbeatNacked       = "paxos/heartbeat-nacked-stale-leader"
	ProbeSnapshotSent          = "paxos/learn-answered-with-snapshot"
	ProbeSnapshotInstalled     = "paxos/snapshot-installed"
	ProbeNotLeaderRedirect     = "paxos/request-redirected-not-leader"
	ProbeDecideMissingValue    = "paxos/decide-for-unknown-value"
	ProbeLearnNothingToAnswer  = "paxos/learn-ahead-of-answerer"
	ProbeRejoinFinished        = "paxos/rejoin-finished"
	ProbePromiseReportsLostLog = "paxos/promise-reports-lost-record"
	ProbeTornRecordDropped     = "paxos/torn-record-dropped-at-start"
	ProbeChangeRequested       = "paxos/change-requested"
	ProbeChangeRefused         = "paxos/change-refused"
	ProbeConfigChosen          = "paxos/configuration-chosen"
	ProbeNoopPadded            = "paxos/window-padded-with-noop"
	ProbeNewConfigPhase1       = "paxos/phase1-for-new-configuration"
	ProbeRemovedSteppedDown    = "paxos/removed-server-stepped-down"
	ProbeHandOver              = "paxos/hand-over-sent"
	ProbeStaleHandOverIgnored  = "paxos/stale-hand-over-ignored"
	ProbeTransferHandOver      = "paxos/transfer-hand-over-sent"
	ProbeTransferIgnored       = "paxos/transfer-ignored"
	ProbeRequestQueued         = "paxos/request-queued"
)

var knownProbes = []Probe{
	{Name: ProbeNotOwner, Description: "a proposal, decision or heartbeat from a server that does not own its ballot was ignored"},
	{Name: ProbeRejoiningIgnored, Description: "an acceptor that lost its state refused to promise or accept while rejoining"},
	{Name: ProbePrepareNacked, Description: "a prepare below the promised ballot was refused (PMS §2.2, phase 1b)"},
	{Name: ProbePromised, Description: "an acceptor promised a ballot (PMS §2.2, phase 1b)"},
	{Name: ProbeAcceptNacked, Description: "an accept below the promised ballot was refused (PMS §2.2, phase 2b)"},
	{Name: ProbeAccepted, Description: "an acceptor accepted a proposal (PMS §2.2, phase 2b)"},
	{Name: ProbeAcceptChosenSlot, Description: "an accept for a slot known chosen recorded nothing (P2b)"},
	{Name: ProbeAcceptRetransmit, Description: "an accept of the ballot already accepted in a slot (a retransmission)"},
	{Name: ProbePreempted, Description: "a proposer or leader saw a higher ballot and abandoned its attempt (PMS §2.2)"},
	{Name: ProbeLeaderPreempted, Description: "a leader saw a higher ballot and stepped down (PMS §2.2)"},
	{Name: ProbeStaleNackIgnored, Description: "a nack of an earlier ballot was ignored"},
	{Name: ProbeStalePromiseIgnored, Description: "a late, stale or duplicated promise was ignored"},
	{Name: ProbeStaleAcceptedIgnored, Description: "an accepted answer to an earlier ballot was ignored"},
	{Name: ProbeLeaderElected, Description: "a proposer got a majority of promises (PMS §2.2)"},
	{Name: ProbeAdoptedValue, Description: "a new leader re-proposed the value of the highest accepted proposal (PMS §2.2, P2c)"},
	{Name: ProbeNoopFilled, Description: "a new leader filled a gap with a no-op (PMS §3)"},
	{Name: ProbeHeartbeatNacked, Description: "a heartbeat of a ballot below the promise was answered with a nack"},
	{Name: ProbeSnapshotSent, Description: "a catch-up request was answered with a snapshot"},
	{Name: ProbeSnapshotInstalled, Description: "a server installed a snapshot from another"},
	{Name: ProbeNotLeaderRedirect, Description: "a server that is not the leader pointed a client elsewhere"},
	{Name: ProbeDecideMissingValue, Description: "a decision named a slot whose value this server lacks: it fetches it"},
	{Name: ProbeLearnNothingToAnswer, Description: "a catch-up request from a server ahead of the answerer got nothing"},
	{Name: ProbeRejoinFinished, Description: "a server that lost its acceptor state finished rejoining"},
	{Name: ProbePromiseReportsLostLog, Description: "a promise reported slots whose records the acceptor lost"},
	{Name: ProbeTornRecordDropped, Description: "a restarted server dropped a slot record's newest version, which a crash cut before it was synced, and kept the one before"},
	{Name: ProbeChangeRequested, Description: "a leader took up a membership change (sim.ChangeMembers)"},
	{Name: ProbeChangeRefused, Description: "a membership change was refused: not the leader, a change in progress, or a change of nothing"},
	{Name: ProbeConfigChosen, Description: "a server applied a configuration chosen in a slot"},
	{Name: ProbeNoopPadded, Description: "a leader filled the old configuration's rest of the alpha window with a no-op"},
	{Name: ProbeNewConfigPhase1, Description: "a leader or proposer whose ballot did not cover a new configuration ran phase 1 again"},
	{Name: ProbeRemovedSteppedDown, Description: "a leader or proposer removed from the configuration stopped"},
	{Name: ProbeHandOver, Description: "a removed leader asked a member of the new configuration to take over"},
	{Name: ProbeStaleHandOverIgnored, Description: "a hand-over of a stale ballot was ignored"},
	{Name: ProbeTransferHandOver, Description: "a leader asked for a leadership transfer sent its target a hand-over"},
	{Name: ProbeTransferIgnored, Description: "a transfer request was ignored: not the leader, or a target that is this server or not a member"},
	{Name: ProbeRequestQueued, Description: "a client command waited for a slot in the alpha window"},
}

// KnownProbes lists the probes.
func KnownProbes() []Probe { return slices.Clone(knownProbes) }

func (n *node) probe(name string) { sim.Probe(n.env, name) }
