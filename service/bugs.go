package service

import (
	"fmt"
	"slices"

	"github.com/simrun/simrun/internal/suggest"
)

// Bug describes a planted bug: a protocol option, off by default, that
// reintroduces a classic mistake (a deliberate deviation from the paper) so
// that a bounded sweep can show the simulator's faults and checkers expose it.
type Bug struct {
	Name, Description string
}

// Probe describes a coverage probe (sim.Probe): a named acceptance or
// rejection check, or a rare path, that a protocol declares so that sweeps
// can list the ones no seed reached.
type Probe struct {
	Name, Description string
}

// CheckBugs reports the first of names that is not among known or is listed
// twice, as an error prefixed with the protocol's name that names the entry
// of the bugs option ("raft: bugs[1]: ..."), so that a scenario file's error
// points at it (scenarios.Scenario.OptionError).
func CheckBugs(protocol string, known []Bug, names []string) error {
	for i, name := range names {
		if !slices.ContainsFunc(known, func(b Bug) bool { return b.Name == name }) {
			return fmt.Errorf("%s: bugs[%d]: unknown bug %q%s", protocol, i, name, suggest.Hint(name, bugNames(known)))
		}
		if slices.Index(names, name) < i {
			return fmt.Errorf("%s: bugs[%d]: bug %q listed twice", protocol, i, name)
		}
	}
	return nil
}

// bugNames lists the names of known, in their order.
func bugNames(known []Bug) []string {
	names := make([]string, len(known))
	for i, b := range known {
		names[i] = b.Name
	}
	return names
}
