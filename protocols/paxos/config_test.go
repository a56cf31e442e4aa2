package paxos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		err    string // substring; empty means valid
	}{
		{"default", func(*Config) {}, ""},
		{"no compaction", func(c *Config) { c.SnapshotInterval = 0 }, ""},
		{"no backoff", func(c *Config) { c.BackoffLimit = 0 }, ""},
		{"all bugs", func(c *Config) { c.Bugs = []string{BugForgetPromise, BugIgnoreAccepted, BugAcceptLowerBallot} }, ""},
		{"zero timeout", func(c *Config) { c.LeaderTimeoutMin = 0 }, "leader_timeout_min"},
		{"max not above min", func(c *Config) { c.LeaderTimeoutMax = c.LeaderTimeoutMin }, "leader_timeout_max"},
		{"zero heartbeat", func(c *Config) { c.HeartbeatInterval = 0 }, "heartbeat_interval"},
		{"heartbeat not below timeout", func(c *Config) { c.HeartbeatInterval = c.LeaderTimeoutMin }, "heartbeat_interval"},
		{"negative backoff", func(c *Config) { c.BackoffLimit = -1 }, "backoff_limit"},
		{"huge backoff", func(c *Config) { c.BackoffLimit = 11 }, "backoff_limit"},
		{"empty batches", func(c *Config) { c.MaxSlotsPerMessage = 0 }, "max_slots_per_message"},
		{"negative snapshots", func(c *Config) { c.SnapshotInterval = -1 }, "snapshot_interval"},
		{"unknown bug", func(c *Config) { c.Bugs = []string{"nope"} }, `unknown bug "nope"`},
		{"bug twice", func(c *Config) { c.Bugs = []string{BugForgetPromise, BugForgetPromise} }, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			_, err = New(c, prototest.NewKV)
			assert.Error(t, err, "New validates too")
		})
	}
}

func TestNewNeedsAStateMachine(t *testing.T) {
	_, err := New(DefaultConfig(), nil)
	assert.ErrorIs(t, err, errNoStateMachine)
}

func TestKnownBugs(t *testing.T) {
	bugs := KnownBugs()
	require.Len(t, bugs, 4)
	assert.True(t, slices.IsSortedFunc(bugs, func(a, b Bug) int { return strings.Compare(a.Name, b.Name) }))
	for _, b := range bugs {
		assert.NoError(t, Config{LeaderTimeoutMin: time.Second, LeaderTimeoutMax: 2 * time.Second,
			HeartbeatInterval: time.Millisecond, MaxSlotsPerMessage: 1, Alpha: 1, Bugs: []string{b.Name}}.Validate())
		assert.NotEmpty(t, b.Description)
	}
	bugs[0].Name = "changed"
	assert.NotEqual(t, "changed", KnownBugs()[0].Name, "KnownBugs returns a copy")
}
