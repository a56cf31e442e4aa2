package runner

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Protocol is a registry entry: how to build a protocol's server nodes.
type Protocol struct {
	Name        string
	Description string
	// Bugs lists the planted bugs a scenario may switch on in
	// protocol_options.bugs, and Behaviours the Byzantine behaviours its
	// byzantine groups may play (none for a crash-fault protocol).
	Bugs       []Named
	Behaviours []Named
	// Probes lists the coverage probes the protocol's code fires
	// (sim.Probe), with what each means: ColdProbes and the sweep summary
	// name the ones no seed fired, a check no run exercised.
	Probes []Named
	// ChangesMembers says the protocol's servers take sim.ChangeMembers
	// requests (the member fault) and announce each configuration they
	// commit (sim.ObsConfig), so that a scenario may start with spare
	// servers outside the configuration (members below nodes) and a swarm
	// may draw membership changes.
	ChangesMembers bool
	// TransfersLeadership says the protocol's leader takes
	// sim.TransferLeadership requests (the transfer fault) and hands its
	// leadership over. A scenario with transfer steps is refused for a
	// protocol that does not, as one with member steps is for a protocol
	// that does not change its membership: every request would be
	// ignored, and the run would count faults that did nothing.
	TransfersLeadership bool
	// Build returns the protocol's servers for a cluster. It decodes the
	// scenario's protocol options strictly (errors name file:line:column) and
	// rejects what the protocol cannot run: a cluster size, Byzantine servers
	// in a crash-fault protocol, an unknown Byzantine behaviour.
	Build func(c Cluster) (Servers, error)
}

// Validate reports what makes p unusable: a name a scenario file cannot
// write (lower-case letters, digits and dashes, starting with a letter), no
// Build, or a planted bug, behaviour or probe listed twice or without a name.
func (p Protocol) Validate() error {
	if !validName(p.Name) {
		return fmt.Errorf("name %q: want lower-case letters, digits and dashes, starting with a letter", p.Name)
	}
	if p.Build == nil {
		return fmt.Errorf("%s: Build is nil: a protocol needs a function that builds its servers", p.Name)
	}
	for _, list := range []struct {
		what  string
		items []Named
	}{{"planted bug", p.Bugs}, {"Byzantine behaviour", p.Behaviours}, {"probe", p.Probes}} {
		seen := map[string]bool{}
		for _, it := range list.items {
			if it.Name == "" || seen[it.Name] {
				return fmt.Errorf("%s: %s %q is empty or listed twice", p.Name, list.what, it.Name)
			}
			seen[it.Name] = true
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// DecodeOptions decodes the scenario's protocol_options into cfg, which
// holds the protocol's defaults, strictly, then validates it: every error
// names file:line:column and the option. The usual first lines of a Build.
func DecodeOptions[C interface{ Validate() error }](sc *scenarios.Scenario, cfg *C) error {
	if err := sc.DecodeProtocolOptions(cfg); err != nil {
		return err
	}
	if err := (*cfg).Validate(); err != nil {
		return sc.OptionError(err)
	}
	return nil
}

// CrashFaultOnly rejects Byzantine servers for a protocol that tolerates
// crashes only: its checkers would report the lies as protocol bugs.
func CrashFaultOnly(c Cluster, name string) error {
	if len(c.Byzantine) > 0 {
		return c.Scenario.Errorf("byzantine", "%s tolerates crash faults only; Byzantine servers need a Byzantine-fault-tolerant protocol (pbft)", name)
	}
	return nil
}

// Named is a planted bug or a Byzantine behaviour, for listings.
type Named struct {
	Name, Description string
}

// Cluster is what a protocol is built for.
type Cluster struct {
	Scenario        *scenarios.Scenario
	NewStateMachine service.NewStateMachine
	// Byzantine lists the servers that misbehave on purpose, by ID, with the
	// behaviour each plays; empty for a run without Byzantine faults.
	Byzantine []ByzantineServer
}

// ByzantineServer is one server chosen to misbehave.
type ByzantineServer struct {
	ID        sim.NodeID
	Behaviour string
}

// Servers is a built protocol: the factory of its server nodes and what its
// clients must do to trust an answer.
type Servers struct {
	Factory sim.Factory
	// ReplyQuorum is how many matching replies from distinct servers a client
	// needs before it accepts a result: 1 for crash-fault protocols, f+1 for
	// a Byzantine-fault-tolerant one. 0 means 1.
	ReplyQuorum int
	// BroadcastRetry makes clients resend a request to every server when a
	// reply is late, as PBFT clients do, instead of to the next one.
	BroadcastRetry bool
	// Tolerates is how many servers may be faulty at once (Byzantine, or
	// with damaged storage) for the protocol to stay correct: f of 3f+1 for
	// a Byzantine-fault-tolerant protocol. Swarm mode keeps its storage
	// faults and the Byzantine servers within it. 0 means a minority.
	Tolerates int
	// Backoff is the longest a correct server may wait, once faults heal,
	// before it tries again (a view-change or election timeout at its
	// capped backoff). The liveness bound is at least two such waits (at
	// most maxLivenessAllowance), so that a protocol in backoff is not
	// reported stuck. 0 (or negative): no allowance.
	Backoff time.Duration
	// StepDown, above 0, is the longest a leader cut off from a majority
	// goes on leading, on its own clock, before it steps down (Raft's
	// check-quorum): the isolated-leader check's bound. 0: the protocol
	// promises no such step-down, and a scenario cannot list the check.
	StepDown time.Duration
	// QuorumWindow is how recently, on its clock, a leader must have heard
	// from each server of a majority to go on leading (Raft's check-quorum:
	// election_timeout_min). The isolated-leader check counts a server the
	// leader could reach within that window as reached: a leader whose
	// followers crash and come back in turn, each back before the other
	// goes, hears from a majority within every window although it never
	// reaches one at any instant, and rightly leads on. 0: only what the
	// leader reaches at the instant counts.
	QuorumWindow time.Duration
	// ClockDrift, above 0, is what the servers assume of their clocks to stay
	// correct (a lease's bound): that one runs at most ClockDrift times
	// faster than another, and none jumps. Swarm mode then draws clock
	// rates within it and no jumps, so that a swarm failure is the
	// protocol's; a scenario's own clock steps are its author's to choose.
	// 0: the protocol assumes nothing of clocks.
	ClockDrift float64
}

// Options tune one run.
type Options struct {
	Seed uint64
	// Trace, if set, receives the full JSONL trace.
	Trace io.Writer
	// LinearizabilityTimeout bounds Porcupine's search, counted in its steps
	// so that it runs out alike on every machine (500,000 a second; see
	// checkers.CheckLinearizable), with its wall-clock timer as a backstop;
	// past it the verdict is unknown, never a pass. 0 means
	// DefaultLinearizabilityTimeout.
	LinearizabilityTimeout time.Duration
	// SkipHistoryCheck leaves Porcupine out: for a rerun whose only purpose
	// is the trace (artifacts) or its hash (a determinism recheck), which the
	// history check never changes.
	SkipHistoryCheck bool
	// Progress, if set, is called during the safety phase after each
	// ProgressStep of simulated time, with the simulated time and the events
	// so far (a progress line for long runs). The world runs in those steps
	// instead of at once, which changes nothing it does.
	Progress func(now time.Duration, events uint64)
}

// ProgressStep is the simulated time between two Options.Progress calls.
const ProgressStep = time.Second

// DefaultLinearizabilityTimeout is the Porcupine budget of Options that set
// none: 20,000,000 search steps, which take 4-8 s on a 2 GHz core, about
// what Porcupine's search did within the 20 s of wall time this budget was
// before it was counted in steps.
const DefaultLinearizabilityTimeout = 40 * time.Second

// OpCounts counts client operations by outcome.
type OpCounts struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

// CheckResult is one checker's verdict.
type CheckResult struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail,omitempty"`
	// Outgrown marks an Unknown verdict that a bound on the check's memory
	// gave (checkers.HistoryResult.Outgrown): unlike a timeout, every run of
	// the seed gives it again.
	Outgrown bool `json:"outgrown,omitempty"`
	// OutOfSteps marks an Unknown verdict that the time budget, counted in
	// the search's steps, gave (checkers.HistoryResult.OutOfSteps): every
	// run of the seed with the same budget gives it again.
	OutOfSteps bool `json:"out_of_steps,omitempty"`
}

// Report is the outcome of one seed of one scenario. Its JSON form is one
// line of a sweep's results.jsonl.
type Report struct {
	// What ran.
	Scenario string `json:"scenario"`
	Protocol string `json:"protocol"`
	Seed     uint64 `json:"seed"`
	// File is the scenario file a sweep ran, for replay commands, and
	// ScenarioHash identifies its contents, so a sweep continues only its own.
	File         string `json:"file,omitempty"`
	ScenarioHash string `json:"scenario_hash,omitempty"`

	// The verdict.
	Class  Class         `json:"class"`
	Reason string        `json:"reason,omitempty"` // the first failure, one line
	Checks []CheckResult `json:"checks"`
	Crash  *sim.Crash    `json:"crash,omitempty"`
	// ConvergedAfter is how long the liveness phase took to converge.
	ConvergedAfter time.Duration `json:"converged_after_ns,omitempty"`
	// Rechecked: a sweep ran this seed twice and compared trace hashes.
	Rechecked bool `json:"rechecked,omitempty"`

	// The run.
	Events   uint64        `json:"events"`
	SimTime  time.Duration `json:"sim_time_ns"`
	WallTime time.Duration `json:"wall_time_ns"`
	Hash     string        `json:"trace_hash"`
	Ops      OpCounts      `json:"ops"`
	// LeaderChanges counts the run's leaderships: the distinct pairs of a
	// server and a term (ballot, view) announced by sim.ObsLeader, so that a
	// leader announcing itself again after a restart counts once.
	LeaderChanges int `json:"leader_changes"`
	// Members is the configuration the run ended with, as the servers
	// announced it ("n3 n5 n6"), when it is not every server from the
	// start; empty otherwise.
	Members string `json:"members,omitempty"`
	// Configurations counts the configurations committed during the run.
	Configurations int              `json:"configurations,omitempty"`
	Announced      Announced        `json:"announced"`
	Messages       sim.MessageStats `json:"messages"`
	Faults         string           `json:"faults,omitempty"`
	// Beyond says, a line each, where the scenario's faults went beyond what
	// the protocol assumes (clocks further apart than its drift bound, a
	// clock that jumped, more faulty servers than it tolerates): a failure
	// after one may be the faults' doing.
	Beyond []string `json:"beyond_assumptions,omitempty"`
	// Byzantine lists the servers that misbehaved on purpose, as "n2=equivocate".
	Byzantine []string `json:"byzantine,omitempty"`
	// Swarm describes the fault mix a swarm scenario drew for this seed.
	Swarm []string `json:"swarm,omitempty"`
	// SwarmOptions describes the cluster size, clients and workload a
	// scenario with swarm_options drew for this seed ("nodes 7 (of 3, 5, 7)").
	SwarmOptions []string `json:"swarm_options,omitempty"`
	// Buggify lists the code-level fault points asked about, "site=on|off".
	Buggify []string `json:"buggify,omitempty"`
	// Probes counts how often each coverage probe fired (sim.Probe); a probe
	// that never fired is absent. encoding/json writes the keys sorted.
	Probes map[string]uint64 `json:"probes,omitempty"`

	// Kept for artifacts, exports and shrinking, not serialized: the
	// history, the files the history checks offer (Porcupine's view of a
	// linearizability failure, ...), the steps a swarm drew, and the
	// timeline as it happened, pinned (faults.Injector.Executed).
	History      *workload.History   `json:"-"`
	Artifacts    []checkers.Artifact `json:"-"`
	swarmSteps   []faults.Step
	swarmBuggify float64
	executed     []faults.Step
	onServers    []faults.Step // executed, leader targets pinned to the server struck
	options      optionsDraw   // what an options swarm drew (AsRun)
}

// Check builds, without running it, the world a seed of sc would run with
// proto, and reports what the scenario file alone cannot tell: protocol
// options the protocol refuses, a check it cannot support. A sweep calls it
// before its first seed, so that such a mistake is one error, not one per
// seed. A swarm's draw is left out: it is the seed's, never refused, and
// for a long safety phase large.
func Check(sc *scenarios.Scenario, proto Protocol) error {
	seed := uint64(1)
	if sc.Seed != nil {
		seed = *sc.Seed
	}
	bare := sc.Clone()
	bare.Swarm = nil
	_, err := newRun(bare, proto, Options{Seed: seed})
	return err
}

// Run runs one seed of sc with proto and judges it. An error means the run
// could not be built: bad input, or a BuildError (the protocol's Build
// panicked or returned no Factory); every outcome of the run itself,
// handlers' panics included, is in the Report. The one error that comes
// with a Report is a *TraceError: the run was judged, but its trace could
// not be written to Options.Trace (a full disk).
func Run(sc *scenarios.Scenario, proto Protocol, opts Options) (*Report, error) {
	start := time.Now() // wall time for the report only; it never reaches the world
	r, err := newRun(sc, proto, opts)
	if err != nil {
		return nil, err
	}
	r.execute()
	traceErr := r.world.FlushTrace()
	rep := r.judge()
	rep.WallTime = time.Since(start)
	if traceErr != nil {
		return rep, &TraceError{Err: traceErr}
	}
	return rep, nil
}

// TraceError is Run's error, returned with the Report, when the run's trace
// could not be written to Options.Trace.
type TraceError struct{ Err error }

func (e *TraceError) Error() string { return "writing the trace: " + e.Err.Error() }

func (e *TraceError) Unwrap() error { return e.Err }

// run is one world under construction and its observers.
type run struct {
	sc      *scenarios.Scenario
	opts    Options
	world   *sim.World
	load    *workload.Workload
	faults  *faults.Injector
	monitor *checkers.Monitor
	// durability judges halts whatever the scenario lists (checkers.Durability).
	durability *checkers.Durability
	seen       Announced
	leaders    map[leadership]struct{} // the leaderships announced: only counted
	digested   int                     // commits and applies announced with a digest or a result (vacuity.go)
	outcome    sim.Outcome

	backoff   time.Duration // Servers.Backoff
	stepDown  time.Duration // Servers.StepDown
	window    time.Duration // Servers.QuorumWindow
	tolerates int           // Servers.Tolerates
	byzantine []ByzantineServer
	isByz     []bool // by server ID: Byzantine? Made from byzantine at the first lookup (byzantineServer)
	swarm     faults.SwarmDraw
	options   optionsDraw
	progress  *checkers.Progress
	liveness  *checkers.LivenessReport // nil when the scenario has no liveness phase
	stable    *checkers.LivenessReport // the stable-leader check, nil when not judged
	avail     availability             // the stale-leader and progress checks (availability.go)
	config    configView               // the cluster's configuration (membership.go)
	asks      []ask                    // by server: its latest request for a new leader (asks.go)
}

func newRun(sc *scenarios.Scenario, proto Protocol, opts Options) (*run, error) {
	sc, options, err := drawOptions(sc, proto, opts.Seed) // the options swarm (options_swarm.go)
	if err != nil {
		return nil, err
	}
	byz, err := chooseByzantine(sc, opts.Seed)
	if err != nil {
		return nil, err
	}
	if err := checkOperatorRequests(sc, proto); err != nil {
		return nil, err
	}
	servers, err := build(proto, Cluster{Scenario: sc, NewStateMachine: workload.NewKV, Byzantine: byz})
	if err != nil {
		return nil, err
	}
	if sc.HasCheck(checkers.NameIsolatedLeader) && servers.StepDown <= 0 {
		return nil, sc.Errorf("checks", "%s needs a protocol that steps a leader cut off from a majority down, and %s as configured does not (of the shipped protocols, raft does with protocol_options.check_quorum: true)",
			checkers.NameIsolatedLeader, proto.Name)
	}
	wcfg := workloadConfig(sc)
	wcfg.ReplyQuorum, wcfg.BroadcastRetry = servers.ReplyQuorum, servers.BroadcastRetry
	load, err := workload.New(wcfg)
	if err != nil {
		return nil, sc.Errorf("workload", "%v", err)
	}
	plan, swarm := faultPlan(sc, opts.Seed, faults.SwarmCluster{Servers: sc.Nodes, Tolerates: servers.Tolerates,
		Faulty:             faultyByDesign(sc, byz, servers.Tolerates),
		DrawsStorageFaults: faults.DrawsStorageFaults(sc.FaultPlan().Steps, servers.Tolerates > 0),
		Reconfigurable:     proto.ChangesMembers, Members: sc.InitialMembers(),
		ClockDrift: servers.ClockDrift})
	w, err := sim.NewWorld(sim.Config{Seed: opts.Seed, Link: sc.Network.Link(), MaxEvents: sc.MaxEvents, Trace: opts.Trace,
		Buggify: max(sc.Buggify, swarm.Buggify)})
	if err != nil {
		return nil, sc.Errorf("network", "%v", err)
	}
	for range sc.Nodes {
		w.AddServer(servers.Factory)
	}
	load.Install(w)
	inj, err := faults.Install(w, plan)
	if err != nil {
		return nil, sc.Errorf("faults", "%v", err)
	}
	inj.SetMembers(sim.FirstMembers(sc.InitialMembers()))
	inj.AssumeClockDrift(servers.ClockDrift)
	invs, err := invariants(sc)
	if err != nil {
		return nil, err
	}
	var r *run // set below, before the world runs
	durability := checkers.NewDurability(func(id sim.NodeID) bool { return r.haltExcused(id) })
	invs = append(invs, durability)
	byzIDs := byzantineIDs(byz)
	r = &run{sc: sc, opts: opts, world: w, load: load, faults: inj, byzantine: byz, swarm: swarm, options: options, backoff: servers.Backoff, stepDown: servers.StepDown, window: servers.QuorumWindow, tolerates: servers.Tolerates,
		monitor: checkers.AttachCorrect(w, invs, byzIDs), durability: durability, progress: checkers.NewProgress(byzIDs...), config: initialConfig(sc)}
	if r.tolerates > 0 {
		r.monitor.ExcuseSenders(r.faultyByBudget)
	}
	w.OnObservation(r.count)
	w.OnObservation(r.config.observe)
	r.progress.Attach(w)
	r.attachAvailability(invs)
	if sc.HasCheck(checkers.NameStableLeader) {
		r.watchAsks()
	}
	return r, nil
}

// execute runs the safety phase, then either the liveness phase or the drain.
func (r *run) execute() {
	safetyEnd := sim.Time(r.sc.Duration)
	r.outcome = r.runSafety(safetyEnd)
	r.avail.stop() // the workload stops or finishes: nothing more need complete
	if r.outcome != sim.Reached {
		return
	}
	if r.sc.HasCheck(checkers.NameLiveness) {
		r.livenessPhase(safetyEnd)
		return
	}
	r.drain(safetyEnd)
}

// runSafety runs the world to safetyEnd, in ProgressSteps when someone
// watches: RunUntil stops before the first event past its deadline, so the
// steps pop the same events in the same order as one call.
func (r *run) runSafety(safetyEnd sim.Time) sim.Outcome {
	if r.opts.Progress == nil {
		return r.world.RunUntil(safetyEnd)
	}
	for {
		t := min(r.world.Now().Add(ProgressStep), safetyEnd)
		out := r.world.RunUntil(t)
		r.opts.Progress(r.world.Now().Duration(), r.world.Events())
		if out != sim.Reached || t == safetyEnd {
			return out
		}
	}
}

// drain heals the faults, brings crashed nodes back and stops the workload,
// so that outstanding operations can finish.
func (r *run) drain(safetyEnd sim.Time) {
	r.world.At(safetyEnd, "end of safety phase: stop workload, heal, restart", func() {
		r.load.Stop()
		r.faults.Stop()
		r.faults.HealAll()
		r.faults.RestartAll()
		r.world.QuietCode()
	})
	r.outcome = r.world.RunUntil(safetyEnd.Add(drainTime(r.sc)))
}

// faultyByBudget reports whether server id counts, so far, among the faulty
// servers of a protocol with a fault budget (Servers.Tolerates) for a fault
// other than a Byzantine behaviour: a disk the faults corrupted, or a crash
// while its disk tore writes. Such a server may forget what it voted, by
// design; the agreement check then stops judging its votes.
func (r *run) faultyByBudget(id sim.NodeID) bool {
	return (r.faults.Damaged() | r.faults.TornDisks()).Has(id)
}

// haltExcused reports whether server id may halt on its storage (the
// durability check): a fault corrupted its disk, or, for a protocol with a
// fault budget, it counts among the faulty for any disk fault.
func (r *run) haltExcused(id sim.NodeID) bool {
	if r.tolerates > 0 {
		return r.faultyByBudget(id)
	}
	return r.faults.Damaged().Has(id)
}

// beyondFaultBudget says when more servers were faulty over the run
// (Byzantine, with a disk the faults corrupted, or crashed while their disk
// tore writes, as the swarm counts them) than a protocol with a fault
// budget of its own tolerates (Servers.Tolerates): a scenario may go past
// it on purpose, to show what breaks, and then says so. The servers count
// once each, whenever they were faulty, so this is an upper bound on the
// faulty at any one time. A crash-fault protocol declares no budget: see
// beyondMinority.
func (r *run) beyondFaultBudget() []string {
	if r.tolerates <= 0 {
		return r.beyondMinority()
	}
	var faulty sim.Members
	var parts []string
	add := func(m sim.Members, what string) {
		if m != 0 {
			faulty |= m
			parts = append(parts, m.String()+" "+what)
		}
	}
	add(sim.MembersOf(byzantineIDs(r.byzantine)...), "Byzantine")
	add(r.faults.Damaged(), "with a corrupted disk")
	add(r.faults.TornDisks(), "crashed with a disk tearing writes")
	if faulty.Len() <= r.tolerates {
		return nil
	}
	return []string{fmt.Sprintf("%s: %d faulty servers over the run, more than the %d the protocol tolerates",
		strings.Join(parts, ", "), faulty.Len(), r.tolerates)}
}

// beyondMinority says when, for a crash-fault protocol, the servers of the
// latest configuration with a disk the faults corrupted and those down for
// good at the end make half of it or more: no majority of intact servers
// is left to elect a leader or repair what the corrupted ones lost. The
// injector never corrupts a disk into such a configuration, but a timeline
// may crash a server for good after a corruption, counting on the damaged
// server to recover first (raft-lost-log-follower), and other faults may
// keep it from recovering in time. A corrupted disk counts until the end,
// recovered or not, so this is an upper bound.
func (r *run) beyondMinority() []string {
	config := r.faults.Members()
	damaged, down := r.faults.Damaged()&config, r.faults.DownForGood()&config
	lost := damaged | down
	if config.Len() <= 1 || damaged == 0 || 2*lost.Len() < config.Len() {
		return nil
	}
	what := damaged.String() + " with a corrupted disk"
	if down != 0 {
		what += ", " + down.String() + " down for good"
	}
	return []string{fmt.Sprintf("%s: %d of the %d servers of the configuration, no majority of intact servers left",
		what, lost.Len(), config.Len())}
}

// faultPlan is the scenario's timeline plus, for a swarm scenario, the
// steps this seed draws from the "swarm" stream.
func faultPlan(sc *scenarios.Scenario, seed uint64, cluster faults.SwarmCluster) (faults.Plan, faults.SwarmDraw) {
	plan := sc.FaultPlan()
	if len(sc.Swarm) == 0 {
		return plan, faults.SwarmDraw{}
	}
	draw := faults.SwarmWithin(sim.NewStreams(seed).Stream("swarm"), cluster, time.Duration(sc.Duration), sc.Swarm)
	plan.Steps = append(plan.Steps, draw.Steps...)
	return plan, draw
}

// faultyByDesign lists, for the swarm's fault budget, the servers faulty
// whatever it draws: the Byzantine ones, those the timeline crashes for
// good and those whose disks it corrupts, and, for a protocol with a fault
// budget of its own (tolerates), those whose disks it makes tear writes.
// Damaging the storage of another on top of them would go beyond what the
// protocol tolerates (a swarm sweep once corrupted the one disk that held
// the entries a crashed server took with it, and no leader could be
// elected again).
func faultyByDesign(sc *scenarios.Scenario, byz []ByzantineServer, tolerates int) []int {
	steps := sc.FaultPlan().Steps
	ids := append(faults.CrashedForGood(steps), faults.CorruptedByDesign(steps)...)
	if tolerates > 0 {
		ids = append(ids, faults.TornByDesign(steps)...)
	}
	for _, b := range byz {
		ids = append(ids, int(b.ID))
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Pinned returns sc as a file that replays rep exactly and keeps testing the
// same situation after the code changes: its seed set, the cluster size,
// clients and workload an options swarm drew written in (AsRun), and a
// swarm's drawn steps written out as an explicit timeline (swarm off). The
// steps drawn for after the run ended are left out: they never fired, and
// a long swarm that failed early would otherwise write out hours of them.
func Pinned(sc *scenarios.Scenario, rep *Report) *scenarios.Scenario {
	p := AsRun(sc, rep).WithSeed(rep.Seed)
	if len(p.Swarm) > 0 {
		p.Faults = append(p.Faults, firedBy(rep.swarmSteps, rep.SimTime)...)
		p.Buggify = max(p.Buggify, rep.swarmBuggify)
		p.Swarm = nil
	}
	return p
}

// firedBy returns the one-shot steps due at or before end (a swarm draws
// nothing else): the ones a run that ended then fired.
func firedBy(steps []faults.Step, end time.Duration) []faults.Step {
	return slices.DeleteFunc(slices.Clone(steps), func(s faults.Step) bool {
		return !s.Repeats() && time.Duration(s.At) > end
	})
}

// maxLivenessAllowance caps what Servers.Backoff may stretch a liveness
// bound to: a protocol configured with huge timeouts must not make a stuck
// run simulate for hours (and hit the event bound, inconclusive, instead of
// being reported stuck).
const maxLivenessAllowance = 2 * time.Minute

// livenessPoll is how often the liveness phase looks for convergence.
const livenessPoll = 10 * time.Millisecond

// livenessPhase heals the faults (all, or all but a minority of servers kept
// down), lets each client make one final operation, and requires within the
// scenario's bound that every correct server applies everything committed
// and every final operation returns (TigerBeetle's VOPR does the same after
// its safety phase). The run ends when it converges.
func (r *run) livenessPhase(start sim.Time) {
	l := r.sc.Liveness
	within := time.Duration(l.Within)
	if within <= 0 {
		within = time.Duration(scenarios.DefaultWithin)
	}
	within = max(within, min(2*max(r.backoff, 0), maxLivenessAllowance))
	r.world.At(start, "liveness phase: heal "+l.Heal+", final operations", func() {
		r.faults.Stop()
		r.faults.HealAll()
		r.faults.RestartAll()
		r.world.QuietCode()
		if l.Heal == scenarios.HealCore {
			r.keepMinorityDown()
		}
		r.load.Finish(r.world)
	})
	deadline := start.Add(within)
	for t := start; ; {
		t = min(t.Add(livenessPoll), deadline)
		if r.outcome = r.world.RunUntil(t); r.outcome != sim.Reached {
			return
		}
		_, waiting := r.load.Finished()
		converged := len(waiting) == 0 && len(r.progress.Lagging(r.correctServers())) == 0
		if converged || t == deadline {
			rep := r.progress.JudgeLiveness(r.correctServers(), waiting, t, within.String())
			r.liveness = &rep
			if converged && r.sc.HasCheck(checkers.NameStableLeader) {
				r.quietWindow(t)
			}
			return
		}
	}
}

// quietWindow runs a converged, healed cluster on for a while and judges
// the stable-leader check: no leader of a new term meanwhile. The window
// is several election timeouts (the protocol's Backoff), at least
// minQuietWindow.
func (r *run) quietWindow(from sim.Time) {
	if behind := r.clocksBehind(); behind > 0 {
		// A clock stepped back before the heal still holds its server's
		// timers (a leader stepped back 2s is silent 2s, and is rightly
		// replaced): the window starts once every clock has caught up.
		from = from.Add(behind)
		if r.outcome = r.world.RunUntil(from); r.outcome != sim.Reached {
			return
		}
	}
	quiet := min(max(minQuietWindow, 4*r.backoff), maxLivenessAllowance)
	r.excuseAskedElection()
	before := r.progress.Elections()
	if r.outcome = r.world.RunUntil(from.Add(quiet)); r.outcome != sim.Reached {
		return
	}
	rep := r.progress.JudgeStableLeader(r.progress.Elections()-before, quiet)
	r.stable = &rep
}

// clocksBehind is the longest any server's clock reads behind where it was
// before a fault stepped it back (sim.World.ClockBehind): after the heal the
// clocks run at rate 1, so the real time until every one has caught up.
func (r *run) clocksBehind() time.Duration {
	var most time.Duration
	for _, id := range r.world.Servers() {
		most = max(most, r.world.ClockBehind(id))
	}
	return most
}

// minQuietWindow is the shortest quiet window of the stable-leader check.
const minQuietWindow = 2 * time.Second

// keepMinorityDown crashes a random minority of the members for the whole
// liveness phase: a "core" heal, where only a majority must converge. The
// servers whose disks the faults damaged go down first (the injector keeps
// them a minority), then those whose disks tear writes: a damaged server may
// need a majority of intact ones to recover, and a core of damaged and too few
// intact servers could not converge on some protocols (one that overwrites a
// record in place cannot tell a torn overwrite from a damaged record, an
// acknowledged one it lost). No server goes down that would leave the rest
// short of a majority of either half of a joint configuration, or of a
// configuration a leader took a change to that may be in force unannounced. A
// Byzantine-fault-tolerant protocol loses no more servers than its tolerance
// leaves after the Byzantine ones (which stay up, playing their part): f of
// 3f+1 faulty in all, not a minority.
func (r *run) keepMinorityDown() {
	members := r.config.members(r.world.Servers())
	limit := (len(members) - 1) / 2
	byz := sim.MembersOf(byzantineIDs(r.byzantine)...)
	if r.tolerates > 0 {
		limit = max(0, min(limit, r.tolerates-byz.Len()))
	}
	var damaged, torn, intact []int // positions in members, each in the drawn order
	for _, i := range r.world.Stream("liveness").Perm(len(members)) {
		switch {
		case byz.Has(members[i]):
		case r.faults.Damaged().Has(members[i]):
			damaged = append(damaged, i)
		case r.faults.TornDisks().Has(members[i]):
			torn = append(torn, i)
		default:
			intact = append(intact, i)
		}
	}
	order := slices.Concat(damaged, torn, intact)
	up, servers := slices.Clone(members), len(r.world.Servers())
	for _, i := range order {
		if len(members)-len(up) >= limit {
			return
		}
		rest := slices.DeleteFunc(slices.Clone(up), func(id sim.NodeID) bool { return id == members[i] })
		if r.config.hasMajority(r.intactFor(rest), servers) && majorityOfEach(rest, r.faults.Requested()) {
			r.world.Crash(members[i])
			up = rest
		}
	}
}

// intactFor is, for a crash-fault protocol, the servers of up whose disks no
// fault damaged or tore: a damaged server that stays up needs a majority of
// intact ones to recover (a Paxos acceptor that lost its state rejoins
// through the others, never counting itself), so the core keeps one. When a
// change a leader took kept the damaged server from going down first, a
// swarm sweep of paxos-crash-churn once took down an intact one instead and
// left the damaged server and a single intact one, which never converged. A
// Byzantine-fault-tolerant protocol's budget counts the damaged among its f
// already: up as it is.
func (r *run) intactFor(up []sim.NodeID) []sim.NodeID {
	if r.tolerates > 0 {
		return up
	}
	lost := r.faults.Damaged() | r.faults.TornDisks()
	return slices.DeleteFunc(slices.Clone(up), func(id sim.NodeID) bool { return lost.Has(id) })
}

// majorityOfEach reports whether set holds a majority of each of configs.
func majorityOfEach(set []sim.NodeID, configs []sim.Members) bool {
	s := sim.MembersOf(set...)
	for _, c := range configs {
		if !majorityOf(s, c) {
			return false
		}
	}
	return true
}

// correctServers are the servers expected to converge: the members of the
// configuration that are running and not Byzantine.
func (r *run) correctServers() []sim.NodeID {
	var up []sim.NodeID
	for _, id := range r.world.Servers() {
		if r.config.has(id) && r.world.Up(id) && !r.byzantineServer(id) {
			up = append(up, id)
		}
	}
	return up
}

// byzantineServer reports whether id is a server chosen to misbehave.
func (r *run) byzantineServer(id sim.NodeID) bool {
	if r.isByz == nil && len(r.byzantine) > 0 {
		r.isByz = byzantineByID(r.byzantine, len(r.world.Servers()))
	}
	return int(id) >= 0 && int(id) < len(r.isByz) && r.isByz[id]
}

// drainTime is how long outstanding operations get after the safety phase.
func drainTime(sc *scenarios.Scenario) time.Duration {
	if sc.Drain > 0 {
		return time.Duration(sc.Drain)
	}
	return time.Duration(sc.Workload.Timeout) + time.Second
}

// judge classifies the run. The order of precedence is crash, safety
// violation found while running, bounds, then the history checks.
func (r *run) judge() *Report {
	res := r.world.Result()
	rep := &Report{
		Scenario: r.sc.Name, Protocol: r.sc.Protocol, Seed: r.opts.Seed,
		Events: res.Events, SimTime: res.Now.Duration(), Hash: fmt.Sprintf("%016x", res.Hash),
		LeaderChanges: len(r.leaders), Announced: r.seen, Messages: res.Messages, Crash: res.Crash,
		History: r.load.History(), Faults: r.faults.Summary(),
	}
	rep.Members, rep.Configurations = r.config.describe(), r.config.changes
	rep.Swarm, rep.swarmSteps, rep.swarmBuggify = r.swarm.Mix, r.swarm.Steps, r.swarm.Buggify
	rep.SwarmOptions, rep.options = r.options.desc, r.options
	rep.executed, rep.onServers, rep.Buggify = r.faults.Executed(), r.faults.ExecutedOnServers(), r.world.BuggifySites()
	rep.Beyond = append(r.faults.Beyond(), r.beyondFaultBudget()...)
	if probes := r.world.Probes(); len(probes) > 0 {
		rep.Probes = probes
	}
	for _, b := range r.byzantine {
		rep.Byzantine = append(rep.Byzantine, fmt.Sprintf("%v=%s", b.ID, b.Behaviour))
	}
	ok, failed, unknown := rep.History.Counts()
	rep.Ops = OpCounts{OK: ok, Failed: failed, Unknown: unknown}
	rep.Class, rep.Reason = Pass, ""
	for _, v := range r.monitor.Results() {
		if v.Name == checkers.NameDurability && !r.durability.Judged() {
			continue // no server halted or lost state: nothing was judged, and every run would list it
		}
		rep.Checks = append(rep.Checks, CheckResult{Name: v.Name, Verdict: v.Verdict.String(), Detail: v.Detail})
	}
	switch {
	case res.Crash != nil:
		rep.Class, rep.Reason = ProtocolCrash, res.Crash.Error()
		return rep
	case len(r.monitor.Violations()) > 0:
		rep.Class, rep.Reason = violationClass(r.monitor.Violations())
		return rep
	case res.Outcome == sim.EventLimit:
		rep.Class, rep.Reason = Inconclusive, fmt.Sprintf("event bound of %d reached at t=%v", res.Events, res.Now)
		return rep
	case res.Outcome == sim.Stopped:
		rep.Class, rep.Reason = Inconclusive, "stopped: "+res.StopReason
		return rep
	}
	r.checkHistory(rep)
	r.checkLiveness(rep)
	r.checkVacuity(rep)
	return rep
}

// checkLiveness reports the liveness phase; a failure counts only if the
// history checks passed (a safety violation is the graver finding).
func (r *run) checkLiveness(rep *Report) {
	if r.liveness == nil {
		return
	}
	rep.Checks = append(rep.Checks, CheckResult{Name: checkers.NameLiveness, Verdict: r.liveness.Verdict.String(), Detail: r.liveness.Detail})
	if r.liveness.Verdict != checkers.Pass {
		if rep.Class == Pass {
			rep.Class, rep.Reason = Liveness, r.liveness.Detail
		}
		return
	}
	rep.ConvergedAfter = time.Duration(r.liveness.ConvergedAt - sim.Time(r.sc.Duration))
	if s := r.stable; s != nil {
		rep.Checks = append(rep.Checks, CheckResult{Name: checkers.NameStableLeader, Verdict: s.Verdict.String(), Detail: s.Detail})
		if s.Verdict != checkers.Pass && rep.Class == Pass {
			rep.Class, rep.Reason = Liveness, checkers.NameStableLeader+": "+s.Detail
		}
	}
}

// checkHistory runs the history checks the scenario lists, in its order.
// The first failure classes the run; an unknown verdict makes it
// inconclusive unless a check failed.
func (r *run) checkHistory(rep *Report) {
	if r.opts.SkipHistoryCheck {
		return
	}
	budget := r.opts.LinearizabilityTimeout
	if budget == 0 {
		budget = DefaultLinearizabilityTimeout
	}
	for _, name := range r.sc.Checks {
		hc, ok := checkers.NewHistoryCheck(name)
		if !ok {
			continue
		}
		res := hc.Check(rep.History, budget)
		rep.Artifacts = append(rep.Artifacts, res.Artifacts...)
		rep.Checks = append(rep.Checks, CheckResult{Name: name, Verdict: res.Verdict.String(), Detail: res.Detail, Outgrown: res.Outgrown,
			OutOfSteps: res.OutOfSteps})
		switch {
		case res.Verdict == checkers.Fail && rep.Class != Safety:
			rep.Class, rep.Reason = Safety, historyFailure(name)+res.Detail
		case res.Verdict == checkers.Unknown && rep.Class == Pass:
			rep.Class, rep.Reason = Inconclusive, name+" unknown: "+res.Detail
		}
	}
}

// historyFailure prefixes the reason of a failed history check.
func historyFailure(name string) string {
	if name == checkers.NameLinearizable {
		return "history is not linearizable: " // the wording reports and tests know
	}
	return "history is not " + name + ": "
}

// invariants builds the per-observation checkers the scenario lists.
func invariants(sc *scenarios.Scenario) ([]checkers.Invariant, error) {
	var invs []checkers.Invariant
	for i, name := range sc.Checks {
		if _, history := checkers.NewHistoryCheck(name); history || checkers.JudgedAfterPhase(name) {
			continue // judged after the run, and after the liveness phase
		}
		inv, ok := checkers.NewInvariant(name)
		if !ok {
			return nil, sc.Errorf(fmt.Sprintf("checks[%d]", i), "unknown check %q (known: %v)", name, checkers.KnownChecks())
		}
		invs = append(invs, inv)
	}
	return invs, nil
}
