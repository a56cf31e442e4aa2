package checkers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// kvServer is a single-node KV service for end-to-end checks. With
// staleReads it answers gets from a copy that lags one write behind: the
// classic bug of serving reads from a follower.
type kvServer struct {
	sessions   *service.Sessions
	lagging    service.StateMachine
	pending    []byte // the write the lagging copy has not applied yet
	staleReads bool
}

// The server applies requests but answers none in [muteFrom, muteUntil), so
// that the history has operations with unknown outcome that took effect.
const (
	muteFrom  = sim.Time(time.Second)
	muteUntil = sim.Time(1300 * time.Millisecond)
)

func newKVServer(staleReads bool) *kvServer {
	return &kvServer{sessions: service.NewSessions(workload.NewKV()), lagging: workload.NewKV(), staleReads: staleReads}
}

func (s *kvServer) Start(sim.Env)                {}
func (s *kvServer) Timer(sim.Env, sim.TimerKind) {}

func (s *kvServer) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	req, ok := m.(service.Request)
	if !ok {
		return
	}
	op, err := workload.ParseOp(req.Cmd.Op)
	if err != nil {
		panic(err) // the workload sends only valid ops
	}
	var result []byte
	if s.staleReads && op.Kind == workload.OpGet {
		result = s.lagging.Apply(req.Cmd.Op)
	} else {
		var outcome service.Outcome
		if result, outcome = s.sessions.Apply(req.Cmd); outcome == service.Stale {
			return
		}
		if outcome == service.Applied && op.Kind != workload.OpGet {
			if s.pending != nil {
				s.lagging.Apply(s.pending)
			}
			s.pending = req.Cmd.Op
		}
	}
	if env.Now() >= muteFrom && env.Now() < muteUntil {
		return // applied, but the answer is lost: the client cannot know
	}
	env.Send(from, service.Reply{Client: req.Cmd.Client, Seq: req.Cmd.Seq, Status: service.StatusOK, Result: result})
}

func runKVServer(t *testing.T, seed uint64, staleReads bool) *workload.History {
	t.Helper()
	link := sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond, Drop: 0.05, Duplicate: 0.05}
	w, err := sim.NewWorld(sim.Config{Seed: seed, Link: link})
	require.NoError(t, err)
	srv := newKVServer(staleReads)
	w.AddServer(func(sim.NodeID) sim.Node { return srv })
	cfg := workload.DefaultConfig()
	cfg.Keys, cfg.Timeout, cfg.RetryInterval = 3, 200*time.Millisecond, 30*time.Millisecond
	wl, err := workload.New(cfg)
	require.NoError(t, err)
	wl.Install(w)
	require.Equal(t, sim.Reached, w.RunUntil(sim.Time(2*time.Second)))
	wl.Stop()
	require.Equal(t, sim.Reached, w.RunUntil(sim.Time(3*time.Second)))
	return wl.History()
}

func TestEndToEnd(t *testing.T) {
	t.Run("a correct server passes", func(t *testing.T) {
		h := runKVServer(t, 1, false)
		ok, _, unknown := h.Counts()
		require.Greater(t, ok, 150)
		require.Positive(t, unknown)
		res := CheckLinearizable(h, 10*time.Second)
		assert.Equal(t, Pass, res.Verdict, res.Detail)
		t.Logf("%s; %d unknown", res.Detail, unknown)
	})
	t.Run("stale reads fail", func(t *testing.T) {
		res := CheckLinearizable(runKVServer(t, 1, true), 10*time.Second)
		assert.Equal(t, Fail, res.Verdict, res.Detail)
		assert.NotEmpty(t, res.FailedKeys)
	})
}
