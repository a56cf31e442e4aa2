// Package simtest runs simrun scenarios from `go test`: a test says "run this
// scenario over these seeds" and fails with the one-line replay command of
// every failing seed. Environment variables replay one seed or widen the
// sweep locally without editing the test, and rapid generators draw fault
// timelines and workload shapes so that property tests shrink through rapid.
//
//	func TestRaftUnderChurn(t *testing.T) {
//		simtest.Sweep(t, "scenarios/raft-crash-churn.yaml", simtest.Seeds(50))
//	}
//
//	SIMRUN_SEED=17 go test -run TestRaftUnderChurn ./...   # replay seed 17 only
//	SIMRUN_SEEDS=5000 go test -run TestRaftUnderChurn ./... # a wider sweep
//	SIMRUN_FROM=100000 go test ...                           # another seed range
package simtest
