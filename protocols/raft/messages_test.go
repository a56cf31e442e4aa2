package raft

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func TestMessageTraces(t *testing.T) {
	cmd := service.Command{Client: 5, Seq: 3, Op: []byte("add k")}
	tests := []struct {
		msg  sim.Message
		want string
	}{
		{MsgVote{Term: 3, LastIndex: 7, LastTerm: 2}, "MsgVote term=3 last-index=7 last-term=2"},
		{MsgVoteResp{Term: 3, Granted: true}, "MsgVoteResp term=3 granted"},
		{MsgVoteResp{Term: 4}, "MsgVoteResp term=4 rejected"},
		{MsgApp{Term: 3, PrevIndex: 7, PrevTerm: 2, Commit: 6}, "MsgApp term=3 prev-index=7 prev-term=2 commit=6"},
		{MsgApp{Term: 3, PrevIndex: 7, PrevTerm: 2, Commit: 6, Entries: []Entry{{3, service.Noop}, {3, cmd}}},
			"MsgApp term=3 prev-index=7 prev-term=2 commit=6 entries=[3:noop 3:5.3]"},
		{MsgAppResp{Term: 3, Index: 9}, "MsgAppResp term=3 index=9"},
		{MsgAppResp{Term: 3, Index: 7, Reject: true, ConflictTerm: 2, ConflictIndex: 5},
			"MsgAppResp term=3 reject index=7 conflict-term=2 conflict-index=5"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, string(tt.msg.AppendTrace(nil)))
			assert.Equal(t, "x "+tt.want, string(tt.msg.AppendTrace([]byte("x "))), "appends")
		})
	}
}

// The binary forms of the messages that have one (sim.Digester) tell apart
// every two messages whose lines differ: each variant differs from the
// first in one field.
func TestMessageDigestsSeeEveryField(t *testing.T) {
	cmd := service.Command{Client: 5, Seq: 3, Op: []byte("add k")}
	config := configCommand(configuration{voters: sim.MembersOf(0, 1, 2)})
	app := MsgApp{Term: 3, PrevIndex: 7, PrevTerm: 2, Commit: 6, Entries: []Entry{{3, cmd}}}
	apps := []sim.Message{app}
	for _, change := range []func(*MsgApp){
		func(m *MsgApp) { m.Term++ }, func(m *MsgApp) { m.PrevIndex++ }, func(m *MsgApp) { m.PrevTerm++ },
		func(m *MsgApp) { m.Commit++ }, func(m *MsgApp) { m.Entries = nil },
		func(m *MsgApp) { m.Entries = []Entry{{4, cmd}} }, func(m *MsgApp) { m.Entries = []Entry{{3, service.Noop}} },
		func(m *MsgApp) { m.Entries = []Entry{{3, service.Command{Client: 6, Seq: 3}}} },
		func(m *MsgApp) { m.Entries = []Entry{{3, service.Command{Client: 5, Seq: 4}}} },
		func(m *MsgApp) { m.Entries = []Entry{{3, cmd}, {3, cmd}} },
		func(m *MsgApp) { m.Entries = []Entry{{3, config}} },
		func(m *MsgApp) {
			m.Entries = []Entry{{3, configCommand(configuration{voters: sim.MembersOf(0, 1, 3)})}}
		},
	} {
		m := app
		change(&m)
		apps = append(apps, m)
	}
	require.NoError(t, digestcheck.Collision(apps...))
	require.NoError(t, digestcheck.Collision(MsgAppResp{Term: 3, Index: 9}, MsgAppResp{Term: 4, Index: 9},
		MsgAppResp{Term: 3, Index: 8}, MsgAppResp{Term: 3, Index: 9, Reject: true},
		MsgAppResp{Term: 3, Index: 9, Reject: true, ConflictTerm: 1},
		MsgAppResp{Term: 3, Index: 9, Reject: true, ConflictIndex: 1}))
}

func TestLogKeysSortInIndexOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := rapid.Uint64().Draw(t, "a"), rapid.Uint64().Draw(t, "b")
		ka, kb := logKey(a), logKey(b)
		assert.Equal(t, a < b, ka < kb)
		got, ok := parseLogKey(ka)
		require.True(t, ok)
		assert.Equal(t, a, got)
	})
}

func TestEntryAndHardStateRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := Entry{Term: rapid.Uint64().Draw(t, "term"), Cmd: service.Command{
			Client: sim.NodeID(rapid.Int32Range(-1, 1000).Draw(t, "client")),
			Seq:    rapid.Uint64().Draw(t, "seq"),
			Op:     rapid.SliceOf(rapid.Byte()).Draw(t, "op"),
		}}
		got, err := decodeEntry(encodeEntry(e))
		require.NoError(t, err)
		assert.Equal(t, e.Term, got.Term)
		assert.Equal(t, e.Cmd.Digest(), got.Cmd.Digest())

		h := hardState{term: rapid.Uint64().Draw(t, "hterm"), vote: sim.NodeID(rapid.Int32Range(-1, 1000).Draw(t, "vote")),
			lost: logPosition{rapid.Uint64().Draw(t, "lost index"), rapid.Uint64().Draw(t, "lost term")}}
		got2, err := decodeHardState(encodeHardState(h))
		require.NoError(t, err)
		assert.Equal(t, h, got2)

		// Any one flipped bit is caught by the checksum.
		b := encodeEntry(e)
		bit := rapid.IntRange(0, len(b)*8-1).Draw(t, "bit")
		b[bit/8] ^= 1 << (bit % 8)
		_, err = decodeEntry(b)
		assert.Error(t, err)
	})
}

// loadState keeps the log up to the first gap (a missing chunk, or a chunk
// short of entries before another) and deletes the rest: only unsynced
// (never acknowledged) writes can be missing.
func TestLoadStateStopsAtAGap(t *testing.T) {
	log := make([]Entry, 1, 50)
	for i := range 48 {
		log = append(log, Entry{Term: 1 + uint64(i)/10, Cmd: service.Command{Client: 9, Seq: uint64(i + 1)}})
	}
	for _, tt := range []struct {
		name   string
		chunks [][2]int // [first, last] entries of each chunk written
		loaded int      // entries loaded
	}{
		{"whole", [][2]int{{1, 16}, {17, 32}, {33, 48}}, 48},
		{"missing chunk", [][2]int{{1, 16}, {33, 48}}, 16},
		{"short chunk then more", [][2]int{{1, 16}, {17, 20}, {33, 48}}, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := sim.NewDisk()
			hard := hardState{term: log[len(log)-1].Term, vote: 2}
			service.PutCopies(d, encodeHardState(hard), hardStateKeys[:]...)
			for _, c := range tt.chunks {
				d.Put(logKey(uint64(c[0])), encodeChunk(log[c[0]:c[1]+1]))
			}
			d.Sync()
			st := loadState(d)
			assert.Equal(t, terms(log[:tt.loaded+1]), terms(st.log.all()))
			assert.Equal(t, hard, st.hard)
			assert.Len(t, d.Keys(logKeyPrefix), (tt.loaded+entriesPerChunk-1)/entriesPerChunk)
			assert.Zero(t, d.Unsynced())
		})
	}
}

// On a disk that reorders writes a crash may keep what a step wrote to the
// log, or a snapshot, without its hard state: entries of a term the lost
// hard state held. The server takes that term, with no vote: nothing of
// that step was synced, so no vote of it left the server.
func TestLoadStateAfterAReorderedCrash(t *testing.T) {
	entries := func(first int, terms ...uint64) []Entry {
		var es []Entry
		for i, term := range terms {
			es = append(es, Entry{Term: term, Cmd: service.Command{Client: 9, Seq: uint64(first + i)}})
		}
		return es
	}
	full := func(term uint64) []uint64 { return slices.Repeat([]uint64{term}, entriesPerChunk) }
	for _, tt := range []struct {
		name     string
		chunks   [][]Entry // from index 1 on, a chunk each
		hard     hardState
		loaded   []uint64 // the terms of the entries loaded
		wantHard hardState
	}{
		{"a term the hard state lost", [][]Entry{entries(1, 1, 1, 4)},
			hardState{term: 2, vote: 1}, []uint64{1, 1, 4}, hardState{term: 4, vote: sim.None}},
		{"over two chunks", [][]Entry{entries(1, full(3)...), entries(17, 3, 5)},
			hardState{term: 3, vote: 1}, append(full(3), 3, 5), hardState{term: 5, vote: sim.None}},
		{"the hard state's own term", [][]Entry{entries(1, 1, 2)},
			hardState{term: 2, vote: 1}, []uint64{1, 2}, hardState{term: 2, vote: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := sim.NewDisk()
			service.PutCopies(d, encodeHardState(tt.hard), hardStateKeys[:]...)
			first := uint64(1)
			for _, c := range tt.chunks {
				d.Put(logKey(first), encodeChunk(c))
				first += uint64(len(c))
			}
			d.Sync()
			st := loadState(d)
			assert.Equal(t, tt.loaded, terms(st.log.all()))
			assert.Equal(t, tt.wantHard, st.hard)
			assert.Zero(t, d.Unsynced(), "the load syncs what it repaired")
			again := loadState(d)
			assert.Equal(t, tt.wantHard, again.hard, "a second load finds the repair on the disk")
			assert.Equal(t, tt.loaded, terms(again.log.all()))
		})
	}
}

func TestChunkKeys(t *testing.T) {
	for _, c := range [][2]uint64{{1, 1}, {16, 1}, {17, 17}, {32, 17}, {33, 33}} {
		assert.Equal(t, c[1], chunkStart(c[0]), "index %d", c[0])
	}
}
