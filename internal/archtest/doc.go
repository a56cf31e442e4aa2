// Package archtest holds the tests that keep simrun's architecture and its
// determinism contract from decaying; it has no code of its own.
//
// The dependency test (deps_test.go) runs `go list -e -deps -json ./...` and
// checks every package of the module against the layering of docs/ARCHITECTURE.md §2:
//
//	sim          the standard library only
//	service      sim
//	workload     sim, service, internal/chunked
//	protocols/X  sim, service, and X's own subpackages; never another protocol
//	faults       sim
//	checkers     sim, service, workload, internal/chunked; porcupine, gonum
//	internal/chunked  nothing
//	scenarios    sim, faults, checkers/names (the one list of check names); goccy/go-yaml
//	pinrand      sim (outside the lint: it serializes worlds with a mutex)
//	runner, registry, cli, cmd/..., simtest, examples/..., internal/...   anything
//
// Project dependencies are checked transitively (a protocol may not reach
// faults through a helper); modules outside the project are checked on direct
// imports only, since an allowed module may have dependencies of its own. A
// package of the module with no rule fails the test: add its rule here when you
// add the package.
//
// The determinism lint (lint_test.go) parses every non-test Go file of sim,
// service, workload, protocols/..., faults, checkers, internal/chunked and examples/... (the
// example protocols, including nested example modules) and rejects what could
// make a run depend on anything but its seed: go statements, channel types,
// sends and receives, select, ranges over maps (their order is random),
// float multiply-adds that may be fused, comparators written as
// subtractions, the packages sync, sync/atomic, math/rand, math/rand/v2,
// crypto/rand, os/signal and unsafe, and the wall-clock functions
// of package time (Now, Since, Until, Sleep, After, Tick, NewTimer, NewTicker,
// AfterFunc). It also rejects what makes a seed mean different runs on
// different platforms: a comparator (func(a, b T) int) that returns a
// difference, a - b or int(a - b), which overflows and, on 32-bit targets,
// truncates; and a float addition or subtraction with an unrounded product
// as an operand (a + b*c, a*b - c, x += b*c, or a variable holding b*c),
// which Go may fuse into one multiply-add on arm64 and amd64 v3 and not on
// amd64 v1 or 386. The float rule type-checks each package from the
// compiler's export data (go list -export). A line may be exempted with a
// marker comment, on the line itself or alone on the line above, that gives
// a reason:
//
//	//simrun:allow <reason>
//
// The test lists every exemption it honours (go test -v) and fails on a marker
// without a reason or one that exempts nothing. It also checks that every
// package of the module has a doc.go with its package comment.
package archtest
