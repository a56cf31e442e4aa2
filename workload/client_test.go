package workload

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// appliedCommand is one command a fake server ran, with its result.
type appliedCommand struct {
	cmd    service.Command
	result string
}

// fakeCluster is the state shared by the fake servers of a test: one KV
// behind sessions, as if perfectly replicated, and the log of what it ran.
type fakeCluster struct {
	sessions *service.Sessions
	applied  []appliedCommand
	leader   sim.NodeID // who answers; others say not-leader
	hint     bool       // whether not-leader answers name the leader
	silent   bool       // nobody answers at all
	// stale lists the servers whose not-leader answers name another
	// server than the leader (sim.None: none), as a removed server does.
	stale map[sim.NodeID]sim.NodeID
	// mute lists servers that never answer: a deposed leader cut off from
	// the others takes requests it cannot commit.
	mute map[sim.NodeID]bool
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{sessions: service.NewSessions(NewKV()), leader: 0, hint: true}
}

// fakeServer is a server node of a fakeCluster.
type fakeServer struct{ cl *fakeCluster }

func (s fakeServer) Start(sim.Env)                {}
func (s fakeServer) Timer(sim.Env, sim.TimerKind) {}

func (s fakeServer) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	req, ok := m.(service.Request)
	if !ok || s.cl.silent || s.cl.mute[env.ID()] {
		return
	}
	if env.ID() != s.cl.leader {
		hint := sim.None
		if s.cl.hint {
			hint = s.cl.leader
		}
		if h, ok := s.cl.stale[env.ID()]; ok {
			hint = h
		}
		env.Send(from, service.Reply{Client: req.Cmd.Client, Seq: req.Cmd.Seq, Status: service.StatusNotLeader, Leader: hint})
		return
	}
	result, outcome := s.cl.sessions.Apply(req.Cmd)
	if outcome == service.Stale {
		return
	}
	if outcome == service.Applied {
		s.cl.applied = append(s.cl.applied, appliedCommand{cmd: req.Cmd, result: string(result)})
	}
	env.Send(from, service.Reply{Client: req.Cmd.Client, Seq: req.Cmd.Seq, Status: service.StatusOK, Result: result})
}

// testWorld is a world of fake servers and a workload.
type testWorld struct {
	w  *sim.World
	wl *Workload
	cl *fakeCluster
}

func newTestWorld(t *testing.T, seed uint64, servers int, link sim.Link, cfg Config) *testWorld {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed, Link: link})
	require.NoError(t, err)
	cl := newFakeCluster()
	for range servers {
		w.AddServer(func(sim.NodeID) sim.Node { return fakeServer{cl: cl} })
	}
	wl, err := New(cfg)
	require.NoError(t, err)
	wl.Install(w)
	return &testWorld{w: w, wl: wl, cl: cl}
}

// runThenDrain runs the workload for d, stops it, and lets in-flight ops end.
func (tw *testWorld) runThenDrain(t *testing.T, d time.Duration) {
	t.Helper()
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(d)))
	tw.wl.Stop()
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(d).Add(2*tw.wl.cfg.Timeout)))
	require.Zero(t, tw.wl.Pending(), "operations still in flight after the drain")
}

func fixedLink(latency time.Duration) sim.Link {
	return sim.Link{LatencyMin: latency, LatencyMax: latency}
}

func testConfig() Config {
	return Config{Clients: 3, Keys: 4, Mix: Mix{Get: 3, Put: 3, Append: 1, CAS: 2},
		ThinkTime: 5 * time.Millisecond, Timeout: 500 * time.Millisecond, RetryInterval: 50 * time.Millisecond}
}

// checkAgainstServer asserts that every OK operation's answer is what the
// server computed for that (client, seq), that the server ran each command
// at most once, and that each client's sequence numbers go up by one.
func checkAgainstServer(t *testing.T, tw *testWorld) {
	t.Helper()
	type key struct {
		client sim.NodeID
		seq    uint64
	}
	ran := map[key]string{}
	for _, a := range tw.cl.applied {
		k := key{a.cmd.Client, a.cmd.Seq}
		_, dup := ran[k]
		require.False(t, dup, "command %v ran twice", k)
		ran[k] = a.result
	}
	clients := tw.w.Clients()
	lastSeq := make([]uint64, len(clients))
	for _, op := range tw.wl.History().Operations() {
		require.Equal(t, lastSeq[op.Client]+1, op.Seq, "op %d: sequence numbers go up by one", op.ID)
		lastSeq[op.Client] = op.Seq
		if op.Status != StatusOK {
			continue
		}
		result, ok := ran[key{clients[op.Client], op.Seq}]
		require.True(t, ok, "op %d returned OK but the server never ran it", op.ID)
		res, err := ParseResult(op.Kind, []byte(result))
		require.NoError(t, err)
		assert.Equal(t, Result{Value: op.Output, Found: op.Found, CASOK: op.CASOK}, res, "op %d", op.ID)
		assert.Less(t, op.Call, op.Return)
	}
}

func TestClientsCompleteOperations(t *testing.T) {
	tw := newTestWorld(t, 1, 1, fixedLink(time.Millisecond), testConfig())
	tw.runThenDrain(t, 2*time.Second)
	ok, failed, unknown := tw.wl.History().Counts()
	assert.Greater(t, ok, 300)
	assert.Zero(t, failed)
	assert.Zero(t, unknown)
	checkAgainstServer(t, tw)
	kinds := map[OpKind]int{}
	casOK := 0
	for _, op := range tw.wl.History().Operations() {
		kinds[op.Kind]++
		if op.CASOK {
			casOK++
		}
	}
	assert.Len(t, kinds, 4, "every kind of the mix is drawn")
	assert.Positive(t, casOK, "some cas operations succeed")
}

func TestRetriesApplyOnce(t *testing.T) {
	lossy := sim.Link{LatencyMin: time.Millisecond, LatencyMax: 20 * time.Millisecond, Drop: 0.3, Duplicate: 0.2}
	cfg := testConfig()
	cfg.RetryInterval = 10 * time.Millisecond
	tw := newTestWorld(t, 2, 1, lossy, cfg)
	tw.runThenDrain(t, 3*time.Second)
	assert.Positive(t, tw.wl.Stats().Retries)
	ok, failed, _ := tw.wl.History().Counts()
	assert.Greater(t, ok, 100)
	assert.Zero(t, failed)
	checkAgainstServer(t, tw)
}

func TestClientsFollowLeader(t *testing.T) {
	for _, hint := range []bool{true, false} {
		name := map[bool]string{true: "with hint", false: "without hint"}[hint]
		t.Run(name, func(t *testing.T) {
			tw := newTestWorld(t, 3, 3, fixedLink(time.Millisecond), testConfig())
			tw.cl.leader, tw.cl.hint = 1, hint
			tw.runThenDrain(t, time.Second)
			ok, _, unknown := tw.wl.History().Counts()
			assert.Greater(t, ok, 100)
			assert.Zero(t, unknown, "redirects find the leader well within the timeout")
			assert.Positive(t, tw.wl.Stats().Redirects)
			assert.Zero(t, tw.wl.Stats().Retries, "no reply was lost, so no retry timer fired")
			checkAgainstServer(t, tw)
		})
	}
}

// Stale hints must not trap a client: servers the cluster removed still
// point at a leader they last heard of (n0 at n4) or at none, and a client
// that followed them round-robin from n4 came back to n4 through n0 after
// every retry, never asking n1 to n3 (a swarm sweep of
// raft-membership-partition: the cluster healthy, every client waiting).
// A redirect never goes back to a server that refused the request since it
// was last sent on a timer, so the redirects alone reach the leader.
func TestStaleHintsDoNotTrapClients(t *testing.T) {
	cfg := testConfig()
	cfg.Clients = 7
	tw := newTestWorld(t, 5, 7, fixedLink(time.Millisecond), cfg)
	tw.cl.leader = 2
	tw.cl.stale = map[sim.NodeID]sim.NodeID{0: 4, 4: sim.None, 5: sim.None, 6: sim.None}
	tw.runThenDrain(t, time.Second)
	ok, _, unknown := tw.wl.History().Counts()
	assert.Greater(t, ok, 100)
	assert.Zero(t, unknown, "every client reaches the leader")
	assert.Zero(t, tw.wl.Stats().Retries, "redirects alone reach the leader")
	checkAgainstServer(t, tw)
}

// A retry does not come straight back to the server it gave up on: n3, a
// deposed leader cut off with n4, takes requests and never answers, and n4
// names it as leader. A client that retried from n3 to n4 and followed the
// hint back to n3 went round those two forever, and never asked n0 to n2,
// where the new leader was (a random fault timeline of the simtest
// property test: no operation succeeded for three seconds).
func TestRetriesDoNotReturnToASilentServer(t *testing.T) {
	cfg := testConfig()
	cfg.Clients = 20 // some start on n3 or n4
	tw := newTestWorld(t, 9, 5, fixedLink(time.Millisecond), cfg)
	tw.cl.leader = 1
	tw.cl.mute = map[sim.NodeID]bool{3: true}
	tw.cl.stale = map[sim.NodeID]sim.NodeID{4: 3}
	tw.runThenDrain(t, time.Second)
	ok, _, unknown := tw.wl.History().Counts()
	assert.Greater(t, ok, 100)
	assert.Zero(t, unknown, "every client reaches the leader")
	checkAgainstServer(t, tw)
}

func TestTimeoutsAreUnknown(t *testing.T) {
	cfg := testConfig()
	cfg.ThinkTime = 0
	cfg.Timeout = 100 * time.Millisecond
	tw := newTestWorld(t, 4, 2, fixedLink(time.Millisecond), cfg)
	tw.cl.silent = true
	tw.runThenDrain(t, time.Second)
	ops := tw.wl.History().Operations()
	require.NotEmpty(t, ops)
	// Each client times out every 100ms from its start: about 10 ops each.
	assert.InDelta(t, 3*10, len(ops), 3)
	for _, op := range ops {
		assert.Equal(t, StatusUnknown, op.Status)
		assert.Equal(t, sim.Forever, op.Return)
	}
	assert.Positive(t, tw.wl.Stats().Retries)
}

func TestOpenAndClosedLoopRates(t *testing.T) {
	const run = 10 * time.Second
	t.Run("open loop", func(t *testing.T) {
		cfg := testConfig()
		cfg.Clients, cfg.Rate = 4, 200
		tw := newTestWorld(t, 5, 1, fixedLink(time.Millisecond), cfg)
		tw.runThenDrain(t, run)
		// Poisson arrivals: 2000 expected, standard deviation about 45.
		assert.InDelta(t, 2000, tw.wl.History().Len(), 200)
		assert.Zero(t, tw.wl.Stats().Shed)
	})
	t.Run("closed loop", func(t *testing.T) {
		cfg := testConfig()
		cfg.Clients, cfg.ThinkTime = 2, 10*time.Millisecond
		tw := newTestWorld(t, 6, 1, fixedLink(time.Millisecond), cfg)
		tw.runThenDrain(t, run)
		// Each op takes 2ms round trip plus 10ms think time: 12ms per op.
		assert.InDelta(t, 2*float64(run)/float64(12*time.Millisecond), tw.wl.History().Len(), 20)
	})
	t.Run("open loop overload sheds", func(t *testing.T) {
		cfg := testConfig()
		cfg.Clients, cfg.Rate, cfg.Backlog = 1, 1000, 4
		tw := newTestWorld(t, 7, 1, fixedLink(10*time.Millisecond), cfg)
		tw.runThenDrain(t, time.Second)
		// One op per 20ms round trip: about 50 issued, the rest shed.
		assert.InDelta(t, 50, tw.wl.History().Len(), 5)
		assert.Greater(t, tw.wl.Stats().Shed, uint64(800))
	})
}

func TestStopIssuesNothingNew(t *testing.T) {
	tw := newTestWorld(t, 8, 1, fixedLink(time.Millisecond), testConfig())
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(500*time.Millisecond)))
	tw.wl.Stop()
	n := tw.wl.History().Len()
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(2*time.Second)))
	assert.Equal(t, n, tw.wl.History().Len())
	assert.Zero(t, tw.wl.Pending())
}

func TestWorkloadIsDeterministic(t *testing.T) {
	lossy := sim.Link{LatencyMin: time.Millisecond, LatencyMax: 20 * time.Millisecond, Drop: 0.1, Duplicate: 0.1}
	run := func(seed uint64) (uint64, []byte) {
		cfg := testConfig()
		cfg.Rate = 300
		tw := newTestWorld(t, seed, 3, lossy, cfg)
		tw.runThenDrain(t, 2*time.Second)
		var buf bytes.Buffer
		require.NoError(t, tw.wl.History().WriteJSON(&buf))
		return tw.w.Result().Hash, buf.Bytes()
	}
	h1, hist1 := run(42)
	h2, hist2 := run(42)
	h3, _ := run(43)
	assert.Equal(t, h1, h2, "same seed, same trace hash")
	assert.Equal(t, hist1, hist2, "same seed, same history")
	assert.NotEqual(t, h1, h3, "another seed, another run")
}

// TestFinishMakesOneFinalOperationPerClient: in the liveness phase each
// client makes exactly one more operation, retried past its timeout until a
// silent service answers again.
func TestFinishMakesOneFinalOperationPerClient(t *testing.T) {
	for _, open := range []bool{false, true} {
		cfg := testConfig()
		if open {
			cfg.Rate = 200
		}
		tw := newTestWorld(t, 9, 2, fixedLink(time.Millisecond), cfg)
		require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(300*time.Millisecond)))
		tw.cl.silent = true
		tw.wl.Finish(tw.w)
		require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(3*time.Second)))
		done, waiting := tw.wl.Finished()
		require.Zero(t, done, "open=%v: a silent service completes nothing", open)
		require.Equal(t, []int{0, 1, 2}, waiting)
		tw.cl.silent = false
		before := tw.wl.History().Len()
		require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(4*time.Second)))
		done, waiting = tw.wl.Finished()
		require.Equal(t, 3, done, "open=%v", open)
		require.Empty(t, waiting)
		require.Zero(t, tw.wl.Pending())
		require.LessOrEqual(t, tw.wl.History().Len()-before, 0, "no operation after the final ones")
		ok, _, _ := tw.wl.History().Counts()
		require.Positive(t, ok)
	}
}

// TestFinishPromptsIdleOpenLoopClients: at a low open-loop rate (a mean of
// a minute between one client's arrivals) the final operations are made at
// once, not at each client's next arrival, which would outlast the liveness
// phase's bound.
func TestFinishPromptsIdleOpenLoopClients(t *testing.T) {
	cfg := testConfig()
	cfg.Rate = 0.05 // three clients: one arrival a minute each
	tw := newTestWorld(t, 9, 2, fixedLink(time.Millisecond), cfg)
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(time.Second)))
	tw.wl.Finish(tw.w)
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(1100*time.Millisecond)))
	done, waiting := tw.wl.Finished()
	require.Equal(t, 3, done, "waiting: %v", waiting)
}

// liarServer answers every request itself: honestly from the shared KV, or
// with a made-up result if it lies.
type liarServer struct {
	cl  *fakeCluster
	lie bool
}

func (s liarServer) Start(sim.Env)                {}
func (s liarServer) Timer(sim.Env, sim.TimerKind) {}
func (s liarServer) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	req, ok := m.(service.Request)
	if !ok {
		return
	}
	result, _ := s.cl.sessions.Apply(req.Cmd)
	if s.lie {
		result = []byte("ok forged")
	}
	env.Send(from, service.Reply{Client: req.Cmd.Client, Seq: req.Cmd.Seq, Status: service.StatusOK, Result: result})
}

// TestReplyQuorumOutvotesALiar: with ReplyQuorum 2 and broadcast retries, a
// client accepts only a result that two servers agree on, so one lying
// server cannot make it accept a forged answer.
func TestReplyQuorumOutvotesALiar(t *testing.T) {
	for _, quorum := range []int{1, 2} {
		w, err := sim.NewWorld(sim.Config{Seed: 4, Link: fixedLink(time.Millisecond)})
		require.NoError(t, err)
		cl := newFakeCluster()
		w.AddServer(func(sim.NodeID) sim.Node { return liarServer{cl: cl, lie: true} })
		w.AddServer(func(sim.NodeID) sim.Node { return liarServer{cl: cl} })
		w.AddServer(func(sim.NodeID) sim.Node { return liarServer{cl: cl} })
		cfg := testConfig()
		cfg.Mix = Mix{Get: 1}
		cfg.ReplyQuorum, cfg.BroadcastRetry = quorum, true
		wl, err := New(cfg)
		require.NoError(t, err)
		wl.Install(w)
		w.RunUntil(sim.Time(2 * time.Second))
		forged := 0
		for _, op := range wl.History().Operations() {
			if op.Status == StatusOK && op.Output == "forged" {
				forged++
			}
		}
		ok, _, _ := wl.History().Counts()
		require.Positive(t, ok, "quorum %d", quorum)
		if quorum == 1 {
			require.Positive(t, forged, "a client trusting one reply believes the liar")
		} else {
			require.Zero(t, forged, "f+1 matching replies outvote one liar")
		}
	}
}

// misroutingServer answers every request as if another client had sent it.
type misroutingServer struct{}

func (misroutingServer) Start(sim.Env)                {}
func (misroutingServer) Timer(sim.Env, sim.TimerKind) {}
func (misroutingServer) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if req, ok := m.(service.Request); ok {
		env.Send(from, service.Reply{Client: req.Cmd.Client + 1, Seq: req.Cmd.Seq, Status: service.StatusOK, Result: []byte("ok forged")})
	}
}

// TestReplyForAnotherClientIsNotAnAnswer: a reply that names another client
// (a server's mix-up) answers nothing, whatever its sequence number.
func TestReplyForAnotherClientIsNotAnAnswer(t *testing.T) {
	w, err := sim.NewWorld(sim.Config{Seed: 4, Link: fixedLink(time.Millisecond)})
	require.NoError(t, err)
	w.AddServer(func(sim.NodeID) sim.Node { return misroutingServer{} })
	cfg := testConfig()
	cfg.Mix = Mix{Get: 1}
	wl, err := New(cfg)
	require.NoError(t, err)
	wl.Install(w)
	w.RunUntil(sim.Time(time.Second))
	ok, _, _ := wl.History().Counts()
	require.Zero(t, ok)
}

// TestStopCountsTheShedBacklogAsAbandoned: an open-loop client overloaded
// past its backlog, stopped, abandons the operations still waiting in it:
// the summary counts them rather than letting them vanish.
func TestStopCountsTheShedBacklogAsAbandoned(t *testing.T) {
	cfg := testConfig()
	cfg.Clients, cfg.Rate, cfg.Backlog = 1, 1000, 4
	tw := newTestWorld(t, 7, 1, fixedLink(10*time.Millisecond), cfg)
	tw.runThenDrain(t, time.Second)
	require.Equal(t, uint64(4), tw.wl.Stats().Abandoned)
}

// TestRestartedClientStillTimesOut: a client restarted while its operation
// is in flight to a silent service times out again in its new incarnation,
// and the drain finds nothing pending.
func TestRestartedClientStillTimesOut(t *testing.T) {
	cfg := testConfig()
	cfg.ThinkTime, cfg.Timeout = 0, 100*time.Millisecond
	tw := newTestWorld(t, 4, 1, fixedLink(time.Millisecond), cfg)
	tw.cl.silent = true
	require.Equal(t, sim.Reached, tw.w.RunUntil(sim.Time(50*time.Millisecond)))
	tw.w.Crash(1) // the first client: node 1, after the one server
	tw.w.Restart(1)
	tw.runThenDrain(t, time.Second)
}

// firstHearingServer answers every request honestly, like liarServer, and
// records which server heard each (client, seq) first: where the client sent
// it before any retry.
type firstHearingServer struct {
	cl    *fakeCluster
	first map[[2]uint64]sim.NodeID
}

func (firstHearingServer) Start(sim.Env)                {}
func (firstHearingServer) Timer(sim.Env, sim.TimerKind) {}
func (s firstHearingServer) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	req, ok := m.(service.Request)
	if !ok {
		return
	}
	if k := [2]uint64{uint64(req.Cmd.Client), req.Cmd.Seq}; s.first[k] == 0 {
		s.first[k] = env.ID() + 1 // 0 means not heard yet
	}
	result, _ := s.cl.sessions.Apply(req.Cmd)
	env.Send(from, service.Reply{Client: req.Cmd.Client, Seq: req.Cmd.Seq, Status: service.StatusOK, Result: result})
}

// TestReplyQuorumKeepsThePresumedPrimary: under a reply quorum a client's
// answer comes from several servers, none of which it thereby learns is the
// primary, so it keeps sending new requests where it sent the last ones.
// Following whichever reply completed the quorum (as a client answered by
// one server may) would move it off the primary after every broadcast retry.
func TestReplyQuorumKeepsThePresumedPrimary(t *testing.T) {
	w, err := sim.NewWorld(sim.Config{Seed: 9, Link: fixedLink(time.Millisecond)})
	require.NoError(t, err)
	cl := newFakeCluster()
	first := map[[2]uint64]sim.NodeID{}
	for range 3 {
		w.AddServer(func(sim.NodeID) sim.Node { return firstHearingServer{cl: cl, first: first} })
	}
	cfg := testConfig()
	cfg.Mix = Mix{Get: 1}
	cfg.ReplyQuorum, cfg.BroadcastRetry = 2, true
	wl, err := New(cfg)
	require.NoError(t, err)
	wl.Install(w)
	w.RunUntil(sim.Time(2 * time.Second))
	ok, _, _ := wl.History().Counts()
	require.GreaterOrEqual(t, ok, 3*cfg.Clients, "each client completes several operations")
	sentTo := map[sim.NodeID]map[sim.NodeID]bool{} // client -> servers its first sends went to
	for k, server := range first {
		client := sim.NodeID(k[0])
		if sentTo[client] == nil {
			sentTo[client] = map[sim.NodeID]bool{}
		}
		sentTo[client][server-1] = true
	}
	for client, servers := range sentTo {
		require.Len(t, servers, 1, "client %d sent new requests to servers %v", client, servers)
	}
}
