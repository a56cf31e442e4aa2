package runner

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// The options swarm (TigerBeetle's VOPR draws its cluster and workload per
// seed): a scenario with swarm_options draws, per seed, the cluster size,
// the client count and the workload's shape in place of the file's values,
// so a sweep also covers clusters and loads nobody wrote down. Each option
// draws from a stream of its own ("swarm-options/nodes", ...), derived from
// the seed like every other stream: the draw shifts no other stream, and
// drawing one option more changes nothing another draws. A scenario without
// the key runs exactly as before.

// Cluster sizes an options swarm draws among: crash-fault protocols run an
// odd number of servers (a majority of 2f+1 tolerates f down), Byzantine
// ones 3f+1. A size that does not fit the scenario is left out (see
// admissibleNodes).
var (
	crashFaultSizes = []int{3, 5, 7}
	byzantineSizes  = []int{4, 7}
)

// Ranges of the drawn workload (documented in scenarios/README.md, Swarm).
const (
	maxDrawnClients   = 8
	openLoopOneIn     = 3 // one seed in three runs open loop
	minDrawnRate      = 20
	maxDrawnRate      = 400
	drawnRateStep     = 10
	maxDrawnThinkTime = 50 * time.Millisecond
)

// drawnKeys are the key counts drawn: few keys mean contention on each.
var drawnKeys = []int{2, 4, 8, 16}

// optionsDraw is what an options swarm drew for one run: the scenario as it
// ran (drawn values in place, swarm_options dropped) and a description.
type optionsDraw struct {
	scenario *scenarios.Scenario
	desc     []string
}

// drawOptions returns sc with this seed's drawn options in place, or sc
// itself when it draws none. The cluster size is drawn among the sizes the
// protocol runs, the scenario's faults and Byzantine groups fit and its
// fault budget allows; none fitting is bad input.
func drawOptions(sc *scenarios.Scenario, proto Protocol, seed uint64) (*scenarios.Scenario, optionsDraw, error) {
	if len(sc.SwarmOptions) == 0 {
		return sc, optionsDraw{}, nil
	}
	streams := sim.NewStreams(seed)
	out := sc.Clone()
	out.SwarmOptions = nil
	var desc []string
	if sc.DrawsOption(scenarios.SwarmOptionNodes) {
		sizes, err := admissibleNodes(out, proto, seed)
		if err != nil {
			return nil, optionsDraw{}, err
		}
		out.Nodes = sizes[streams.Stream("swarm-options/nodes").IntN(len(sizes))]
		desc = append(desc, fmt.Sprintf("nodes %d (of %s)", out.Nodes, joinInts(sizes)))
	}
	if sc.DrawsOption(scenarios.SwarmOptionClients) {
		out.Workload.Clients = 1 + streams.Stream("swarm-options/clients").IntN(maxDrawnClients)
		desc = append(desc, fmt.Sprintf("clients %d (of 1..%d)", out.Workload.Clients, maxDrawnClients))
	}
	if sc.DrawsOption(scenarios.SwarmOptionWorkload) {
		drawWorkload(streams.Stream("swarm-options/workload"), &out.Workload)
		desc = append(desc, "workload "+describeWorkload(out.Workload))
	}
	if err := out.Validate(); err != nil {
		return nil, optionsDraw{}, err
	}
	return out, optionsDraw{scenario: out, desc: desc}, nil
}

// drawWorkload draws the workload's shape in a fixed order (keys, mix,
// loop, rate or think time), whatever the model, so that each value always
// comes from the same draws. The mix always writes (put >= 1): a read-only
// history has nothing to judge.
func drawWorkload(rng *sim.Rand, w *scenarios.Workload) {
	w.Keys = drawnKeys[rng.IntN(len(drawnKeys))]
	mix := scenarios.Mix{Get: rng.IntN(5), Put: 1 + rng.IntN(4), Append: rng.IntN(3), CAS: rng.IntN(3)}
	open := rng.IntN(openLoopOneIn) == 0
	rate := minDrawnRate + drawnRateStep*rng.IntN((maxDrawnRate-minDrawnRate)/drawnRateStep+1)
	think := time.Duration(rng.IntN(int(maxDrawnThinkTime/time.Millisecond)+1)) * time.Millisecond
	if w.DataModel() == scenarios.ModelKV {
		w.Mix = mix // list-append transactions do not use the mix
	}
	w.Rate = 0
	if open {
		w.Rate = scenarios.Rate(rate)
		return
	}
	w.ThinkTime = scenarios.Duration(think)
}

// describeWorkload is the drawn shape in one line, for the run summary.
func describeWorkload(w scenarios.Workload) string {
	loop := fmt.Sprintf("closed loop, think %v", w.ThinkTime)
	if w.Rate > 0 {
		loop = fmt.Sprintf("open loop %s/s", strconv.FormatFloat(w.Rate.PerSecond(), 'g', -1, 64))
	}
	s := fmt.Sprintf("%s, %d keys", loop, w.Keys)
	if w.DataModel() == scenarios.ModelKV {
		m := w.Mix
		s += fmt.Sprintf(", mix get %d put %d append %d cas %d", m.Get, m.Put, m.Append, m.CAS)
	}
	return s
}

// admissibleNodes lists the cluster sizes an options swarm may draw for sc:
// those of the protocol's kind (crash-fault or Byzantine, told by what the
// protocol built for the file's size tolerates) that the scenario's faults
// and Byzantine groups fit, that the protocol builds, and whose fault budget
// covers the scenario's Byzantine servers and every max_down it writes.
func admissibleNodes(sc *scenarios.Scenario, proto Protocol, seed uint64) ([]int, error) {
	candidates := crashFaultSizes
	servers, err := buildFor(sc, proto, seed, sc.Nodes)
	if _, broken := AsBuildError(err); broken {
		return nil, err // the protocol's bug, not a size that does not fit
	}
	if err == nil && servers.Tolerates > 0 {
		candidates = byzantineSizes
	}
	var fit []int
	var why []string
	for _, n := range candidates {
		servers, err := buildFor(sc, proto, seed, n)
		if _, broken := AsBuildError(err); broken {
			return nil, err
		}
		if err == nil {
			err = withinBudget(sc, n, servers.Tolerates)
		}
		if err != nil {
			why = append(why, fmt.Sprintf("%d: %v", n, err))
			continue
		}
		fit = append(fit, n)
	}
	if len(fit) == 0 {
		return nil, sc.Errorf("swarm_options", "no cluster size among %s fits the scenario (%s)",
			joinInts(candidates), strings.Join(why, "; "))
	}
	return fit, nil
}

// buildFor validates sc at n servers and builds the protocol for it, as a
// run would; nothing it draws reaches the run (streams are fresh per call).
func buildFor(sc *scenarios.Scenario, proto Protocol, seed uint64, n int) (Servers, error) {
	c := sc.Clone()
	c.Nodes = n
	if err := c.Validate(); err != nil {
		return Servers{}, err
	}
	byz, err := chooseByzantine(c, seed)
	if err != nil {
		return Servers{}, err
	}
	return build(proto, Cluster{Scenario: c, NewStateMachine: workload.NewKV, Byzantine: byz})
}

// withinBudget refuses a size whose fault budget (a minority for a
// crash-fault protocol, tolerates for a Byzantine one) is smaller than the
// scenario's Byzantine servers or than a max_down it writes: the file meant
// those faults to stay within what the protocol survives.
func withinBudget(sc *scenarios.Scenario, n, tolerates int) error {
	budget := tolerates
	if budget <= 0 {
		budget = (n - 1) / 2
	}
	byz := 0
	for _, b := range sc.Byzantine {
		byz += len(b.Nodes) + b.Count
	}
	if byz > budget {
		return fmt.Errorf("%d Byzantine servers, it tolerates %d", byz, budget)
	}
	for i, st := range sc.Faults {
		if st.MaxDown > budget {
			return fmt.Errorf("faults[%d].max_down %d is more than the %d it tolerates", i, st.MaxDown, budget)
		}
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// AsRun returns the scenario as rep's run used it: sc itself, or for a
// scenario with swarm_options a copy with the drawn cluster size, clients
// and workload written in and swarm_options dropped.
func AsRun(sc *scenarios.Scenario, rep *Report) *scenarios.Scenario {
	if len(sc.SwarmOptions) == 0 || rep.options.scenario == nil {
		return sc
	}
	out := rep.options.scenario.Clone()
	out.Seed = sc.Seed
	return out
}
