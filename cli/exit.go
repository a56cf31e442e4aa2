package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/simrun/simrun/runner"
)

// Exit codes: each failure class has its own, so scripts and CI can tell a
// safety violation from a typo in a scenario file. A failing run keeps its
// class's code even when its artifacts cannot be written (a warning says
// so): the verdict matters more than the files.
const (
	exitPass             = 0
	exitInternal         = 1 // simrun itself failed, or a sweep or shrink was interrupted
	exitBadInput         = 2 // a scenario, flag or results file is wrong, a path a flag names cannot be written, or an --out is in use
	exitSafety           = 3 // an invariant or linearizability was violated
	exitLiveness         = 4 // the system did not make required progress
	exitCrash            = 5 // protocol code panicked
	exitInconclusive     = 6 // no verdict: a checker timed out or a bound was hit
	exitNondeterministic = 7 // the same seed gave two different runs
	exitVacuous          = 8 // the checks had nothing to judge: no leader, commit, apply or completed operation
)

// exitError carries an exit code up through cobra.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func badInput(format string, args ...any) error {
	return &exitError{code: exitBadInput, msg: fmt.Sprintf(format, args...)}
}

func badInputErr(err error) error { return &exitError{code: exitBadInput, msg: err.Error()} }

// pathErr is bad input naming a path that could not be used and why, in
// the words of the system ("no such file or directory"), without the
// name of the call that failed.
func pathErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return badInput("%s: %v", path, err)
}

// orBadInput passes an error that already says its exit code on as it is,
// and makes any other bad input; nil stays nil.
func orBadInput(err error) error {
	var ex *exitError
	if err == nil || errors.As(err, &ex) {
		return err
	}
	return badInputErr(err)
}

func internalErr(err error) error { return &exitError{code: exitInternal, msg: err.Error()} }

// buildErr is the error of a run that could not be built: a protocol's
// Build that panicked or returned no Factory is the protocol's crash, with
// its stack; anything else is bad input (the scenario, its options).
func buildErr(err error) error {
	be, ok := runner.AsBuildError(err)
	if !ok {
		return badInputErr(err)
	}
	msg := be.Error()
	if be.Stack != "" {
		msg += "\ncrash stack\n" + indent(be.Stack)
	}
	return &exitError{code: exitCrash, msg: msg}
}

// byGravity orders the failure classes, gravest first: a violation, a crash,
// a cluster that did not converge, a seed that ran two ways, no verdict,
// nothing judged. A sweep exits with its gravest class's code and offers
// the replay of that class's first seed, so that a vacuous seed does not
// hide a safety violation behind it.
var byGravity = []runner.Class{runner.Safety, runner.ProtocolCrash, runner.Liveness,
	runner.Nondeterministic, runner.Inconclusive, runner.Vacuous}

// graver reports whether failure class a is graver than b (any failure is
// graver than a pass).
func graver(a, b runner.Class) bool {
	rank := func(c runner.Class) int {
		if i := slices.Index(byGravity, c); i >= 0 {
			return i
		}
		return len(byGravity)
	}
	return rank(a) < rank(b)
}

// graverCode is the exit code of the graver of two exit codes.
func graverCode(a, b int) int {
	for _, c := range byGravity {
		if code := exitCodeFor(c); code == a || code == b {
			return code
		}
	}
	return max(a, b)
}

// exitCodeFor maps a run's class to the process exit code.
func exitCodeFor(c runner.Class) int {
	switch c {
	case runner.Pass:
		return exitPass
	case runner.Safety:
		return exitSafety
	case runner.Liveness:
		return exitLiveness
	case runner.ProtocolCrash:
		return exitCrash
	case runner.Nondeterministic:
		return exitNondeterministic
	case runner.Vacuous:
		return exitVacuous
	default:
		return exitInconclusive
	}
}
