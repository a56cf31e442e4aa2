package pbft

import (
	"slices"
	"strings"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Coverage probes (sim.Probe). Every validity check a replica makes on a
// message from another replica fires one probe per rejection reason, and
// the rare paths (a state transfer installed, a new view entered) fire
// their own: a sweep that leaves one cold never exercised that check, so a
// bug in it would go unseen. Only correct replicas count (node.probe): a
// Byzantine replica runs the same code, but its checks prove nothing.

// Probe describes a coverage probe.
type Probe = service.Probe

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
	ProbePrePrepareRejectedUnsigned  = "pbft/pre-prepare-rejected-request-not-clients"
	ProbeRequestRefusedUnsigned      = "pbft/request-refused-not-clients"
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
	ProbeStateStableAdopted     = "pbft/state-adopted-as-stable-checkpoint"
)

var knownProbes = []Probe{
	{Name: ProbePrePrepareAccepted, Description: "a backup accepted a pre-prepare (§4.2)"},
	{Name: ProbePrePrepareDuplicate, Description: "a copy of an accepted pre-prepare (a retransmission) was ignored"},
	{Name: ProbePrePrepareRejectedChanging, Description: "a pre-prepare reached a replica changing view (§4.4: it accepts none)"},
	{Name: ProbePrePrepareRejectedOldView, Description: "a pre-prepare of an older view was rejected (§4.2: v is the current view)"},
	{Name: ProbePrePrepareRejectedLaterView, Description: "a pre-prepare of a view the replica has not entered was rejected"},
	{Name: ProbePrePrepareRejectedNotPrim, Description: "a pre-prepare from a replica that is not the view's primary was rejected (§4.1)"},
	{Name: ProbePrePrepareRejectedWindow, Description: "a pre-prepare outside the water marks was rejected (§4.2)"},
	{Name: ProbePrePrepareRejectedDigest, Description: "a pre-prepare whose digest is not the request's was rejected (§4.2)"},
	{Name: ProbePrePrepareRejectedSig, Description: "a pre-prepare with a bad signature was rejected (§4.2)"},
	{Name: ProbePrePrepareRejectedUnsigned, Description: "a pre-prepare of a request its client did not sign was rejected (§4.2)"},
	{Name: ProbeRequestRefusedUnsigned, Description: "a request its client did not sign, relayed by a replica, was refused (§4.1)"},
	{Name: ProbePrePrepareRejectedConflict, Description: "a pre-prepare conflicting with the one accepted for its view and sequence number was rejected (§4.2)"},
	{Name: ProbePrepareRejectedOldView, Description: "a prepare of an older view was rejected (§4.2)"},
	{Name: ProbePrepareRejectedPrimary, Description: "a prepare from the view's primary was rejected (§4.2: backups prepare)"},
	{Name: ProbePrepareRejectedWindow, Description: "a prepare outside the water marks was rejected (§4.2)"},
	{Name: ProbePrepareRejectedSig, Description: "a prepare with a bad signature was rejected (§4.2)"},
	{Name: ProbePrepareLaterView, Description: "a prepare of a later view was kept for the new view to come"},
	{Name: ProbePrepared, Description: "a request prepared (§4.2: prepared(m, v, n, i))"},
	{Name: ProbeCommitRejectedOldView, Description: "a commit of an older view was rejected (§4.2)"},
	{Name: ProbeCommitRejectedWindow, Description: "a commit outside the water marks was rejected (§4.2)"},
	{Name: ProbeCommitRejectedSig, Description: "a commit with a bad signature was rejected (§4.2)"},
	{Name: ProbeCommittedLocal, Description: "a request committed locally (§4.2: committed-local(m, v, n, i))"},
	{Name: ProbeCommittedAgainInLaterVew, Description: "a request committed again, re-issued by a later view (§4.4)"},
	{Name: ProbeCheckpointRejectedLow, Description: "a checkpoint message at or below the low water mark was ignored (§4.3)"},
	{Name: ProbeCheckpointRejectedInterval, Description: "a checkpoint message for a sequence number not a multiple of K was rejected (§4.3)"},
	{Name: ProbeCheckpointRejectedSig, Description: "a checkpoint message with a bad signature was rejected (§4.3)"},
	{Name: ProbeCheckpointStable, Description: "a checkpoint became stable (§4.3)"},
	{Name: ProbeCheckpointAhead, Description: "a checkpoint became stable before this replica executed that far: it waits for the state (§4.3)"},
	{Name: ProbeViewChangeRejectedRelayed, Description: "a view-change message sent by a replica other than its signer was rejected (relayed ones travel in new-views)"},
	{Name: ProbeViewChangeRejectedOldView, Description: "a view-change message for a view the replica is past was ignored"},
	{Name: ProbeViewChangeIgnoredCopy, Description: "a view-change message no later than the one held from its sender was ignored"},
	{Name: ProbeViewChangeRejectedSig, Description: "a view-change message with a bad signature was rejected (§4.4)"},
	{Name: ProbeViewChangeRejectedProof, Description: "a view-change message whose stable checkpoint has a bad proof was rejected (§4.4)"},
	{Name: ProbeViewChangeRejectedCertOrder, Description: "a view-change message with prepared certificates out of order or beyond the window was rejected"},
	{Name: ProbeViewChangeRejectedCertView, Description: "a view-change message with a prepared certificate not from an earlier view was rejected"},
	{Name: ProbeViewChangeRejectedCert, Description: "a view-change message with a bad prepared certificate was rejected (§4.4: 2f valid prepares and the primary's pre-prepare)"},
	{Name: ProbeViewChangeAccepted, Description: "a valid view-change message was logged (§4.4)"},
	{Name: ProbeViewChangeJoined, Description: "f+1 replicas asked for later views and this one joined them (§4.5.2)"},
	{Name: ProbeNewViewRejectedOldView, Description: "a new-view message for a view the replica is past was ignored"},
	{Name: ProbeNewViewRejectedTooFew, Description: "a new-view message with fewer than 2f+1 view-change messages was rejected (§4.4)"},
	{Name: ProbeNewViewRejectedWrongView, Description: "a new-view message relaying a view-change message for another view was rejected"},
	{Name: ProbeNewViewRejectedDuplicate, Description: "a new-view message relaying two view-change messages of one replica was rejected"},
	{Name: ProbeNewViewRejectedRelayedSig, Description: "a new-view message relaying a view-change message with a bad signature was rejected (§4.4)"},
	{Name: ProbeNewViewRejectedRelayedProof, Description: "a new-view message relaying a view-change message with a bad checkpoint proof was rejected"},
	{Name: ProbeNewViewRejectedRelayedOrder, Description: "a new-view message relaying a view-change message with certificates out of order was rejected"},
	{Name: ProbeNewViewRejectedRelayedCertV, Description: "a new-view message relaying a view-change message with a certificate not from an earlier view was rejected"},
	{Name: ProbeNewViewRejectedRelayedCert, Description: "a new-view message relaying a view-change message with a bad prepared certificate was rejected"},
	{Name: ProbeNewViewRejectedLength, Description: "a new-view message with more or fewer pre-prepares than its view-change messages imply was rejected (§4.4)"},
	{Name: ProbeNewViewRejectedRequest, Description: "a new-view message whose pre-prepares do not carry the requests its view-change messages imply was rejected (§4.4)"},
	{Name: ProbeNewViewRejectedPrePrepare, Description: "a new-view message with a pre-prepare of another view or sequence number, or whose request does not match its digest, was rejected"},
	{Name: ProbeNewViewRejectedPrePrepareSig, Description: "a new-view message with a pre-prepare not signed by the view's primary was rejected (§4.4)"},
	{Name: ProbeNewViewEntered, Description: "a backup checked a new-view message and entered its view (§4.4)"},
	{Name: ProbeStatusSentNewView, Description: "a replica sent its view's new-view message to one behind"},
	{Name: ProbeStatusSentState, Description: "a replica sent its stable state to one behind (state transfer, §4.3)"},
	{Name: ProbeStatusSentCommitted, Description: "a replica sent commit certificates to one behind"},
	{Name: ProbeCommittedCertRejected, Description: "a commit certificate received while catching up was rejected (bad signatures)"},
	{Name: ProbeCommittedCertAccepted, Description: "a commit certificate received while catching up was accepted"},
	{Name: ProbeStateRejectedStale, Description: "a state transfer not beyond what the replica executed was ignored"},
	{Name: ProbeStateRejectedDigest, Description: "a state transfer whose bytes do not match the checkpoint's digest was rejected (§4.3)"},
	{Name: ProbeStateRejectedProof, Description: "a state transfer whose checkpoint has a bad proof was rejected (§4.3)"},
	{Name: ProbeStateRejectedUndecoded, Description: "a state transfer whose bytes do not decode was rejected"},
	{Name: ProbeStateInstalled, Description: "a replica installed a stable state from another (§4.3)"},
	{Name: ProbeStateStableAdopted, Description: "a replica that had executed past a checkpoint but missed the votes that made it stable took its proof from a state transfer, and its window moved"},
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
