package prototest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// ping is a message of the kit's own tests.
type ping struct{ n int }

func (p ping) AppendTrace(b []byte) []byte {
	return strconv.AppendInt(append(b, "ping "...), int64(p.n), 10)
}

// echo writes what it receives to its disk (synced or not, by the message's
// parity), announces it as committed at index n, and answers with n+1.
type echo struct{}

func (echo) Start(env sim.Env) { env.SetTimer(0, time.Second) }

func (echo) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	p := m.(ping)
	key := "k" + strconv.Itoa(p.n)
	env.Disk().Put(key, []byte(key))
	if p.n%2 == 0 {
		env.Disk().Sync()
	}
	env.Observe(sim.Observation{Kind: sim.ObsCommit, Index: uint64(p.n), Digest: uint64(from)})
	env.Send(from, ping{p.n + 1})
}

func (echo) Timer(env sim.Env, kind sim.TimerKind) { env.CancelTimer(kind) }

func newEchoNet(t *testing.T, n int) *Net[echo] {
	return NewNet[echo](t, n, func(sim.NodeID) sim.Node { return echo{} })
}

func TestEnvRecordsEffectsInOrder(t *testing.T) {
	tn := newEchoNet(t, 2)
	tn.StartAll()
	tn.Inject(1, 0, ping{2})
	tn.Step()
	kinds := []EffectKind{}
	for _, e := range tn.Env(0).Effects {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []EffectKind{EffectSetTimer, EffectObserve, EffectSend}, kinds)
	assert.Equal(t, map[sim.TimerKind]time.Duration{0: time.Second}, tn.Env(0).Timers)
	tn.Fire(0, 0)
	assert.Empty(t, tn.Env(0).Timers, "fired, then cancelled")
	assert.Equal(t, []string{
		"start n0", "start n1",
		"deliver n0 n1 ping 2", "  obs n0 commit term=0 index=2 digest=1", "  send n0 n1 ping 3",
		"timer n0 0",
	}, tn.TakeTrace())
}

func TestCrashLosesUnsyncedWritesOnly(t *testing.T) {
	tn := newEchoNet(t, 2)
	tn.StartAll()
	tn.Inject(1, 0, ping{2}) // synced
	tn.Inject(1, 0, ping{3}) // not synced
	tn.Deliver(nil)          // the answers stay queued: echo never goes quiet
	require.Equal(t, 1, tn.Disk(0).Unsynced())
	tn.Crash(0)
	assert.False(t, tn.Up(0))
	_, kept := tn.Disk(0).Get("k2")
	_, lost := tn.Disk(0).Get("k3")
	assert.True(t, kept)
	assert.False(t, lost)
	tn.TakeTrace()
	tn.DeliverOne(Envelope{From: 1, To: 0, Msg: ping{4}})
	assert.Contains(t, tn.TakeTrace(), "drop n0 n1 ping 4 (down)")
	tn.Restart(0)
	tn.DeliverOne(Envelope{From: 1, To: 0, Msg: ping{5}}) // a second crash works as well
	tn.Crash(0)
	_, lost = tn.Disk(0).Get("k5")
	assert.False(t, lost)
}

func TestQueueControls(t *testing.T) {
	tn := newEchoNet(t, 3)
	tn.StartAll()
	for i := range 3 {
		tn.Inject(2, sim.NodeID(i%2), ping{10 + i})
	}
	to0 := func(e Envelope) bool { return e.To == 0 }
	assert.Equal(t, 2, tn.Duplicate(to0))
	tn.Reorder(to0)
	assert.Equal(t, "n2 n0 ping 12\nn2 n1 ping 11\nn2 n0 ping 10\nn2 n0 ping 12\nn2 n0 ping 10\n", Format(tn.Queue))
	assert.Equal(t, 1, tn.DropQueued(func(e Envelope) bool { return e.To == 1 }))
	assert.Equal(t, 4, tn.Deliver(to0), "one round: the answers stay queued")
	assert.Len(t, tn.Queue, 4)
	assert.Equal(t, "ping", MessageKind(tn.Queue[0].Msg))
}

func TestViolationsComeFromTheCheckers(t *testing.T) {
	tn := newEchoNet(t, 3)
	tn.StartAll()
	tn.Inject(1, 0, ping{7})
	tn.Inject(2, 0, ping{7}) // index 7 again, another digest
	tn.Deliver(nil)
	require.Len(t, tn.Violations(), 1)
	assert.Contains(t, tn.Violations()[0].Error(), "agreement violated")
	assert.NotNil(t, Agreement(tn.Obs))
	assert.Nil(t, Agreement(tn.Obs[:1]))
}

func TestSignaturesVerifyOnlyIfMade(t *testing.T) {
	tn := newEchoNet(t, 2)
	s := tn.Env(0).Sign(42)
	assert.True(t, tn.Env(1).Verify(s))
	assert.False(t, tn.Env(1).Verify(sim.Signature{Signer: 1, Digest: 42}), "made up")
	assert.True(t, tn.Env(1).Verify(tn.Sign(1, 42)))
}

func TestKV(t *testing.T) {
	kv := NewKV().(*KV)
	assert.Equal(t, "ok", string(kv.Apply([]byte("set a 1"))))
	assert.Equal(t, "1", string(kv.Apply([]byte("get a"))))
	assert.Equal(t, "2", string(kv.Apply([]byte("add a"))))
	assert.Equal(t, "bad op", string(kv.Apply([]byte("del a"))))
	again := NewKV().(*KV)
	require.NoError(t, again.Restore(kv.Snapshot()))
	assert.Equal(t, map[string]string{"a": "2"}, again.State())
	assert.Error(t, again.Restore([]byte{9}))
	s := service.NewSessions(NewKVWith(map[string]string{"b": "5"}))
	state, err := SessionsState(s)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"b": "5"}, state)
	assert.False(t, service.NewSessions(NewPlainKV()).CanSnapshot())
}
