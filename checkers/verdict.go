package checkers

import (
	"strconv"

	"github.com/simrun/simrun/checkers/names"
)

// Verdict is a checker's judgement. The zero value is Unknown, so a verdict
// that nobody set is never mistaken for a pass.
type Verdict uint8

const (
	// Unknown: the checker could not decide (a timeout, a cut-short run).
	// Unknown is never a pass.
	Unknown Verdict = iota
	// Pass: the property holds for what was checked.
	Pass
	// Fail: the property is violated.
	Fail
)

var verdictNames = [...]string{Unknown: "unknown", Pass: "pass", Fail: "fail"}

// String returns "pass", "fail" or "unknown".
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Worst combines verdicts: any Fail fails, else any Unknown is unknown, else
// Pass. No verdicts at all is Unknown: nothing was shown to hold.
func Worst(vs ...Verdict) Verdict {
	if len(vs) == 0 {
		return Unknown
	}
	worst := Pass
	for _, v := range vs {
		switch {
		case v == Fail:
			return Fail
		case v != Pass:
			worst = Unknown
		}
	}
	return worst
}

// Names of the checks, as scenario files list them; the one list is package
// names. (History checks are built by NewHistoryCheck.)
const (
	NameLinearizable       = names.Linearizable       // the kv history, with Porcupine
	NameAgreement          = names.Agreement          // invariant: one digest per index
	NameOneLeaderPerTerm   = names.OneLeaderPerTerm   // invariant: one leader per term
	NameSerializable       = names.Serializable       // the list-append history, Elle-style
	NameStrictSerializable = names.StrictSerializable // serializable with real-time order
)

// KnownChecks lists the checks this package implements, in a fixed order:
// the one list of package names.
func KnownChecks() []string { return names.Known() }

// NewInvariant builds the invariant with the given check name. It reports
// false for names that are not invariants (linearizable judges the history
// after the run; unknown names are not checks at all).
func NewInvariant(name string) (Invariant, bool) {
	switch name {
	case NameAgreement:
		return NewAgreement(), true
	case NameOneLeaderPerTerm:
		return NewOneLeaderPerTerm(), true
	case NameStaleLeader:
		return NewStaleLeader(), true
	case NameProgress:
		return NewProgressCheck(0), true
	case NameIsolatedLeader:
		return NewIsolatedLeaderCheck(), true
	}
	return nil, false
}
