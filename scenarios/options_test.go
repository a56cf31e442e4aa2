package scenarios

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raftLike mirrors the shape of a protocol Config (this package must not
// import protocols).
type raftLike struct {
	ElectionTimeoutMin  time.Duration `yaml:"election_timeout_min"`
	ElectionTimeoutMax  time.Duration `yaml:"election_timeout_max"`
	HeartbeatInterval   time.Duration `yaml:"heartbeat_interval"`
	MaxEntriesPerAppend int           `yaml:"max_entries_per_append"`
	Bugs                []string      `yaml:"bugs"`
}

func defaultRaftLike() raftLike {
	return raftLike{ElectionTimeoutMin: 300 * time.Millisecond, ElectionTimeoutMax: 600 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond, MaxEntriesPerAppend: 64}
}

func TestDecodeProtocolOptionsOverlaysDefaults(t *testing.T) {
	sc, err := ParseFile("raft-lossy.yaml")
	require.NoError(t, err)
	cfg := defaultRaftLike()
	require.NoError(t, sc.DecodeProtocolOptions(&cfg))
	assert.Equal(t, raftLike{ElectionTimeoutMin: 400 * time.Millisecond, ElectionTimeoutMax: 800 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond, MaxEntriesPerAppend: 64}, cfg)

	calm, err := ParseFile("raft-calm.yaml")
	require.NoError(t, err)
	cfg = defaultRaftLike()
	require.NoError(t, calm.DecodeProtocolOptions(&cfg))
	assert.Equal(t, defaultRaftLike(), cfg, "no options: the defaults stand")
}

func TestDecodeProtocolOptionsErrors(t *testing.T) {
	tests := []struct{ name, options, want string }{
		{"unknown key", "  heartbeat: 10ms\n",
			"t.yaml:5:3: protocol_options.heartbeat: unknown field (did you mean heartbeat_interval?)"},
		{"bare number duration", "  heartbeat_interval: 10\n",
			"t.yaml:5:23: protocol_options.heartbeat_interval: 10 has no unit: write 10s or 10ms"},
		{"wrong type", "  max_entries_per_append: many\n",
			`t.yaml:5:27: protocol_options.max_entries_per_append: want an integer, got string "many"`},
		{"list element", "  bugs: [vote-twice, 3]\n", ""},
		{"not a list", "  bugs: vote-twice\n", `t.yaml:5:9: protocol_options.bugs: want a list, got string "vote-twice"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("t.yaml", []byte(base+"protocol_options:\n"+tt.options))
			require.NoError(t, err, "the scenario itself is fine: options are decoded later")
			cfg := defaultRaftLike()
			err = sc.DecodeProtocolOptions(&cfg)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []string{"vote-twice", "3"}, cfg.Bugs)
				assert.EqualError(t, sc.Errorf("protocol_options.bugs[1]", "unknown bug %q", cfg.Bugs[1]),
					`t.yaml:5:22: protocol_options.bugs[1]: unknown bug "3"`)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestDecodeProtocolOptionsBuiltInCode(t *testing.T) {
	sc := &Scenario{Name: "in-code", ProtocolOptions: map[string]any{"heartbeat_interval": "20ms", "bugs": []any{"x"}}}
	cfg := defaultRaftLike()
	require.NoError(t, sc.DecodeProtocolOptions(&cfg))
	assert.Equal(t, 20*time.Millisecond, cfg.HeartbeatInterval)
	assert.Equal(t, []string{"x"}, cfg.Bugs)

	sc.ProtocolOptions["heartbeat"] = "1s"
	assert.EqualError(t, sc.DecodeProtocolOptions(&cfg),
		"in-code: protocol_options.heartbeat: unknown field (did you mean heartbeat_interval?)")
	assert.Error(t, sc.DecodeProtocolOptions(cfg), "a non-pointer is refused")
}

// TestOptionErrorPointsAtTheKeyNamed: a validation error lands on the
// written key its message names first, a whole name and not a prefix of a
// longer one; an error that names none lands on protocol_options.
func TestOptionErrorPointsAtTheKeyNamed(t *testing.T) {
	sc, err := Parse("o.yaml", []byte(base+"protocol_options:\n  election_timeout: 1s\n  max_entries: 3\n"+
		"  election_timeout_max: 50ms\n  election_timeout_min: 100ms\n"))
	require.NoError(t, err)
	for msg, want := range map[string]string{
		"raft: election_timeout_max 50ms must exceed election_timeout_min 100ms": "o.yaml:7:25: protocol_options.election_timeout_max: ",
		"raft: max_entries_per_append 0 must be at least 1, not max_entries":     "o.yaml:6:16: protocol_options.max_entries: ",
		"raft: the timeouts do not fit":                                          "o.yaml:5:3: protocol_options: ",
	} {
		assert.EqualError(t, sc.OptionError(errors.New(msg)), want+msg)
	}
}

// TestOptionErrorPointsAtAListEntry: a message that opens with an entry of
// a list option ("bugs[1]: ") lands on that entry, which the path then
// names instead of the message; one that names an entry elsewhere keeps
// its words, and an entry the file does not have lands on the list it names.
func TestOptionErrorPointsAtAListEntry(t *testing.T) {
	sc, err := Parse("o.yaml", []byte(base+"protocol_options:\n  peers: [1, 2, 3]\n  bugs: [a, b]\n"))
	require.NoError(t, err)
	for msg, want := range map[string]string{
		"p: bugs[1]: unknown bug \"b\"":            "o.yaml:6:13: protocol_options.bugs[1]: p: unknown bug \"b\"",
		"p: peers[2] must differ from peers[0]":    "o.yaml:5:17: protocol_options.peers[2]: p: peers[2] must differ from peers[0]",
		"p: bugs[1] and bugs[0] cannot be on both": "o.yaml:6:13: protocol_options.bugs[1]: p: bugs[1] and bugs[0] cannot be on both",
		"p: bugs[1]":              "o.yaml:6:13: protocol_options.bugs[1]: p: bugs[1]",
		"p: bugs[9]: unknown bug": "o.yaml:6:9: protocol_options.bugs[9]: p: unknown bug",
	} {
		assert.EqualError(t, sc.OptionError(errors.New(msg)), want, msg)
	}
}
