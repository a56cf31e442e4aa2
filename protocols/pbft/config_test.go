package pbft

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func TestQuorums(t *testing.T) {
	tests := []struct{ n, f, quorum, reply int }{
		{4, 1, 3, 2}, {5, 1, 4, 2}, {6, 1, 4, 2}, {7, 2, 5, 3}, {10, 3, 7, 4}, {13, 4, 9, 5},
	}
	for _, tt := range tests {
		require.Equal(t, tt.f, Faulty(tt.n), "n=%d", tt.n)
		require.Equal(t, tt.quorum, Quorum(tt.n), "n=%d", tt.n)
		require.Equal(t, tt.reply, DefaultConfig().ReplyQuorum(tt.n), "n=%d", tt.n)
		// Any two quorums share f+1 replicas, so at least one correct one.
		require.GreaterOrEqual(t, 2*Quorum(tt.n)-tt.n, tt.f+1, "n=%d", tt.n)
		// A quorum of correct replicas exists with f faulty.
		require.LessOrEqual(t, Quorum(tt.n), tt.n-tt.f, "n=%d", tt.n)
	}
	cfg := DefaultConfig()
	cfg.Bugs = []string{BugClientFirstReply}
	require.Equal(t, 1, cfg.ReplyQuorum(7))
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"default", func(*Config) {}, ""},
		{"request timeout", func(c *Config) { c.RequestTimeout = 0 }, "pbft: request_timeout 0s must be positive"},
		{"backoff", func(c *Config) { c.BackoffLimit = 11 }, "pbft: backoff_limit 11 must be in [0, 10]"},
		{"status", func(c *Config) { c.StatusInterval = c.RequestTimeout }, "pbft: status_interval 400ms must be below request_timeout 400ms (lost messages are retransmitted at each status)"},
		{"checkpoint", func(c *Config) { c.CheckpointInterval = 0 }, "pbft: checkpoint_interval 0 must be at least 1"},
		{"window not a multiple", func(c *Config) { c.LogWindow = 40 }, "pbft: log_window 40 must be a multiple of checkpoint_interval 16, at least twice it"},
		{"window too small", func(c *Config) { c.LogWindow = 16 }, "pbft: log_window 16 must be a multiple of checkpoint_interval 16, at least twice it"},
		// Twice the interval wraps an int of 32 bits: 386 accepted what amd64 refused.
		{"window too small past 32 bits", func(c *Config) { c.CheckpointInterval, c.LogWindow = 1<<30, 1<<30 },
			"pbft: log_window 1073741824 must be a multiple of checkpoint_interval 1073741824, at least twice it"},
		{"catch up", func(c *Config) { c.MaxCatchUp = 0 }, "pbft: max_catch_up 0 must be at least 1"},
		{"crash within", func(c *Config) { c.ByzantineCrashWithin = -1 }, "pbft: byzantine_crash_within -1ns must not be negative"},
		{"delay", func(c *Config) { c.ByzantineDelay = -time.Second }, "pbft: byzantine_delay -1s must not be negative"},
		{"unknown bug", func(c *Config) { c.Bugs = []string{"quorum-f"} }, `pbft: bugs[0]: unknown bug "quorum-f" (did you mean quorum-2f?)`},
		{"bug twice", func(c *Config) { c.Bugs = []string{BugQuorum2f, BugQuorum2f} }, `pbft: bugs[1]: bug "quorum-2f" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if tt.want == "" {
				require.NoError(t, c.Validate())
			} else {
				require.EqualError(t, c.Validate(), tt.want)
			}
		})
	}
}

func TestKnownBugsAndBehavioursAreSorted(t *testing.T) {
	require.True(t, slices.IsSortedFunc(KnownBugs(), func(a, b Bug) int { return strings.Compare(a.Name, b.Name) }))
	require.True(t, slices.IsSortedFunc(KnownBehaviours(), func(a, b Behaviour) int { return strings.Compare(a.Name, b.Name) }))
	require.Len(t, KnownBehaviours(), 16)
	for _, b := range KnownBehaviours() {
		require.NoError(t, ValidateBehaviour(b.Name))
		require.NotEmpty(t, b.Description)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New(DefaultConfig(), nil)
	require.ErrorIs(t, err, service.ErrNoStateMachine)
	_, err = New(DefaultConfig(), prototest.NewPlainKV)
	require.ErrorIs(t, err, errNoSnapshots)
	_, err = New(DefaultConfig(), prototest.NewKV, ByzantineReplica{ID: 1, Behaviour: "lie"})
	require.ErrorContains(t, err, `unknown Byzantine behaviour "lie"`)
	_, err = New(DefaultConfig(), prototest.NewKV, ByzantineReplica{ID: 1, Behaviour: BehaviourSilent}, ByzantineReplica{ID: 1, Behaviour: BehaviourDelay})
	require.EqualError(t, err, "pbft: replica n1 listed twice as Byzantine")
}

func TestMessageTraces(t *testing.T) {
	sig := sim.Signature{Signer: 2, Digest: 0xab}
	tests := []struct {
		m    sim.Message
		want string
	}{
		{MsgPrePrepare{View: 1, Seq: 7, Digest: 0xff, Cmd: cmdA, Sig: sig}, `MsgPrePrepare view=1 seq=7 digest=ff sig=n2:ab client=100 seq=1 op="set a 1"`},
		{MsgPrepare{SignedVote{View: 1, Seq: 7, Digest: 0xff, Sig: sig}}, "MsgPrepare view=1 seq=7 digest=ff sig=n2:ab"},
		{MsgCommit{SignedVote{View: 1, Seq: 7, Digest: 0xff, Sig: sig}}, "MsgCommit view=1 seq=7 digest=ff sig=n2:ab"},
		{MsgCheckpoint{Seq: 16, Digest: 0xcd, Sig: sig}, "MsgCheckpoint seq=16 digest=cd sig=n2:ab"},
		{MsgStatus{View: 3, Changing: true, Exec: 40, Stable: 32}, "MsgStatus view=3 changing exec=40 stable=32"},
		{MsgViewChange{View: 2, Replica: 2, Stable: CheckpointCert{Seq: 16, Digest: 0xcd, Proof: []sim.Signature{sig}},
			Prepared: []PreparedCert{{View: 1, Seq: 17, Cmd: service.Noop, PrePrepare: sig, Prepares: []sim.Signature{sig, sig}}}, Sig: sig},
			"MsgViewChange view=2 replica=2 stable seq=16 digest=cd proof=[n2:ab] prepared=[17@v1:" +
				strconv.FormatUint(noopDigest, 16) + " pp=n2:ab prepares=[n2:ab n2:ab]] sig=n2:ab"},
		{MsgNewView{View: 2}, "MsgNewView view=2 V=[] O=[]"},
		{MsgCommitted{Certs: []CommitCert{{View: 1, Seq: 3, Cmd: service.Noop, Commits: []sim.Signature{sig}}}}, "MsgCommitted certs=[3@v1:noop commits=[n2:ab]]"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, string(tt.m.AppendTrace(nil)))
	}
}
