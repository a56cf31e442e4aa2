package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTraceLine(t *testing.T) {
	got := TraceLine([]byte("t=1 send ")).Kind("MsgX").Uint("term", 3).Int("client", -1).Hex("digest", 255).
		Node("to", 2).Quote("op", `put "k"`).If(true, "granted", "rejected").If(false, "yes", "").If(false, "a", "b")
	require.Equal(t, `t=1 send MsgX term=3 client=-1 digest=ff to=n2 op="put \"k\"" granted b`, string(got))
	buf := make(TraceLine, 0, 128)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		buf = buf[:0].Kind("MsgVote").Uint("term", 7).Uint("last-index", 9)
	}), "a line with room allocates nothing")
}
