// Package checkers judges runs: linearizability of the client history with
// Porcupine, and invariants checked on every observation as it is made
// (agreement, one leader per term). It reads observations and histories only,
// never a protocol's internals, so one checker serves Raft, Paxos and PBFT.
//
// # Verdicts
//
// Every check ends Pass, Fail or Unknown; the zero Verdict is Unknown, and
// Unknown (a checker timeout, say) is never a pass.
//
// # Invariants
//
// An Invariant sees each observation (of the kinds it names, if it is
// Selective) with its virtual time and event number.
// Attach registers invariants with a world; the first violation of any stops
// the run, so the report points at the event that broke the property.
// Invariants keep only small per-index or per-term records, looked up by key,
// never iterated, so they are deterministic.
//
// # History checks
//
// A HistoryCheck judges the recorded history after the run and returns a
// verdict, a one-line reason and artifact files; NewHistoryCheck builds one
// by name (the names are the one list of package checkers/names). Two kinds
// exist: linearizability of a kv history (below), and serializability or
// strict serializability of a list-append history (elle.go), Elle-style:
// dependencies inferred from unique appends, cycles found with gonum's
// Tarjan SCC and named after Adya's anomalies (G0, G1a, G1b, G1c, G-single,
// G2-item), after checks that need no graph: a transaction's reads against
// its own appends (internal), one transaction's appends kept together in a
// key's order (split-appends), garbage and duplicate reads. That search is
// bounded by the edges it visits, not by the wall clock, so its verdict is
// the same on every machine.
//
// Weaker models of a kv history are optional checks: sequential consistency
// per key (sequential.go, a search over interleavings in program order,
// bounded in states visited) and the session guarantees read-your-writes and
// monotonic reads (session.go, against the version order the history shows:
// appended lists, successful cas and the real-time order of writes).
//
// # Real time
//
// The checks that order operations by real time (linearizable, strict
// serializable, the session checks' write order) compare positions in the
// history's order of events (workload.RealTime), not virtual times: an
// open-loop client issues its next operation at the instant its last
// returned, and the two would otherwise be concurrent, letting a client's
// read take effect before its own write.
//
// # Linearizability
//
// CheckLinearizable checks a workload.History against a small, total model of
// the KV service (model.go), partitioned by key. An operation without a
// definite answer returns at infinity, Porcupine's convention for "may take
// effect at any point after its call, or never"; unknown reads are dropped
// since they constrain nothing. An answer that is no valid result (an "err")
// matches no state, so it fails the check. In the visualization, a client's
// operations after one with unknown outcome are drawn as a new process (a new
// row), as Jepsen does, since the unknown one stays open forever.
//
// Porcupine checks partitions in goroutines and bounds its search with a
// wall-clock timeout. This is the one place where simrun's run paths use
// goroutines and the wall clock; it is acceptable because it runs after the
// simulation, and its verdict never feeds back into it. The price is that a
// timeout (Unknown) may depend on the machine; Pass and Fail do not.
// Porcupine's visualization may also order partial linearizations
// differently from one call to the next; the verdict does not change.
package checkers
