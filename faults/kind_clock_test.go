package faults

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Beyond says where a scenario's clock steps went past what the protocol
// assumes: clocks further apart than its drift bound at some moment (two
// clocks moved in opposite directions count together, a rate set back can
// widen the gap), or a clock that jumped. Within the bound, or for a
// protocol that assumes nothing of clocks, it says nothing.
func TestBeyondTheProtocolsClockAssumptions(t *testing.T) {
	cases := []struct {
		name  string
		drift float64
		steps []Step
		want  []string
	}{
		{"within the bound", 1.25, []Step{rateAt(ms, 1, 1.2)}, nil},
		{"at the bound", 2, []Step{rateAt(ms, 1, 0.5)}, nil},
		{"one clock fast", 1.25, []Step{rateAt(ms, 1, 2)},
			[]string{"at 1ms: n1's clock runs at 2x and n0's at 1x, 2x apart, beyond the 1.25x drift the protocol assumes"}},
		{"two within the bound each, apart beyond it", 1.25, []Step{rateAt(ms, 1, 1.2), rateAt(2*ms, 2, 0.9)}, []string{"at 2ms: n1's clock runs at 1.2x and n2's at 0.9x, 1.33x apart, beyond the 1.25x drift the protocol assumes"}},
		{"a rate set back widens the gap", 1.25, []Step{rateAt(ms, 0, 0.9), rateAt(ms, 1, 0.9), rateAt(ms, 2, 0.9),
			rateFor(2*ms, 0, 0.78, ms), rateAt(2*ms, 1, 0.78), rateAt(2*ms, 2, 0.78)}, []string{"at 3ms: n0's clock runs at 1x and n1's at 0.78x, 1.28x apart, beyond the 1.25x drift the protocol assumes"}},
		{"beyond once, however the rates change meanwhile", 1.25, []Step{rateAt(ms, 1, 3), rateAt(2*ms, 2, 1.1),
			rateAt(3*ms, 2, 1)}, []string{"at 1ms: n1's clock runs at 3x and n0's at 1x, 3x apart, beyond the 1.25x drift the protocol assumes"}},
		{"beyond twice", 1.25, []Step{rateFor(ms, 1, 3, ms), rateAt(3*ms, 2, 0.5)}, []string{
			"at 1ms: n1's clock runs at 3x and n0's at 1x, 3x apart, beyond the 1.25x drift the protocol assumes (2 times in all)"}},
		{"all moved at once, one by one", 1.25, []Step{rateAt(ms, 0, 0.5), rateAt(ms, 1, 0.5), rateAt(ms, 2, 0.5)}, nil},
		{"a jump", 1.25, []Step{{At: ms, Clock: &Clock{Node: Node(2), Skew: -ms}}, {At: 2 * ms, Clock: &Clock{Node: Node(0), Skew: ms}}},
			[]string{"at 1ms: n2's clock jumped -1ms; the protocol assumes clocks that never jump (2 times in all)"}},
		{"no assumption", 0, []Step{rateAt(ms, 1, 50), {At: ms, Clock: &Clock{Node: Node(2), Skew: ms}}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tw := newTestWorld(t, 1, 3, nil)
			in := tw.install(t, c.steps...)
			in.AssumeClockDrift(c.drift)
			tw.run(t, 5*ms)
			assert.Equal(t, c.want, in.Beyond())
			assert.Equal(t, c.want, in.Beyond(), "asking twice changes nothing")
		})
	}
}

// rateAt is a step that sets server node's clock rate at t.
func rateAt(t Duration, node int, rate float64) Step {
	return Step{At: t, Clock: &Clock{Node: Node(node), Rate: rate}}
}

// rateFor is rateAt, set back after d.
func rateFor(t Duration, node int, rate float64, d Duration) Step {
	s := rateAt(t, node, rate)
	s.For = d
	return s
}
