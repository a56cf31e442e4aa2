package sim_test

import (
	"fmt"
	"strconv"
	"time"

	"github.com/simrun/simrun/sim"
)

// ball is the message of the ping-pong example: a rally counter.
type ball struct{ hits int }

func (b ball) AppendTrace(buf []byte) []byte {
	buf = append(buf, "Ball hits="...)
	return strconv.AppendInt(buf, int64(b.hits), 10)
}

// player returns the ball until the rally reaches 5 hits, then announces it.
type player struct{}

func (player) Start(env sim.Env) {
	if env.ID() == 0 {
		env.Send(1, ball{hits: 1}) // n0 serves
	}
}

func (player) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	b := m.(ball)
	if b.hits == 5 {
		env.Observe(sim.Observation{Kind: sim.ObsNote, Text: "rally over"})
		return
	}
	env.Send(from, ball{hits: b.hits + 1})
}

func (player) Timer(sim.Env, sim.TimerKind) {}

// A two-node ping-pong over links with a constant 1ms latency.
func Example() {
	w, err := sim.NewWorld(sim.Config{
		Seed: 1,
		Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond},
	})
	if err != nil {
		panic(err)
	}
	factory := func(sim.NodeID) sim.Node { return player{} }
	w.AddServer(factory)
	w.AddServer(factory)
	w.OnObservation(func(o sim.Observation) {
		fmt.Printf("%v at %v: %s\n", o.Node, w.Now(), o.Text)
	})

	outcome := w.RunUntil(sim.Time(time.Second))
	res := w.Result()
	fmt.Println("outcome:", outcome)
	fmt.Println("clock:", res.Now)
	fmt.Println("messages delivered:", res.Messages.Delivered)
	fmt.Println("events:", res.Events)
	// Output:
	// n1 at 5ms: rally over
	// outcome: reached
	// clock: 1s
	// messages delivered: 5
	// events: 13
}
