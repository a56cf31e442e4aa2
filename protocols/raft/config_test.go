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
	tests := []struct {
		name   string
		change func(c *Config)
		err    string // substring of the error, "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"every bug", func(c *Config) {
			c.ReadMode, c.PreVote = ReadLease, true
			for _, b := range KnownBugs() {
				c.Bugs = append(c.Bugs, b.Name)
			}
		}, ""},
		{"read index", func(c *Config) { c.ReadMode = ReadIndex }, ""},
		{"read mode left out", func(c *Config) { c.ReadMode = "" }, ""},
		{"unknown read mode", func(c *Config) { c.ReadMode = "leases" }, `read_mode "leases" is not one of log, read-index, lease`},
		{"no drift", func(c *Config) { c.LeaseDrift = 1 }, ""},
		{"drift left out", func(c *Config) { c.LeaseDrift = 0 }, ""},
		{"drift below 1", func(c *Config) { c.LeaseDrift = 0.8 }, "lease_drift 0.8 must be in [1, 100]"},
		{"lease bug without a lease", func(c *Config) { c.Bugs = []string{BugLeaseNoDriftMargin} },
			"bug lease-no-drift-margin needs read_mode: lease"},
		{"pre-vote and check-quorum", func(c *Config) { c.PreVote, c.CheckQuorum = true, true }, ""},
		{"no election timeout", func(c *Config) { c.ElectionTimeoutMin = 0 }, "election_timeout_min"},
		{"max not above min", func(c *Config) { c.ElectionTimeoutMax = c.ElectionTimeoutMin }, "election_timeout_max"},
		{"no heartbeat", func(c *Config) { c.HeartbeatInterval = 0 }, "heartbeat_interval"},
		{"heartbeat too slow", func(c *Config) { c.HeartbeatInterval = c.ElectionTimeoutMin }, "heartbeat_interval"},
		{"no entries per append", func(c *Config) { c.MaxEntriesPerAppend = 0 }, "max_entries_per_append"},
		{"whole log kept", func(c *Config) { c.SnapshotInterval = 0 }, ""},
		{"negative snapshot interval", func(c *Config) { c.SnapshotInterval = -1 }, "snapshot_interval -1 must not be negative"},
		{"unknown bug", func(c *Config) { c.Bugs = []string{"commit-old-terms"} },
			`unknown bug "commit-old-terms" (known: ack-before-sync, commit-old-term, follower-write-cache, forget-vote, leader-ignores-higher-term, leader-local-reads, lease-no-drift-margin, no-append-retry, no-joint-consensus, no-term-check-on-vote, partial-transactions, removed-server-campaigns, send-before-sync, snapshot-forgets-config, stale-append-resets-timer, stale-follower-reads, transfer-keeps-proposing)`},
		{"bug twice", func(c *Config) { c.Bugs = []string{BugForgetVote, BugForgetVote} }, "twice"},
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
			require.ErrorContains(t, err, tt.err)
			_, err = New(c, prototest.NewKV)
			require.Error(t, err, "New validates too")
		})
	}
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
	require.Len(t, bugs, 17)
	for i, b := range bugs {
		assert.NotEmpty(t, b.Description, b.Name)
		if i > 0 {
			assert.Less(t, bugs[i-1].Name, b.Name, "sorted by name")
		}
		_, err := parseBugs([]string{b.Name})
		assert.NoError(t, err)
	}
	bugs[0].Name = "changed"
	assert.NotEqual(t, "changed", KnownBugs()[0].Name, "KnownBugs returns a copy")
}
