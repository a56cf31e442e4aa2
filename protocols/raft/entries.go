package raft

// entryLog is a server's log in memory: position 0 is the sentinel at the
// snapshot's index (it holds only the snapshot's term), position i the entry
// i indexes after it. It is kept in segments of segmentLen entries, so that
// a long log grows without being copied again and again (doubling one array
// copied and rescanned the whole log at every doubling: a twentieth of a
// five-server run's CPU and a third of the bytes it allocated), and so that
// a MsgApp can carry a run of entries that shares a segment.
//
// An array that has been handed out (slice) is never written again: the
// entries of a MsgApp in flight stay as they were sent. Truncation and the
// sentinel's rewrite at compaction therefore copy the segment they change;
// appends only write past every slice handed out.
type entryLog struct {
	segs  [][]Entry // every segment but the last is full (segmentLen entries)
	first int       // the sentinel's place in segs[0]
	n     int       // entries, the sentinel included
}

// segmentLen is a segment's capacity once the log has more than one: 48 KiB
// of entries. A first segment starts small and doubles up to it, so that a
// short run's log stays small.
const segmentLen = 1024

// newEntryLog returns a log of the sentinel alone.
func newEntryLog(sentinel Entry) entryLog {
	return entryLog{segs: [][]Entry{append(make([]Entry, 0, 16), sentinel)}, n: 1}
}

func (l *entryLog) len() int { return l.n }

// at returns the entry at position i.
func (l *entryLog) at(i int) *Entry {
	p := l.first + i
	return &l.segs[p/segmentLen][p%segmentLen]
}

// append adds e at the end.
func (l *entryLog) append(e Entry) {
	last := &l.segs[len(l.segs)-1]
	switch {
	case len(*last) < cap(*last):
	case cap(*last) < segmentLen: // a first segment, still growing
		*last = append(make([]Entry, 0, min(2*cap(*last), segmentLen)), *last...)
	default:
		l.segs = append(l.segs, make([]Entry, 0, segmentLen))
		last = &l.segs[len(l.segs)-1]
	}
	*last = append(*last, e)
	l.n++
}

// slice returns the entries at positions lo to hi (excluded), capped so that
// no append into it reaches the log. A run within one segment shares it; one
// across segments is copied (at most one MsgApp batch in segmentLen/64).
func (l *entryLog) slice(lo, hi int) []Entry {
	if lo == hi {
		return []Entry{}
	}
	p, q := l.first+lo, l.first+hi-1
	if seg := p / segmentLen; seg == q/segmentLen {
		return l.segs[seg][p%segmentLen : q%segmentLen+1 : q%segmentLen+1]
	}
	out := make([]Entry, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, *l.at(i))
	}
	return out
}

// all returns a copy of the whole log, sentinel first (tests, tools).
func (l *entryLog) all() []Entry {
	out := make([]Entry, 0, l.n)
	for i := range l.n {
		out = append(out, *l.at(i))
	}
	return out
}

// truncate keeps the first k entries. The segment cut in two is replaced by
// a copy of its kept part, which later appends extend.
func (l *entryLog) truncate(k int) {
	p := l.first + k - 1 // the last kept entry's place
	seg := p / segmentLen
	kept := l.segs[seg][:p%segmentLen+1]
	clear(l.segs[seg+1:]) // the array of segments must not keep the cut ones alive
	l.segs = append(l.segs[:seg], append(make([]Entry, 0, cap(l.segs[seg])), kept...))
	l.n = k
}

// compact drops the first k entries and makes sentinel the new position 0,
// in a copy of its segment.
func (l *entryLog) compact(k int, sentinel Entry) {
	p := l.first + k
	clear(l.segs[:p/segmentLen]) // the array of segments must not keep the dropped ones alive
	l.segs = l.segs[p/segmentLen:]
	l.first = p % segmentLen
	l.n -= k
	l.segs[0] = append(make([]Entry, 0, cap(l.segs[0])), l.segs[0]...)
	clear(l.segs[0][:l.first]) // nor the dropped entries' commands
	l.segs[0][l.first] = sentinel
}
