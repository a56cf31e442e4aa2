package digestcheck

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// lossy is a message whose binary form leaves its field b out.
type lossy struct{ a, b int }

func (m lossy) AppendTrace(b []byte) []byte  { return fmt.Appendf(b, "Lossy a=%d b=%d", m.a, m.b) }
func (m lossy) AppendDigest(b []byte) []byte { return append(b, byte(m.a)) }

// TestCollisionFindsAFieldTheDigestLeavesOut: two messages that differ only
// in a field the binary form leaves out are named, wherever they stand in
// the list; equal messages are no collision.
func TestCollisionFindsAFieldTheDigestLeavesOut(t *testing.T) {
	require.NoError(t, Collision(lossy{1, 1}, lossy{1, 1}, lossy{2, 1}), "equal messages have equal forms")
	require.EqualError(t, Collision(lossy{1, 1}, lossy{2, 1}, lossy{1, 2}),
		`"Lossy a=1 b=1" and "Lossy a=1 b=2" have the same binary form 01`)
}
