package sim

// Votes. Most safety properties of a replication protocol rest on one rule
// at each correct node: what it voted for a slot it never takes back, in
// this incarnation or after a restart (it keeps it on disk first). A Raft
// server grants one vote per term, a Paxos leader proposes one value per
// slot in its ballot, a PBFT replica sends one pre-prepare, prepare and
// commit per view and sequence number. A protocol shows its votes by having
// its messages implement Voter; the agreement check then sees, through the
// kernel's message hook (OnMessage, which neither traces nor changes
// anything), a correct node that casts two votes for one slot: the cause
// of a split brain, caught where it happens rather than once two leaders or
// two commits follow, and caught too where nothing follows (the others
// refuse the second vote, and only progress suffers).

// Vote is one binding choice a message carries.
type Vote struct {
	// Kind names the vote ("vote", "accept", "prepare"); votes of different
	// kinds never conflict.
	Kind string
	// Term and Index are the slot: a term (ballot, view) and, for votes per
	// log position, an index (slot, sequence number); 0 where unused.
	Term, Index uint64
	// Value is what the sender chose for the slot: a command's digest, or
	// the node it voted for.
	Value uint64
}

// Voter is implemented by messages that carry votes of their sender.
type Voter interface {
	// EachVote calls fn with each vote the message casts, sent to to; none
	// for a message that casts none (a vote refused).
	EachVote(to NodeID, fn func(Vote))
}
