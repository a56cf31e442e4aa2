package faults

import (
	"slices"
)

// Fault kinds. Each action a Step can take is one descriptor, kept in the
// file named for it (kind_crash.go, kind_partition.go, ...): its scenario
// key, validation, description, injection and pinning. Adding a kind takes
// a new file with its descriptor, the Step field that is its scenario key,
// and a line in actionKinds below (and, for the swarm, a line in
// swarmKinds). Nothing else dispatches on an action's name. valueKind and
// targetKind fill in the entries that follow from the Step field's type.

// actionKind describes one action of a Step.
type actionKind struct {
	// name is the action's scenario key ("crash"), as the Step field's tag.
	name string
	// has reports whether the step sets this action.
	has func(s *Step) bool
	// text is the action's value in words ("leader", "isolate-leader").
	text func(s *Step) string
	// takesDown: down and max_down qualify it (crash, pause). takesFor: for
	// undoes it after a while.
	takesDown, takesFor bool
	// validate reports an impossible value of the action as a *FieldError.
	validate func(s *Step, servers int) error
	// fire runs the action of step i now.
	fire func(in *Injector, i int, s Step)
	// targets lists the action's target fields in the order fire resolves
	// them, for pinning random targets; nil for none.
	targets func(s *Step) []*Target
	// clone deep-copies the action's value in a copied step; nil when the
	// value has nothing shared (a Target, a string).
	clone func(s *Step)
	// pin writes out what the firing drew for the action's shape (halves,
	// ring order, swizzle orders); nil for none.
	pin func(f *firing, s *Step)
}

// actionKinds lists every action in the order of Step's fields; that order
// names the first of several actions set on an invalid step.
var actionKinds = []actionKind{
	partitionKind, cutKind, clogKind, linkKind, healKind, crashKind, pauseKind,
	restartKind, resumeKind, clockKind, diskKind, corruptKind, swizzleKind, transferKind, memberKind,
}

// kindNamed returns the descriptor of the action called name.
func kindNamed(name string) (actionKind, bool) {
	i := slices.IndexFunc(actionKinds, func(k actionKind) bool { return k.name == name })
	if i < 0 {
		return actionKind{}, false
	}
	return actionKinds[i], true
}

// kindNames lists every action's name, for error messages.
func kindNames() []string {
	names := make([]string, len(actionKinds))
	for i, k := range actionKinds {
		names[i] = k.name
	}
	return names
}

// valueKind completes the descriptor k of an action whose value is a struct
// behind a pointer field of Step (a *Cut, a *Disk): has, text and clone come
// from the field. Its clone copies the value; k.clone, if given, then copies
// what the copied value still shares (slices, pointers) in place.
func valueKind[T any, P interface {
	*T
	String() string
}](field func(s *Step) **T, k actionKind) actionKind {
	k.has = func(s *Step) bool { return *field(s) != nil }
	k.text = func(s *Step) string { return P(*field(s)).String() }
	unshare := k.clone
	k.clone = func(s *Step) {
		*field(s) = clonePtr(*field(s))
		if unshare != nil {
			unshare(s)
		}
	}
	return k
}

// targetKind completes the descriptor k of an action whose value is a Target
// field of Step (crash, pause, ...): has, text and targets come from the
// field, and validate checks the target against the kinds allowed, after
// k.validate, if given, checks what else the step may be for this action.
func targetKind(field func(s *Step) *Target, allowed []TargetKind, k actionKind) actionKind {
	k.has = func(s *Step) bool { return !field(s).IsZero() }
	k.text = func(s *Step) string { return field(s).String() }
	k.targets = func(s *Step) []*Target { return []*Target{field(s)} }
	name, stepRules := k.name, k.validate
	k.validate = func(s *Step, servers int) error {
		if stepRules != nil {
			if err := stepRules(s, servers); err != nil {
				return err
			}
		}
		return validateTarget(name, *field(s), servers, allowed...)
	}
	return k
}

// clonePtr copies the value p points to, so that a clone shares nothing.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Swarm draws, one per swarm kind (swarm.go lists them in draw order).
