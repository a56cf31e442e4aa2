package runner

// Class is the failure class of a run: what kind of outcome it was. Sweeps
// group results by class, and the CLI maps each class to its own exit code.
type Class string

const (
	// Pass: every check passed.
	Pass Class = "pass"
	// Safety: an invariant or linearizability was violated.
	Safety Class = "safety"
	// Liveness: the system did not make the progress the scenario requires.
	Liveness Class = "liveness"
	// ProtocolCrash: a node's handler panicked.
	ProtocolCrash Class = "crash"
	// Inconclusive: no violation was found but a verdict could not be reached
	// (a checker timed out, or the run hit its event bound). Never a pass.
	Inconclusive Class = "inconclusive"
	// Vacuous: nothing failed, but the checks had nothing to judge: no server
	// ever announced a leader, a commit or an apply that a listed check relies
	// on, or no client operation ever succeeded. A protocol that says nothing
	// cannot pass (vacuity.go). Never a pass.
	Vacuous Class = "vacuous"
	// Nondeterministic: the same seed ran twice and gave two different trace
	// hashes. The worst bug simrun can have: report it with both hashes.
	Nondeterministic Class = "nondeterministic"
)

// Failed reports whether the class is anything but a pass.
func (c Class) Failed() bool { return c != Pass }
