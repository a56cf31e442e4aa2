package workload

import (
	"github.com/simrun/simrun/sim"
)

// Workload is a set of simulated clients and the history they record.
// Like the world it runs in, it is single-threaded: call its methods between
// events (from a control action, an observer) or before and after a run.
type Workload struct {
	cfg     Config
	clients []*client
	history History
	stopped bool
	// finishing: the liveness phase. Each client makes one final operation,
	// without a deadline, and the phase passes when every one has returned.
	finishing bool
	stats     Stats
	keys      []string // the names of the first keys, each made once (key)
	// inUse and retired rotate list-append keys (listKey): the key in use
	// at each place drawn so far, and how many keys have been retired.
	inUse   map[int]*keyInUse
	retired int
}

// maxKeyNamesKept bounds Workload.keys: a workload of many keys formats the
// names past it anew, each time it draws one.
const maxKeyNamesKept = 1024

// key returns the name of key i.
func (w *Workload) key(i int) string {
	if i >= len(w.keys) {
		return keyName(i)
	}
	if w.keys[i] == "" {
		w.keys[i] = keyName(i)
	}
	return w.keys[i]
}

// Stats counts what the clients did beyond the history.
type Stats struct {
	// Shed counts open-loop arrivals dropped because the client's backlog was full.
	Shed uint64
	// Abandoned counts open-loop arrivals still waiting in a backlog when the
	// workload stopped: they were never issued.
	Abandoned uint64
	// Retries counts resends after RetryInterval without a reply.
	Retries uint64
	// Redirects counts resends after a not-leader reply.
	Redirects uint64
}

// New builds a workload from a valid configuration.
func New(cfg Config) (*Workload, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Workload{cfg: cfg, keys: make([]string, min(cfg.Keys, maxKeyNamesKept)), inUse: map[int]*keyInUse{}}, nil
}

// Config returns the workload's configuration.
func (wl *Workload) Config() Config { return wl.cfg }

// Install adds cfg.Clients client nodes to w. Call it once, after the servers
// were added and before the run starts. A client never crashes; if the world
// restarts one anyway, the same instance carries on from its state.
func (wl *Workload) Install(w *sim.World) {
	for i := 0; i < wl.cfg.Clients; i++ {
		c := newClient(wl, i)
		wl.clients = append(wl.clients, c)
		c.node = w.AddClient(func(sim.NodeID) sim.Node { return c })
	}
}

// Stop makes clients issue no new operations from now on. Operations in
// flight still finish or time out; open-loop arrivals waiting in a backlog are
// dropped (Stats.Abandoned).
func (wl *Workload) Stop() { wl.stopped = true }

// Finish starts the liveness phase: clients issue no new random operations,
// but each makes one final operation once its current one is done. The final
// operation has no deadline: the client retries it (same sequence number)
// until the service answers, so a live service always completes it. Call it
// instead of Stop, from a control action (sim.World.At) or between runs.
//
// An idle open-loop client is handed its final operation at once (an
// operator request, FinalOperation): it would otherwise wait for its next
// arrival, an exponential gap with a mean of clients/rate, which at a low
// rate outlasts the liveness phase's bound and would read as a service that
// never answered. A closed-loop client makes it when its think time ends.
func (wl *Workload) Finish(w *sim.World) {
	wl.stopped, wl.finishing = true, true
	if !wl.cfg.openLoop() {
		return
	}
	for _, c := range wl.clients {
		if !c.busy && c.final == finalNone {
			w.Operate(c.node, FinalOperation{})
		}
	}
}

// FinalOperation is the operator request (sim.World.Operate) that an idle
// client make its final operation of the liveness phase now (Finish).
type FinalOperation struct{}

// AppendTrace implements sim.Message.
func (FinalOperation) AppendTrace(b []byte) []byte { return sim.TraceLine(b).Kind("FinalOperation") }

// Finished returns how many clients have completed their final operation,
// and the indices of those that have not, in order.
func (wl *Workload) Finished() (done int, waiting []int) {
	for _, c := range wl.clients {
		if c.final == finalDone {
			done++
		} else {
			waiting = append(waiting, c.index)
		}
	}
	return done, waiting
}

// Stopped reports whether Stop or Finish was called.
func (wl *Workload) Stopped() bool { return wl.stopped }

// Pending is the number of operations in flight.
func (wl *Workload) Pending() int {
	n := 0
	for _, c := range wl.clients {
		if c.busy {
			n++
		}
	}
	return n
}

// History is the record of every operation called so far. It is live: it
// grows as the run goes on.
func (wl *Workload) History() *History { return &wl.history }

// Stats returns the counters of the run so far.
func (wl *Workload) Stats() Stats { return wl.stats }
