package sim

// Operator requests: what an administrator asks of one server, as opposed to
// what its clients ask (a hand-over of leadership before maintenance, say).
// The kernel knows no protocol, so the request reaches only a node that
// implements Operable; faults decide when to ask (docs/ARCHITECTURE.md §2).

// Operable is implemented by a node that takes operator requests.
type Operable interface {
	Node
	// Operate handles req. It runs as a handler of the node, like Receive:
	// its effects apply when it returns, and a panic is a protocol crash.
	Operate(env Env, req Message)
}

// TransferLeadership is the operator request that the leader hand its
// leadership to server To (Raft thesis §3.10 is one protocol's way). A
// server that is not the leader, or cannot transfer now, ignores it.
type TransferLeadership struct {
	To NodeID
}

// AppendTrace implements Message.
func (m TransferLeadership) AppendTrace(b []byte) []byte {
	return TraceLine(b).Kind("TransferLeadership").Node("to", m.To)
}

// Operate hands req to node id now, as a handler of its own, and reports
// whether the node took it: false, with nothing done or traced, when the
// node is down, paused, busy, not started yet, or not Operable. Call it
// from a control action (World.At); it writes an "operate" trace line with
// the request before the handler runs. From an observer it panics: a
// handler inside another's step would run before that step's later
// effects, which no schedule of the run could show.
func (w *World) Operate(id NodeID, req Message) bool {
	if w.stepping {
		panic("sim: Operate called inside a node's step (from an observer?): call it from a control action (World.At)")
	}
	s := w.nodes[id]
	if !s.up || s.starting || s.blocked(w.now) != "" {
		return false
	}
	if _, ok := s.inst.(Operable); !ok {
		return false
	}
	w.tr.begin(w.now, "operate", id, None)
	w.tr.line = req.AppendTrace(w.tr.line)
	w.tr.end()
	e := event{at: w.now, kind: evOperate, node: id, from: None, msg: req}
	w.invoke(s, &e)
	return true
}

// ChangeMembers is the operator request that the cluster add the servers of
// Add to its configuration and remove those of Remove, in one change (Raft
// thesis ch. 4: one at a time, or through a joint configuration when several
// change at once). It goes to the leader; a server that is not, or that has
// a change in progress, ignores it. A protocol announces each configuration
// it commits with an ObsConfig observation.
type ChangeMembers struct {
	Add, Remove Members
}

// AppendTrace implements Message.
func (m ChangeMembers) AppendTrace(b []byte) []byte {
	l := TraceLine(b).Kind("ChangeMembers")
	if m.Add != 0 {
		l = l.Members("add", m.Add)
	}
	if m.Remove != 0 {
		l = l.Members("remove", m.Remove)
	}
	return l
}
