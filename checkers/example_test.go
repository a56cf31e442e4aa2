package checkers_test

import (
	"fmt"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

func ExampleCheckLinearizable() {
	// Client 0 writes a and then b; client 1 reads a after b was acknowledged.
	h := workload.NewHistory(
		workload.Operation{Client: 0, Kind: workload.OpPut, Key: "k0", Value: "a", Call: 0, Return: 10, Status: workload.StatusOK},
		workload.Operation{Client: 0, Kind: workload.OpPut, Key: "k0", Value: "b", Call: 20, Return: 30, Status: workload.StatusOK},
		workload.Operation{Client: 1, Kind: workload.OpGet, Key: "k0", Call: 40, Return: 50, Status: workload.StatusOK,
			Output: "a", Found: true},
	)
	res := checkers.CheckLinearizable(h, 0)
	fmt.Println(res.Verdict, "-", res.Detail)
	// Output: fail - key k0 has no linearization (3 operations on 1 key checked)
}

func ExampleNewMonitor() {
	m := checkers.NewMonitor([]checkers.Invariant{checkers.NewOneLeaderPerTerm()}, nil)
	m.Observe(100, 1, sim.Observation{Kind: sim.ObsLeader, Node: 0, Term: 3})
	m.Observe(200, 2, sim.Observation{Kind: sim.ObsLeader, Node: 1, Term: 3})
	for _, r := range m.Results() {
		fmt.Println(r.Name, r.Verdict, "-", r.Detail)
	}
	// Output: one-leader-per-term fail - one-leader-per-term violated at event 2 (t=200ns, n1): term 3 has two leaders: n1 (event 2) and n0 (event 1)
}
