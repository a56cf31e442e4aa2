package pbft

import (
	"slices"
	"strings"

	"github.com/simrun/simrun/sim"
)

// Coverage probes (sim.Probe). Every validity check a replica makes on a
// message from another replica fires one probe per rejection reason, and
// the rare paths (a state transfer installed, a new view entered) fire
// their own: a sweep that leaves one cold never exercised that check, so a
// bug in it would go unseen. Only correct replicas count (node.probe): a
// Byzantine replica runs the same code, but its checks prove nothing.

// Probe describes a coverage probe.
type Probe struct {
	Name, Description string
}

// The probes, by name. The "-rejected-" ones are the validity checks.
const (
	// Pre-prepares (§4.2).
	ProbePrePrepareAccepted          = "pbft/pre-prepare-accepted"
	ProbePrePrepareDuplicate         = "pbft/pre-prepare-duplicate"
	ProbePrePrepareRejectedChanging  = "pbft/pre-prepare-rejected-view-changing"
	ProbePrePrepareRejectedOldView   = "pbft/pre-prepare-rejected-old-view"
	ProbePrePrepareRejectedLaterView = "pbft/pre-prepare-rejected-later-view"
	ProbePrePrepareRejectedNotPrim   = "pbft/pre-prepare-rejected-not-primary"
	ProbePrePrepareRejectedWindow    = "pbft/pre-prepare-rejected-outside-window"
	ProbePrePrepareRejectedDigest    = "pbft/pre-prepare-rejected-bad-digest"
	ProbePrePrepareRejectedSig       = "pbft/pre-prepare-rejected-bad-signature"
	ProbePrePrepareRejectedConflict  = "pbft/pre-prepare-rejected-conflict"

	// Prepares and commits (§4.2).
	ProbePrepareRejectedOldView   = "pbft/prepare-rejected-old-view"
	ProbePrepareRejectedPrimary   = "pbft/prepare-rejected-from-primary"
	ProbePrepareRejectedWindow    = "pbft/prepare-rejected-outside-window"
	ProbePrepareRejectedSig       = "pbft/prepare-rejected-bad-signature"
	ProbePrepareLaterView         = "pbft/prepare-of-later-view-kept"
	ProbePrepared                 = "pbft/prepared"
	ProbeCommitRejectedOldView    = "pbft/commit-rejected-old-view"
	ProbeCommitRejectedWindow     = "pbft/commit-rejected-outside-window"
	ProbeCommitRejectedSig        = "pbft/commit-rejected-bad-signature"
	ProbeCommittedLocal           = "pbft/committed-local"
	ProbeCommittedAgainInLaterVew = "pbft/committed-again-in-later-view"

	// Checkpoints (§4.3).
	ProbeCheckpointRejectedLow      = "pbft/checkpoint-rejected-below-low-water-mark"
	ProbeCheckpointRejectedInterval = "pbft/checkpoint-rejected-not-at-interval"
	ProbeCheckpointRejectedSig      = "pbft/checkpoint-rejected-bad-signature"
	ProbeCheckpointStable           = "pbft/checkpoint-stable"
	ProbeCheckpointAhead            = "pbft/checkpoint-stable-before-executed"

	// View changes (§4.4, §4.5.2).
	ProbeViewChangeRejectedRelayed   = "pbft/view-change-rejected-relayed"
	ProbeViewChangeRejectedOldView   = "pbft/view-change-rejected-old-view"
	ProbeViewChangeIgnoredCopy       = "pbft/view-change-ignored-copy"
	ProbeViewChangeRejectedSig       = "pbft/view-change-rejected-bad-signature"
	ProbeViewChangeRejectedProof     = "pbft/view-change-rejected-bad-checkpoint-proof"
	ProbeViewChangeRejectedCertOrder = "pbft/view-change-rejected-cert-out-of-order"
	ProbeViewChangeRejectedCertView  = "pbft/view-change-rejected-cert-of-later-view"
	ProbeViewChangeRejectedCert      = "pbft/view-change-rejected-bad-prepared-cert"
	ProbeViewChangeAccepted          = "pbft/view-change-accepted"
	ProbeViewChangeJoined            = "pbft/view-change-joined"

	// New views (§4.4): the relayed view-change messages are checked like
	// the ones received directly, each failure its own probe.
	ProbeNewViewRejectedOldView       = "pbft/new-view-rejected-old-view"
	ProbeNewViewRejectedTooFew        = "pbft/new-view-rejected-too-few-view-changes"
	ProbeNewViewRejectedWrongView     = "pbft/new-view-rejected-relayed-wrong-view"
	ProbeNewViewRejectedDuplicate     = "pbft/new-view-rejected-relayed-duplicate-replica"
	ProbeNewViewRejectedRelayedSig    = "pbft/new-view-rejected-bad-relayed-signature"
	ProbeNewViewRejectedRelayedProof  = "pbft/new-view-rejected-relayed-bad-checkpoint-proof"
	ProbeNewViewRejectedRelayedOrder  = "pbft/new-view-rejected-relayed-cert-out-of-order"
	ProbeNewViewRejectedRelayedCertV  = "pbft/new-view-rejected-relayed-cert-of-later-view"
	ProbeNewViewRejectedRelayedCert   = "pbft/new-view-rejected-relayed-bad-prepared-cert"
	ProbeNewViewRejectedLength        = "pbft/new-view-rejected-wrong-pre-prepare-count"
	ProbeNewViewRejectedRequest       = "pbft/new-view-rejected-wrong-request"
	ProbeNewViewRejectedPrePrepare    = "pbft/new-view-rejected-malformed-pre-prepare"
	ProbeNewViewRejectedPrePrepareSig = "pbft/new-view-rejected-pre-prepare-bad-signature"
	ProbeNewViewEntered               = "pbft/new-view-entered"

	// Catching up: status, commit certificates, state transfer (§4.3).
	ProbeStatusSentNewView      = "pbft/status-answered-with-new-view"
	ProbeStatusSentState        = "pbft/status-answered-with-state"
	ProbeStatusSentCommitted    = "pbft/status-answered-with-commit-certs"
	ProbeCommittedCertRejected  = "pbft/commit-cert-rejected"
	ProbeCommittedCertAccepted  = "pbft/commit-cert-accepted"
	ProbeStateRejectedStale     = "pbft/state-rejected-stale"
	ProbeStateRejectedDigest    = "pbft/state-rejected-bad-digest"
	ProbeStateRejectedProof     = "pbft/state-rejected-bad-proof"
	ProbeStateRejectedUndecoded = "pbft/state-rejected-undecodable"
	ProbeStateInstalled         = "pbft/state-installed"
)

var knownProbes = []Probe{
	{ProbePrePrepareAccepted, "a backup accepted a pre-prepare (§4.2)"},
	{ProbePrePrepareDuplicate, "a copy of an accepted pre-prepare (a retransmission) was ignored"},
	{ProbePrePrepareRejectedChanging, "a pre-prepare reached a replica changing view (§4.4: it accepts none)"},
	{ProbePrePrepareRejectedOldView, "a pre-prepare of an older view was rejected (§4.2: v is the current view)"},
	{ProbePrePrepareRejectedLaterView, "a pre-prepare of a view the replica has not entered was rejected"},
	{ProbePrePrepareRejectedNotPrim, "a pre-prepare from a replica that is not the view's primary was rejected (§4.1)"},
	{ProbePrePrepareRejectedWindow, "a pre-prepare outside the water marks was rejected (§4.2)"},
	{ProbePrePrepareRejectedDigest, "a pre-prepare whose digest is not the request's was rejected (§4.2)"},
	{ProbePrePrepareRejectedSig, "a pre-prepare with a bad signature was rejected (§4.2)"},
	{ProbePrePrepareRejectedConflict, "a pre-prepare conflicting with the one accepted for its view and sequence number was rejected (§4.2)"},
	{ProbePrepareRejectedOldView, "a prepare of an older view was rejected (§4.2)"},
	{ProbePrepareRejectedPrimary, "a prepare from the view's primary was rejected (§4.2: backups prepare)"},
	{ProbePrepareRejectedWindow, "a prepare outside the water marks was rejected (§4.2)"},
	{ProbePrepareRejectedSig, "a prepare with a bad signature was rejected (§4.2)"},
	{ProbePrepareLaterView, "a prepare of a later view was kept for the new view to come"},
	{ProbePrepared, "a request prepared (§4.2: prepared(m, v, n, i))"},
	{ProbeCommitRejectedOldView, "a commit of an older view was rejected (§4.2)"},
	{ProbeCommitRejectedWindow, "a commit outside the water marks was rejected (§4.2)"},
	{ProbeCommitRejectedSig, "a commit with a bad signature was rejected (§4.2)"},
	{ProbeCommittedLocal, "a request committed locally (§4.2: committed-local(m, v, n, i))"},
	{ProbeCommittedAgainInLaterVew, "a request committed again, re-issued by a later view (§4.4)"},
	{ProbeCheckpointRejectedLow, "a checkpoint message at or below the low water mark was ignored (§4.3)"},
	{ProbeCheckpointRejectedInterval, "a checkpoint message for a sequence number not a multiple of K was rejected (§4.3)"},
	{ProbeCheckpointRejectedSig, "a checkpoint message with a bad signature was rejected (§4.3)"},
	{ProbeCheckpointStable, "a checkpoint became stable (§4.3)"},
	{ProbeCheckpointAhead, "a checkpoint became stable before this replica executed that far: it waits for the state (§4.3)"},
	{ProbeViewChangeRejectedRelayed, "a view-change message sent by a replica other than its signer was rejected (relayed ones travel in new-views)"},
	{ProbeViewChangeRejectedOldView, "a view-change message for a view the replica is past was ignored"},
	{ProbeViewChangeIgnoredCopy, "a view-change message no later than the one held from its sender was ignored"},
	{ProbeViewChangeRejectedSig, "a view-change message with a bad signature was rejected (§4.4)"},
	{ProbeViewChangeRejectedProof, "a view-change message whose stable checkpoint has a bad proof was rejected (§4.4)"},
	{ProbeViewChangeRejectedCertOrder, "a view-change message with prepared certificates out of order or beyond the window was rejected"},
	{ProbeViewChangeRejectedCertView, "a view-change message with a prepared certificate not from an earlier view was rejected"},
	{ProbeViewChangeRejectedCert, "a view-change message with a bad prepared certificate was rejected (§4.4: 2f valid prepares and the primary's pre-prepare)"},
	{ProbeViewChangeAccepted, "a valid view-change message was logged (§4.4)"},
	{ProbeViewChangeJoined, "f+1 replicas asked for later views and this one joined them (§4.5.2)"},
	{ProbeNewViewRejectedOldView, "a new-view message for a view the replica is past was ignored"},
	{ProbeNewViewRejectedTooFew, "a new-view message with fewer than 2f+1 view-change messages was rejected (§4.4)"},
	{ProbeNewViewRejectedWrongView, "a new-view message relaying a view-change message for another view was rejected"},
	{ProbeNewViewRejectedDuplicate, "a new-view message relaying two view-change messages of one replica was rejected"},
	{ProbeNewViewRejectedRelayedSig, "a new-view message relaying a view-change message with a bad signature was rejected (§4.4)"},
	{ProbeNewViewRejectedRelayedProof, "a new-view message relaying a view-change message with a bad checkpoint proof was rejected"},
	{ProbeNewViewRejectedRelayedOrder, "a new-view message relaying a view-change message with certificates out of order was rejected"},
	{ProbeNewViewRejectedRelayedCertV, "a new-view message relaying a view-change message with a certificate not from an earlier view was rejected"},
	{ProbeNewViewRejectedRelayedCert, "a new-view message relaying a view-change message with a bad prepared certificate was rejected"},
	{ProbeNewViewRejectedLength, "a new-view message with more or fewer pre-prepares than its view-change messages imply was rejected (§4.4)"},
	{ProbeNewViewRejectedRequest, "a new-view message whose pre-prepares do not carry the requests its view-change messages imply was rejected (§4.4)"},
	{ProbeNewViewRejectedPrePrepare, "a new-view message with a pre-prepare of another view or sequence number, or whose request does not match its digest, was rejected"},
	{ProbeNewViewRejectedPrePrepareSig, "a new-view message with a pre-prepare not signed by the view's primary was rejected (§4.4)"},
	{ProbeNewViewEntered, "a backup checked a new-view message and entered its view (§4.4)"},
	{ProbeStatusSentNewView, "a replica sent its view's new-view message to one behind"},
	{ProbeStatusSentState, "a replica sent its stable state to one behind (state transfer, §4.3)"},
	{ProbeStatusSentCommitted, "a replica sent commit certificates to one behind"},
	{ProbeCommittedCertRejected, "a commit certificate received while catching up was rejected (bad signatures)"},
	{ProbeCommittedCertAccepted, "a commit certificate received while catching up was accepted"},
	{ProbeStateRejectedStale, "a state transfer not beyond what the replica executed was ignored"},
	{ProbeStateRejectedDigest, "a state transfer whose bytes do not match the checkpoint's digest was rejected (§4.3)"},
	{ProbeStateRejectedProof, "a state transfer whose checkpoint has a bad proof was rejected (§4.3)"},
	{ProbeStateRejectedUndecoded, "a state transfer whose bytes do not decode was rejected"},
	{ProbeStateInstalled, "a replica installed a stable state from another (§4.3)"},
}

// KnownProbes lists the probes, in the order of the protocol's phases.
func KnownProbes() []Probe { return slices.Clone(knownProbes) }

// ValidityProbes lists the probes of validity checks: those a replica fires
// when it rejects a message another replica sent.
func ValidityProbes() []string {
	var out []string
	for _, p := range knownProbes {
		if isValidityProbe(p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}

func isValidityProbe(name string) bool {
	return strings.Contains(name, "-rejected-") || name == ProbeCommittedCertRejected
}

// probe counts one firing of name at a correct replica.
func (n *node) probe(name string) {
	if n.byz == nil {
		sim.Probe(n.env, name)
	}
}
