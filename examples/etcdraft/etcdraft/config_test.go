package etcdraft_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

func TestValidate(t *testing.T) {
	require.NoError(t, etcdraft.DefaultConfig().Validate())
	for _, c := range []struct {
		edit func(*etcdraft.Config)
		want string
	}{
		{func(c *etcdraft.Config) { c.TickInterval = 0 }, "tick_interval 0s must be positive"},
		{func(c *etcdraft.Config) { c.HeartbeatTicks = 0 }, "heartbeat_ticks 0 must be at least 1"},
		{func(c *etcdraft.Config) { c.ElectionTicks = 5 }, "election_ticks 5 must exceed heartbeat_ticks 5"},
		{func(c *etcdraft.Config) { c.MaxInflightMsgs = 0 }, "max_inflight_msgs 0 must be at least 1"},
		{func(c *etcdraft.Config) { c.Bugs = []string{"nope"} }, `unknown bug "nope" (known: corrupt-as-torn, hardstate-before-entries, local-reads, no-duplicate-reply, no-hardstate, one-hardstate-copy, send-before-persist, sync-on-tick)`},
		{func(c *etcdraft.Config) { c.Bugs = []string{"no-hardstate", "no-hardstate"} }, `bug "no-hardstate" listed twice`},
	} {
		cfg := etcdraft.DefaultConfig()
		c.edit(&cfg)
		assert.ErrorContains(t, cfg.Validate(), c.want)
	}
}

func build(t *testing.T, options string) error {
	t.Helper()
	sc, err := scenarios.Parse("opts.yaml", []byte("protocol: etcdraft\nnodes: 3\nduration: 1s\n"+options))
	require.NoError(t, err)
	_, err = runner.Run(sc, etcdraft.Protocol(), runner.Options{Seed: 1})
	return err
}

// protocol_options are decoded strictly, with positioned errors.
func TestProtocolOptionsAreStrict(t *testing.T) {
	require.NoError(t, build(t, "protocol_options: {tick_interval: 20ms, election_ticks: 15, pre_vote: false}\n"))
	assert.ErrorContains(t, build(t, "protocol_options: {heartbeat: 2}\n"), "did you mean heartbeat_ticks")
	assert.ErrorContains(t, build(t, "protocol_options: {election_ticks: 1}\n"), "opts.yaml:4:36: protocol_options.election_ticks: etcdraft: election_ticks 1 must exceed")
	assert.ErrorContains(t, build(t, "protocol_options: {bugs: [forget-vote]}\n"), `unknown bug "forget-vote"`)
	assert.ErrorContains(t, build(t, "byzantine: [{nodes: [1], behaviour: silent}]\n"), "crash faults only")
}

func TestProtocolListsItsBugs(t *testing.T) {
	p := etcdraft.Protocol()
	assert.Equal(t, "etcdraft", p.Name)
	var names []string
	for _, b := range p.Bugs {
		names = append(names, b.Name)
		assert.NotEmpty(t, b.Description)
	}
	assert.Equal(t, []string{"corrupt-as-torn", "hardstate-before-entries", "local-reads", "no-duplicate-reply", "no-hardstate", "one-hardstate-copy",
		"send-before-persist", "sync-on-tick"}, names)
	assert.Equal(t, 10*time.Millisecond, etcdraft.DefaultConfig().TickInterval)
}

// A simrun binary accepts the adapter beside the shipped protocols (etcdsim
// does exactly this).
func TestRegistersBesideTheShippedProtocols(t *testing.T) {
	set, err := registry.New(append(registry.Shipped(), etcdraft.Protocol())...)
	require.NoError(t, err)
	_, ok := set.Lookup("etcdraft")
	assert.True(t, ok)
}
