package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/simrun/simrun/sim"
)

// BugTable is a protocol's planted bugs, declared once: its name, which
// prefixes its errors, and its known bugs, in any order (listings sort them
// by name). The bug at position i of Bugs is B(i), bit i of a BugSet, so
// that a protocol declares its positions as constants of B and keys Bugs
// with them.
type BugTable[B ~uint8] struct {
	Protocol string
	Bugs     []Bug
}

// MaxBugs bounds a BugTable: one bit of a BugSet each.
const MaxBugs = 64

// ErrNoStateMachine is the error, wrapped with the protocol's name, of a
// protocol's New given no state machine constructor.
var ErrNoStateMachine = errors.New("no state machine constructor")

// Check reports the first of names, a Config's planted bugs, that is not in
// the table or is listed twice (CheckBugs).
func (t BugTable[B]) Check(names []string) error { return CheckBugs(t.Protocol, t.Bugs, names) }

// Known lists the table's bugs, a copy, sorted by name.
func (t BugTable[B]) Known() []Bug {
	return slices.SortedFunc(slices.Values(t.Bugs), func(a, b Bug) int { return strings.Compare(a.Name, b.Name) })
}

// Parse checks names (Check) and returns the set of bugs they switch on.
// After an error the set is empty.
func (t BugTable[B]) Parse(names []string) (BugSet[B], error) {
	if len(t.Bugs) > MaxBugs {
		panic(fmt.Sprintf("%s: %d planted bugs, more than a BugSet holds (%d)", t.Protocol, len(t.Bugs), MaxBugs))
	}
	if err := t.Check(names); err != nil {
		return 0, err
	}
	var on BugSet[B]
	for i, b := range t.Bugs {
		if slices.Contains(names, b.Name) {
			on |= BugsOf(B(i))
		}
	}
	return on, nil
}

// Factory is the body of every protocol's New, so that each checks its
// arguments the same way and in the same order: cfg with its own Validate
// (which checks the bug names against the table), then newSM, which must be
// given. It returns the factory whose servers newServer builds, each with
// the set of planted bugs that bugs (cfg's) switch on, parsed once here.
func (t BugTable[B]) Factory(cfg interface{ Validate() error }, bugs []string, newSM NewStateMachine,
	newServer func(sim.NodeID, BugSet[B]) sim.Node) (sim.Factory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if newSM == nil {
		return nil, fmt.Errorf("%s: %w given to New", t.Protocol, ErrNoStateMachine)
	}
	on, err := t.Parse(bugs)
	if err != nil {
		return nil, err
	}
	return func(id sim.NodeID) sim.Node { return newServer(id, on) }, nil
}

// BugSet is a set of a protocol's planted bugs, the ones its Config switches
// on: bit i stands for the bug at position i of the protocol's BugTable. A
// server tests its bugs on hot paths, so a test is a bit test, not a
// comparison of names; B, the protocol's type of positions, keeps one
// protocol's positions out of another's sets.
type BugSet[B ~uint8] uint64

// BugsOf returns the set of bugs.
func BugsOf[B ~uint8](bugs ...B) BugSet[B] {
	var s BugSet[B]
	for _, b := range bugs {
		s |= 1 << b
	}
	return s
}

// Has reports whether bug b is on.
func (s BugSet[B]) Has(b B) bool { return s&(1<<b) != 0 }

// HasAny reports whether some bug of mask is on.
func (s BugSet[B]) HasAny(mask BugSet[B]) bool { return s&mask != 0 }
