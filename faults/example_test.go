package faults_test

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/sim"
)

// quiet is a server that does nothing: enough to watch the injector work.
type quiet struct{}

func (quiet) Start(sim.Env)                            {}
func (quiet) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (quiet) Timer(sim.Env, sim.TimerKind)             {}

func ExampleInstall() {
	w, _ := sim.NewWorld(sim.Config{Seed: 1})
	for range 5 {
		w.AddServer(func(sim.NodeID) sim.Node { return quiet{} })
	}
	second := faults.Duration(time.Second)
	plan := faults.Plan{Steps: []faults.Step{
		{At: 1 * second, Partition: &faults.Partition{Groups: [][]int{{0, 1}, {2, 3, 4}}}, For: 2 * second},
		{From: 2 * second, To: 10 * second, Every: 3 * second, Crash: faults.Random(), Down: second, MaxDown: 2},
	}}
	in, err := faults.Install(w, plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	w.RunUntil(sim.Time(2 * second))
	fmt.Println("n0 -> n2 cut at 2s:", w.IsCut(0, 2))
	w.RunUntil(sim.Time(12 * second))
	fmt.Println("n0 -> n2 cut at 12s:", w.IsCut(0, 2))
	fmt.Println(in.Summary())
	// Output:
	// n0 -> n2 cut at 2s: true
	// n0 -> n2 cut at 12s: false
	// crashes=3 restarts=3 partitions=1 cuts=0 heals=0 skipped=0
}

func ExampleStep_Validate() {
	step := faults.Step{At: faults.Duration(5 * time.Second), Crash: faults.Node(7)}
	fmt.Println(step.Validate(5))
	// Output: crash: node 7 out of range (cluster has 5 nodes)
}
