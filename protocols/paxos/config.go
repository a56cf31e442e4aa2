package paxos

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/service"
)

// Config tunes a Multi-Paxos cluster. Every server of a world gets the same
// Config.
type Config struct {
	// LeaderTimeoutMin and LeaderTimeoutMax bound the randomized failure
	// detector: a server that hears nothing from a leader for a duration drawn
	// uniformly from [min, max] runs phase 1 to take over. The same draw bounds
	// a phase 1 that does not complete. Randomizing keeps proposers from
	// duelling in lockstep (Paxos Made Simple §3: "a distinguished proposer
	// must be selected ... using either randomness or real time"); max must
	// exceed min. Failure detection only: no read is ever served on a lease.
	LeaderTimeoutMin time.Duration `yaml:"leader_timeout_min"`
	LeaderTimeoutMax time.Duration `yaml:"leader_timeout_max"`
	// HeartbeatInterval is how often a leader tells the others it is alive
	// (with its decided prefix, so that laggards catch up) and retransmits
	// unacknowledged accepts, and how often a proposer in phase 1 retries its
	// prepare. It must be below LeaderTimeoutMin.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// BackoffLimit is how many times the failure detector's timeout may
	// double after consecutive phase-1 attempts that did not end in a leader
	// (preempted by a higher ballot, or timed out): duelling proposers back off
	// exponentially, with randomization, until one of them gets through. The
	// doubling resets when the server sees a slot decided. 0 disables backoff.
	BackoffLimit int `yaml:"backoff_limit"`
	// MaxSlotsPerMessage bounds the slots of one accept batch or catch-up
	// message, so that re-proposals and catch-up go in chunks (at least 1).
	MaxSlotsPerMessage int `yaml:"max_slots_per_message"`
	// SnapshotInterval is how many slots a server applies between two
	// snapshots of its state machine (with the client sessions); the log
	// prefix a snapshot covers is deleted from memory and disk, and a replica
	// that needs a deleted slot receives the snapshot instead. 0 keeps the
	// whole log. A state machine that is not a service.Snapshotter is never
	// snapshotted.
	SnapshotInterval int `yaml:"snapshot_interval"`
	// Alpha is the reconfiguration window (Paxos Made Simple §3, end): a
	// configuration chosen at slot i governs the slots from i+Alpha on, and a
	// leader never proposes more than Alpha slots past the last one it knows
	// chosen, so that it always knows the configuration of a slot it proposes
	// in (see membership.go). At least 1.
	Alpha int `yaml:"alpha"`
	// Members is how many servers form the initial configuration: servers 0
	// to Members-1; the others are spares until a membership change adds
	// them. 0 means every server. Set by the harness from the scenario's
	// members key, not by protocol options.
	Members int `yaml:"-"`
	// Bugs names planted bugs to switch on (see KnownBugs). Empty for the
	// correct protocol.
	Bugs []string `yaml:"bugs"`
}

// DefaultConfig suits networks with 1-10ms latency: heartbeats every 50ms,
// leader timeouts of 300-600ms (several heartbeats, many round trips), a
// snapshot every 64 applied slots, a reconfiguration window of 64 slots
// (wider than any client load keeps in flight, so it throttles nothing but
// the slots after a configuration change).
func DefaultConfig() Config {
	return Config{
		LeaderTimeoutMin:   300 * time.Millisecond,
		LeaderTimeoutMax:   600 * time.Millisecond,
		HeartbeatInterval:  50 * time.Millisecond,
		BackoffLimit:       3,
		MaxSlotsPerMessage: 64,
		SnapshotInterval:   64,
		Alpha:              64,
	}
}

// maxAlpha bounds the reconfiguration window: the slots a leader may have
// in flight, and the no-ops that fill the window after a change.
const maxAlpha = 4096

// maxBackoffLimit keeps 2^BackoffLimit timeouts within reason.
const maxBackoffLimit = 10

// Validate reports an impossible setting or an unknown bug name.
func (c Config) Validate() error {
	if err := service.CheckLeaderTimeouts("paxos", "leader_timeout",
		c.LeaderTimeoutMin, c.LeaderTimeoutMax, c.HeartbeatInterval); err != nil {
		return err
	}
	switch {
	case c.BackoffLimit < 0 || c.BackoffLimit > maxBackoffLimit:
		return fmt.Errorf("paxos: backoff_limit %d must be in [0, %d]", c.BackoffLimit, maxBackoffLimit)
	case c.MaxSlotsPerMessage < 1:
		return fmt.Errorf("paxos: max_slots_per_message %d must be at least 1", c.MaxSlotsPerMessage)
	case c.SnapshotInterval < 0:
		return fmt.Errorf("paxos: snapshot_interval %d must not be negative (0 keeps the whole log)", c.SnapshotInterval)
	case c.Alpha < 1 || c.Alpha > maxAlpha:
		return fmt.Errorf("paxos: alpha %d must be in [1, %d]", c.Alpha, maxAlpha)
	case c.Members < 0 || c.Members > MaxServers:
		return fmt.Errorf("paxos: %d initial members: want 1 to %d (0: every server)", c.Members, MaxServers)
	}
	return knownBugs.Check(c.Bugs)
}

// Bug describes a planted bug: a deliberate deviation from the paper that the
// simulator's faults and checkers are expected to expose.
type Bug = service.Bug

// The planted bugs, by name.
const (
	BugForgetPromise      = "forget-promise"
	BugIgnoreAccepted     = "ignore-accepted"
	BugAcceptLowerBallot  = "accept-lower-ballot"
	BugNoAlphaWindow      = "no-alpha-window"
	BugAdoptLowestBallot  = "adopt-lowest-ballot"
	BugDecideAnyAccepted  = "decide-any-accepted"
	BugCountStalePromises = "count-stale-promises"
	// Phase 1 over lost slot records, and over a new configuration.
	BugOneLostRecordAtATime          = "one-lost-record-at-a-time"
	BugProposeUncoveredConfiguration = "propose-uncovered-configuration"
	// Log compaction: caught by the digests of the replicas' states at
	// every snapshot_interval-th slot (sim.Observation.State).
	BugSnapshotForgetsSessions = "snapshot-forgets-sessions"
)

var knownBugs = service.BugTable[bug]{Protocol: "paxos", Bugs: []Bug{
	acceptLowerBallot: {Name: BugAcceptLowerBallot, Description: "an acceptor accepts a proposal whose ballot is " +
		"below the one it promised, breaking the promise of Paxos Made Simple §2.2 (P1a), so a deposed leader still " +
		"gets values chosen"},
	adoptLowestBallot: {Name: BugAdoptLowestBallot, Description: "a new leader re-proposes, in a slot where phase 1 " +
		"reports values of several ballots, the one of the lowest ballot instead of the highest (Paxos Made Simple " +
		"§2.2, P2c), so a value accepted long ago by a deposed leader replaces one a later ballot chose"},
	countStalePromises: {Name: BugCountStalePromises, Description: "a proposer counts a promise of its earlier " +
		"ballot toward the one it now runs phase 1 in (PMS §2.2: a majority promising one ballot): the promise " +
		"reports what its sender had accepted then, not what other leaders got chosen since, so the proposer " +
		"leads without seeing those slots and proposes other values in them"},
	decideAnyAccepted: {Name: BugDecideAnyAccepted, Description: "a server told that a slot is chosen (a decide) " +
		"marks the value it accepted there chosen whatever its ballot, instead of only one of the decide's ballot " +
		"(PMS §2.3: a value is chosen when a majority accepted it in one ballot), so a deposed leader that accepted its " +
		"own proposals takes them for the ones its successor chose in the same slots"},
	forgetPromise: {Name: BugForgetPromise, Description: "an acceptor keeps its promise only in memory, so after a " +
		"restart it accepts proposals it promised to ignore (Paxos Made Simple §2.3: an acceptor must remember its " +
		"promise across failures)"},
	ignoreAccepted: {Name: BugIgnoreAccepted, Description: "a new leader ignores the values acceptors report in " +
		"phase 1 and proposes fresh commands in their slots, instead of the value with the highest ballot (Paxos " +
		"Made Simple §2.2, P2c)"},
	noAlphaWindow: {Name: BugNoAlphaWindow, Description: "a configuration chosen at slot i governs the slots from " +
		"i+1 on instead of i+alpha, while the leader keeps up to alpha slots in flight: slots chosen by the old " +
		"configuration's quorum are judged by the new one, whose phase 1 need not see them " +
		"(Paxos Made Simple §3, end)"},
	oneLostRecordAtATime: {Name: BugOneLostRecordAtATime, Description: "a proposer whose promisers lost their " +
		"records of a slot to disk corruption leaves them out of the slot's majority one at a time instead of all at " +
		"once: when two promisers lost the same slot, it counts one of them toward a majority that can report on it, " +
		"learns nothing there, and proposes another value in a slot where one was chosen"},
	proposeUncoveredConfig: {Name: BugProposeUncoveredConfiguration, Description: "a leader proposes in the slots a new " +
		"configuration governs although no majority of that configuration promised its ballot (its phase 1 " +
		"predates the change): it sends its proposals to the old configuration's members only, and counts a " +
		"majority of the new one that may have chosen other values there under another ballot (PMS §3, alpha " +
		"window)"},
	snapshotForgetsSessions: {Name: BugSnapshotForgetsSessions, Description: "a snapshot restored at a restart, " +
		"or installed from another server, brings back the state machine but not the last reply of each client: a " +
		"command a client retried, chosen in two slots, runs twice on that server, and its state parts from the " +
		"others' even where the results of the commands it applies agree"},
}}

// KnownBugs lists the planted bugs, sorted by name.
func KnownBugs() []Bug { return knownBugs.Known() }

// bug is a planted bug's position in knownBugs, its bit in a bugSet.
type bug uint8

// The planted bugs' positions, in the order of their names.
const (
	acceptLowerBallot bug = iota
	adoptLowestBallot
	countStalePromises
	decideAnyAccepted
	forgetPromise
	ignoreAccepted
	noAlphaWindow
	oneLostRecordAtATime
	proposeUncoveredConfig
	snapshotForgetsSessions
)

// bugSet is the parsed form of Config.Bugs.
type bugSet = service.BugSet[bug]

// safetyBugs are the planted bugs that break safety: all of them.
// Assertions of cross-node safety properties are only made when none is on:
// such a bug should reach the checkers as a violation, not stop the run as a
// protocol crash.
var safetyBugs = service.BugsOf(acceptLowerBallot, adoptLowestBallot, countStalePromises, decideAnyAccepted,
	forgetPromise, ignoreAccepted, noAlphaWindow, oneLostRecordAtATime, proposeUncoveredConfig, snapshotForgetsSessions)
