package service

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// counter is a state machine of one number: "inc" adds one, "get" reads it.
type counter struct{ n int }

func (c *counter) Apply(op []byte) []byte {
	if string(op) == "inc" {
		c.n++
	}
	return []byte{byte(c.n)}
}

func (c *counter) ReadOnly(op []byte) bool { return string(op) == "get" }

func (c *counter) Snapshot() []byte { return []byte{byte(c.n)} }

func (c *counter) Restore(b []byte) error { c.n = int(b[0]); return nil }

// TestReadRunsReadsOutsideSessions: a read-only op runs on the state as it
// stands and leaves every session as it was, so snapshots and retries do
// not see it; an op that may write runs nothing.
func TestReadRunsReadsOutsideSessions(t *testing.T) {
	c := &counter{}
	s := NewSessions(c)
	s.Apply(Command{Client: 1, Seq: 1, Op: []byte("inc")})
	before, err := s.Snapshot()
	require.NoError(t, err)

	got, ok := s.Read([]byte("get"))
	require.True(t, ok)
	require.Equal(t, []byte{1}, got)
	after, err := s.Snapshot()
	require.NoError(t, err)
	require.Equal(t, before, after, "no session was made for the read")

	_, ok = s.Read([]byte("inc"))
	require.False(t, ok)
	require.Equal(t, 1, c.n, "a write does not run outside the log")
	_, ok = NewSessions(struct{ StateMachine }{c}).Read([]byte("get"))
	require.False(t, ok, "a state machine that cannot tell reads has none outside the log")
}
