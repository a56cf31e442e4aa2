package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckLeaderTimeouts(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		lo, hi, heartbeat time.Duration
		want              string
	}{
		{300 * ms, 600 * ms, 50 * ms, ""},
		{0, 600 * ms, 50 * ms, "p: t_min 0s must be positive"},
		{300 * ms, 300 * ms, 50 * ms, "p: t_max 300ms must exceed t_min 300ms (timeouts are randomized in between)"},
		{300 * ms, 600 * ms, 0, "p: heartbeat_interval 0s must be positive"},
		{300 * ms, 600 * ms, 300 * ms, "p: heartbeat_interval 300ms must be below t_min 300ms"},
		{300 * ms, 600 * ms, 400 * ms, "p: heartbeat_interval 400ms must be below t_min 300ms"},
	}
	for _, tt := range tests {
		err := CheckLeaderTimeouts("p", "t", tt.lo, tt.hi, tt.heartbeat)
		if tt.want == "" {
			require.NoError(t, err)
		} else {
			require.EqualError(t, err, tt.want)
		}
	}
}
