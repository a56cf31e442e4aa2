package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/internal/suggest"
	"github.com/simrun/simrun/sim"
)

var (
	namePattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	protocolPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
)

// Validate reports the first impossible value as a one-line *Error. Parse
// calls it; call it yourself on a scenario built or changed in code.
func (s *Scenario) Validate() error {
	for _, check := range []func() error{
		s.validateTop, s.validateNetwork, s.validateWorkload, s.validateFaults, s.validateChecks, s.validateLiveness, s.validateByzantine, s.validateSwarm,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Scenario) validateTop() error {
	switch {
	case s.Name == "":
		return s.Errorf("name", "missing: give the scenario a name")
	case !namePattern.MatchString(s.Name) && s.src != nil && !s.src.has("name"):
		return s.Errorf("name", "missing, and the file's name, %q, is no scenario name: give one of up to 100 letters, digits, '.', '_' and '-'", s.Name)
	case !namePattern.MatchString(s.Name):
		return s.Errorf("name", "%q: use up to 100 letters, digits, '.', '_' and '-'", s.Name)
	case s.Protocol == "":
		return s.Errorf("protocol", "missing: name the protocol to run (the protocols command lists this program's)")
	case !protocolPattern.MatchString(s.Protocol):
		return s.Errorf("protocol", "%q is not a protocol name (lowercase letters, digits and '-')", s.Protocol)
	case s.Nodes < 1 || s.Nodes > MaxNodes:
		if s.src != nil && !s.src.has("nodes") {
			return s.Errorf("nodes", "missing: give the number of servers")
		}
		return s.Errorf("nodes", "%d is not in [1, %d]", s.Nodes, MaxNodes)
	case s.Members < 0 || s.Members > s.Nodes || s.Members == 0 && s.src != nil && s.src.has("members"):
		return s.Errorf("members", "%d is not in [1, nodes] (nodes is %d; leave the key out for every server)", s.Members, s.Nodes)
	case s.Members != 0 && s.Members < s.Nodes && s.Nodes > sim.MaxMembers:
		return s.Errorf("members", "a cluster with spare servers has at most %d nodes, not %d", sim.MaxMembers, s.Nodes)
	case s.Duration <= 0:
		return s.Errorf("duration", "%v must be positive", s.Duration)
	case s.Drain < 0:
		return s.Errorf("drain", "%v is negative", s.Drain)
	}
	return nil
}

// probability reports whether p is in [0, 1] (NaN is not).
func probability(p float64) bool { return p >= 0 && p <= 1 }

func (s *Scenario) validateNetwork() error {
	n := s.Network
	if field, err := n.Latency.validate("network.latency"); err != nil {
		return s.Errorf(field, "%v", err)
	}
	switch {
	case !probability(n.Tail.Probability):
		return s.Errorf("network.tail.probability", "%v is not a probability in [0, 1]", n.Tail.Probability)
	case n.Tail.Mean < 0:
		return s.Errorf("network.tail.mean", "%v is negative", n.Tail.Mean)
	case n.Tail.Probability > 0 && n.Tail.Mean == 0:
		return s.Errorf("network.tail.mean", "must be positive when tail.probability is set")
	case !probability(n.Drop):
		return s.Errorf("network.drop", "%v is not a probability in [0, 1]", n.Drop)
	case !probability(n.Duplicate):
		return s.Errorf("network.duplicate", "%v is not a probability in [0, 1]", n.Duplicate)
	}
	if err := n.Link().Validate(); err != nil {
		return s.Errorf("network", "%v", err)
	}
	return nil
}

func (s *Scenario) validateWorkload() error {
	w := s.Workload
	for _, m := range []struct {
		key string
		v   int
	}{{"get", w.Mix.Get}, {"put", w.Mix.Put}, {"append", w.Mix.Append}, {"cas", w.Mix.CAS}} {
		if m.v < 0 || m.v > MaxMixWeight {
			return s.Errorf("workload.mix."+m.key, "weight %d is not in [0, %d]", m.v, MaxMixWeight)
		}
	}
	rate := float64(w.Rate)
	switch {
	case w.Clients < 0 || w.Clients > MaxClients:
		return s.Errorf("workload.clients", "%d is not in [0, %d]", w.Clients, MaxClients)
	case w.Keys < 1 || w.Keys > MaxKeys:
		return s.Errorf("workload.keys", "%d is not in [1, %d]", w.Keys, MaxKeys)
	case w.Mix.Total() <= 0:
		return s.Errorf("workload.mix", "the weights must not all be zero")
	case !(rate >= 0) || rate > MaxRate:
		return s.Errorf("workload.rate", "%v is not a rate from 0 to %d/s (ops per second)", rate, MaxRate)
	case w.ThinkTime < 0:
		return s.Errorf("workload.think_time", "%v is negative", w.ThinkTime)
	case w.Timeout <= 0:
		return s.Errorf("workload.timeout", "%v must be positive", w.Timeout)
	case w.RetryInterval <= 0:
		return s.Errorf("workload.retry_interval", "%v must be positive", w.RetryInterval)
	case w.Backlog < 0:
		return s.Errorf("workload.backlog", "%d is negative", w.Backlog)
	case w.Model != "" && !slices.Contains(names.Models(), w.Model):
		return s.Errorf("workload.model", "unknown data model %q (known: %s)", w.Model, strings.Join(names.Models(), ", "))
	case w.MaxTxnOps < 0 || w.MaxTxnOps > MaxTxnOpsLimit:
		return s.Errorf("workload.max_txn_ops", "%d is not in [0, %d]", w.MaxTxnOps, MaxTxnOpsLimit)
	case w.MaxTxnOps != 0 && w.DataModel() != ModelListAppend:
		return s.Errorf("workload.max_txn_ops", "applies to the %s model only", ModelListAppend)
	case w.MaxWritesPerKey < 0 || w.MaxWritesPerKey > MaxWritesPerKeyLimit:
		return s.Errorf("workload.max_writes_per_key", "%d is not in [0, %d]", w.MaxWritesPerKey, MaxWritesPerKeyLimit)
	case w.MaxWritesPerKey != 0 && w.DataModel() != ModelListAppend:
		return s.Errorf("workload.max_writes_per_key", "applies to the %s model only", ModelListAppend)
	}
	return nil
}

func (s *Scenario) validateFaults() error {
	var fired int64
	var jumped faults.Duration // the clock skews, in absolute value
	for i, st := range s.Faults {
		at := fmt.Sprintf("faults[%d]", i)
		if err := s.validateWrittenStep(i, at, st); err != nil {
			return err
		}
		if err := st.Validate(s.Nodes); err != nil {
			var fe *faults.FieldError
			if errors.As(err, &fe) && fe.Field != "" {
				return s.Errorf(at+"."+fe.Field, "%s", fe.Msg)
			}
			if fe != nil {
				return s.Errorf(at, "%s", fe.Msg)
			}
			return s.Errorf(at, "%v", err)
		}
		if err := s.validateStepTime(at, st); err != nil {
			return err
		}
		n := s.firings(st)
		if fired += n; fired > MaxFirings {
			key := "at"
			if st.Repeats() {
				key = "every"
			}
			return s.Errorf(at+"."+key, "the faults fire %d times before the end of the safety phase, %d of them this step's; "+
				"a scenario's fire at most %d times (each firing is kept to pin the run)", fired, n, MaxFirings)
		}
		if c := st.Clock; c != nil && c.Skew != 0 {
			skew := max(c.Skew, -c.Skew)
			if n > int64((faults.MaxSkew-jumped)/skew) {
				return s.Errorf(at+".clock.skew", "the clock jumps of the scenario, each counted as far as it goes either way, "+
					"add up to more than %v by this step (%s of %v); a scenario's jumps go at most that far in all, on every clock together",
					faults.MaxSkew, plural.Of(n, "firing"), c.Skew)
			}
			jumped += faults.Duration(n) * skew
		}
	}
	return nil
}

// firings is how many times st fires in the safety phase.
func (s *Scenario) firings(st faults.Step) int64 {
	if !st.Repeats() {
		return 1
	}
	end := min(st.To, s.Duration)
	if end <= st.From {
		return 0
	}
	return int64((end - st.From + st.Every - 1) / st.Every)
}

// validateWrittenStep catches what the Step value cannot show: keys written
// with a zero value that means "absent" (every: 0s, down: 0s), a step with no
// time at all, and at written alongside a window.
func (s *Scenario) validateWrittenStep(i int, at string, st faults.Step) error {
	if !s.src.writtenStep(i, st) {
		return nil
	}
	has := func(key string) bool { return s.src.has(at + "." + key) }
	switch {
	case has("every") && st.Every == 0:
		return s.Errorf(at+".every", "must be positive")
	case has("down") && st.Down == 0:
		return s.Errorf(at+".down", "must be positive (leave it out to keep the node down)")
	case has("for") && st.For == 0:
		return s.Errorf(at+".for", "must be positive (leave it out to keep the fault until a heal)")
	case has("at") && (has("every") || has("from") || has("to")):
		return s.Errorf(at+".at", "give either at, or from/to/every, not both")
	case !has("at") && !has("every") && !has("from") && !has("to"):
		return s.Errorf(at, "no time: give at, or from/to/every")
	}
	return nil
}

// validateStepTime refuses a step that could never fire: the safety phase is
// over by then and the runner stops the schedule.
func (s *Scenario) validateStepTime(at string, st faults.Step) error {
	key, start := "at", st.At
	if st.Repeats() {
		key, start = "from", st.From
	}
	if start >= s.Duration {
		return s.Errorf(at+"."+key, "%v is not before the end of the safety phase (duration %v): the step would never fire",
			start, s.Duration)
	}
	return nil
}

func (s *Scenario) validateChecks() error {
	for i, name := range s.Checks {
		at := fmt.Sprintf("checks[%d]", i)
		if !slices.Contains(KnownChecks, name) {
			return s.Errorf(at, "unknown check %q%s", name, suggest.Hint(name, names.For(s.Workload.Model)))
		}
		if slices.Index(s.Checks, name) < i {
			return s.Errorf(at, "check %q is listed twice", name)
		}
		if !names.Applies(name, s.Workload.Model) {
			return s.Errorf(at, "check %q does not judge the %s data model (its checks: %s)",
				name, s.Workload.DataModel(), strings.Join(names.For(s.Workload.Model), ", "))
		}
		if s.withoutClients() && names.JudgesClients(name) {
			return s.Errorf(at, "check %q judges what clients saw, but workload.clients is 0: it would have nothing to judge", name)
		}
		if name == names.StableLeader && !slices.Contains(s.Checks, names.Liveness) {
			return s.Errorf(at, "check %q is judged after the liveness phase: list liveness too", name)
		}
	}
	return nil
}

func (s *Scenario) validateLiveness() error {
	l := s.Liveness
	switch {
	case l.IsZero():
		return nil
	case !s.HasCheck(CheckLiveness):
		return s.Errorf("liveness", "the liveness phase runs only when checks lists %q", CheckLiveness)
	case l.Within <= 0:
		return s.Errorf("liveness.within", "%v must be positive", l.Within)
	case l.Heal != HealAll && l.Heal != HealCore:
		return s.Errorf("liveness.heal", "%q is not a heal scope (all, core)", l.Heal)
	}
	return nil
}

var behaviourPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

func (s *Scenario) validateByzantine() error {
	taken := map[int]string{}
	total := 0
	for i, b := range s.Byzantine {
		at := fmt.Sprintf("byzantine[%d]", i)
		switch {
		case !behaviourPattern.MatchString(b.Behaviour):
			return s.Errorf(at+".behaviour", "%q is not a behaviour name (lowercase letters, digits and '-')", b.Behaviour)
		case len(b.Nodes) > 0 && b.Count != 0:
			return s.Errorf(at, "give nodes or count, not both")
		case len(b.Nodes) == 0 && b.Count <= 0:
			return s.Errorf(at, "give the nodes, or a positive count of random servers")
		}
		for j, n := range b.Nodes {
			where := fmt.Sprintf("%s.nodes[%d]", at, j)
			if n < 0 || n >= s.Nodes {
				return s.Errorf(where, "node %d out of range (cluster has %d nodes)", n, s.Nodes)
			}
			if prev, dup := taken[n]; dup {
				return s.Errorf(where, "node %d is already Byzantine in %s", n, prev)
			}
			taken[n] = at
		}
		total += len(b.Nodes) + b.Count
	}
	if total > s.Nodes {
		return s.Errorf("byzantine", "%d Byzantine servers in a cluster of %d", total, s.Nodes)
	}
	return nil
}

func (s *Scenario) validateSwarm() error {
	if !probability(s.Buggify) {
		return s.Errorf("buggify", "%v is not a probability in [0, 1]", s.Buggify)
	}
	if err := s.validateSwarmOptions(); err != nil {
		return err
	}
	if err := faults.ValidateSwarmKinds(s.Swarm); err != nil {
		var fe *faults.FieldError
		if errors.As(err, &fe) {
			return s.Errorf("swarm"+fe.Field, "%s", fe.Msg)
		}
		return s.Errorf("swarm", "%v", err)
	}
	return nil
}

// validateSwarmOptions refuses an unknown or repeated option, and a drawn
// workload shape with no clients to run it.
func (s *Scenario) validateSwarmOptions() error {
	known := append([]string{SwarmOptionAll}, SwarmOptionKinds...)
	for i, o := range s.SwarmOptions {
		at := fmt.Sprintf("swarm_options[%d]", i)
		if !slices.Contains(known, o) {
			return s.Errorf(at, "unknown option %q (known: %s)", o, strings.Join(known, ", "))
		}
		if slices.Index(s.SwarmOptions, o) < i {
			return s.Errorf(at, "option %q is listed twice", o)
		}
	}
	if s.DrawsOption(SwarmOptionWorkload) && !s.DrawsOption(SwarmOptionClients) && s.Workload.Clients == 0 {
		return s.Errorf("swarm_options", "draws the workload's shape, but the workload has no clients: draw clients too, or give workload.clients")
	}
	return nil
}
