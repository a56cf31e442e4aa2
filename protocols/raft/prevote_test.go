package raft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A follower that heard from the leader within election_timeout_min
// refuses a pre-vote, whatever the asker's log (thesis §9.6): a server cut
// off from the leader, or one that came back, must not depose a leader the
// others still hear. Past that timeout it grants one to an up-to-date log.
func TestPreVoteRefusedWhileTheLeaderIsHeard(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PreVote = true
	tn := newLeaderNetWith(t, cfg)
	n := tn.Node(2)
	ask := MsgPreVote{Term: n.term, Next: n.term + 1, LastIndex: n.lastIndex(), LastTerm: n.lastTerm()}
	receive(tn, 1, 2, ask)
	assert.Equal(t, MsgPreVoteResp{Term: n.term, Next: n.term + 1}, takeLast(tn, 2, 1), "refused: the leader was heard just now")

	tn.Advance(cfg.ElectionTimeoutMin + time.Millisecond)
	receive(tn, 1, 2, ask)
	assert.Equal(t, MsgPreVoteResp{Term: n.term, Next: n.term + 1, Granted: true}, takeLast(tn, 2, 1))
	assert.Equal(t, uint64(1), n.term, "a pre-vote changes no term")
}
