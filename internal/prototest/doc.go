// Package prototest is the test kit the shipped protocols' tests share; its one
// responsibility is to drive a protocol's servers in tests, by hand or in a
// whole world, and to judge them with the real checkers.
//
// It offers three levels:
//
//   - Net: a hand-driven network of a protocol's servers, each with a scripted
//     Env (a sim.Env that records Send, SetTimer, CancelTimer and Observe in
//     order, and holds a real sim.Disk). The test decides which message is
//     delivered, dropped, duplicated or reordered, which timer fires, when time
//     advances, and who crashes (losing unsynced writes as the kernel does) and
//     restarts. Every observation goes through the checkers package's
//     agreement and one-leader-per-term invariants. For the rules of a paper,
//     one figure at a time.
//   - Script: datadriven interaction tests in etcd-raft's style over a Net:
//     testdata/*.txt files of commands (start, deliver, drop, fire, crash,
//     restart, request, status, ...) whose expected output is the canonical
//     trace lines the commands produced. `go test -run TestScripts -rewrite`
//     regenerates the expected output.
//   - Scenario runs: a protocol under the real kernel (sim.World), workload,
//     faults and runner, from a scenario written inline, with the server
//     instances and disks kept for inspection after the run (Instances), and
//     World for the few tests that must act in the middle of a run.
//     CrashFault describes a crash-fault protocol to these runs once per
//     package: its scenarios, factory, passing runs and seed sweeps, and the
//     table of its config's validation (RequireValidation).
//
// KV is a small snapshottable state machine whose operations ("set k v",
// "get k", "add k") are easy to read in a test, and Cmd, Request build client
// commands in the service package's vocabulary.
//
// The kit has no fault injector, sweep or agreement oracle of its own: whole
// runs use faults and runner, and judgements come from checkers, so a
// protocol's tests see exactly what its users' scenarios see.
package prototest
