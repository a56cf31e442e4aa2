package raft

import (
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

func TestConfigValidate(t *testing.T) {
	kit.RequireValidation(t, []prototest.ConfigCase[Config]{
		{Name: "default"},
		{Name: "every bug", Change: func(c *Config) {
			c.ReadMode, c.PreVote, c.CheckQuorum = ReadLease, true, true
			for _, b := range KnownBugs() {
				c.Bugs = append(c.Bugs, b.Name)
			}
		}},
		{Name: "read index", Change: func(c *Config) { c.ReadMode = ReadIndex }},
		{Name: "read mode left out", Change: func(c *Config) { c.ReadMode = "" }},
		{Name: "unknown read mode", Change: func(c *Config) { c.ReadMode = "leases" }, Err: `read_mode "leases" is not one of log, read-index, lease`},
		{Name: "no drift", Change: func(c *Config) { c.LeaseDrift = 1 }},
		{Name: "drift left out", Change: func(c *Config) { c.LeaseDrift = 0 }},
		{Name: "drift below 1", Change: func(c *Config) { c.LeaseDrift = 0.8 }, Err: "lease_drift 0.8 must be in [1, 100]"},
		{Name: "lease bug without a lease", Change: func(c *Config) { c.Bugs = []string{BugLeaseNoDriftMargin} },
			Err: "bug lease-no-drift-margin needs read_mode: lease"},
		{Name: "vote-guard bug without a lease", Change: func(c *Config) { c.Bugs = []string{BugLeaseNoVoteGuard} },
			Err: "bug lease-no-vote-guard needs read_mode: lease"},
		{Name: "read-index bug with log reads", Change: func(c *Config) { c.Bugs = []string{BugReadIndexJoinsEarlierRound} },
			Err: "bug read-index-joins-earlier-round needs read_mode: read-index or lease"},
		{Name: "read-index bug with a lease", Change: func(c *Config) {
			c.ReadMode, c.Bugs = ReadLease, []string{BugReadIndexJoinsEarlierRound}
		}},
		{Name: "check-quorum bug without check-quorum", Change: func(c *Config) { c.Bugs = []string{BugCheckQuorumOnSend} },
			Err: "bug check-quorum-on-send needs check_quorum: true"},
		{Name: "pre-vote and check-quorum", Change: func(c *Config) { c.PreVote, c.CheckQuorum = true, true }},
		{Name: "no election timeout", Change: func(c *Config) { c.ElectionTimeoutMin = 0 }, Err: "election_timeout_min"},
		{Name: "max not above min", Change: func(c *Config) { c.ElectionTimeoutMax = c.ElectionTimeoutMin }, Err: "election_timeout_max"},
		{Name: "no heartbeat", Change: func(c *Config) { c.HeartbeatInterval = 0 }, Err: "heartbeat_interval"},
		{Name: "heartbeat too slow", Change: func(c *Config) { c.HeartbeatInterval = c.ElectionTimeoutMin }, Err: "heartbeat_interval"},
		{Name: "no entries per append", Change: func(c *Config) { c.MaxEntriesPerAppend = 0 }, Err: "max_entries_per_append"},
		{Name: "whole log kept", Change: func(c *Config) { c.SnapshotInterval = 0 }},
		{Name: "negative snapshot interval", Change: func(c *Config) { c.SnapshotInterval = -1 }, Err: "snapshot_interval -1 must not be negative"},
		{Name: "unknown bug", Change: func(c *Config) { c.Bugs = []string{"commit-old-terms"} },
			Err: `bugs[0]: unknown bug "commit-old-terms" (did you mean commit-old-term?)`},
		{Name: "unknown bug, far from any", Change: func(c *Config) { c.Bugs = []string{"everything"} },
			Err: `bugs[0]: unknown bug "everything" (known: ack-before-sync, check-quorum-on-send, commit-old-term, count-stale-acks, follower-write-cache, forget-vote, install-stale-snapshot, leader-ignores-higher-term, leader-local-reads, lease-from-acks, lease-no-drift-margin, lease-no-vote-guard, match-never-lowered, no-append-retry, no-joint-consensus, no-term-check-on-vote, partial-transactions, read-index-joins-earlier-round, removed-server-campaigns, restart-forgets-lease-guard, send-before-sync, snapshot-forgets-config, snapshot-forgets-sessions, stale-append-resets-timer, stale-follower-reads, transfer-keeps-proposing, transfer-renews-lease, vote-guard-as-long-as-lease)`},
		{Name: "bug twice", Change: func(c *Config) { c.Bugs = []string{BugForgetVote, BugForgetVote} }, Err: "twice"},
	})
}

func TestNewNeedsAStateMachine(t *testing.T) {
	_, err := New(DefaultConfig(), nil)
	require.Error(t, err)
}

// A scenario file decodes a Config strictly, durations written as "150ms".
func TestConfigDecodesStrictlyFromYAML(t *testing.T) {
	src := `
election_timeout_min: 150ms
election_timeout_max: 300ms
heartbeat_interval: 20ms
max_entries_per_append: 8
read_mode: lease
lease_drift: 1.5
pre_vote: true
check_quorum: true
bugs: [forget-vote]
`
	var c Config
	require.NoError(t, yaml.UnmarshalWithOptions([]byte(src), &c, yaml.Strict()))
	assert.Equal(t, Config{ElectionTimeoutMin: 150 * time.Millisecond, ElectionTimeoutMax: 300 * time.Millisecond,
		HeartbeatInterval: 20 * time.Millisecond, MaxEntriesPerAppend: 8, ReadMode: ReadLease, LeaseDrift: 1.5,
		PreVote: true, CheckQuorum: true, Bugs: []string{BugForgetVote}}, c)
	require.NoError(t, c.Validate())

	err := yaml.UnmarshalWithOptions([]byte("heartbeat_intreval: 20ms\n"), &c, yaml.Strict())
	require.ErrorContains(t, err, "heartbeat_intreval")
}

func TestKnownBugs(t *testing.T) {
	bugs := KnownBugs()
	require.Len(t, bugs, 28)
	for i, b := range bugs {
		assert.NotEmpty(t, b.Description, b.Name)
		if i > 0 {
			assert.Less(t, bugs[i-1].Name, b.Name, "sorted by name")
		}
		_, err := knownBugs.Parse([]string{b.Name})
		assert.NoError(t, err)
	}
	bugs[0].Name = "changed"
	assert.NotEqual(t, "changed", KnownBugs()[0].Name, "KnownBugs returns a copy")
}

// Only lease reads assume anything of clocks, and then the lease's bound.
func TestClockDriftIsTheLeasesBound(t *testing.T) {
	cfg := DefaultConfig()
	assert.Zero(t, cfg.ClockDrift())
	cfg.ReadMode = ReadIndex
	assert.Zero(t, cfg.ClockDrift())
	cfg.ReadMode = ReadLease
	assert.Equal(t, 1.25, cfg.ClockDrift())
	cfg.LeaseDrift = 0
	assert.Equal(t, 1.25, cfg.ClockDrift(), "0 means the default")
	cfg.LeaseDrift = 2
	assert.Equal(t, 2.0, cfg.ClockDrift())
}
