// Package workload is the KV service and the simulated clients that drive it:
// the key-value state machine protocols replicate, the client nodes that call
// operations on it, and the history of those operations that checkers judge.
//
// # The KV service
//
// NewKV is a service.NewStateMachine over string keys with get, put, append
// (joining values with AppendSeparator) and cas. Ops and results are compact
// text ("put k3 c0.17", "ok c0.17"), see Op and Result, because protocols
// carry them as opaque bytes and traces quote them. The KV is total: bytes
// that do not decode give an "err" result and change nothing.
//
// # Clients
//
// Install adds Config.Clients diskless client nodes to a world after its
// servers. Each follows Jepsen's process model: at most one operation
// outstanding, sequence numbers increasing by one per operation (a retry
// reuses the number, so service.Sessions applies it once). Arrivals are open
// loop (Poisson, Config.Rate across clients, with a bounded per-client backlog
// whose overflow is shed and counted) or closed loop (Config.ThinkTime after
// the previous return). A client sends to the server it presumes leads,
// follows not-leader hints a bounded number of times, resends round-robin
// after RetryInterval without a reply, and after Timeout records the
// operation as unknown (Return = sim.Forever) and moves on. Calls and returns
// are announced as ObsCall and ObsReturn observations, so they are in the trace.
//
// Written values are unique per operation ("c<client>.<seq>"), which makes a
// history checkable: a read names the write it saw. A cas expects the last
// value its client saw for the key, so that a fair share of them succeed.
//
// # Determinism
//
// Each client draws only from its node's stream (env.Rand), so adding a client
// or a fault does not change what another client does. The KV never iterates
// its map; the clients' per-key memory is only looked up.
package workload
