package workload

import (
	"slices"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Timer kinds of a client.
const (
	timerNext     sim.TimerKind = iota // open loop: next arrival; closed loop: end of think time
	timerRetry                         // no reply within RetryInterval: resend elsewhere
	timerDeadline                      // the operation's Timeout: record it unknown
)

// finalState tracks a client's final operation of the liveness phase.
type finalState uint8

const (
	finalNone   finalState = iota // not issued
	finalIssued                   // in flight, retried until answered
	finalDone                     // answered
)

// reply is one server's answer to the operation in flight.
type reply struct {
	from   sim.NodeID
	result string
}

// recentValues bounds the values a client remembers for cas expectations.
const recentValues = 8

// client is one simulated client: a diskless node with at most one operation
// outstanding. Its random draws all come from env.Rand(), its own stream, so
// adding a client changes no other client's operations.
type client struct {
	wl      *Workload
	index   int
	node    sim.NodeID // its node in the world
	started bool

	// The operation in flight.
	busy bool
	seq  uint64 // the current (or last) sequence number; the first op has 1
	op   Op
	opID int // its position in the history
	// request is the op as its command: one service.Request, put in a
	// sim.Message once (which copies it to the heap) and sent as it is
	// every time, to the first server, a redirect's, a retry's.
	request   sim.Message
	target    int // index in env.Servers() of the presumed leader
	redirects int // immediate resends since the last send on a timer
	// refused marks, by index in env.Servers(), the servers that answered
	// not-leader since the last send on a timer, and the one a retry gave up
	// on: a redirect goes to none of them again, so that stale hints cannot
	// lead it round in a circle.
	refused []bool

	backlog int // open loop: arrivals waiting for the current op to finish
	final   finalState
	replies []reply // answers to the op in flight, one per server, for ReplyQuorum

	// Memory for cas expectations: the last value seen per key, and a ring of
	// recent values seen or written on any key.
	lastSeen map[string]string
	recent   []string
	next     int

	text []byte // an observation's text being built (begin, describe)
	// ops holds the operations' wire forms sent in commands, many to an
	// allocation; encoded is where the next one is built.
	ops     service.ByteSlab
	encoded []byte
}

func newClient(wl *Workload, index int) *client {
	return &client{wl: wl, index: index, lastSeen: map[string]string{}}
}

// Start schedules the first operation. A restarted instance (clients are
// never crashed by faults, but a test may do it) keeps its state: it resends
// the op in flight and rearms the timers that died with the old instance.
func (c *client) Start(env sim.Env) {
	if len(env.Servers()) == 0 {
		return // nothing to talk to
	}
	if !c.started {
		c.started = true
		c.target = env.Rand().IntN(len(env.Servers()))
	}
	if c.busy {
		c.send(env)
		env.SetTimer(timerDeadline, c.wl.cfg.Timeout)
	}
	switch {
	case c.wl.cfg.openLoop():
		env.SetTimer(timerNext, env.Rand().ExpDuration(c.wl.cfg.meanInterarrival()))
	case !c.busy:
		env.SetTimer(timerNext, env.Rand().DurationBetween(0, c.wl.cfg.ThinkTime))
	}
}

// Timer handles arrivals, retries and deadlines.
func (c *client) Timer(env sim.Env, kind sim.TimerKind) {
	switch kind {
	case timerNext:
		if c.wl.finishing {
			c.issueFinal(env)
		} else if c.wl.cfg.openLoop() {
			c.arrive(env)
		} else if !c.busy && !c.wl.stopped {
			c.issue(env)
		}
	case timerRetry:
		if c.busy {
			c.retry(env)
		}
	case timerDeadline:
		if c.busy {
			c.expire(env)
		}
	}
}

// Operate implements sim.Operable: FinalOperation, in the liveness phase,
// makes the final operation now if the client is idle (Workload.Finish).
func (c *client) Operate(env sim.Env, req sim.Message) {
	if _, ok := req.(FinalOperation); ok && c.wl.finishing {
		c.issueFinal(env)
	}
}

// arrive handles an open-loop arrival and draws the next one.
func (c *client) arrive(env sim.Env) {
	if c.wl.stopped {
		return // no more arrivals
	}
	switch {
	case !c.busy:
		c.issue(env)
	case c.backlog < c.wl.cfg.backlog():
		c.backlog++
	default:
		c.wl.stats.Shed++
	}
	env.SetTimer(timerNext, env.Rand().ExpDuration(c.wl.cfg.meanInterarrival()))
}

// issueFinal calls the client's final operation of the liveness phase, if
// the client is idle and has not yet made it.
func (c *client) issueFinal(env sim.Env) {
	if c.busy || c.final != finalNone {
		return
	}
	c.final = finalIssued
	c.issue(env)
	env.CancelTimer(timerDeadline) // retried until answered: no deadline
}

// issue calls a new operation with the next sequence number.
func (c *client) issue(env sim.Env) {
	c.seq++
	c.op = c.draw(env.Rand())
	cmd := service.Command{Client: env.ID(), Seq: c.seq, Op: c.encodeOp()}
	env.Sign(cmd.Digest()) // service.Request: a faulty replica cannot forge it
	c.request = service.Request{Cmd: cmd}
	c.opID = c.wl.history.call(c.index, c.seq, c.op, env.Now())
	c.busy, c.redirects, c.replies = true, 0, c.replies[:0]
	c.clearRefused(len(env.Servers()))
	env.Observe(sim.Observation{Kind: sim.ObsCall, Bytes: c.describe(c.op.AppendText(c.begin()))})
	c.send(env)
	env.SetTimer(timerDeadline, c.wl.cfg.Timeout)
}

// send sends the current command to the presumed leader and waits
// RetryInterval for an answer.
func (c *client) send(env sim.Env) {
	env.Send(env.Servers()[c.target], c.request)
	env.SetTimer(timerRetry, c.wl.cfg.RetryInterval)
}

// encodeOp returns the wire form of the operation in flight, for its
// command: servers keep it in their logs, so it is never written again.
func (c *client) encodeOp() []byte {
	c.encoded = c.op.AppendText(c.encoded[:0])
	return c.ops.Copy(c.encoded)
}

// retry resends the same command (same seq) to the next server round-robin:
// the presumed leader may be down, cut off or slow. The server that did not
// answer counts as refused for the round the retry starts, so that a stale
// hint naming it (a follower cut off with a deposed leader) does not send
// the client straight back to wait on it again.
func (c *client) retry(env sim.Env) {
	c.wl.stats.Retries++
	c.redirects = 0
	c.clearRefused(len(env.Servers()))
	c.refused[c.target] = true
	if c.wl.cfg.BroadcastRetry {
		for _, s := range env.Servers() {
			env.Send(s, c.request)
		}
		env.SetTimer(timerRetry, c.wl.cfg.RetryInterval)
		return
	}
	c.target = (c.target + 1) % len(env.Servers())
	c.send(env)
}

// accept records an OK reply and reports the result once ReplyQuorum
// distinct servers gave the same one. A server that answers twice counts
// once, with its latest answer.
func (c *client) accept(from sim.NodeID, result []byte) ([]byte, bool) {
	quorum := c.wl.cfg.ReplyQuorum
	if quorum <= 1 {
		return result, true
	}
	r := reply{from: from, result: string(result)}
	if i := slices.IndexFunc(c.replies, func(x reply) bool { return x.from == from }); i >= 0 {
		c.replies[i] = r
	} else {
		c.replies = append(c.replies, r)
	}
	matching := 0
	for _, x := range c.replies {
		if x.result == r.result {
			matching++
		}
	}
	return result, matching >= quorum
}

// Receive handles a server's reply; replies to other sequence numbers (late
// answers, duplicates) are ignored.
func (c *client) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	r, ok := service.ReplyOf(m)
	if !ok {
		return
	}
	if !c.busy || r.Client != env.ID() || r.Seq != c.seq {
		return
	}
	switch r.Status {
	case service.StatusOK:
		result, ok := c.accept(from, r.Result)
		if !ok {
			return
		}
		if i := serverIndex(env, from); i >= 0 && c.wl.cfg.ReplyQuorum <= 1 {
			c.target = i
		}
		c.succeed(env, result)
	case service.StatusNotLeader:
		c.redirect(env, from, r.Leader)
	}
}

// redirect follows a not-leader answer: to the hinted leader if there is a
// plausible one, else to the next server after the one that answered; never
// to a server that refused the request since it was last sent on a timer
// (a removed server's stale hint may point back at one). Immediate
// redirects are bounded per send so that servers pointing at each other
// cannot make a client spin; past the bound it waits for the retry timer.
func (c *client) redirect(env sim.Env, from, hint sim.NodeID) {
	n := len(env.Servers())
	if c.redirects >= n {
		return
	}
	c.redirects++
	c.wl.stats.Redirects++
	answered := serverIndex(env, from)
	if answered < 0 {
		answered = c.target
	}
	c.refused[answered] = true // sized by issue: replies count only while an operation is in flight
	next := serverIndex(env, hint)
	if next < 0 || c.refused[next] {
		next = c.nextNotRefused(answered)
	}
	c.target = next
	c.send(env)
}

// clearRefused starts a round with no server refused, for n servers.
func (c *client) clearRefused(n int) {
	if len(c.refused) != n {
		c.refused = make([]bool, n)
	}
	clear(c.refused)
}

// nextNotRefused is the first server after index i, round the ring, that has
// not refused the request; the one after i if all have.
func (c *client) nextNotRefused(i int) int {
	n := len(c.refused)
	for step := 1; step < n; step++ {
		if j := (i + step) % n; !c.refused[j] {
			return j
		}
	}
	return (i + 1) % n
}

// serverIndex is id's position in env.Servers(), or -1.
func serverIndex(env sim.Env, id sim.NodeID) int {
	for i, s := range env.Servers() {
		if s == id {
			return i
		}
	}
	return -1
}

// succeed records the answer and moves on.
func (c *client) succeed(env sim.Env, result []byte) {
	op := c.wl.history.complete(c.opID, env.Now(), result)
	if op.Status == StatusOK {
		c.learn(&op)
	}
	b := append(append(c.begin(), op.Status.String()...), ' ')
	env.Observe(sim.Observation{Kind: sim.ObsReturn, Bytes: c.describe(strconv.AppendQuote(b, string(result)))})
	c.finish(env)
}

// expire gives up on the operation: its outcome is unknown.
func (c *client) expire(env sim.Env) {
	env.Observe(sim.Observation{Kind: sim.ObsReturn, Bytes: c.describe(append(c.begin(), "unknown timeout"...))})
	c.finish(env)
}

// finish frees the client and starts what comes next.
func (c *client) finish(env sim.Env) {
	c.busy = false
	env.CancelTimer(timerRetry)
	env.CancelTimer(timerDeadline)
	if c.final == finalIssued {
		c.final = finalDone
	}
	if c.wl.finishing {
		c.wl.stats.Abandoned += uint64(c.backlog)
		c.backlog = 0
		c.issueFinal(env)
		return
	}
	if c.wl.stopped {
		c.wl.stats.Abandoned += uint64(c.backlog)
		c.backlog = 0
		return
	}
	if !c.wl.cfg.openLoop() {
		env.SetTimer(timerNext, c.wl.cfg.ThinkTime)
		return
	}
	if c.backlog > 0 {
		c.backlog--
		c.issue(env)
	}
}

// begin starts an observation's text in the client's reused buffer, with
// the operation's identity; describe ends it. A call and a return cost one
// string each, the observation's own.
func (c *client) begin() []byte {
	b := append(c.text[:0], "op="...)
	b = strconv.AppendInt(b, int64(c.opID), 10)
	b = append(b, " c"...)
	b = strconv.AppendInt(b, int64(c.index), 10)
	b = append(b, " seq="...)
	b = strconv.AppendUint(b, c.seq, 10)
	return append(b, ' ')
}

// describe returns the text begun with begin, keeping its buffer for the
// next: Observe copies an observation's Bytes.
func (c *client) describe(b []byte) []byte {
	c.text = b
	return b
}

// draw picks the next operation: kind by the mix weights, key uniformly,
// and a value unique to this client and sequence number ("c5.17"), so that
// every write is identifiable in a read and histories are checkable.
func (c *client) draw(r *sim.Rand) Op {
	cfg := &c.wl.cfg
	if cfg.Model == ModelListAppend {
		return c.drawTxn(r)
	}
	op := Op{Kind: cfg.Mix.pick(r.IntN(cfg.Mix.Total())), Key: c.wl.key(r.IntN(cfg.Keys))}
	if op.Kind == OpGet {
		return op
	}
	op.Value = "c" + strconv.Itoa(c.index) + "." + strconv.FormatUint(c.seq, 10)
	if op.Kind == OpCAS {
		op.Expect = c.expectation(r, op.Key)
	}
	return op
}

// expectation is a value likely to be current for key: the last value this
// client saw there, else a random recent value it saw or wrote anywhere, else
// a value no key ever holds (the cas then fails, which is a valid answer).
func (c *client) expectation(r *sim.Rand, key string) string {
	if v, ok := c.lastSeen[key]; ok {
		return v
	}
	if len(c.recent) > 0 {
		return c.recent[r.IntN(len(c.recent))]
	}
	return "none"
}

// learn updates the cas memory from a definite answer.
func (c *client) learn(op *Operation) {
	switch {
	case (op.Kind == OpGet || op.Kind == OpCAS && !op.CASOK) && op.Found: // a failed cas reads too
		c.remember(op.Key, op.Output)
	case op.Kind == OpGet || op.Kind == OpCAS && !op.CASOK:
		delete(c.lastSeen, op.Key)
	case op.Kind == OpPut, op.Kind == OpCAS && op.CASOK:
		c.remember(op.Key, op.Value)
	case op.Kind == OpAppend:
		if v, ok := c.lastSeen[op.Key]; ok {
			c.remember(op.Key, v+AppendSeparator+op.Value) // likely, if no one wrote in between
		}
	}
}

func (c *client) remember(key, v string) {
	c.lastSeen[key] = v
	if len(c.recent) < recentValues {
		c.recent = append(c.recent, v)
		return
	}
	c.recent[c.next] = v
	c.next = (c.next + 1) % recentValues
}

// keyName is the name of key i.
func keyName(i int) string { return "k" + strconv.Itoa(i) }
