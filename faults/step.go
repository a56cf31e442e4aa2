package faults

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Step is one entry of a fault timeline: when, and one action.
//
// When: a one-shot step fires once, At (default 0). A repeating step sets
// Every and fires at From, From+Every, From+2*Every, ... while the time is
// before To: the window is half-open, [From, To). All times are virtual time
// since the start of the run.
//
// What: exactly one action field is set. Down and MaxDown qualify a Crash or
// a Pause; For qualifies a Partition, Cut, Clog, Link, Clock rate, Disk or
// Swizzle.
type Step struct {
	At    Duration `yaml:"at,omitempty"`    // one-shot time
	From  Duration `yaml:"from,omitempty"`  // repeating: first firing
	To    Duration `yaml:"to,omitempty"`    // repeating: end of the window (exclusive)
	Every Duration `yaml:"every,omitempty"` // repeating: period, > 0

	// Partition cuts the servers into groups (both directions).
	Partition *Partition `yaml:"partition,omitempty"`
	// Cut loses the messages of one directed link.
	Cut *Cut `yaml:"cut,omitempty"`
	// Clog holds the messages of links (delivered late, in order, when unclogged).
	Clog *Clog `yaml:"clog,omitempty"`
	// Link changes the latency, loss or duplication of links.
	Link *LinkChange `yaml:"link,omitempty"`
	// Heal ends network faults ("network") or every fault condition ("all").
	Heal string `yaml:"heal,omitempty"`
	// Crash crashes a server: a node, random or leader; or every server at
	// once (all), or every server in turn, in ID order (rolling: each stays
	// down for Down, the next crashes when the previous restarts).
	Crash Target `yaml:"crash,omitempty"`
	// Pause stops a server without losing its memory: a node, random or leader.
	Pause Target `yaml:"pause,omitempty"`
	// Restart restarts a crashed server: a node, or all-down for every one.
	Restart Target `yaml:"restart,omitempty"`
	// Resume resumes a paused server: a node, or all-paused for every one.
	Resume Target `yaml:"resume,omitempty"`
	// Clock drifts or steps a server's clock.
	Clock *Clock `yaml:"clock,omitempty"`
	// Disk makes a server's disk tear writes or sync slowly.
	Disk *Disk `yaml:"disk,omitempty"`
	// Corrupt flips one bit of one durable record of a server's disk.
	Corrupt Target `yaml:"corrupt,omitempty"`
	// Swizzle clogs servers one after another and, For later, unclogs them
	// in another order (FoundationDB's swizzle-clogging).
	Swizzle *Swizzle `yaml:"swizzle,omitempty,flow"`
	// Transfer asks the leader to hand its leadership to a server: a node,
	// or random (another running server).
	Transfer Target `yaml:"transfer,omitempty"`
	// Member asks the leader to change the cluster's configuration: add
	// servers, remove servers, or both in one change.
	Member *Membership `yaml:"member,omitempty,flow"`

	// Down, if positive, restarts (resumes) the crashed (paused) server after
	// that long; zero leaves it down until a restart (resume) step or the end
	// of the safety phase.
	Down Duration `yaml:"down,omitempty"`
	// MaxDown, if positive, skips the crash or pause when MaxDown servers are
	// already down (crashed or paused), so that it never leaves more than
	// MaxDown down: below half the cluster, a majority stays up.
	MaxDown int `yaml:"max_down,omitempty"`
	// MidStep makes a crash strike inside a step: the server crashes during
	// its next handler that makes at least two effects, keeping only those
	// before a point drawn between two of them (a torn step: it may have sent
	// a message and not yet persisted what the message promised). Down
	// counts from that moment; an armed server counts as down for MaxDown.
	// Only for a crash of a node, random or leader.
	MidStep bool `yaml:"mid_step,omitempty"`
	// Keep, with MidStep, pins the cut: how many of the step's effects
	// survive the crash (at most all but one). Zero draws it. A pinned
	// timeline writes the cut each mid-step crash made, so that shrinking
	// keeps cutting where the failing run did.
	Keep int `yaml:"keep,omitempty"`
	// RecoveryCrash makes the restart that ends the crash's down crash the
	// server again inside its start-up (its recovery), cut as MidStep cuts
	// a step; it restarts once more after Down. The start-up is where a
	// server repairs what it found on its disk, so a crash there meets a
	// repair half done. Only for a crash of a node, random or leader, with
	// down.
	RecoveryCrash bool `yaml:"recovery_crash,omitempty"`
	// RecoveryKeep, with RecoveryCrash, pins that cut as Keep pins a
	// mid-step one; a pinned timeline writes it.
	RecoveryKeep int `yaml:"recovery_keep,omitempty"`
	// For, if positive, undoes the fault after that long: the cuts or clogs
	// this firing made are removed, the links it changed get the default
	// settings back, the clock runs at rate 1 again, the disk is healthy.
	// Zero leaves it until a heal step or the end of the safety phase.
	For Duration `yaml:"for,omitempty"`

	// Drawn marks a step a swarm drew rather than one the scenario's author
	// wrote: the scenario a failing swarm seed exports writes its drawn
	// steps out with it, so that the run it replays is judged as the swarm
	// run was (a membership change a swarm drew may rightly be cut short,
	// and the run is not vacuous for it). It changes nothing the step does.
	Drawn bool `yaml:"drawn,omitempty"`
}

// oneShotShape and repeatingShape are the types a Step is written as: every
// field of Step with its tag, except that a one-shot step always shows its at
// (even 0s) and a repeating one its window. They are built from Step itself,
// so a new action field needs no second listing.
var (
	oneShotShape   = stepShape(false)
	repeatingShape = stepShape(true)
)

func stepShape(repeating bool) reflect.Type {
	var fields []reflect.StructField
	for f := range reflect.TypeFor[Step]().Fields() {
		switch f.Name {
		case "At":
			if repeating {
				continue
			}
			f.Tag = `yaml:"at"`
		case "From", "To", "Every":
			if !repeating {
				continue
			}
			f.Tag = reflect.StructTag(`yaml:"` + strings.ToLower(f.Name) + `"`)
		}
		f.Index, f.Offset = nil, 0
		fields = append(fields, f)
	}
	return reflect.StructOf(fields)
}

// MarshalYAML writes at for a one-shot step and from/to/every for a repeating
// one, then the action: {at: 5s, crash: leader, down: 3s}.
func (s Step) MarshalYAML() (any, error) {
	shape := oneShotShape
	if s.Repeats() {
		shape = repeatingShape
	}
	out, in := reflect.New(shape).Elem(), reflect.ValueOf(s)
	for i := range shape.NumField() {
		out.Field(i).Set(in.FieldByName(shape.Field(i).Name))
	}
	return out.Interface(), nil
}

// Repeats reports whether s fires repeatedly (Every is set).
func (s Step) Repeats() bool { return s.Every != 0 }

// Action names the step's action ("crash", "partition", ...), or "" if none.
// With several actions set (invalid) it names the first.
func (s Step) Action() string {
	if a := s.actions(); len(a) > 0 {
		return a[0]
	}
	return ""
}

// actions lists the actions set, in declaration order.
func (s Step) actions() []string {
	var a []string
	for _, k := range actionKinds {
		if k.has(&s) {
			a = append(a, k.name)
		}
	}
	return a
}

// Describe is the action in words, as trace labels show it:
// "partition isolate-leader", "crash random down=2s max_down=2", "cut n0->n1".
func (s Step) Describe() string {
	k, ok := kindNamed(s.Action())
	if !ok {
		return "nothing"
	}
	b := k.name + " " + k.text(&s)
	if s.MidStep {
		b += " mid_step"
	}
	if s.RecoveryCrash {
		b += " recovery_crash"
	}
	if s.RecoveryKeep > 0 {
		b += " recovery_keep=" + strconv.Itoa(s.RecoveryKeep)
	}
	if s.Keep > 0 {
		b += " keep=" + strconv.Itoa(s.Keep)
	}
	if s.Down > 0 {
		b += " down=" + s.Down.String()
	}
	if s.MaxDown > 0 {
		b += " max_down=" + strconv.Itoa(s.MaxDown)
	}
	if s.For > 0 {
		b += " for=" + s.For.String()
	}
	return b
}

// String is the step in words: "at 5s: partition isolate-leader",
// "every 5s in [15s, 40s): crash random down=2s".
func (s Step) String() string {
	if s.Repeats() {
		return fmt.Sprintf("every %v in [%v, %v): %s", s.Every, s.From, s.To, s.Describe())
	}
	return fmt.Sprintf("at %v: %s", s.At, s.Describe())
}

// FieldError is an impossible value in a Step. Field is the YAML path of the
// value inside the step ("crash", "partition.groups[1][0]"), empty for the step
// as a whole; scenario files prefix it with the step's place ("faults[2].").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first impossible value of s in a cluster of servers
// servers, as a *FieldError.
func (s Step) Validate(servers int) error {
	if servers < 1 {
		return fieldErr("", "a cluster needs at least one server, got %d", servers)
	}
	if err := s.validateTime(); err != nil {
		return err
	}
	acts := s.actions()
	switch {
	case len(acts) == 0:
		return fieldErr("", "no action: give one of %s", strings.Join(kindNames(), ", "))
	case len(acts) > 1:
		return fieldErr(acts[1], "a step has one action, this one has %s: split it into %d steps",
			strings.Join(acts, " and "), len(acts))
	}
	k, _ := kindNamed(acts[0])
	if err := s.validateQualifiers(k, servers); err != nil {
		return err
	}
	return k.validate(&s, servers)
}

// validateQualifiers checks down, max_down, mid_step and for against what
// the action takes; what they may be for one kind is the kind's to check.
func (s Step) validateQualifiers(k actionKind, servers int) error {
	switch {
	case s.MaxDown < 0 || s.MaxDown > servers:
		return fieldErr("max_down", "%d is not in [0, %d] (cluster has %d nodes)", s.MaxDown, servers, servers)
	case s.Down != 0 && !k.takesDown:
		return fieldErr("down", "only a crash or pause step can have down")
	case s.MaxDown != 0 && !k.takesDown:
		return fieldErr("max_down", "only a crash or pause step can have max_down")
	case s.MidStep && k.name != "crash":
		return fieldErr("mid_step", "only a crash can strike mid-step")
	case s.RecoveryCrash && k.name != "crash":
		return fieldErr("recovery_crash", "only a crash can strike its restart's recovery")
	case s.RecoveryKeep < 0:
		return fieldErr("recovery_keep", "%d is negative", s.RecoveryKeep)
	case s.RecoveryKeep != 0 && !s.RecoveryCrash:
		return fieldErr("recovery_keep", "recovery_keep pins the cut of a recovery crash: it needs recovery_crash: true")
	case s.Keep < 0:
		return fieldErr("keep", "%d is negative", s.Keep)
	case s.Keep != 0 && !s.MidStep:
		return fieldErr("keep", "keep pins the cut of a mid-step crash: it needs mid_step: true")
	case s.For != 0 && !k.takesFor:
		return fieldErr("for", "a %s step cannot have for (for undoes a partition, cut, clog, link, clock rate, disk or swizzle fault)", k.name)
	}
	return nil
}

// Targets each action allows.
var (
	anyServer    = []TargetKind{TargetNode, TargetRandom, TargetLeader}
	crashables   = []TargetKind{TargetNode, TargetRandom, TargetLeader, TargetAll, TargetRolling}
	restartables = []TargetKind{TargetNode, TargetAllDown}
	resumables   = []TargetKind{TargetNode, TargetAllPaused}
)

func (s Step) validateTime() error {
	for _, d := range []struct {
		name string
		v    Duration
	}{{"at", s.At}, {"from", s.From}, {"to", s.To}, {"every", s.Every}, {"down", s.Down}, {"for", s.For}} {
		if d.v < 0 {
			return fieldErr(d.name, "%v is negative", d.v)
		}
	}
	if !s.Repeats() {
		if s.From != 0 || s.To != 0 {
			name := "from"
			if s.From == 0 {
				name = "to"
			}
			return fieldErr(name, "a window needs every (or use at for a single firing)")
		}
		return nil
	}
	if s.At != 0 {
		return fieldErr("at", "a repeating step (every) runs from/to, not at")
	}
	if s.To == 0 {
		return fieldErr("to", "missing: a repeating step (every) fires from its from up to its to")
	}
	if s.To <= s.From {
		return fieldErr("to", "window end %v is not after its start %v", s.To, s.From)
	}
	return nil
}

func validateTarget(field string, t Target, servers int, allowed ...TargetKind) error {
	ok := false
	var words []string
	for _, k := range allowed {
		ok = ok || t.Kind == k
		if k == TargetNode {
			words = append(words, "a node number")
		} else {
			words = append(words, Target{Kind: k}.String())
		}
	}
	if !ok {
		return fieldErr(field, "%s is not allowed here (want %s)", t, strings.Join(words, ", "))
	}
	if t.Kind == TargetNode {
		return checkNode(field, t.Node, servers)
	}
	return nil
}

func checkNode(field string, n, servers int) error {
	if n < 0 || n >= servers {
		return fieldErr(field, "node %d out of range (cluster has %d nodes)", n, servers)
	}
	return nil
}

// Plan is a fault timeline.
type Plan struct {
	Steps []Step `yaml:"steps"`
}

// Validate reports the first impossible step, as "step 2: crash: ...".
func (p Plan) Validate(servers int) error {
	for i, s := range p.Steps {
		if err := s.Validate(servers); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}
