package prototest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Protocol returns a runner.Protocol called name whose Build decodes and
// validates the scenario's protocol_options into a copy of defaults, as the
// registry's entries do (runner.DecodeOptions), and hands the result to build. A protocol's tests use it where the registry's entry is out
// of reach (the registry imports the protocol, so the protocol's own tests
// cannot import the registry).
func Protocol[C interface{ Validate() error }](name string, defaults C, build func(cfg C, c runner.Cluster) (runner.Servers, error)) runner.Protocol {
	return runner.Protocol{Name: name, Build: func(c runner.Cluster) (runner.Servers, error) {
		cfg := defaults
		if err := runner.DecodeOptions(c.Scenario, &cfg); err != nil {
			return runner.Servers{}, err
		}
		return build(cfg, c)
	}}
}

// CrashFaultProtocol is Protocol for a crash-fault protocol whose New takes
// its config and a state machine: the factory's instances are kept in inst.
func CrashFaultProtocol[C interface{ Validate() error }, N sim.Node](name string, defaults C,
	newFactory func(C, service.NewStateMachine) (sim.Factory, error), inst *Instances[N]) runner.Protocol {
	return Protocol(name, defaults, func(cfg C, c runner.Cluster) (runner.Servers, error) {
		f, err := newFactory(cfg, c.NewStateMachine)
		if err != nil {
			return runner.Servers{}, err
		}
		return runner.Servers{Factory: inst.Wrap(f)}, nil
	})
}

// CrashFault is a crash-fault protocol as its tests build it: a New that
// takes its config and a state machine, as the registry's entry calls it,
// and what every whole-run scenario of its tests shares.
type CrashFault[C interface{ Validate() error }, N sim.Node] struct {
	Name     string
	Defaults C
	New      func(C, service.NewStateMachine) (sim.Factory, error)
	// Body follows the header of every scenario of Scenario: the workload,
	// and the network if the tests share one.
	Body string
}

// Protocol is the protocol as the registry builds it, its instances kept in
// inst.
func (p CrashFault[C, N]) Protocol(inst *Instances[N]) runner.Protocol {
	return CrashFaultProtocol(p.Name, p.Defaults, p.New, inst)
}

// Scenario is a scenario of the protocol on servers nodes for d (see
// ScenarioText): Body, then extra lines (network, faults, options).
func (p CrashFault[C, N]) Scenario(servers int, d time.Duration, extra string) string {
	return ScenarioText(p.Name, servers, d, p.Body+extra)
}

// Factory builds the protocol's servers with cfg over the workload's KV (the
// state machine the workload's clients speak to), failing t if cfg is refused.
func (p CrashFault[C, N]) Factory(t testing.TB, cfg C) sim.Factory {
	t.Helper()
	f, err := p.New(cfg, workload.NewKV)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return f
}

// RunPassing runs one seed of the scenario text, keeping the servers'
// instances in inst, and requires the run to pass (RequirePass).
func (p CrashFault[C, N]) RunPassing(t testing.TB, inst *Instances[N], text string, seed uint64) *runner.Report {
	t.Helper()
	rep := RunScenario(t, p.Protocol(inst), text, seed, runner.Options{})
	RequirePass(t, rep)
	return rep
}

// Sweep is what the runs of SweepPassing saw, for the assertions that span
// seeds.
type Sweep struct {
	// On holds the BUGGIFY fault points that were on in some run.
	On map[string]bool
	// Notes counts the servers' notes (sim.ObsNote) over every run, by text:
	// the report does not keep them.
	Notes map[string]int
	// Impaired and Repaired count the servers' announcements that they lost
	// state they may have acknowledged (sim.ObsImpaired) and that they hold
	// it again (sim.ObsRepaired), over every run.
	Impaired, Repaired int
}

// SweepPassing runs the scenario text with each seed, each run's instances
// kept in an Instances of its own, and requires every run to pass; check, if
// not nil, then inspects the run's servers.
func (p CrashFault[C, N]) SweepPassing(t testing.TB, text string, seeds []uint64, check func(inst *Instances[N])) Sweep {
	t.Helper()
	out := Sweep{On: map[string]bool{}, Notes: map[string]int{}}
	for _, seed := range seeds {
		inst := NewInstances[N]()
		inst.OnObserve = func(o sim.Observation) {
			switch o.Kind {
			case sim.ObsNote:
				out.Notes[o.Text]++
			case sim.ObsImpaired:
				out.Impaired++
			case sim.ObsRepaired:
				out.Repaired++
			}
		}
		rep := p.RunPassing(t, inst, text, seed)
		if check != nil {
			check(inst)
		}
		for _, state := range rep.Buggify { // "site=on" or "site=off"
			if site, ok := strings.CutSuffix(state, "=on"); ok {
				out.On[site] = true
			}
		}
	}
	return out
}

// ScenarioText writes a scenario of protocol on servers nodes for d, with the
// safety checks and a liveness phase in which every server must catch up and
// every client finish within 5s of the healing; body adds the workload,
// network, faults and options.
func ScenarioText(protocol string, servers int, d time.Duration, body string) string {
	return fmt.Sprintf(`name: %s-test
protocol: %s
nodes: %d
duration: %v
checks: [linearizable, agreement, one-leader-per-term, liveness]
liveness: {within: 5s}
`, protocol, protocol, servers, d) + body
}

// CorruptThenCrash writes scenario fault lines that damage each server's
// disk in turn and then crash it, so that it restarts from the damage: server
// i's turn comes at 1s + i*gap and again every servers*gap until until. A
// turn flips flips bits (corrupt, a microsecond apart), and a millisecond
// after the first flip crashes the server for 300ms, at most maxDown servers
// down at once.
func CorruptThenCrash(servers int, gap, until time.Duration, flips, maxDown int) string {
	var b strings.Builder
	every := time.Duration(servers) * gap
	for i := range servers {
		at := time.Second + time.Duration(i)*gap
		for flip := range flips {
			fmt.Fprintf(&b, "  - {from: %v, to: %v, every: %v, corrupt: %d}\n", at+time.Duration(flip)*time.Microsecond, until, every, i)
		}
		fmt.Fprintf(&b, "  - {from: %v, to: %v, every: %v, crash: %d, down: 300ms, max_down: %d}\n", at+time.Millisecond, until, every, i, maxDown)
	}
	return b.String()
}

// Instances keeps, for each server of a run, the latest instance its factory
// built and the disk it runs on, so that a test can look inside the servers
// after runner.Run (which keeps its world to itself).
type Instances[N sim.Node] struct {
	nodes map[sim.NodeID]N
	disks map[sim.NodeID]*sim.Disk
	// OnObserve, if set before the run, sees every observation of the
	// servers (for notes, which the report does not keep).
	OnObserve func(o sim.Observation)
}

// NewInstances returns an empty record.
func NewInstances[N sim.Node]() *Instances[N] {
	return &Instances[N]{nodes: map[sim.NodeID]N{}, disks: map[sim.NodeID]*sim.Disk{}}
}

// Wrap returns factory with every instance it builds recorded. The recorded
// node behaves exactly as the protocol's: it only notes the disk at Start.
func (in *Instances[N]) Wrap(factory sim.Factory) sim.Factory {
	return func(id sim.NodeID) sim.Node {
		n := factory(id)
		if typed, ok := n.(N); ok {
			in.nodes[id] = typed
		}
		return recorder{Node: n, in: func(env sim.Env) sim.Env {
			in.disks[id] = env.Disk()
			if in.OnObserve == nil {
				return env
			}
			return observingEnv{Env: env, id: id, fn: in.OnObserve}
		}}
	}
}

// Node returns server id's latest instance (the zero N if none was built).
func (in *Instances[N]) Node(id sim.NodeID) N { return in.nodes[id] }

// Disk returns server id's disk, once it has started.
func (in *Instances[N]) Disk(id sim.NodeID) *sim.Disk { return in.disks[id] }

// recorder is a node that tells its Instances its disk, and shows them its
// observations if they ask.
type recorder struct {
	sim.Node
	in func(env sim.Env) sim.Env
}

func (r recorder) Start(env sim.Env) { r.Node.Start(r.in(env)) }

func (r recorder) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	r.Node.Receive(r.in(env), from, m)
}

func (r recorder) Timer(env sim.Env, kind sim.TimerKind) { r.Node.Timer(r.in(env), kind) }

// observingEnv passes every observation to fn as well.
type observingEnv struct {
	sim.Env
	id sim.NodeID
	fn func(o sim.Observation)
}

func (e observingEnv) Observe(o sim.Observation) {
	e.Env.Observe(o)
	o.Node = e.id
	e.fn(o)
}

// RunScenario runs one seed of the scenario written in text with proto,
// through runner.Run: the real world, workload, faults and checkers.
func RunScenario(t testing.TB, proto runner.Protocol, text string, seed uint64, opts runner.Options) *runner.Report {
	t.Helper()
	sc, err := scenarios.Parse(t.Name()+".yaml", []byte(text))
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	opts.Seed = seed
	rep, err := runner.Run(sc, proto, opts)
	if err != nil {
		t.Fatalf("runner: %v", err)
	}
	return rep
}

// RequirePass fails the test unless rep passed every check and some client
// operation succeeded.
func RequirePass(t testing.TB, rep *runner.Report) {
	t.Helper()
	if rep.Class != runner.Pass {
		t.Fatalf("seed %d: %s: %s", rep.Seed, rep.Class, rep.Reason)
	}
	if rep.Ops.OK == 0 {
		t.Fatalf("seed %d: no client operation succeeded", rep.Seed)
	}
}

// Seeds returns the seeds 1..n, or 1..short under go test -short: heavy
// whole-run tests keep a few seeds for a quick run.
func Seeds(n, short uint64) []uint64 {
	if testing.Short() {
		n = short
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i) + 1
	}
	return out
}

// WorldConfig describes a World.
type WorldConfig struct {
	Seed    uint64
	Servers int
	Factory sim.Factory
	Link    sim.Link
	// Workload configures the clients; zero Clients means none.
	Workload workload.Config
}

// World is a sim.World of a protocol's servers and the workload's clients,
// judged on every observation by the agreement and one-leader-per-term
// invariants: for the tests that must act or look in the middle of a run,
// which runner.Run does not allow.
type World struct {
	W       *sim.World
	Load    *workload.Workload // nil without clients
	Monitor *checkers.Monitor
	// Leaders counts the leader announcements.
	Leaders int
}

// NewWorld builds the world; nothing runs yet.
func NewWorld(t testing.TB, cfg WorldConfig) *World {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: cfg.Seed, Link: cfg.Link})
	if err != nil {
		t.Fatal(err)
	}
	out := &World{W: w}
	for range cfg.Servers {
		w.AddServer(cfg.Factory)
	}
	if cfg.Workload.Clients > 0 {
		if out.Load, err = workload.New(cfg.Workload); err != nil {
			t.Fatal(err)
		}
		out.Load.Install(w)
	}
	out.Monitor = checkers.Attach(w, []checkers.Invariant{checkers.NewAgreement(), checkers.NewOneLeaderPerTerm()})
	w.OnObservation(func(o sim.Observation) {
		if o.Kind == sim.ObsLeader {
			out.Leaders++
		}
	})
	return out
}

// Run runs to virtual time until and requires that it got there with no
// protocol crash and no violation.
func (w *World) Run(t testing.TB, until time.Duration) {
	t.Helper()
	out := w.W.RunUntil(sim.Time(until))
	if c := w.W.Result().Crash; c != nil {
		t.Fatalf("protocol crash: %v", c)
	}
	for _, v := range w.Monitor.Violations() {
		t.Fatalf("%v", v)
	}
	if out != sim.Reached {
		t.Fatalf("the run ended early: %v", out)
	}
}

// Acked counts the operations that succeeded and returned at or after after.
func (w *World) Acked(after time.Duration) int {
	count := 0
	for _, op := range w.Load.History().Operations() {
		if op.Status == workload.StatusOK && op.Return >= sim.Time(after) && op.Return != sim.Forever {
			count++
		}
	}
	return count
}

// RequireLinearizable checks the client history with Porcupine.
func (w *World) RequireLinearizable(t testing.TB) {
	t.Helper()
	lin := checkers.CheckLinearizable(w.Load.History(), 20*time.Second)
	if lin.Verdict != checkers.Pass {
		t.Fatalf("linearizability %v: %s", lin.Verdict, lin.Detail)
	}
}

// DiskStats sums the writes and syncs of every server's disk.
func (w *World) DiskStats() [2]uint64 {
	var total [2]uint64
	for _, id := range w.W.Servers() {
		writes, syncs := w.W.Disk(id).Stats()
		total[0], total[1] = total[0]+writes, total[1]+syncs
	}
	return total
}

// RequireIdleDiskQuiet checks that a cluster without clients elects one
// leader within 2s and then, heartbeats only, writes nothing to disk for 8s:
// keeping a leader must cost no disk writes.
func RequireIdleDiskQuiet(t testing.TB, factory sim.Factory, servers int, seed uint64) {
	t.Helper()
	w := NewWorld(t, WorldConfig{Seed: seed, Servers: servers, Factory: factory,
		Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 5 * time.Millisecond}})
	w.Run(t, 2*time.Second)
	if w.Leaders != 1 {
		t.Fatalf("%d leader announcements in 2s, want 1", w.Leaders)
	}
	before := w.DiskStats()
	w.Run(t, 10*time.Second)
	if w.Leaders != 1 {
		t.Fatalf("%d leader announcements in 10s of heartbeats, want 1", w.Leaders)
	}
	if after := w.DiskStats(); !reflect.DeepEqual(before, after) {
		t.Fatalf("writes and syncs during 8s of heartbeats: %v, then %v", before, after)
	}
}
