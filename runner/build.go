package runner

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/simrun/simrun/sim"
)

// BuildError is a protocol's Build that panicked, or returned Servers
// without a Factory: a bug in the protocol's code, not in the scenario, so
// the command line reports it as a protocol crash, not as bad input.
type BuildError struct {
	Protocol string
	// Reason says what went wrong: the panic's value, or what is missing.
	Reason string
	// Stack is the panic's stack, from the panic up; empty when Build
	// returned.
	Stack string
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("protocol %s: Build %s", e.Protocol, e.Reason)
}

// AsBuildError returns the BuildError in err's chain, if there is one.
func AsBuildError(err error) (*BuildError, bool) {
	var be *BuildError
	ok := errors.As(err, &be)
	return be, ok
}

// build calls proto.Build, turning a panic into a BuildError, and checks
// that what it returned can run.
func build(proto Protocol, c Cluster) (servers Servers, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &BuildError{Protocol: proto.Name, Reason: "panicked: " + sim.PanicValue(r), Stack: sim.CutStack(string(debug.Stack()), "github.com/simrun/simrun/runner.build")}
		}
	}()
	servers, err = proto.Build(c)
	if err == nil && servers.Factory == nil {
		err = &BuildError{Protocol: proto.Name, Reason: "returned Servers without a Factory (Servers.Factory is nil)"}
	}
	return servers, err
}
