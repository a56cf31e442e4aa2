package pbft

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/simrun/simrun/service"
)

// Config tunes a PBFT cluster. Every replica of a world gets the same Config.
type Config struct {
	// RequestTimeout is the view-change timer of §4.4: a backup that has
	// waited this long for a request it received to execute suspects the
	// primary and starts a view change. It is also the first wait for a new
	// view; each view change in a row that brings no progress (no new view
	// in time, or a new view that executes nothing in time) doubles both
	// waits (§4.5.2), up to BackoffLimit times; and a request waits at least
	// twice as long as the slowest took lately, up to the same limit.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// BackoffLimit bounds the doublings of the view-change wait (0: none).
	BackoffLimit int `yaml:"backoff_limit"`
	// StatusInterval is how often a replica tells the others how far it got
	// (view, executed and stable sequence numbers), retransmits its messages
	// for requests still in progress, and, during a view change, resends its
	// view-change message. Replicas that see someone behind send it the
	// certificates, new-view or state it misses.
	StatusInterval time.Duration `yaml:"status_interval"`
	// CheckpointInterval is K of §4.3: a replica takes a checkpoint (a
	// snapshot of the state machine and client sessions) after executing
	// every K-th sequence number.
	CheckpointInterval int `yaml:"checkpoint_interval"`
	// LogWindow is L of §4.2, the distance between the low water mark (the
	// last stable checkpoint) and the high one: a primary assigns, and a
	// backup accepts, sequence numbers in (h, h+L] only. A multiple of
	// CheckpointInterval, at least twice it, so that the log does not fill up
	// while the next checkpoint becomes stable.
	LogWindow int `yaml:"log_window"`
	// MaxCatchUp bounds the commit certificates of one catch-up message, so
	// that a replica far behind catches up in chunks (at least 1).
	MaxCatchUp int `yaml:"max_catch_up"`
	// ByzantineCrashWithin is, for the "crash" Byzantine behaviour, the
	// bound of the moment it stops: drawn uniformly in [0, this] from its
	// own random stream.
	ByzantineCrashWithin time.Duration `yaml:"byzantine_crash_within"`
	// ByzantineDelay is, for the "delay" Byzantine behaviour, how long it
	// holds each message to its victims before sending it.
	ByzantineDelay time.Duration `yaml:"byzantine_delay"`
	// Bugs names planted bugs to switch on (see KnownBugs). Empty for the
	// correct protocol.
	Bugs []string `yaml:"bugs"`
}

// DefaultConfig suits networks with 1-10ms latency: a 400ms view-change
// timer (many round trips, several client retries), status every 50ms, a
// checkpoint every 16 requests and a window of 64.
func DefaultConfig() Config {
	return Config{
		RequestTimeout:       400 * time.Millisecond,
		BackoffLimit:         3,
		StatusInterval:       50 * time.Millisecond,
		CheckpointInterval:   16,
		LogWindow:            64,
		MaxCatchUp:           32,
		ByzantineCrashWithin: 3 * time.Second,
		ByzantineDelay:       150 * time.Millisecond,
	}
}

// maxBackoffLimit keeps 2^BackoffLimit waits within reason.
const maxBackoffLimit = 10

// Validate reports an impossible setting or an unknown bug name.
func (c Config) Validate() error {
	switch {
	case c.RequestTimeout <= 0:
		return fmt.Errorf("pbft: request_timeout %v must be positive", c.RequestTimeout)
	case c.BackoffLimit < 0 || c.BackoffLimit > maxBackoffLimit:
		return fmt.Errorf("pbft: backoff_limit %d must be in [0, %d]", c.BackoffLimit, maxBackoffLimit)
	case c.StatusInterval <= 0:
		return fmt.Errorf("pbft: status_interval %v must be positive", c.StatusInterval)
	case c.StatusInterval >= c.RequestTimeout:
		return fmt.Errorf("pbft: status_interval %v must be below request_timeout %v (lost messages are retransmitted at each status)",
			c.StatusInterval, c.RequestTimeout)
	case c.CheckpointInterval < 1:
		return fmt.Errorf("pbft: checkpoint_interval %d must be at least 1", c.CheckpointInterval)
	case c.LogWindow/2 < c.CheckpointInterval || c.LogWindow%c.CheckpointInterval != 0: // no product: it could wrap on 386
		return fmt.Errorf("pbft: log_window %d must be a multiple of checkpoint_interval %d, at least twice it",
			c.LogWindow, c.CheckpointInterval)
	case c.MaxCatchUp < 1:
		return fmt.Errorf("pbft: max_catch_up %d must be at least 1", c.MaxCatchUp)
	case c.ByzantineCrashWithin < 0:
		return fmt.Errorf("pbft: byzantine_crash_within %v must not be negative", c.ByzantineCrashWithin)
	case c.ByzantineDelay < 0:
		return fmt.Errorf("pbft: byzantine_delay %v must not be negative", c.ByzantineDelay)
	}
	return knownBugs.Check(c.Bugs)
}

// MinServers is the smallest cluster: n = 3f+1 with f = 1.
const MinServers = 4

// MaxServers bounds the cluster: votes are counted in 64-bit sets.
const MaxServers = 64

// Faulty returns f, how many Byzantine replicas n replicas tolerate:
// n >= 3f+1 (§3).
func Faulty(n int) int { return (n - 1) / 3 }

// Quorum returns the size of a quorum certificate for n replicas: 2f+1
// when n = 3f+1 (§4.2), and in general the smallest size such that any two
// quorums share at least f+1 replicas, one of them correct:
// ceil((n+f+1)/2).
func Quorum(n int) int { return (n + Faulty(n) + 2) / 2 }

// ReplyQuorum is how many matching replies from distinct replicas a client
// needs for n replicas: f+1, so that one of them is correct (§4.1). With the
// planted bug client-first-reply it is 1.
func (c Config) ReplyQuorum(n int) int {
	if slices.Contains(c.Bugs, BugClientFirstReply) {
		return 1
	}
	return Faulty(n) + 1
}

// Bug describes a planted bug: a deliberate deviation from the paper that the
// simulator's faults and checkers are expected to expose.
type Bug = service.Bug

// The planted bugs, by name.
const (
	BugQuorum2f          = "quorum-2f"
	BugDropPreparedCerts = "drop-prepared-certs"
	BugClientFirstReply  = "client-first-reply"
	// The three acceptance checks no adversary reached before the
	// conflicting-pre-prepares, tamper-new-view and wrong-new-view-requests
	// behaviours did.
	BugAcceptConflictingPrePrepare = "accept-conflicting-pre-prepare"
	BugTrustRelayedViewChanges     = "trust-relayed-view-changes"
	BugTrustNewViewPrePrepares     = "trust-new-view-pre-prepares"
	// The primary check, which the usurp-primary behaviour reaches.
	BugAcceptPrePrepareFromBackup = "accept-pre-prepare-from-backup"
	// The new view's choice among prepared certificates, which only a
	// sequence played at fixed times reaches (pbft-lone-old-certificate).
	BugNewViewLowestCertificate = "new-view-lowest-certificate"
	// The distinct-signer rule of a certificate, which a forger repeating
	// its own signature reaches (forge-catch-up, forge-view-change).
	BugCountRepeatedSigners = "count-repeated-signers"
	// State transfer (§4.3), which the checkers judge by the digests of
	// the replicas' states at checkpoints (sim.Observation.State).
	BugStateTransferForgetsSessions = "state-transfer-forgets-sessions"
	BugStateTransferUnchecked       = "state-transfer-unchecked"
	// A restarted primary's own pre-prepares, which only the agreement
	// check's judgement of votes (sim.Voter) sees: the backups refuse the
	// second one, and clients only wait longer.
	BugRestartReusesSequenceNumbers = "restart-reuses-sequence-numbers"
	// An availability bug, which only the stable-leader check sees.
	BugJoinOnFViewChanges = "join-on-f-view-changes"
	// New-view computation, which random fault mixes reach rarely or never:
	// the fixed timelines pbft-new-view-* do.
	BugNewViewFrom2f                 = "new-view-from-2f"
	BugNewViewLowestStableCheckpoint = "new-view-lowest-stable-checkpoint"
	// Checks that only one defence stood behind, found by mutating the
	// protocol: the new view's choice when the lone old certificate comes
	// first (pbft-lone-old-certificate-first), a certificate's quorum
	// against an equivocator that claims its minority's prepares, and the
	// distinct senders of a new-view's V against a primary that repeats its
	// own view change (tamper-view-change).
	BugNewViewFirstCertificate    = "new-view-first-certificate"
	BugShortPreparedCertificate   = "short-prepared-certificate"
	BugNewViewRepeatedViewChanges = "new-view-repeated-view-changes"
)

var knownBugs = service.BugTable[bug]{Protocol: "pbft", Bugs: []Bug{
	acceptPrePrepareFromBackup: {Name: BugAcceptPrePrepareFromBackup, Description: "a replica accepts a " +
		"pre-prepare from any replica that signed it, not only from the view's primary (§4.1), so a Byzantine backup " +
		"that races the primary assigns sequence numbers, different requests to different replicas, and none gathers " +
		"a quorum"},
	acceptConflictingPrePrepare: {Name: BugAcceptConflictingPrePrepare, Description: "a backup that already accepted " +
		"a pre-prepare for a view and sequence number logs a conflicting one in its place (§4.2: it must have " +
		"accepted no other), so a primary that sends two gets both committed"},
	countRepeatedSigners: {Name: BugCountRepeatedSigners, Description: "a certificate carried in a message (a " +
		"commit certificate of catch-up, a checkpoint proof, a view-change's prepared certificates) is counted by its " +
		"valid signatures without checking that their signers differ (§4.2: 2f+1 from different replicas), so one " +
		"Byzantine replica's own signature repeated 2f+1 times passes for a quorum"},
	clientFirstReply: {Name: BugClientFirstReply, Description: "clients accept the first reply instead of f+1 " +
		"matching ones (§4.1), so one Byzantine replica's wrong result reaches the client"},
	dropPreparedCerts: {Name: BugDropPreparedCerts, Description: "view-change messages carry no prepared " +
		"certificates (§4.4: the set P), so the new primary fills with no-ops, or reuses, sequence numbers that " +
		"committed requests hold"},
	joinOnFViewChanges: {Name: BugJoinOnFViewChanges, Description: "an availability bug: a replica joins a view " +
		"change once f replicas ask for later views instead of f+1 (§4.5.2), so f faulty replicas asking for view " +
		"after view make every correct one follow them while the primary works, and clients wait out each view " +
		"change"},
	newViewFrom2f: {Name: BugNewViewFrom2f, Description: "a new primary starts its view from 2f view-change " +
		"messages instead of 2f+1 (§4.4), and backups accept such a new view: with a faulty replica's valid " +
		"view change that carries no certificates, V may miss every certificate of a committed request, and the " +
		"new view puts a null request in its place"},
	newViewLowestStable: {Name: BugNewViewLowestStableCheckpoint, Description: "a new view starts at the lowest stable " +
		"checkpoint of its view-change messages instead of the latest (§4.4: min-s), and re-issues the numbers " +
		"above it from the certificates it holds, with null requests where it holds none: replicas whose " +
		"checkpoint is later executed real requests there, whose certificates they discarded"},
	newViewFirstCertificate: {Name: BugNewViewFirstCertificate, Description: "the new view re-issues, for each " +
		"sequence number, the request of the first prepared certificate in its view-change messages instead of the " +
		"one of the highest view (§4.4): right whenever the messages happen to come in the order of their views, " +
		"wrong when the replica that holds a lone old certificate sorts first"},
	newViewRepeatedViewChanges: {Name: BugNewViewRepeatedViewChanges, Description: "a backup accepts a new-view " +
		"whose view-change messages are not from distinct replicas (§4.4: 2f+1 of them), so a Byzantine primary that " +
		"fills V with copies of its own view change, which carries no certificates, re-issues null requests over " +
		"committed ones"},
	newViewLowestCertificate: {Name: BugNewViewLowestCertificate, Description: "the new view re-issues, for each " +
		"sequence number, the request of the prepared certificate of the lowest view instead of the highest (§4.4), " +
		"so a request prepared long ago at one replica replaces one that a later view committed"},
	quorum2f: {Name: BugQuorum2f, Description: "quorums of 2f replicas instead of 2f+1 (§4.2), so two quorums may " +
		"share only a Byzantine replica and prepare or commit conflicting requests"},
	shortPreparedCertificate: {Name: BugShortPreparedCertificate, Description: "a view change's prepared " +
		"certificate passes with 2f-1 prepares instead of 2f (§4.2): an equivocating primary that claims, in its " +
		"view change, the request it pre-prepared to a minority, with that minority's real prepares, has it " +
		"re-issued over the request the others committed"},
	restartReusesSequenceNumbers: {Name: BugRestartReusesSequenceNumbers, Description: "a primary that restarts " +
		"within its view numbers the next request from its low water mark again instead of past the pre-prepares it " +
		"logged in the view (§4.2: a primary assigns each sequence number once per view): it signs a second " +
		"pre-prepare for a sequence number it already assigned, the backups that accepted the first refuse it, and the " +
		"view stalls until a view change"},
	stateTransferForgetsSessions: {Name: BugStateTransferForgetsSessions, Description: "a replica that installs " +
		"the state of a stable checkpoint from another (state transfer, §4.3) restores the service's state but not " +
		"the last reply of each client, which §4.3 counts in the state: a request retried across the transfer runs " +
		"again there, and its next checkpoint differs from the others'"},
	stateTransferUnchecked: {Name: BugStateTransferUnchecked, Description: "a replica installs transferred state " +
		"whose checkpoint certificate is valid without checking that the bytes match the certificate's digest " +
		"(§4.3), so a Byzantine replica that sends a real stable checkpoint with a state of its own making plants " +
		"that state in a correct replica"},
	trustNewViewPrePrepares: {Name: BugTrustNewViewPrePrepares, Description: "a backup takes a new-view's " +
		"pre-prepares (O) as sent instead of recomputing them from its view-change messages (§4.4), so a new primary " +
		"may re-issue committed sequence numbers with other requests"},
	trustRelayedViewChanges: {Name: BugTrustRelayedViewChanges, Description: "a backup does not check the " +
		"view-change messages a new-view relays (§4.4: signatures and certificates), trusting the new primary to " +
		"have done so, so a tampered V that hides prepared requests is accepted"},
}}

// KnownBugs lists the planted bugs, sorted by name.
func KnownBugs() []Bug { return knownBugs.Known() }

// bug is a planted bug's position in knownBugs, its bit in a bugSet.
type bug uint8

// The planted bugs' positions, in the order of their names.
const (
	acceptConflictingPrePrepare bug = iota
	acceptPrePrepareFromBackup
	clientFirstReply
	countRepeatedSigners
	dropPreparedCerts
	joinOnFViewChanges
	newViewFirstCertificate
	newViewFrom2f
	newViewLowestCertificate
	newViewLowestStable
	newViewRepeatedViewChanges
	quorum2f
	restartReusesSequenceNumbers
	shortPreparedCertificate
	stateTransferForgetsSessions
	stateTransferUnchecked
	trustNewViewPrePrepares
	trustRelayedViewChanges
)

// bugSet is the parsed form of Config.Bugs. clientFirstReply changes only
// ReplyQuorum, which the client uses, not the replicas.
type bugSet = service.BugSet[bug]

var errNoSnapshots = errors.New("pbft: the state machine must be a service.Snapshotter: checkpoints digest the state (§4.3)")
