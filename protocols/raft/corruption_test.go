package raft

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// flipBit damages the record under key, as sim.World.CorruptDisk does.
func flipBit(d *sim.Disk, key string) {
	b, ok := d.Get(key)
	if !ok {
		panic("no record " + key)
	}
	b[len(b)/2] ^= 0x10
	d.Put(key, b)
	d.Sync()
}

// corruptEntry flips a bit inside the record of the entry at index.
func corruptEntry(d *sim.Disk, index uint64) {
	key := logKey(chunkStart(index))
	b, ok := d.Get(key)
	if !ok {
		panic("no chunk " + key)
	}
	at := 0
	for i := chunkStart(index); ; i++ {
		size, n := binary.Uvarint(b[at:])
		if i == index {
			b[at+n+int(size)/2] ^= 0x10
			break
		}
		at += n + int(size)
	}
	d.Put(key, b)
	d.Sync()
}

// twentyEntries is a log of two chunks: terms 2 up to index 10, then 3.
func twentyEntries() []Entry {
	terms := make([]uint64, 20)
	for i := range terms {
		terms[i] = 2 + uint64(i/10)
	}
	return entries(terms...)
}

func TestLoadStateWithCorruption(t *testing.T) {
	all := terms(append([]Entry{{}}, twentyEntries()...))
	tests := []struct {
		name  string
		entry uint64   // the entry to corrupt, if any
		keys  []string // the records to corrupt, if any
		terms []uint64 // the log loaded
		lost  logPosition
		fault bool
	}{
		{"intact", 0, nil, all, logPosition{}, false},
		{"entry of the first chunk", 3, nil, all[:2], logPosition{20, 3}, false},
		{"entry of the last chunk: the end of the chunk, in the current term, bounds it", 18, nil, all[:17], logPosition{32, 7}, false},
		{"one copy of the hard state", 0, []string{hardStateKeys[1]}, all, logPosition{}, false},
		{"both copies of the hard state", 0, hardStateKeys[:], nil, logPosition{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t, 3, DefaultConfig())
			tn.writeState(0, 7, 1, twentyEntries())
			d := tn.envs[0].disk
			for _, k := range tt.keys {
				flipBit(d, k)
			}
			if tt.entry != 0 {
				corruptEntry(d, tt.entry)
			}
			st := loadState(d)
			if tt.fault {
				require.NotEmpty(t, st.fault)
				return
			}
			require.Empty(t, st.fault)
			assert.Equal(t, tt.terms, terms(st.log))
			assert.Equal(t, hardState{term: 7, vote: 1, lost: tt.lost}, st.hard)
			assert.Zero(t, d.Unsynced(), "repairs are synced")
			// The repaired disk loads the same again: both hard state copies
			// are sound and the log keys past the damage are gone.
			again := loadState(d)
			assert.Equal(t, st.hard, again.hard)
			assert.Equal(t, terms(st.log), terms(again.log))
			assert.Len(t, d.Keys(logKeyPrefix), (len(tt.terms)+entriesPerChunk-1)/entriesPerChunk)
			for _, k := range hardStateKeys {
				b, _ := d.Get(k)
				_, err := decodeHardState(b)
				assert.NoError(t, err)
			}
		})
	}
}

// A server whose disk lost log entries votes as if it still had them, does
// not campaign, and returns to normal once a leader has brought its log back
// to where it was.
func TestRecoveringServer(t *testing.T) {
	const s, cand = 0, 1
	tn := newTestNet(t, 3, DefaultConfig())
	tn.writeState(s, 3, sim.None, twentyEntries())
	corruptEntry(tn.envs[s].disk, 3)
	tn.start(s)
	n := tn.nodes[s]
	require.Equal(t, logPosition{20, 3}, n.lost)
	require.Equal(t, uint64(2), n.lastIndex())
	require.True(t, n.recovering())

	// §5.4.1 against the lost log: (19, 3) is behind (20, 3); (20, 3) is not.
	tn.deliverOne(envelope{from: cand, to: s, msg: MsgVote{Term: 4, LastIndex: 19, LastTerm: 3}})
	assert.Equal(t, MsgVoteResp{Term: 4}, tn.takeLast(s, cand))
	tn.deliverOne(envelope{from: cand, to: s, msg: MsgVote{Term: 5, LastIndex: 20, LastTerm: 3}})
	assert.Equal(t, MsgVoteResp{Term: 5, Granted: true}, tn.takeLast(s, cand))

	tn.fire(s, timerElection)
	assert.Equal(t, roleFollower, n.role, "no campaign while recovering")
	assert.Empty(t, tn.queue)

	// The leader of term 5 brings the log back past the lost position.
	log := append(twentyEntries(), Entry{Term: 5})
	tn.deliverOne(envelope{from: cand, to: s, msg: MsgApp{Term: 5, PrevIndex: 2, PrevTerm: 2, Entries: log[2:]}})
	assert.Equal(t, MsgAppResp{Term: 5, Index: 21}, tn.takeLast(s, cand))
	assert.False(t, n.recovering())
	assert.Equal(t, logPosition{}, n.lost)
	st := loadState(tn.envs[s].disk)
	assert.Equal(t, logPosition{}, st.hard.lost, "persisted")
	assert.Equal(t, terms(n.log), terms(st.log))
}

// A server that cannot trust its hard state stays down, silently.
func TestServerWithUnreadableHardStateStaysDown(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.writeState(0, 3, sim.None, entries(1))
	for _, k := range hardStateKeys {
		flipBit(tn.envs[0].disk, k)
	}
	tn.start(0)
	require.True(t, tn.nodes[0].down)
	require.Equal(t, sim.ObsHalt, tn.obs[0].Kind)
	tn.deliverOne(envelope{from: 1, to: 0, msg: MsgVote{Term: 9, LastIndex: 9, LastTerm: 9}})
	tn.request(3, 0, 1, "add k")
	tn.deliver()
	tn.fire(0, timerElection)
	assert.Empty(t, tn.queue)
	assert.Empty(t, tn.replies)
}

// corruptionFaults flips a bit on a server's disk (half the time the
// leader's) every 1-3s and restarts it from the damaged disk, besides crashes.
var corruptionFaults = nemesis{
	start: time.Second, end: 20 * time.Second, gapMin: time.Second, gapMax: 3 * time.Second,
	crash: true, crashMax: 1, crashLeader: true, downMin: 10 * time.Millisecond, downMax: time.Second,
	corrupt: true,
}

// Under disk corruption the checksums catch every bad record and safety
// holds; liveness too while a majority can still vote. Without the lost-log
// rule (truncating and voting by the shortened log) a 500-seed sweep of
// three-server clusters finds two digests at one index (seed 371 when this
// was written); with it, 500 seeds of three and of five servers pass,
// liveness included.
func TestSafetyAndProgressUnderDiskCorruption(t *testing.T) {
	recovered := 0
	t.Cleanup(func() {
		if !t.Failed() {
			assert.Positive(t, recovered, "some server lost entries to corruption and recovered them")
			t.Logf("%d recoveries from lost entries", recovered)
		}
	})
	for _, servers := range []int{3, 5} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run("servers="+strconv.Itoa(servers)+"/seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
				o := defaultOpts(seed)
				o.servers = servers
				c := newCluster(t, o)
				c.w.OnObservation(func(o sim.Observation) {
					if o.Kind == sim.ObsNote && strings.Contains(o.Text, "lost entries") {
						recovered++
					}
				})
				runSafeAndLive(t, c, corruptionFaults)
			})
		}
	}
}
