package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kvCases are op sequences with the result of each op; the snapshot tests
// restore the state each sequence leaves.
var kvCases = []struct {
	name string
	ops  []string
	want []string // result of each op
}{
	{"get of an absent key is not found", []string{"get k0"}, []string{"nf"}},
	{"put then get", []string{"put k0 a", "get k0"}, []string{"ok", "ok a"}},
	{"put overwrites", []string{"put k0 a", "put k0 b", "get k0"}, []string{"ok", "ok", "ok b"}},
	{"keys are independent", []string{"put k0 a", "get k1"}, []string{"ok", "nf"}},
	{"append creates", []string{"append k0 a", "get k0"}, []string{"ok", "ok a"}},
	{"append joins with the separator", []string{"put k0 a", "append k0 b", "append k0 c", "get k0"},
		[]string{"ok", "ok", "ok", "ok a,b,c"}},
	{"cas on an absent key fails", []string{"cas k0 a b", "get k0"}, []string{"fail nf", "nf"}},
	{"cas with the current value writes", []string{"put k0 a", "cas k0 a b", "get k0"},
		[]string{"ok", "ok", "ok b"}},
	{"cas with a stale value fails and changes nothing", []string{"put k0 a", "cas k0 x b", "get k0"},
		[]string{"ok", "fail a", "ok a"}},
	{"malformed ops are errors and change nothing",
		[]string{"put k0 a", "put k0", "del k0", "", "get k0 x", "put k0  b", "cas k0 a", "get k0"},
		[]string{"ok", "err malformed op", "err malformed op", "err malformed op", "err malformed op",
			"err malformed op", "err malformed op", "ok a"}},
	{"several keys and appends", []string{"put k3 a", "append k1 x", "put k0 b", "append k1 y", "cas k3 a c", "get k1"},
		[]string{"ok", "ok", "ok", "ok", "ok", "ok x,y"}},
}

func TestKVSemantics(t *testing.T) {
	for _, tt := range kvCases {
		t.Run(tt.name, func(t *testing.T) {
			kv := NewKV()
			for i, op := range tt.ops {
				assert.Equal(t, tt.want[i], string(kv.Apply([]byte(op))), "op %d %q", i, op)
			}
		})
	}
}

func TestOpRoundTrip(t *testing.T) {
	for _, op := range []Op{
		{Kind: OpGet, Key: "k1"},
		{Kind: OpPut, Key: "k2", Value: "c0.1"},
		{Kind: OpAppend, Key: "k3", Value: "c1.7"},
		{Kind: OpCAS, Key: "k4", Expect: "c0.1", Value: "c2.9"},
	} {
		t.Run(op.String(), func(t *testing.T) {
			got, err := ParseOp(op.Encode())
			require.NoError(t, err)
			assert.Equal(t, op, got)
		})
	}
	assert.Equal(t, "cas k4 old new", Op{Kind: OpCAS, Key: "k4", Expect: "old", Value: "new"}.String())
}

func TestParseResult(t *testing.T) {
	tests := []struct {
		kind    OpKind
		raw     string
		want    Result
		wantErr bool
	}{
		{OpGet, "nf", Result{}, false},
		{OpGet, "ok a,b", Result{Value: "a,b", Found: true}, false},
		{OpGet, "ok ", Result{}, true},
		{OpGet, "ok", Result{}, true},
		{OpPut, "ok", Result{}, false},
		{OpPut, "fail", Result{}, true},
		{OpAppend, "ok", Result{}, false},
		{OpCAS, "ok", Result{CASOK: true}, false},
		{OpCAS, "fail nf", Result{}, false},
		{OpCAS, "fail c0.3", Result{Value: "c0.3", Found: true}, false},
		{OpCAS, "fail", Result{}, true},
		{OpCAS, "err malformed op", Result{}, true},
		{OpGet, "", Result{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.raw, func(t *testing.T) {
			got, err := ParseResult(tt.kind, []byte(tt.raw))
			if tt.wantErr {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"negative clients", func(c *Config) { c.Clients = -1 }},
		{"too many clients", func(c *Config) { c.Clients = MaxClients + 1 }},
		{"no keys", func(c *Config) { c.Keys = 0 }},
		{"zero mix", func(c *Config) { c.Mix = Mix{} }},
		{"negative weight", func(c *Config) { c.Mix.Get = -1 }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }},
		{"zero retry interval", func(c *Config) { c.RetryInterval = 0 }},
		{"negative think time", func(c *Config) { c.ThinkTime = -1 }},
		{"negative backlog", func(c *Config) { c.Backlog = -1 }},
		{"negative max writes per key", func(c *Config) { c.MaxWritesPerKey = -1 }},
		{"max writes per key past its limit", func(c *Config) { c.MaxWritesPerKey = MaxWritesPerKeyLimit + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			assert.Error(t, c.Validate())
			_, err := New(c)
			assert.Error(t, err)
		})
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{Get: 2, Put: 1, Append: 0, CAS: 1}
	var got []OpKind
	for r := 0; r < m.Total(); r++ {
		got = append(got, m.pick(r))
	}
	assert.Equal(t, []OpKind{OpGet, OpGet, OpPut, OpCAS}, got)
}

func TestParseOpErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"":            `workload: malformed op "": unknown op kind ""`,
		"del k0":      `workload: malformed op "del k0": unknown op kind "del"`,
		"get":         `workload: malformed op "get": get takes 1 arguments`,
		"get k0 x":    `workload: malformed op "get k0 x": get takes 1 arguments`,
		"put k0  b":   `workload: malformed op "put k0  b": put takes 2 arguments`,
		"cas k0 a":    `workload: malformed op "cas k0 a": cas takes 3 arguments`,
		"put k0 ":     `workload: malformed op "put k0 ": empty argument`,
		"append  b":   `workload: malformed op "append  b": empty argument`,
		"cas k a b c": `workload: malformed op "cas k a b c": cas takes 3 arguments`,
	} {
		_, err := ParseOp([]byte(raw))
		require.ErrorIs(t, err, ErrMalformed, raw)
		assert.EqualError(t, err, want)
	}
}

// The KV runs on every command of every run: ops are parsed in place, and
// answers and values go into chunks shared with hundreds of others, so
// neither a read nor a write to a key seen before allocates on average.
func TestKVAllocations(t *testing.T) {
	kv := NewKV()
	get, put, appendOp, ok := []byte("get k1"), []byte("put k1 c0.1"), []byte("append k2 c0.2"), []byte("ok")
	kv.Apply(put)
	ro := kv.(interface{ ReadOnly([]byte) bool })
	assert.Zero(t, testing.AllocsPerRun(100, func() { ro.ReadOnly(get) }), "ReadOnly")
	assert.Zero(t, testing.AllocsPerRun(100, func() { kv.Apply(get) }), "a get")
	assert.Zero(t, testing.AllocsPerRun(100, func() { kv.Apply(put) }), "a put")
	assert.Zero(t, testing.AllocsPerRun(100, func() { kv.Apply(appendOp) }), "an append")
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = ParseOp(put) }), "ParseOp")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = ParseResult(OpPut, ok) }), "ParseResult")
}
