package sim

// Terms, and who acts on them. A protocol-neutral availability check (a
// server that saw a higher term, ballot or view must not go on acting as the
// leader of an older one) needs to know what each server saw and did. A
// protocol tells it by having its messages implement Termed; the kernel
// shows every message sent and delivered to the hooks of OnMessage, which
// neither trace nor change anything, so a seed means the same run with or
// without them.

// Termed is implemented by messages that carry their sender's term (ballot,
// view).
type Termed interface {
	// MessageTerm returns the term the message carries, and whether only a
	// leader of that term sends such a message (a Raft AppendEntries, a
	// Paxos phase 2a accept).
	MessageTerm() (term uint64, leader bool)
}

// MessageEvent is a message a node sent (Sent) or that was delivered to it.
type MessageEvent struct {
	Sent     bool
	From, To NodeID
	Msg      Message
	// SentAt is when the message was sent: now for a send, earlier for a
	// delivery. An observer that judges what the receiver could know by then
	// (was the sender reachable when it spoke?) needs the send's time.
	SentAt Time
}

// OnMessage registers fn to see every message as a node sends it (before
// the network decides its fate) and as it is delivered (before the
// receiver's handler runs). fn must not change the world; it is never
// traced.
func (w *World) OnMessage(fn func(MessageEvent)) { w.msgHooks = append(w.msgHooks, fn) }

// Incarnation counts the crashes and restarts of node id so far: a restarted
// node is a new instance that knows only its disk.
func (w *World) Incarnation(id NodeID) uint64 { return uint64(w.nodes[id].inc) }

// VoteRequest is implemented by a candidate's request for votes (Raft's
// RequestVote, and a pre-vote's). A server may rightly disregard one of a
// higher term while it knows a leader to be alive (Raft thesis §4.2.3: it
// neither grants its vote nor takes the term up), so the term a vote
// request carries is not taken as seen by the stale-leader check: a
// candidate only proposes a term, while a leader's message or an answer
// shows one in force.
type VoteRequest interface {
	Termed
	RequestsVotes()
}
