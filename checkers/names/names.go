package names

import "slices"

// Data models of the workload, as scenario files write workload.model.
const (
	// ModelKV is single-key operations: get, put, append, cas. The default.
	ModelKV = "kv"
	// ModelListAppend is Elle's list-append: each operation is a transaction
	// of appends and reads over several keys, one replicated command.
	ModelListAppend = "list-append"
)

// Check names, as scenario files list them.
const (
	Linearizable       = "linearizable"        // the kv history, with Porcupine
	Agreement          = "agreement"           // invariant: one digest per index
	OneLeaderPerTerm   = "one-leader-per-term" // invariant: one leader per term
	Liveness           = "liveness"            // the liveness phase
	Serializable       = "serializable"        // the list-append history, Elle-style
	StrictSerializable = "strict-serializable" // serializable with real-time order
	StaleLeader        = "stale-leader"        // availability: no leader acts on a term it knows is stale
	Progress           = "progress"            // availability: a healthy majority completes operations
	ReadYourWrites     = "read-your-writes"    // session: a client reads its own writes
	MonotonicReads     = "monotonic-reads"     // session: a client's reads never go back
	MonotonicWrites    = "monotonic-writes"    // session: a client's writes take effect in its order
	WritesFollowReads  = "writes-follow-reads" // session: a write takes effect after what its client read
	Sequential         = "sequential"          // sequential consistency: per-client program order, per key
	StableLeader       = "stable-leader"       // availability: a healed, converged cluster keeps its leader
	IsolatedLeader     = "isolated-leader"     // availability: a leader cut off from a majority steps down
)

// Check describes one check name.
type Check struct {
	Name string
	// Models lists the data models whose histories the check judges; nil
	// means it reads observations, not the history, and fits every model.
	Models []string
	// Optional checks are not among the defaults: a scenario lists them
	// where they apply (stale-leader needs a protocol whose messages carry
	// terms; progress, faults that leave a majority connected for a while).
	Optional bool
}

// checks is the list, in the order checks run by default.
var checks = []Check{
	{Name: Linearizable, Models: []string{ModelKV}},
	{Name: Agreement},
	{Name: OneLeaderPerTerm},
	{Name: Liveness},
	{Name: StaleLeader, Optional: true},
	{Name: Progress, Optional: true},
	{Name: StableLeader, Optional: true},
	{Name: IsolatedLeader, Optional: true},
	{Name: Serializable, Models: []string{ModelListAppend}},
	{Name: StrictSerializable, Models: []string{ModelListAppend}},
	// Weaker models than linearizable, not defaults: a scenario lists them
	// to learn which of them a weakened protocol still gives.
	{Name: ReadYourWrites, Models: []string{ModelKV}, Optional: true},
	{Name: MonotonicReads, Models: []string{ModelKV}, Optional: true},
	{Name: MonotonicWrites, Models: []string{ModelKV}, Optional: true},
	{Name: WritesFollowReads, Models: []string{ModelKV}, Optional: true},
	{Name: Sequential, Models: []string{ModelKV}, Optional: true},
}

// Known lists every check name, in a fixed order.
func Known() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.Name
	}
	return out
}

// JudgesClients reports whether check judges what clients saw: a history
// check, or progress, which counts completed operations. A run without
// clients gives it nothing to judge.
func JudgesClients(check string) bool {
	for _, c := range checks {
		if c.Name == check {
			return c.Models != nil || c.Name == Progress
		}
	}
	return false
}

// Models lists the data models, the default first.
func Models() []string { return []string{ModelKV, ModelListAppend} }

// Applies reports whether check judges runs of the data model ("" is ModelKV).
func Applies(check, model string) bool {
	if model == "" {
		model = ModelKV
	}
	for _, c := range checks {
		if c.Name == check {
			return c.Models == nil || slices.Contains(c.Models, model)
		}
	}
	return false
}

// For lists every check that judges runs of the data model ("" is
// ModelKV), the optional ones included, in a fixed order.
func For(model string) []string {
	var out []string
	for _, c := range checks {
		if Applies(c.Name, model) {
			out = append(out, c.Name)
		}
	}
	return out
}

// Default lists the checks of a scenario that names none: every check that
// applies to its data model ("" is ModelKV).
func Default(model string) []string {
	var out []string
	for _, c := range checks {
		if Applies(c.Name, model) && !c.Optional {
			out = append(out, c.Name)
		}
	}
	return out
}
