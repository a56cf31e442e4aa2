package scenarios_test

import (
	"fmt"

	"github.com/simrun/simrun/scenarios"
)

func ExampleParse() {
	sc, err := scenarios.Parse("example.yaml", []byte(`
name: example
protocol: raft
nodes: 5
duration: 20s
faults:
  - {at: 5s, partition: isolate-leader, for: 3s}
  - {from: 10s, to: 18s, every: 4s, crash: random, down: 1s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sc.Name, sc.Protocol, sc.Nodes, sc.Duration, sc.Workload.Clients, sc.Checks)
	for _, st := range sc.Faults {
		fmt.Println(st)
	}
	// Output:
	// example raft 5 20s 4 [linearizable agreement one-leader-per-term liveness]
	// at 5s: partition isolate-leader for=3s
	// every 4s in [10s, 18s): crash random down=1s
}

func ExampleParse_error() {
	_, err := scenarios.Parse("bad.yaml", []byte("protocol: raft\nnodes: 5\nfaults:\n  - {at: 5s, crash: 7}\n"))
	fmt.Println(err)
	// Output: bad.yaml:4:21: faults[0].crash: node 7 out of range (cluster has 5 nodes)
}
