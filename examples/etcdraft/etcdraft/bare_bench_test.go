package etcdraft

import (
	"container/heap"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkEtcdRaftBare5 drives five etcd-raft RawNodes without simrun: a
// virtual clock over a binary heap of ticks, deliveries and client
// proposals, raft.MemoryStorage as the only storage, no simulated disk,
// checker, trace or client session. It is the anchor for Raft5's simulated
// seconds per second that does not move when simrun's kernel does (as
// EtcdRaft5, which runs under it, does). The load is Raft5's: a 10ms tick
// that is the heartbeat, elections after 30 ticks, latency uniform in 1-5ms,
// 100 proposals per simulated second to the leader, 60 simulated seconds.
func BenchmarkEtcdRaftBare5(b *testing.B) {
	var simTime time.Duration
	var events, applied uint64
	seed := uint64(0)
	for b.Loop() {
		seed++
		h := newBareHarness(5, seed)
		h.run(60 * time.Second)
		simTime += h.now
		events += h.events
		applied += h.applied
	}
	wall := b.Elapsed().Seconds()
	b.ReportMetric(simTime.Seconds()/wall, "sim-s/s")
	b.ReportMetric(float64(events)/wall, "events/s")
	// Each of the five servers applies every committed entry: about 100 per
	// simulated second when the load gets through.
	b.ReportMetric(float64(applied)/5/simTime.Seconds(), "applied/sim-s")
	if applied == 0 {
		b.Fatal("no proposal was ever applied: the harness elected no leader")
	}
}

const (
	bareTick      = 10 * time.Millisecond
	bareProposals = 10 * time.Millisecond // 100 per second
)

type bareEventKind uint8

const (
	bareTickEvent bareEventKind = iota
	bareDeliver
	barePropose
)

type bareEvent struct {
	at   time.Duration
	seq  uint64
	kind bareEventKind
	node int
	msg  raftpb.Message
}

// bareQueue is a min-heap of events by time, then scheduling order.
type bareQueue []bareEvent

func (q bareQueue) Len() int { return len(q) }
func (q bareQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q bareQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bareQueue) Push(x any)   { *q = append(*q, x.(bareEvent)) }
func (q *bareQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type bareHarness struct {
	nodes    []*raft.RawNode
	storages []*raft.MemoryStorage
	queue    bareQueue
	rng      *rand.Rand
	now      time.Duration
	seq      uint64
	leader   uint64 // raft ID of the last leader a Ready announced, 0 if none
	proposed uint64
	events   uint64
	applied  uint64
}

func newBareHarness(n int, seed uint64) *bareHarness {
	h := &bareHarness{rng: rand.New(rand.NewPCG(seed, 0))}
	peers := make([]raft.Peer, n)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	for i := range n {
		st := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(&raft.Config{ID: uint64(i + 1), ElectionTick: 30, HeartbeatTick: 1,
			Storage: st, MaxSizePerMsg: 4096, MaxInflightMsgs: 256, CheckQuorum: true, PreVote: true,
			Logger: quietLogger{}})
		if err != nil {
			panic(err)
		}
		if err := rn.Bootstrap(peers); err != nil {
			panic(err)
		}
		h.nodes, h.storages = append(h.nodes, rn), append(h.storages, st)
		h.schedule(bareEvent{at: bareTick, kind: bareTickEvent, node: i})
	}
	h.schedule(bareEvent{at: bareProposals, kind: barePropose})
	return h
}

func (h *bareHarness) schedule(e bareEvent) {
	h.seq++
	e.seq = h.seq
	heap.Push(&h.queue, e)
}

func (h *bareHarness) run(until time.Duration) {
	for h.queue.Len() > 0 && h.queue[0].at <= until {
		e := heap.Pop(&h.queue).(bareEvent)
		h.now = e.at
		h.events++
		switch e.kind {
		case bareTickEvent:
			h.nodes[e.node].Tick()
			h.schedule(bareEvent{at: h.now + bareTick, kind: bareTickEvent, node: e.node})
		case bareDeliver:
			_ = h.nodes[e.node].Step(e.msg)
		case barePropose:
			h.propose()
			h.schedule(bareEvent{at: h.now + bareProposals, kind: barePropose})
			continue
		}
		h.handleReady(e.node)
	}
}

// propose hands the next command to the leader, if one is known.
func (h *bareHarness) propose() {
	if h.leader == 0 {
		return
	}
	h.proposed++
	i := int(h.leader - 1)
	cmd := "put k" + strconv.Itoa(int(h.proposed%8)) + " c0." + strconv.FormatUint(h.proposed, 10)
	_ = h.nodes[i].Propose([]byte(cmd))
	h.handleReady(i)
}

// handleReady persists, sends and applies what node i's RawNode has ready,
// in etcd's order: entries and hard state first, then messages.
func (h *bareHarness) handleReady(i int) {
	rn := h.nodes[i]
	for rn.HasReady() {
		rd := rn.Ready()
		if rd.SoftState != nil && rd.SoftState.Lead != raft.None {
			h.leader = rd.SoftState.Lead
		}
		if !raft.IsEmptyHardState(rd.HardState) {
			_ = h.storages[i].SetHardState(rd.HardState)
		}
		_ = h.storages[i].Append(rd.Entries)
		for _, m := range rd.Messages {
			latency := time.Millisecond + time.Duration(h.rng.Int64N(int64(4*time.Millisecond)))
			h.schedule(bareEvent{at: h.now + latency, kind: bareDeliver, node: int(m.To - 1), msg: m})
		}
		for _, e := range rd.CommittedEntries {
			if e.Type == raftpb.EntryConfChange {
				var cc raftpb.ConfChange
				_ = cc.Unmarshal(e.Data)
				rn.ApplyConfChange(cc)
			}
			h.applied++
		}
		rn.Advance(rd)
	}
}
