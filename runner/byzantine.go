package runner

import (
	"cmp"
	"slices"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// chooseByzantine resolves the scenario's Byzantine groups into servers: the
// given ones first, then each random count drawn, from the seed's
// "byzantine" stream, among the servers not yet taken. The result is sorted
// by ID.
func chooseByzantine(sc *scenarios.Scenario, seed uint64) ([]ByzantineServer, error) {
	if len(sc.Byzantine) == 0 {
		return nil, nil
	}
	taken := make([]bool, sc.Nodes)
	var out []ByzantineServer
	for _, b := range sc.Byzantine {
		for _, n := range b.Nodes {
			taken[n] = true
			out = append(out, ByzantineServer{ID: sim.NodeID(n), Behaviour: b.Behaviour})
		}
	}
	rng := sim.NewStreams(seed).Stream("byzantine")
	for i, b := range sc.Byzantine {
		for range b.Count {
			free := freeServers(taken)
			if len(free) == 0 {
				return nil, sc.Errorf("byzantine", "group %d: no server left to make Byzantine", i)
			}
			n := free[rng.IntN(len(free))]
			taken[n] = true
			out = append(out, ByzantineServer{ID: sim.NodeID(n), Behaviour: b.Behaviour})
		}
	}
	slices.SortFunc(out, func(a, b ByzantineServer) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func freeServers(taken []bool) []int {
	var free []int
	for i, t := range taken {
		if !t {
			free = append(free, i)
		}
	}
	return free
}

// byzantineByID marks, by server ID, the Byzantine servers among n: a lookup
// the hooks make for every observation and message, built once per run.
func byzantineByID(byz []ByzantineServer, n int) []bool {
	marked := make([]bool, n)
	for _, b := range byz {
		if int(b.ID) < n {
			marked[b.ID] = true
		}
	}
	return marked
}

// byzantineIDs lists the IDs of the Byzantine servers.
func byzantineIDs(byz []ByzantineServer) []sim.NodeID {
	ids := make([]sim.NodeID, len(byz))
	for i, b := range byz {
		ids[i] = b.ID
	}
	return ids
}
