package raft

import (
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// corruptEntry flips a bit inside the record of the entry at index.
func corruptEntry(t *testing.T, d *sim.Disk, index uint64) {
	key := logKey(chunkStart(index))
	b, ok := d.Get(key)
	require.True(t, ok, "no chunk %s", key)
	rest := b
	for i := chunkStart(index); ; i++ {
		record, next, status := service.NextFrame(rest)
		require.Equal(t, service.FrameWhole, status, "entry %d", i)
		if i == index {
			at := len(b) - len(rest) + service.FrameHeaderSize + len(record)/2
			b[at] ^= 0x10
			break
		}
		rest = next
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
			writeState(tn, 0, 7, 1, twentyEntries())
			d := tn.Disk(0)
			for _, k := range tt.keys {
				prototest.FlipBit(t, d, k)
			}
			if tt.entry != 0 {
				corruptEntry(t, d, tt.entry)
			}
			st := loadState(d)
			if tt.fault {
				require.NotEmpty(t, st.fault)
				return
			}
			require.Empty(t, st.fault)
			assert.Equal(t, tt.terms, terms(st.log.all()))
			assert.Equal(t, hardState{term: 7, vote: 1, lost: tt.lost}, st.hard)
			assert.Zero(t, d.Unsynced(), "repairs are synced")
			// The repaired disk loads the same again: both hard state copies
			// are sound and the log keys past the damage are gone.
			again := loadState(d)
			assert.Equal(t, st.hard, again.hard)
			assert.Equal(t, terms(st.log.all()), terms(again.log.all()))
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
	writeState(tn, s, 3, sim.None, twentyEntries())
	corruptEntry(t, tn.Disk(s), 3)
	tn.Start(s)
	n := tn.Node(s)
	require.Equal(t, logPosition{20, 3}, n.lost)
	require.Equal(t, uint64(2), n.lastIndex())
	require.True(t, n.recovering())

	// §5.4.1 against the lost log: (19, 3) is behind (20, 3); (20, 3) is not.
	receive(tn, cand, s, MsgVote{Term: 4, LastIndex: 19, LastTerm: 3})
	assert.Equal(t, MsgVoteResp{Term: 4}, takeLast(tn, s, cand))
	receive(tn, cand, s, MsgVote{Term: 5, LastIndex: 20, LastTerm: 3})
	assert.Equal(t, MsgVoteResp{Term: 5, Granted: true}, takeLast(tn, s, cand))

	tn.Fire(s, timerElection)
	assert.Equal(t, roleFollower, n.role, "no campaign while recovering")
	assert.Empty(t, tn.Queue)

	// The leader of term 5 brings the log back past the lost position.
	log := append(twentyEntries(), Entry{Term: 5})
	receive(tn, cand, s, MsgApp{Term: 5, PrevIndex: 2, PrevTerm: 2, Entries: log[2:]})
	assert.Equal(t, MsgAppResp{Term: 5, Index: 21}, takeLast(tn, s, cand))
	assert.False(t, n.recovering())
	assert.Equal(t, logPosition{}, n.lost)
	st := loadState(tn.Disk(s))
	assert.Equal(t, logPosition{}, st.hard.lost, "persisted")
	assert.Equal(t, terms(n.log.all()), terms(st.log.all()))
}

// A server that cannot trust its hard state stays down, silently.
func TestServerWithUnreadableHardStateStaysDown(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	writeState(tn, 0, 3, sim.None, entries(1))
	for _, k := range hardStateKeys {
		prototest.FlipBit(t, tn.Disk(0), k)
	}
	tn.Start(0)
	require.True(t, tn.Node(0).down)
	require.Equal(t, sim.ObsHalt, tn.Obs[0].Kind)
	receive(tn, 1, 0, MsgVote{Term: 9, LastIndex: 9, LastTerm: 9})
	tn.Request(3, 0, 1, "add k")
	tn.Stabilize()
	tn.Fire(0, timerElection)
	assert.Empty(t, tn.Queue)
	assert.Empty(t, tn.Replies)
}

// The very first hard state, cut anywhere by a crash before its sync (copy a
// torn, copy b never written), was never synced, so nothing was promised on
// it: the server starts fresh, and the disk is a fresh one's again. Halting
// there would take a server out for good after an ordinary crash.
func TestATornFirstHardStateStartsFresh(t *testing.T) {
	rec := encodeHardState(hardState{term: 1, vote: 2})
	for cut := range len(rec) {
		d := sim.NewDisk()
		d.Put(hardStateKeys[0], rec[:cut])
		d.Sync()
		st := loadState(d)
		require.Empty(t, st.fault, "cut at %d", cut)
		require.Equal(t, hardState{vote: sim.None}, st.hard, "cut at %d", cut)
		require.Empty(t, d.Keys(""), "cut at %d: the torn copy is gone", cut)
	}
}

// A chunk cut anywhere inside its last frame reads as torn, with every entry
// before the cut; a bit flipped anywhere reads as corrupt, never as torn nor
// sound. A bare length prefix could not tell the two: a flip that made a
// length too long read as a cut record, and a torn append as a possible loss.
func TestChunkTellsATornEndFromACorruptEntry(t *testing.T) {
	log := entries(2, 2, 3, 3, 3)
	chunk := encodeChunk(log)
	lastStart := len(encodeChunk(log[:len(log)-1]))
	decoded := func(b []byte) (int, error) {
		count := 0
		err := decodeChunk(b, func(Entry) { count++ })
		return count, err
	}
	for cut := lastStart + 1; cut < len(chunk); cut++ {
		count, err := decoded(chunk[:cut])
		require.ErrorIs(t, err, errTornEntry, "cut at byte %d of %d", cut, len(chunk))
		require.Equal(t, len(log)-1, count, "cut at byte %d", cut)
	}
	for bit := range len(chunk) * 8 {
		bad := slices.Clone(chunk)
		bad[bit/8] ^= 1 << (bit % 8)
		_, err := decoded(bad)
		require.ErrorIs(t, err, errCorruptEntry, "bit %d of %d", bit, len(chunk)*8)
	}
}

// A crash that tears an append leaves a server that lost nothing it
// acknowledged: it drops the torn entry, says so, and goes on as a server
// that simply lost its unsynced writes. It neither holds its vote back nor
// waits to recover, which with one other server down stalled a three-server
// cluster when a torn entry read as a possibly acknowledged one.
func TestTornTailIsDroppedNotLost(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	writeState(tn, 0, 2, 1, entries(2, 2, 2))
	tn.Start(0)
	tn.TearWrites(0)
	dropped := 0
	for round := range 40 {
		synced := tn.Node(0).lastIndex()
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			n.appendEntry(Entry{Term: 2, Cmd: prototest.Cmd(99, uint64(round+10), "set x "+strconv.Itoa(round))})
		})
		before := len(tn.Observed(0, sim.ObsNote))
		tn.Restart(0)
		n := tn.Node(0)
		require.Zero(t, n.lost, "round %d: a torn entry taken for a lost one", round)
		require.Contains(t, []uint64{synced, synced + 1}, n.lastIndex(), "round %d", round)
		if len(tn.Observed(0, sim.ObsNote)) > before {
			dropped++
			require.Equal(t, synced, n.lastIndex(), "round %d: a note, and the entry kept", round)
		}
	}
	require.Positive(t, dropped, "no append torn inside its frame in 40 rounds")

	// With server 2 down, the torn server campaigns and server 1 elects it.
	tn.Start(1)
	tn.Fire(0, timerElection)
	tn.Stabilize()
	require.Equal(t, roleLeader, tn.Node(0).role, "servers 0 and 1 elect no leader")
}

// A crash that tears the append of an entry to its chunk cuts only the new
// entry's bytes: the entries synced before it stay, wherever the cut falls.
// A chunk is one disk record, rewritten as it grows; written as an
// overwrite, a torn append could cut it anywhere, and a cut between two
// synced entries lost them, acknowledged and perhaps committed, with no
// sign of a loss (a swarm sweep found a leader elected without a committed
// entry that way).
func TestTornAppendKeepsSyncedEntries(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	writeState(tn, 0, 2, 1, entries(2, 2, 2))
	tn.Start(0)
	tn.TearWrites(0)
	for round := range 60 {
		synced := tn.Node(0).lastIndex()
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			n.appendEntry(Entry{Term: 2, Cmd: prototest.Cmd(99, uint64(round+10), "set x "+strconv.Itoa(round))})
		})
		require.Equal(t, 1, tn.Disk(0).Unsynced(), "the append is not synced")
		tn.Restart(0)
		require.GreaterOrEqual(t, tn.Node(0).lastIndex(), synced, "round %d: the torn append took synced entries", round)
	}
}

// A truncation of a chunk (the entries after a conflict deleted) is never
// torn: the entries it keeps were synced, and a crash leaves the chunk as it
// was or as it became.
func TestTornTruncationKeepsTheEntriesBefore(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.TearWrites(0)
	for round := range 30 {
		writeState(tn, 0, 2, 1, entries(2, 2, 2, 2, 2, 2, 2, 2, 2, 2))
		tn.Start(0)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			n.truncateFrom(8)
		})
		tn.Restart(0)
		last := tn.Node(0).lastIndex()
		require.True(t, last == 7 || last == 10, "round %d: %d entries left of 10, cut at 8", round, last)
		tn.Crash(0)
	}
}

// A truncation deletes every chunk after the one it cuts, down to a last
// chunk that holds a single entry: once the log grows back to fill the cut
// chunk, a chunk left behind would be loaded as the log's continuation, and
// a restarted server would hold an entry it deleted, of an older term, past
// newer ones (and vote by it).
func TestTruncationDeletesEveryLaterChunk(t *testing.T) {
	for _, length := range []int{2*entriesPerChunk + 1, 2*entriesPerChunk + 2, 3 * entriesPerChunk} {
		tn := newTestNet(t, 3, DefaultConfig())
		log := make([]uint64, length)
		for i := range log {
			log[i] = 2
		}
		writeState(tn, 0, 3, 1, entries(log...))
		tn.Start(0)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			n.truncateFrom(entriesPerChunk + 4) // inside the second chunk
			for n.lastIndex() < 2*entriesPerChunk {
				n.appendEntry(Entry{Term: 3, Cmd: prototest.Cmd(98, n.lastIndex(), "set y 1")})
			}
			n.finish()
		})
		tn.Restart(0)
		n := tn.Node(0)
		require.Equal(t, uint64(2*entriesPerChunk), n.lastIndex(), "log of %d cut at %d and refilled: entries after it came back", length, entriesPerChunk+4)
		require.Equal(t, uint64(3), n.lastTerm())
	}
}

// A follower replaces an uncommitted suffix of a higher term with a new
// leader's entries of a lower one (Raft Figure 8: term-3 entries replaced
// by term-2 ones a term-4 leader holds). On a disk that reorders writes,
// a crash before the step's sync may keep the rewritten chunk without the
// deletes of the chunks after it, and the old term-3 entries would follow
// the new term-2 ones: no fall in terms shows it, and a term-3 candidate
// whose log matches them at their end could have this server apply other
// commands than the rest. The truncation syncs its deletes first.
func TestReorderedTruncationLeavesNoStaleSuffix(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.SetDiskFaults(1, sim.DiskFaults{ReorderedWrites: true})
	old := append(slices.Repeat([]uint64{1}, 4), slices.Repeat([]uint64{3}, 16)...) // 1..4 term 1, 5..20 term 3
	replacement := entries(append(slices.Repeat([]uint64{1}, 4), slices.Repeat([]uint64{2}, 12)...)...)[4:]
	for i := range replacement {
		replacement[i].Cmd = prototest.Cmd(98, uint64(i+5), "set y 2") // 5..16 term 2
	}
	for round := range 60 {
		for _, k := range tn.Disk(1).Keys("") {
			tn.Disk(1).Delete(k)
		}
		tn.Disk(1).Sync()
		writeState(tn, 1, 3, sim.None, entries(old...))
		tn.Start(1)
		tn.Within(1, func(n *node, env *prototest.Env) {
			n.env = env
			n.becomeFollower(4, 0)
			n.mergeEntries(4, replacement) // no finish: the crash comes before the step's last sync
		})
		tn.Take(nil)
		tn.Restart(1)
		got := terms(tn.Node(1).log.all())
		require.False(t, len(got) > 16 && got[15] == 2, "round %d: log %v: new term-2 entries followed by the old term-3 ones", round, got)
		tn.Crash(1)
	}
}

// A server recovering entries lost to corruption clears lost once a
// leader's append brings its log back to the lost position. On a disk that
// reorders writes, a crash cut inside that step could keep the hard state
// with lost cleared and lose the appended entries: the server would come
// back with a log short of entries it may have acknowledged, and nothing on
// its disk to say so. The entries are synced before lost is cleared. The
// step is cut after each of its effects, as a mid-step crash cuts it in a
// run.
func TestCutRecoveryKeepsTheLossOnRecord(t *testing.T) {
	log := entries(slices.Repeat([]uint64{3}, 41)...) // 1-40, of term 3
	appendRest := func(n *node) {                     // from n1, the leader of term 3
		n.handleAppend(1, MsgApp{Term: 3, PrevIndex: 16, PrevTerm: 3, Entries: log[17:], Commit: 16})
	}
	cuts := cutEveryEffect(t, 20, appendRest, func(d *sim.Disk) {
		putLog(d, log[:17]) // 1-16 survived the corruption
		service.PutCopies(d, encodeHardState(hardState{term: 3, vote: sim.None, lost: logPosition{40, 3}}), hardStateKeys[:]...)
	}, func(d *sim.Disk, seed uint64, keep int) {
		if st := loadState(d); st.hard.lost == (logPosition{}) {
			require.GreaterOrEqual(t, st.log.len()-1, 40, "seed %d, cut after %d effects: lost cleared, entries missing", seed, keep)
		}
	})
	require.Greater(t, cuts, 100, "appends cut")
}
