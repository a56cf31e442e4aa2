package faults

import (
	"fmt"
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
// What: exactly one of Partition, Cut, Heal, Crash and Restart. Down and
// MaxDown qualify a Crash.
type Step struct {
	At    Duration `yaml:"at,omitempty"`    // one-shot time
	From  Duration `yaml:"from,omitempty"`  // repeating: first firing
	To    Duration `yaml:"to,omitempty"`    // repeating: end of the window (exclusive)
	Every Duration `yaml:"every,omitempty"` // repeating: period, > 0

	// Partition cuts the servers into groups (both directions).
	Partition *Partition `yaml:"partition,omitempty"`
	// Cut loses the messages of one directed link.
	Cut *Cut `yaml:"cut,omitempty"`
	// Heal removes cuts; the only scope is "all".
	Heal string `yaml:"heal,omitempty"`
	// Crash crashes a server: a node, random or leader.
	Crash Target `yaml:"crash,omitempty"`
	// Down, if positive, restarts the crashed server after that long; zero
	// leaves it down until a restart step (or the end of the safety phase).
	Down Duration `yaml:"down,omitempty"`
	// MaxDown, if positive, skips the crash when MaxDown servers are already
	// down, so that the crash never leaves more than MaxDown servers down (a
	// majority stays up when MaxDown is below half the cluster).
	MaxDown int `yaml:"max_down,omitempty"`
	// Restart restarts a crashed server: a node, or all-down for every one.
	Restart Target `yaml:"restart,omitempty"`
}

// stepAction and the two step shapes below fix how a Step is written: a
// one-shot step always shows its at (even 0s), a repeating one its window.
type stepAction struct {
	Partition *Partition `yaml:"partition,omitempty"`
	Cut       *Cut       `yaml:"cut,omitempty"`
	Heal      string     `yaml:"heal,omitempty"`
	Crash     Target     `yaml:"crash,omitempty"`
	Down      Duration   `yaml:"down,omitempty"`
	MaxDown   int        `yaml:"max_down,omitempty"`
	Restart   Target     `yaml:"restart,omitempty"`
}

type oneShotStep struct {
	At         Duration `yaml:"at"`
	stepAction `yaml:",inline"`
}

type repeatingStep struct {
	From       Duration `yaml:"from"`
	To         Duration `yaml:"to"`
	Every      Duration `yaml:"every"`
	stepAction `yaml:",inline"`
}

// MarshalYAML writes at for a one-shot step and from/to/every for a repeating
// one, then the action: {at: 5s, crash: leader, down: 3s}.
func (s Step) MarshalYAML() (any, error) {
	act := stepAction{Partition: s.Partition, Cut: s.Cut, Heal: s.Heal, Crash: s.Crash, Down: s.Down,
		MaxDown: s.MaxDown, Restart: s.Restart}
	if s.Repeats() {
		return repeatingStep{From: s.From, To: s.To, Every: s.Every, stepAction: act}, nil
	}
	return oneShotStep{At: s.At, stepAction: act}, nil
}

// HealEverything is the only heal scope: remove every cut.
const HealEverything = "all"

// Partition is the shape of a partition: exactly one of Isolate, Halves and
// Groups. In YAML it is a mapping ({isolate: 2}, {halves: true},
// {groups: [[0, 1], [2, 3, 4]]}) or one of the shorthands isolate-leader,
// isolate-random and halves.
type Partition struct {
	// Isolate cuts one server (a node, random or leader) off from every other
	// server. Clients keep their links to it: an isolated leader still hears
	// clients but cannot reach a quorum.
	Isolate Target `yaml:"isolate,omitempty"`
	// Halves splits the servers into a random minority of n/2 (rounded down)
	// and a majority.
	Halves bool `yaml:"halves,omitempty"`
	// Groups lists explicit groups of servers; links between groups are cut,
	// servers in no group keep all their links.
	Groups [][]int `yaml:"groups,omitempty,flow"`
}

// partitionFields is Partition without its YAML methods, so that decoding the
// mapping form does not recurse.
type partitionFields Partition

var partitionShorthands = []struct {
	word string
	p    Partition
}{
	{"isolate-leader", Partition{Isolate: Leader()}},
	{"isolate-random", Partition{Isolate: Random()}},
	{"halves", Partition{Halves: true}},
}

// UnmarshalYAML reads a shorthand word or the mapping form (go-yaml's
// InterfaceUnmarshaler convention).
func (p *Partition) UnmarshalYAML(unmarshal func(any) error) error {
	var word string
	if err := unmarshal(&word); err == nil {
		for _, s := range partitionShorthands {
			if s.word == word {
				*p = s.p
				return nil
			}
		}
		return fmt.Errorf("unknown partition %q (want isolate-leader, isolate-random, halves, or a mapping with isolate, halves or groups)", word)
	}
	var f partitionFields
	if err := unmarshal(&f); err != nil {
		return err
	}
	*p = Partition(f)
	return nil
}

// MarshalYAML writes the shorthand when there is one, else the mapping.
func (p Partition) MarshalYAML() (any, error) {
	if w := p.shorthand(); w != "" {
		return w, nil
	}
	return partitionFields(p), nil
}

func (p Partition) shorthand() string {
	if len(p.Groups) > 0 {
		return ""
	}
	for _, s := range partitionShorthands {
		if s.p.Isolate == p.Isolate && s.p.Halves == p.Halves {
			return s.word
		}
	}
	return ""
}

// String describes the shape: "isolate-leader", "isolate n2", "halves",
// "groups [[0 1] [2 3 4]]".
func (p Partition) String() string {
	if w := p.shorthand(); w != "" {
		return w
	}
	if p.Isolate.Kind != TargetNone {
		return "isolate " + p.Isolate.String()
	}
	return "groups " + fmt.Sprint(p.Groups)
}

// Cut is a one-way partition: every message From -> To is lost. Each end is a
// node, random or leader; a random To is drawn among the servers other than
// From.
type Cut struct {
	From Target `yaml:"from"`
	To   Target `yaml:"to"`
}

// String is "n0->n1".
func (c Cut) String() string { return c.From.String() + "->" + c.To.String() }

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

func (s Step) actions() []string {
	var a []string
	if s.Partition != nil {
		a = append(a, "partition")
	}
	if s.Cut != nil {
		a = append(a, "cut")
	}
	if s.Heal != "" {
		a = append(a, "heal")
	}
	if !s.Crash.IsZero() {
		a = append(a, "crash")
	}
	if !s.Restart.IsZero() {
		a = append(a, "restart")
	}
	return a
}

// Describe is the action in words, as trace labels show it:
// "partition isolate-leader", "crash random down=2s max_down=2", "cut n0->n1".
func (s Step) Describe() string {
	switch s.Action() {
	case "partition":
		return "partition " + s.Partition.String()
	case "cut":
		return "cut " + s.Cut.String()
	case "heal":
		return "heal " + s.Heal
	case "crash":
		b := "crash " + s.Crash.String()
		if s.Down > 0 {
			b += " down=" + s.Down.String()
		}
		if s.MaxDown > 0 {
			b += " max_down=" + strconv.Itoa(s.MaxDown)
		}
		return b
	case "restart":
		return "restart " + s.Restart.String()
	}
	return "nothing"
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
		return fieldErr("", "no action: give one of partition, cut, heal, crash, restart")
	case len(acts) > 1:
		return fieldErr(acts[1], "a step has one action, this one has %s: split it into %d steps",
			strings.Join(acts, " and "), len(acts))
	}
	if acts[0] != "crash" {
		if s.Down != 0 {
			return fieldErr("down", "only a crash step can have down")
		}
		if s.MaxDown != 0 {
			return fieldErr("max_down", "only a crash step can have max_down")
		}
	}
	switch acts[0] {
	case "partition":
		return s.Partition.validate(servers)
	case "cut":
		return s.Cut.validate(servers)
	case "heal":
		if s.Heal != HealEverything {
			return fieldErr("heal", "unknown heal scope %q (want all)", s.Heal)
		}
	case "crash":
		return s.validateCrash(servers)
	case "restart":
		return validateTarget("restart", s.Restart, servers, TargetNode, TargetAllDown)
	}
	return nil
}

func (s Step) validateTime() error {
	for _, d := range []struct {
		name string
		v    Duration
	}{{"at", s.At}, {"from", s.From}, {"to", s.To}, {"every", s.Every}, {"down", s.Down}} {
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
	if s.To <= s.From {
		return fieldErr("to", "window end %v is not after its start %v", s.To, s.From)
	}
	return nil
}

func (s Step) validateCrash(servers int) error {
	if err := validateTarget("crash", s.Crash, servers, TargetNode, TargetRandom, TargetLeader); err != nil {
		return err
	}
	if s.MaxDown < 0 || s.MaxDown > servers {
		return fieldErr("max_down", "%d is not in [0, %d] (cluster has %d nodes)", s.MaxDown, servers, servers)
	}
	return nil
}

func (p *Partition) validate(servers int) error {
	shapes := 0
	for _, set := range []bool{p.Isolate.Kind != TargetNone, p.Halves, p.Groups != nil} {
		if set {
			shapes++
		}
	}
	if shapes != 1 {
		return fieldErr("partition", "give exactly one of isolate, halves, groups")
	}
	if servers < 2 {
		return fieldErr("partition", "a partition needs at least 2 servers (cluster has %d)", servers)
	}
	switch {
	case p.Isolate.Kind != TargetNone:
		return validateTarget("partition.isolate", p.Isolate, servers, TargetNode, TargetRandom, TargetLeader)
	case p.Groups != nil:
		return validateGroups(p.Groups, servers)
	}
	return nil
}

func validateGroups(groups [][]int, servers int) error {
	seen := make(map[int]string, servers)
	nonEmpty := 0
	for i, g := range groups {
		if len(g) > 0 {
			nonEmpty++
		}
		for j, n := range g {
			at := fmt.Sprintf("partition.groups[%d][%d]", i, j)
			if err := checkNode(at, n, servers); err != nil {
				return err
			}
			if prev, dup := seen[n]; dup {
				return fieldErr(at, "node %d is already in %s", n, prev)
			}
			seen[n] = fmt.Sprintf("groups[%d]", i)
		}
	}
	if nonEmpty < 2 {
		return fieldErr("partition.groups", "need at least two non-empty groups")
	}
	return nil
}

func (c *Cut) validate(servers int) error {
	if servers < 2 {
		return fieldErr("cut", "a cut needs at least 2 servers (cluster has %d)", servers)
	}
	if err := validateTarget("cut.from", c.From, servers, TargetNode, TargetRandom, TargetLeader); err != nil {
		return err
	}
	if err := validateTarget("cut.to", c.To, servers, TargetNode, TargetRandom, TargetLeader); err != nil {
		return err
	}
	if c.From == c.To && c.From.Kind != TargetRandom {
		return fieldErr("cut.to", "from and to are the same node (%v)", c.To)
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
