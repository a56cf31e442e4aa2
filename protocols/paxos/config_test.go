package paxos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
)

func TestConfigValidate(t *testing.T) {
	kit.RequireValidation(t, []prototest.ConfigCase[Config]{
		{Name: "default"},
		{Name: "no compaction", Change: func(c *Config) { c.SnapshotInterval = 0 }},
		{Name: "no backoff", Change: func(c *Config) { c.BackoffLimit = 0 }},
		{Name: "all bugs", Change: func(c *Config) { c.Bugs = []string{BugForgetPromise, BugIgnoreAccepted, BugAcceptLowerBallot} }},
		{Name: "zero timeout", Change: func(c *Config) { c.LeaderTimeoutMin = 0 }, Err: "leader_timeout_min"},
		{Name: "max not above min", Change: func(c *Config) { c.LeaderTimeoutMax = c.LeaderTimeoutMin }, Err: "leader_timeout_max"},
		{Name: "zero heartbeat", Change: func(c *Config) { c.HeartbeatInterval = 0 }, Err: "heartbeat_interval"},
		{Name: "heartbeat not below timeout", Change: func(c *Config) { c.HeartbeatInterval = c.LeaderTimeoutMin }, Err: "heartbeat_interval"},
		{Name: "negative backoff", Change: func(c *Config) { c.BackoffLimit = -1 }, Err: "backoff_limit"},
		{Name: "huge backoff", Change: func(c *Config) { c.BackoffLimit = 11 }, Err: "backoff_limit"},
		{Name: "empty batches", Change: func(c *Config) { c.MaxSlotsPerMessage = 0 }, Err: "max_slots_per_message"},
		{Name: "negative snapshots", Change: func(c *Config) { c.SnapshotInterval = -1 }, Err: "snapshot_interval"},
		{Name: "unknown bug", Change: func(c *Config) { c.Bugs = []string{"nope"} }, Err: `unknown bug "nope"`},
		{Name: "bug twice", Change: func(c *Config) { c.Bugs = []string{BugForgetPromise, BugForgetPromise} }, Err: "twice"},
	})
}

func TestNewNeedsAStateMachine(t *testing.T) {
	_, err := New(DefaultConfig(), nil)
	assert.ErrorIs(t, err, service.ErrNoStateMachine)
}

func TestKnownBugs(t *testing.T) {
	bugs := KnownBugs()
	require.Len(t, bugs, 10)
	assert.True(t, slices.IsSortedFunc(bugs, func(a, b Bug) int { return strings.Compare(a.Name, b.Name) }))
	for _, b := range bugs {
		assert.NoError(t, Config{LeaderTimeoutMin: time.Second, LeaderTimeoutMax: 2 * time.Second,
			HeartbeatInterval: time.Millisecond, MaxSlotsPerMessage: 1, Alpha: 1, Bugs: []string{b.Name}}.Validate())
		assert.NotEmpty(t, b.Description)
	}
	bugs[0].Name = "changed"
	assert.NotEqual(t, "changed", KnownBugs()[0].Name, "KnownBugs returns a copy")
}
