package raft

import (
	"runtime"
	"slices"
	"testing"
	"weak"

	"pgregory.net/rapid"
)

// The segmented log behaves as a plain slice of entries under appends,
// truncations and compactions, across segment boundaries, and a run of
// entries it handed out never changes afterwards (a MsgApp in flight).
func TestEntryLogIsASliceThatNeverRewritesWhatItHandedOut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		next := uint64(1) // a unique term per entry, to tell them apart
		model := []Entry{{Term: 0}}
		l := newEntryLog(model[0])
		type handed struct{ got, want []Entry }
		var out []handed
		for range rapid.IntRange(1, 30).Draw(t, "steps") {
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 0:
				for range rapid.IntRange(1, 700).Draw(t, "appends") {
					e := Entry{Term: next}
					next++
					l.append(e)
					model = append(model, e)
				}
			case 1:
				k := rapid.IntRange(1, len(model)).Draw(t, "keep")
				l.truncate(k)
				model = model[:k:k]
			case 2:
				k := rapid.IntRange(0, len(model)-1).Draw(t, "compact")
				sentinel := Entry{Term: next}
				next++
				l.compact(k, sentinel)
				model = append([]Entry{sentinel}, model[k+1:]...)
			default:
				lo := rapid.IntRange(0, len(model)).Draw(t, "lo")
				hi := rapid.IntRange(lo, min(len(model), lo+100)).Draw(t, "hi")
				got := l.slice(lo, hi)
				if len(got) != cap(got) {
					t.Fatalf("slice(%d, %d) has room to append into the log", lo, hi)
				}
				out = append(out, handed{got, slices.Clone(model[lo:hi])})
			}
			if l.len() != len(model) {
				t.Fatalf("len %d, want %d", l.len(), len(model))
			}
			if !slices.Equal(allTerms(l.all()), allTerms(model)) {
				t.Fatalf("log %v, want %v", allTerms(l.all()), allTerms(model))
			}
			for i := range model {
				if l.at(i).Term != model[i].Term {
					t.Fatalf("at(%d) = %v, want %v", i, l.at(i).Term, model[i].Term)
				}
			}
			for _, h := range out {
				if !slices.Equal(allTerms(h.got), allTerms(h.want)) {
					t.Fatalf("a slice handed out changed: %v, was %v", allTerms(h.got), allTerms(h.want))
				}
			}
		}
	})
}

// allTerms lists the terms of log, its first entry included.
func allTerms(log []Entry) []uint64 {
	out := make([]uint64, 0, len(log))
	for _, e := range log {
		out = append(out, e.Term)
	}
	return out
}

// Compaction and truncation let go of the segments they drop: a long log
// compacted or cut away must not stay in memory behind the segments kept.
func TestEntryLogReleasesDroppedSegments(t *testing.T) {
	long := func() entryLog {
		l := newEntryLog(Entry{})
		for i := range 5 * segmentLen {
			l.append(Entry{Term: uint64(i + 1)})
		}
		return l
	}
	compacted, truncated := long(), long()
	dropped, cut := weak.Make(&compacted.segs[0][0]), weak.Make(&truncated.segs[4][0])
	compacted.compact(4*segmentLen+10, Entry{Term: 7})
	truncated.truncate(10)
	runtime.GC()
	if dropped.Value() != nil {
		t.Error("a segment compaction dropped is still reachable")
	}
	if cut.Value() != nil {
		t.Error("a segment truncation cut off is still reachable")
	}
	runtime.KeepAlive(&compacted)
	runtime.KeepAlive(&truncated)
}
