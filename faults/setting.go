package faults

import "github.com/simrun/simrun/sim"

// serverSetting is a per-server setting that a fault changes for a while and
// that For, or a heal of everything, sets back to normal: a clock's rate, a
// disk's faults. The latest fault on a server owns setting it back.
type serverSetting[V comparable] struct {
	normal    V
	apply     func(id sim.NodeID, v V) error // the world's setter
	what      string                         // the setting in words, for a refusal
	claims    claims                         // per server
	changed   []bool                         // per server: differs from normal
	values    []V                            // per server: the value in force
	beforeSet func()                         // before every change, if set
}

func newServerSetting[V comparable](servers int, normal V, apply func(sim.NodeID, V) error, what string) *serverSetting[V] {
	values := make([]V, servers)
	for i := range values {
		values[i] = normal
	}
	return &serverSetting[V]{normal: normal, apply: apply, what: what,
		claims: make(claims, servers), changed: make([]bool, servers), values: values}
}

// set gives server id the value v, which validation made acceptable.
func (ss *serverSetting[V]) set(id sim.NodeID, v V) {
	if err := ss.apply(id, v); err != nil {
		panic("faults: validated " + ss.what + " refused: " + err.Error())
	}
	if ss.beforeSet != nil {
		ss.beforeSet()
	}
	ss.changed[id] = v != ss.normal
	ss.values[id] = v
}

func (ss *serverSetting[V]) reset(id sim.NodeID) { ss.set(id, ss.normal) }

// change gives server id the value v for step i and, with For, the normal
// value back after it (labelled back), unless a later fault claimed it.
func (ss *serverSetting[V]) change(in *Injector, i int, s Step, id sim.NodeID, v V, back string) {
	ss.set(id, v)
	g := ss.claims.claim(int(id))
	in.undoLater(i, s.For, back, ss.claims, id, g, ss.reset)
}

// heal sets every changed server back to normal, in ID order, and reports
// whether there was one.
func (ss *serverSetting[V]) heal() bool {
	healed := false
	for id, changed := range ss.changed {
		if changed {
			ss.reset(sim.NodeID(id))
			healed = true
		}
	}
	return healed
}
