package etcdraft

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/service"
)

// Config is the adapter's protocol_options. Every server of a world gets the
// same Config. The tick-based fields map one to one onto raft.Config; the
// defaults give the same timing as simrun's own Raft (50ms heartbeats,
// election timeouts of 300-600ms).
type Config struct {
	// TickInterval is the virtual time between two RawNode.Tick calls: the
	// unit of etcd-raft's logical clock.
	TickInterval time.Duration `yaml:"tick_interval"`
	// ElectionTicks is raft.Config.ElectionTick: a follower that hears from
	// no leader for a timeout drawn from [ElectionTicks, 2*ElectionTicks)
	// ticks campaigns. etcd requires it to exceed HeartbeatTicks.
	ElectionTicks int `yaml:"election_ticks"`
	// HeartbeatTicks is raft.Config.HeartbeatTick: the leader's heartbeat
	// period, in ticks.
	HeartbeatTicks int `yaml:"heartbeat_ticks"`
	// MaxSizePerMsg is raft.Config.MaxSizePerMsg: the byte budget of the
	// entries of one MsgApp (0: one entry per message), and of the
	// committed entries handed out by one Ready.
	MaxSizePerMsg uint64 `yaml:"max_size_per_msg"`
	// MaxInflightMsgs is raft.Config.MaxInflightMsgs: MsgApps a leader may
	// have in flight to one follower while replicating optimistically.
	MaxInflightMsgs int `yaml:"max_inflight_msgs"`
	// PreVote is raft.Config.PreVote (Raft thesis §9.6): a would-be
	// candidate first asks whether it could win, so a server rejoining from
	// a partition does not disrupt a live leader.
	PreVote bool `yaml:"pre_vote"`
	// CheckQuorum is raft.Config.CheckQuorum: a leader that has not heard
	// from a quorum for an election timeout steps down.
	CheckQuorum bool `yaml:"check_quorum"`
	// Bugs names planted integrator bugs to switch on (see KnownBugs).
	Bugs []string `yaml:"bugs"`
}

// DefaultConfig ticks every 10ms, heartbeats every 5 ticks and campaigns
// after 30-59 silent ticks, with pre-vote and check-quorum on, as etcd
// itself runs by default (its server enables both).
func DefaultConfig() Config {
	return Config{
		TickInterval:    10 * time.Millisecond,
		ElectionTicks:   30,
		HeartbeatTicks:  5,
		MaxSizePerMsg:   4096,
		MaxInflightMsgs: 256,
		PreVote:         true,
		CheckQuorum:     true,
	}
}

// Validate reports an impossible setting or an unknown bug name. The rules
// are etcd-raft's own (raft.Config.validate), checked here so that a
// scenario gets a positioned error instead of a failed build.
func (c Config) Validate() error {
	switch {
	case c.TickInterval <= 0:
		return fmt.Errorf("etcdraft: tick_interval %v must be positive", c.TickInterval)
	case c.HeartbeatTicks < 1:
		return fmt.Errorf("etcdraft: heartbeat_ticks %d must be at least 1", c.HeartbeatTicks)
	case c.ElectionTicks <= c.HeartbeatTicks:
		return fmt.Errorf("etcdraft: election_ticks %d must exceed heartbeat_ticks %d (etcd suggests ten times as many)",
			c.ElectionTicks, c.HeartbeatTicks)
	case c.MaxInflightMsgs < 1:
		return fmt.Errorf("etcdraft: max_inflight_msgs %d must be at least 1", c.MaxInflightMsgs)
	}
	return knownBugs.Check(c.Bugs)
}

// The planted integrator bugs, by name: mistakes an application makes around
// a correct raft library, not bugs of the library.
const (
	BugSendBeforePersist      = "send-before-persist"
	BugNoHardState            = "no-hardstate"
	BugSyncOnTick             = "sync-on-tick"
	BugOneHardStateCopy       = "one-hardstate-copy"
	BugCorruptAsTorn          = "corrupt-as-torn"
	BugLocalReads             = "local-reads"
	BugNoDuplicateReply       = "no-duplicate-reply"
	BugHardStateBeforeEntries = "hardstate-before-entries"
)

// bug is a planted bug's position in knownBugs, its bit in a bugSet.
type bug uint8

// The planted bugs' positions, in the order of their names.
const (
	corruptAsTorn bug = iota
	hardStateFirst
	localReads
	noDuplicateReply
	noHardState
	oneHardStateCopy
	sendBeforePersist
	syncOnTick
)

// bugSet is the parsed form of Config.Bugs.
type bugSet = service.BugSet[bug]

var knownBugs = service.BugTable[bug]{Protocol: "etcdraft", Bugs: []service.Bug{
	corruptAsTorn: {Name: BugCorruptAsTorn, Description: "recovery takes a log record that fails its checksum for a torn write " +
		"and drops it with every entry after it, instead of halting (etcd's WAL refuses to start), and never compares the " +
		"log with the HardState's commit index: a server forgets entries it helped commit"},
	hardStateFirst: {Name: BugHardStateBeforeEntries, Description: "a Ready's HardState is written before its entries and the " +
		"deletion of the stale suffix they replace, not after: the sync covers both, but a crash that cuts the step " +
		"between them on a disk that tears writes keeps a commit index over entries that never reached the disk, and " +
		"the restarted server halts, or applies a stale entry as committed"},
	localReads: {Name: BugLocalReads, Description: "the leader answers a get from its own state machine at once, without " +
		"ReadIndex or a log round (Raft §8): a leader cut off from the others, deposed without knowing it, serves stale values"},
	noDuplicateReply: {Name: BugNoDuplicateReply, Description: "only a command's first application is answered: a retry " +
		"that the leader proposed again and the sessions answer from their record gets no reply, so a client whose " +
		"first reply was lost waits for good"},
	noHardState: {Name: BugNoHardState, Description: "the HardState (term, vote, commit) is never written, so a restarted server " +
		"forgets its vote and may vote twice in one term (Raft Figure 2: currentTerm and votedFor are persistent)"},
	sendBeforePersist: {Name: BugSendBeforePersist, Description: "a Ready's messages are sent before its entries and HardState are " +
		"written and synced (etcd's raft documentation: persist, then send); only a crash between the two exposes it"},
	oneHardStateCopy: {Name: BugOneHardStateCopy, Description: "the HardState is one record overwritten in place instead of " +
		"two written in turn: a crash that tears the overwrite leaves no sound copy, and the restarted server, with no " +
		"term or vote on record, may vote a second time in a term"},
	syncOnTick: {Name: BugSyncOnTick, Description: "entries and HardState are written at once but synced only at the next tick, " +
		"after the acknowledgements and votes that depend on them have left"},
}}

// KnownBugs lists the planted bugs, sorted by name.
func KnownBugs() []service.Bug { return knownBugs.Known() }

// electionTimeout is ElectionTicks in virtual time: the shortest wait
// before a follower campaigns, and the period of a leader's check-quorum.
func (c Config) electionTimeout() time.Duration {
	return time.Duration(c.ElectionTicks) * c.TickInterval
}

// stepDownBound is, with CheckQuorum, the longest a leader cut off from a
// majority goes on leading (runner.Servers.StepDown): etcd-raft's leader
// checks every ElectionTicks whether a quorum was active since the last
// check, so one cut off just after a check, with its followers heard
// since, passes the next and steps down at the one after; a tick more for
// where the check falls. 0 without CheckQuorum.
func (c Config) stepDownBound() time.Duration {
	if !c.CheckQuorum {
		return 0
	}
	return 2*c.electionTimeout() + c.TickInterval
}

// quorumWindow is, with CheckQuorum, how recently a leader must have heard
// from each server of a majority (runner.Servers.QuorumWindow): one check's
// period. 0 without CheckQuorum.
func (c Config) quorumWindow() time.Duration {
	if !c.CheckQuorum {
		return 0
	}
	return c.electionTimeout()
}
