package sim

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The hash reads a digest of each message, made when it is sent and carried
// to its delivery: two runs that differ only in one message's contents, sent
// and delivered at the same times, hash differently. A Digester's message is
// digested from its binary form: its text is not read at all.
func TestHashSeesMessageContents(t *testing.T) {
	hash := func(m Message) uint64 {
		w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
		w.AddServer(sendsAtStart(1, m))
		w.AddServer(idle())
		w.RunUntil(ms(5))
		return w.Result().Hash
	}
	assert.Equal(t, hash(testMsg{n: 1}), hash(testMsg{n: 1}))
	assert.NotEqual(t, hash(testMsg{n: 1}), hash(testMsg{n: 2}))
	assert.Equal(t, hash(digestMsg{n: 1, label: "a"}), hash(digestMsg{n: 1, label: "b"}))
	assert.NotEqual(t, hash(digestMsg{n: 1}), hash(digestMsg{n: 2}))
}

// The hash reads a drop's reason and an observation's fields, not only the
// event's kind and nodes.
func TestHashSeesDetails(t *testing.T) {
	dropped := func(cut bool) uint64 {
		w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
		oneMessage(w)
		w.At(0, "x", func() {
			if cut {
				w.Cut(0, 1)
			} else {
				w.Crash(1)
			}
		})
		w.RunUntil(ms(5))
		return w.Result().Hash
	}
	assert.NotEqual(t, dropped(true), dropped(false))
	observed := func(o Observation) uint64 {
		w := newTestWorld(t, Config{Seed: 1})
		w.AddServer(nodeOf(funcNode{start: func(env Env) { env.Observe(o) }}))
		w.RunUntil(ms(1))
		return w.Result().Hash
	}
	base := Observation{Kind: ObsCommit, Term: 1, Index: 2, Digest: 3}
	for _, o := range []Observation{{Kind: ObsApply, Term: 1, Index: 2, Digest: 3}, {Kind: ObsCommit, Term: 9, Index: 2, Digest: 3},
		{Kind: ObsCommit, Term: 1, Index: 9, Digest: 3}, {Kind: ObsCommit, Term: 1, Index: 2, Digest: 9},
		{Kind: ObsCommit, Term: 1, Index: 2, Digest: 3, Text: "x"}} {
		assert.NotEqual(t, observed(base), observed(o), "%+v", o)
	}
}

// A fixed run's hash, pinned: the binary form and the hash function must
// give the same value on every platform (GOARCH=386 go test ./sim runs it on
// 32 bits; CI runs it on arm64 too), and a change to either shows here
// before it moves every row of runner/testdata/golden-hashes.txt.
func TestTraceHashIsPinned(t *testing.T) {
	w := pingPongWorld(t, 7, nil)
	w.At(ms(20), "pause n1", func() { w.Pause(1) })
	w.At(ms(40), "resume n1", func() { w.Resume(1) })
	w.At(ms(60), "cut", func() { w.Cut(0, 1) })
	w.At(ms(80), "crash n1", func() { w.Crash(1) })
	w.At(ms(90), "restart n1", func() { w.Restart(1) })
	w.RunUntil(ms(200))
	assert.Equal(t, "ff3c4f0c17890df9", strconv.FormatUint(w.Result().Hash, 16))
}

// An observation's Bytes may come from a buffer the node reuses at once:
// Observe copies them, so two observations of one handler keep their own
// texts in the JSONL trace, the recent lines and the observers' view, and
// they hash as the same text given as Text would.
func TestObservationBytesAreCopied(t *testing.T) {
	run := func(asBytes bool) (hash uint64, seen, recent, notes []string) {
		var sink bytes.Buffer
		w := newTestWorld(t, Config{Seed: 1, Trace: &sink})
		w.AddServer(nodeOf(funcNode{start: func(env Env) {
			buf := make([]byte, 0, 16)
			for _, text := range []string{"first", "second"} {
				if asBytes {
					buf = append(buf[:0], text...)
					env.Observe(Observation{Kind: ObsNote, Bytes: buf})
				} else {
					env.Observe(Observation{Kind: ObsNote, Text: text})
				}
			}
			_ = append(buf[:0], "clobbered"...) // the buffer is reused at once
			env.SetTimer(0, time.Millisecond)
		}, timer: func(env Env, _ TimerKind) {
			// A later step reuses the kernel's copy of the first step's texts.
			if asBytes {
				env.Observe(Observation{Kind: ObsNote, Bytes: []byte("a later step")})
			} else {
				env.Observe(Observation{Kind: ObsNote, Text: "a later step"})
			}
		}}))
		w.OnObservation(func(o Observation) { seen = append(seen, o.Text+string(o.Bytes)) })
		w.RunUntil(ms(2))
		for _, r := range ofKind(records(t, w, &sink), "obs") {
			notes = append(notes, r.Detail)
		}
		return w.Result().Hash, seen, w.RecentTrace(), notes
	}
	hash, seen, recent, notes := run(true)
	assert.Equal(t, []string{"first", "second", "a later step"}, seen)
	assert.Equal(t, []string{"note first", "note second", "note a later step"}, notes)
	assert.Contains(t, strings.Join(recent, "\n"), "note first\n")
	assert.Contains(t, strings.Join(recent, "\n"), "note second")
	textHash, textSeen, textRecent, textNotes := run(false)
	assert.Equal(t, textHash, hash)
	assert.Equal(t, textSeen, seen)
	assert.Equal(t, textRecent, recent)
	assert.Equal(t, textNotes, notes)
}

// ReadTrace skips blank lines, names the line a bad record is on, and refuses
// a line past MaxTraceLine instead of reading it whole.
func TestReadTraceNamesTheBadLine(t *testing.T) {
	good := `{"i":1,"t":5,"kind":"note","node":0,"peer":null,"detail":"x"}` + "\n"
	recs, err := ReadTrace(strings.NewReader(good + "\n  \n" + good))
	assert.NoError(t, err)
	assert.Len(t, recs, 2)

	_, err = ReadTrace(strings.NewReader(good + "\n" + `{"i":` + "\n"))
	assert.ErrorContains(t, err, "trace line 3:")

	long := `{"detail":"` + strings.Repeat("a", MaxTraceLine) + `"}` + "\n"
	_, err = ReadTrace(strings.NewReader(good + long))
	assert.EqualError(t, err, "trace line 2: longer than 1048576 bytes")
}
