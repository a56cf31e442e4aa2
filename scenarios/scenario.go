package scenarios

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/internal/strictyaml"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Duration is faults.Duration: virtual time written "150ms" in files.
type Duration = faults.Duration

// Scenario is one scenario file: a cluster, its network, its clients, a fault
// timeline and the checks that judge the run. Parse fills every optional key
// with its documented default, so a parsed Scenario is complete, and Marshal
// writes every key back out.
type Scenario struct {
	// Name identifies the scenario in reports and artifact directories:
	// letters, digits, '.', '_' and '-'. Default: the file name without
	// its extension.
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Protocol names the protocol ("raft", "paxos", "pbft"); the runner's
	// registry decides which exist.
	Protocol string `yaml:"protocol"`
	// Nodes is the number of servers, 1..MaxNodes.
	Nodes int `yaml:"nodes"`
	// Members is how many servers, the first ones (n0, n1, ...), form the
	// cluster's initial configuration; the others are spares, running but
	// outside the configuration until a membership change (the member fault)
	// adds them. 0, the default, means every server. Only for protocols that
	// change their membership.
	Members int `yaml:"members,omitempty"`
	// Seed is the scenario's own seed, used when the command line gives none;
	// nil if the file sets none. A failing run is exported with its seed.
	Seed *uint64 `yaml:"seed,omitempty"`
	// Duration is the safety phase: workload and faults run this long.
	Duration Duration `yaml:"duration"`
	// Drain is the time after the safety phase, with faults healed, crashed
	// servers restarted and no new operations, for outstanding operations to
	// finish.
	Drain Duration `yaml:"drain"`
	// MaxEvents bounds the events of one run; 0 means sim.DefaultMaxEvents.
	MaxEvents uint64 `yaml:"max_events,omitempty"`

	Network  Network       `yaml:"network"`
	Workload Workload      `yaml:"workload"`
	Faults   []faults.Step `yaml:"faults,omitempty"`
	Checks   []string      `yaml:"checks"`
	// Liveness tunes the liveness phase, which runs after the safety phase
	// when Checks lists "liveness" (instead of the drain).
	Liveness Liveness `yaml:"liveness,omitempty,flow"`
	// Byzantine lists the servers that misbehave on purpose, for protocols
	// that tolerate Byzantine faults; the protocol names the behaviours.
	Byzantine []Byzantine `yaml:"byzantine,omitempty"`
	// Swarm lists fault kinds (faults.SwarmKinds, or "all", after which
	// "-corrupt" leaves a kind out) from which each seed draws its own mix
	// and rates, on top of the Faults timeline.
	Swarm []string `yaml:"swarm,omitempty,flow"`
	// SwarmOptions lists what each seed draws in place of the file's
	// values (SwarmOptionKinds, or "all"): the cluster size, the client
	// count, the workload's shape. The runner draws them (TigerBeetle's
	// VOPR draws its cluster and workload options per seed).
	SwarmOptions []string `yaml:"swarm_options,omitempty,flow"`
	// Buggify is the probability that each code-level fault point of the
	// protocol (sim.Env.Buggify) is enabled in a run; 0 switches them off.
	Buggify float64 `yaml:"buggify,omitempty"`
	// ProtocolOptions is the protocol's own configuration, kept undecoded
	// until the runner knows the protocol: see DecodeProtocolOptions.
	ProtocolOptions map[string]any `yaml:"protocol_options,omitempty"`

	src *source // where the scenario was read from; nil when built in code
}

// Network is the default fault model of every link.
type Network struct {
	Latency   Latency `yaml:"latency,flow"`
	Tail      Tail    `yaml:"tail,omitempty,flow"`
	Drop      float64 `yaml:"drop,omitempty"`      // probability a message is lost
	Duplicate float64 `yaml:"duplicate,omitempty"` // probability a message is delivered twice
}

// Tail adds, with Probability, an exponentially distributed extra delay of
// mean Mean to a message: a long-tailed latency distribution.
type Tail struct {
	Probability float64  `yaml:"probability,omitempty"`
	Mean        Duration `yaml:"mean,omitempty"`
}

// IsZero reports an absent tail (for omitempty).
func (t Tail) IsZero() bool { return t == Tail{} }

// Link is the network as the kernel's link model.
func (n Network) Link() sim.Link {
	lo, hi := n.Latency.Min.Duration(), n.Latency.Max.Duration()
	dist := n.Latency.table()
	if dist != nil { // the range is the table's, for whoever reads it
		lo, hi = dist.Quantile(0, 0), dist.Max()
	}
	return sim.Link{
		LatencyMin: lo, LatencyMax: hi, LatencyDist: dist,
		TailProb: n.Tail.Probability, TailMean: n.Tail.Mean.Duration(),
		Drop: n.Drop, Duplicate: n.Duplicate,
	}
}

// Workload describes the clients. Durations are virtual time.
type Workload struct {
	Clients int  `yaml:"clients"`  // client nodes, each with one operation at a time
	Keys    int  `yaml:"keys"`     // keys k0..k{Keys-1}, picked uniformly
	Mix     Mix  `yaml:"mix,flow"` // relative weights of the operation kinds
	Rate    Rate `yaml:"rate"`     // total ops/s (open loop); 0 is closed loop
	// ThinkTime is, in closed loop, the wait between a return and the next call.
	ThinkTime Duration `yaml:"think_time"`
	// Timeout bounds one operation; past it the outcome is unknown.
	Timeout Duration `yaml:"timeout"`
	// RetryInterval is how long a client waits before resending to another server.
	RetryInterval Duration `yaml:"retry_interval"`
	// Backlog bounds, in open loop, the arrivals waiting on a busy client.
	Backlog int `yaml:"backlog"`
	// Model is the data model: "kv" (single-key get, put, append, cas; the
	// default, also when empty) or "list-append" (transactions of appends
	// and reads over several keys, as Elle's list-append test).
	Model string `yaml:"model,omitempty"`
	// MaxTxnOps is, for list-append, the most operations in one
	// transaction (each has 1..MaxTxnOps); 0 means DefaultMaxTxnOps.
	MaxTxnOps int `yaml:"max_txn_ops,omitempty"`
	// MaxWritesPerKey is, for list-append, how many appends a key takes
	// before a fresh key replaces it (workload.Config.MaxWritesPerKey); 0
	// means workload.DefaultMaxWritesPerKey.
	MaxWritesPerKey int `yaml:"max_writes_per_key,omitempty"`
}

// DataModel is the workload's data model, ModelKV when none is set.
func (w Workload) DataModel() string {
	if w.Model == "" {
		return ModelKV
	}
	return w.Model
}

// Mix is workload.Mix, the weights of the operation kinds (non-negative,
// not all zero): the file writes the clients' own type, as it writes
// faults' steps.
type Mix = workload.Mix

// Known check names, in the order they run by default; the one list is
// package checkers/names.
const (
	CheckLinearizable       = names.Linearizable
	CheckAgreement          = names.Agreement
	CheckOneLeaderPerTerm   = names.OneLeaderPerTerm
	CheckLiveness           = names.Liveness
	CheckSerializable       = names.Serializable
	CheckStrictSerializable = names.StrictSerializable
)

// KnownChecks lists the check names a scenario may use; an omitted checks key
// means every one that applies to the workload's data model (DefaultChecks),
// but those that judge clients when there are none.
var KnownChecks = names.Known()

// DefaultChecks lists the checks of a scenario that names none: every check
// that applies to the data model ("" is ModelKV).
func DefaultChecks(model string) []string { return names.Default(model) }

// Data models of the workload (workload.model).
const (
	ModelKV         = names.ModelKV
	ModelListAppend = names.ModelListAppend
)

// DefaultMaxTxnOps is the most operations of one list-append transaction
// when workload.max_txn_ops is not given.
const DefaultMaxTxnOps = 4

// MaxTxnOpsLimit bounds workload.max_txn_ops.
const MaxTxnOpsLimit = 64

// MaxWritesPerKeyLimit bounds workload.max_writes_per_key.
const MaxWritesPerKeyLimit = workload.MaxWritesPerKeyLimit

// Liveness tunes the liveness phase: faults heal (all of them, or all but a
// minority of servers for Heal "core"), no new faults strike, each client
// makes one final operation, and within Within every correct server must
// apply everything committed and every final operation must return.
type Liveness struct {
	Within Duration `yaml:"within"`
	Heal   string   `yaml:"heal,omitempty"`
}

// Byzantine is one group of misbehaving servers: given by ID, or a count of
// servers chosen at random from the seed, all playing one behaviour.
type Byzantine struct {
	Nodes     []int  `yaml:"nodes,omitempty,flow"`
	Count     int    `yaml:"count,omitempty"`
	Behaviour string `yaml:"behaviour"`
}

// Heal scopes of the liveness phase.
const (
	HealAll  = "all"  // heal every fault, restart every server
	HealCore = "core" // then keep a random minority of servers down
)

// IsZero reports an absent liveness section (for omitempty).
func (l Liveness) IsZero() bool { return l == Liveness{} }

// Limits that keep a typo from building an absurd world.
const (
	MaxNodes = 1000
	// MaxClients and MaxKeys are the workload's own bounds: the scenario
	// refuses with a position what the workload would refuse at run time.
	MaxClients = workload.MaxClients
	MaxKeys    = workload.MaxKeys
	// MaxRate bounds workload.rate: an open loop past it spends the run's
	// whole event bound in well under a second of simulated time.
	MaxRate = 1_000_000
	// MaxMixWeight bounds each weight of workload.mix (workload.MaxMixWeight).
	MaxMixWeight = workload.MaxMixWeight
	// MaxFileSize bounds a scenario file. go-yaml's parser is quadratic in
	// the keys of one mapping, so this also bounds the parse time (about a
	// second at worst); thousands of fault steps still fit.
	MaxFileSize = 256 << 10
	// MaxFirings bounds how often the faults of a scenario fire in all:
	// every firing is kept (a few KB each) to pin the run for shrinking,
	// so an every of a nanosecond would fill memory long before the run's
	// event bound stops it. A fault every 36ms for an hour still fits.
	MaxFirings = 100_000
)

// Defaults of omitted keys (see README.md).
const (
	DefaultDuration      = Duration(30 * time.Second)
	DefaultDrain         = Duration(5 * time.Second)
	DefaultLatencyMin    = Duration(time.Millisecond)
	DefaultLatencyMax    = Duration(10 * time.Millisecond)
	DefaultClients       = 4
	DefaultKeys          = 8
	DefaultThinkTime     = Duration(20 * time.Millisecond)
	DefaultTimeout       = Duration(time.Second)
	DefaultRetryInterval = Duration(100 * time.Millisecond)
	DefaultBacklog       = 16
	DefaultWithin        = Duration(10 * time.Second)
	// DefaultSeed is the seed of a run when neither the command line nor the
	// scenario gives one.
	DefaultSeed uint64 = 1
)

// DefaultMix is the operation mix of a workload that sets none.
var DefaultMix = Mix{Get: 4, Put: 4, Append: 1, CAS: 1}

// What an options swarm can draw per seed (the swarm_options key).
const (
	SwarmOptionNodes    = "nodes"    // the cluster size
	SwarmOptionClients  = "clients"  // the number of clients
	SwarmOptionWorkload = "workload" // keys, mix, closed or open loop, rate, think time
	// SwarmOptionAll, listed, means every option in SwarmOptionKinds.
	SwarmOptionAll = "all"
)

// SwarmOptionKinds names what swarm_options may list besides "all".
var SwarmOptionKinds = []string{SwarmOptionNodes, SwarmOptionClients, SwarmOptionWorkload}

// DrawsOption reports whether each seed draws the named option
// (SwarmOptionNodes, ...) instead of taking the file's value.
func (s *Scenario) DrawsOption(name string) bool {
	return slices.Contains(s.SwarmOptions, name) || slices.Contains(s.SwarmOptions, SwarmOptionAll)
}

// HasCheck reports whether the scenario asks for the named check.
func (s *Scenario) HasCheck(name string) bool { return slices.Contains(s.Checks, name) }

// withoutClients reports whether every run of the scenario has no client:
// zero clients, not drawn per seed.
func (s *Scenario) withoutClients() bool {
	return s.Workload.Clients == 0 && !s.DrawsOption(SwarmOptionClients)
}

// SeedOr returns the scenario's seed, or def if it sets none.
func (s *Scenario) SeedOr(def uint64) uint64 {
	if s.Seed != nil {
		return *s.Seed
	}
	return def
}

// WithSeed returns a copy of s pinned to seed, for exporting a failing run.
func (s *Scenario) WithSeed(seed uint64) *Scenario {
	c := s.Clone()
	c.Seed = &seed
	return c
}

// Clone returns a copy of s that shares nothing mutable with it (fault steps
// are copied one level deep; their Partition and Cut are never mutated).
func (s *Scenario) Clone() *Scenario {
	c := *s
	if s.Seed != nil {
		seed := *s.Seed
		c.Seed = &seed
	}
	c.Faults = slices.Clone(s.Faults)
	c.Checks = slices.Clone(s.Checks)
	c.Swarm = slices.Clone(s.Swarm)
	c.SwarmOptions = slices.Clone(s.SwarmOptions)
	c.Byzantine = slices.Clone(s.Byzantine)
	c.ProtocolOptions = maps.Clone(s.ProtocolOptions)
	return &c
}

// FaultPlan is the scenario's fault timeline, ready for faults.Install.
func (s *Scenario) FaultPlan() faults.Plan { return faults.Plan{Steps: slices.Clone(s.Faults)} }

// Errorf reports a problem with the value at path ("protocol_options.bugs[1]",
// "workload", "faults[2].crash") as a one-line *Error carrying that value's
// file position. A path the file does not spell out (a default) is placed at
// its closest written ancestor.
func (s *Scenario) Errorf(path string, format string, args ...any) error {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if s.src == nil {
		e.File = s.Name
		return e
	}
	e.File = s.src.file
	p := s.src.lookup(path)
	e.Line, e.Column = p.Line, p.Col
	return e
}

// source remembers where a parsed scenario came from.
type source struct {
	file      string
	positions map[string]strictyaml.Pos
	nulls     map[string]bool
	options   optionsNode
	// What the file said, to tell whether a scenario was changed in code
	// since: checks about how a key was written apply only to what the file
	// still says, and changed protocol options are decoded from the value.
	steps       []faults.Step
	optionsSeen map[string]any
}

// writtenStep reports whether step i is still the one the file wrote.
func (src *source) writtenStep(i int, st faults.Step) bool {
	return src != nil && i < len(src.steps) && reflect.DeepEqual(src.steps[i], st)
}

// lookup returns the position of path, or of its closest recorded ancestor.
func (src *source) lookup(path string) strictyaml.Pos {
	for {
		if p, ok := src.positions[path]; ok {
			return p
		}
		if path == "" {
			return strictyaml.Pos{Line: 1, Col: 1}
		}
		path = parentPath(path)
	}
}

// has reports whether the file gave path a value ("key:" with none is the
// same as no key).
func (src *source) has(path string) bool {
	_, ok := src.positions[path]
	return ok && !src.nulls[path]
}

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// applyDefaults fills what the file left out (a key with no value included).
// InitialMembers is how many servers form the initial configuration: Members,
// or every server when Members is 0.
func (s *Scenario) InitialMembers() int {
	if s.Members == 0 {
		return s.Nodes
	}
	return s.Members
}

func (s *Scenario) applyDefaults(src *source) {
	has := src.has
	if !has("name") {
		s.Name = nameFromFile(src.file)
	}
	if !has("duration") {
		s.Duration = DefaultDuration
	}
	if !has("drain") {
		s.Drain = DefaultDrain
	}
	if !has("network.latency") {
		s.Network.Latency = Latency{Min: DefaultLatencyMin, Max: DefaultLatencyMax}
	} else if !has("network.latency.max") && s.Network.Latency.Uniform() {
		s.Network.Latency.Max = s.Network.Latency.Min // constant latency
	}
	w := &s.Workload
	for _, d := range []struct {
		key string
		set func()
	}{
		{"clients", func() { w.Clients = DefaultClients }},
		{"keys", func() { w.Keys = DefaultKeys }},
		{"mix", func() { w.Mix = DefaultMix }},
		{"think_time", func() { w.ThinkTime = DefaultThinkTime }},
		{"timeout", func() { w.Timeout = DefaultTimeout }},
		{"retry_interval", func() { w.RetryInterval = DefaultRetryInterval }},
		{"backlog", func() { w.Backlog = DefaultBacklog }},
	} {
		if !has("workload." + d.key) {
			d.set()
		}
	}
	if s.Checks == nil { // absent, or a bare "checks:"; "checks: []" asks for none
		s.Checks = DefaultChecks(s.Workload.Model)
		if s.withoutClients() {
			s.Checks = slices.DeleteFunc(s.Checks, names.JudgesClients)
		}
	}
	if s.HasCheck(CheckLiveness) {
		if !has("liveness.within") {
			s.Liveness.Within = DefaultWithin
		}
		if !has("liveness.heal") {
			s.Liveness.Heal = HealAll
		}
	}
}

// normalize makes empty sections nil, so that "faults: []" and no faults
// key are the same scenario, as Marshal writes neither.
func (s *Scenario) normalize() {
	if len(s.Faults) == 0 {
		s.Faults = nil
	}
	if len(s.ProtocolOptions) == 0 {
		s.ProtocolOptions = nil
	}
}

// nameFromFile is "raft-calm" for "scenarios/raft-calm.yaml".
func nameFromFile(file string) string {
	base := file[strings.LastIndexAny(file, `/\`)+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// Rate is an operation rate in operations per second. In YAML it is a number
// (ops/s) or a string "200/s", "1.5/ms", "600/min".
type Rate float64

// PerSecond returns r in operations per second.
func (r Rate) PerSecond() float64 { return float64(r) }

var rateUnits = []struct {
	suffix string
	perSec float64
}{{"/s", 1}, {"/ms", 1e3}, {"/us", 1e6}, {"/min", 1.0 / 60}, {"/m", 1.0 / 60}, {"/h", 1.0 / 3600}}

// ParseRate reads "200/s", "1.5/ms", "600/min" or a bare number of ops/s.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	per := 1.0
	for _, u := range rateUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, per = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.perSec
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("malformed rate %q (write it like 200/s, 2/ms or 600/min)", s)
	}
	return Rate(f * per), nil
}

// UnmarshalYAML reads a number or a rate string (go-yaml's convention).
func (r *Rate) UnmarshalYAML(unmarshal func(any) error) error {
	return faults.UnmarshalScalar(unmarshal, r, ParseRate, rateFromNumber)
}

// rateFromNumber reads a bare number of ops/s as go-yaml decodes it.
func rateFromNumber(raw any) (Rate, error) {
	switch v := raw.(type) {
	case int64:
		return Rate(v), nil
	case uint64:
		return Rate(v), nil
	case float64:
		return Rate(v), nil
	}
	return 0, fmt.Errorf("want a rate like 200/s, 2/ms or 600/min, got %s", faults.Described(raw))
}

// MarshalYAML writes "200/s" (or 0 for closed loop).
func (r Rate) MarshalYAML() (any, error) {
	if r == 0 {
		return 0, nil
	}
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s", nil
}
