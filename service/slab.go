package service

// Slab hands out pointers to values of T allocated a batch at a time: a
// protocol that sends *T rather than T makes one allocation per slabLen
// messages instead of one per message (a value that is not pointer-shaped is
// copied to the heap when it becomes a sim.Message). Messages are never
// modified once sent, so a slot is never reused: a batch is freed by the
// garbage collector once none of its messages is referenced, so one message
// held (in flight behind a clogged link, in the trace's recent records)
// keeps its 63 neighbours, and what they point to, alive with it. A receiver
// must match *T (or read the message through a helper that takes both forms,
// as service.ReplyOf does). The zero Slab is ready to use.
type Slab[T any] struct {
	batch []T
}

// slabLen is how many values one allocation holds.
const slabLen = 64

// New returns a pointer to a copy of v.
func (s *Slab[T]) New(v T) *T {
	if len(s.batch) == cap(s.batch) {
		s.batch = make([]T, 0, slabLen)
	}
	s.batch = append(s.batch, v)
	return &s.batch[len(s.batch)-1]
}

// ByteSlab copies byte strings into shared chunks, or hands out room in them
// to build one in, so that many small ones (commands' operations, state
// machine results, a log's records) cost one allocation per chunk instead
// of one each. A copy is capped at its length, so appending to
// it reallocates rather than writing into a neighbour, and a chunk's bytes
// are never written twice: a copy stays as it was made for as long as anyone
// holds it, and its chunk is freed once nobody does. The zero ByteSlab is
// ready to use.
type ByteSlab struct {
	chunk []byte
}

// byteChunk is a chunk's size, once a slab has filled a few: the first is
// firstByteChunk and each doubles the last, so that a state machine made for
// one answer (a Byzantine replica's, a scratch copy) does not take 4 KiB
// for it. A copy of more than a quarter of byteChunk gets an allocation of
// its own, so that little of a chunk goes unused.
const (
	firstByteChunk = 256
	byteChunk      = 4096
)

// Copy returns a copy of p (nil for an empty p).
func (s *ByteSlab) Copy(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return append(s.Buffer(len(p)), p...)
}

// Buffer returns an empty slice with room for n bytes, for a caller that
// builds a byte string by appending to it: the room is its own, and an
// append past it reallocates. Its bytes, like a copy's, are written once.
func (s *ByteSlab) Buffer(n int) []byte {
	if n > byteChunk/4 {
		return make([]byte, 0, n) // capped too: append's size class would leave room
	}
	if cap(s.chunk)-len(s.chunk) < n {
		size := min(max(2*cap(s.chunk), firstByteChunk), byteChunk)
		s.chunk = make([]byte, 0, max(size, n))
	}
	start := len(s.chunk)
	s.chunk = s.chunk[:start+n]
	return s.chunk[start : start : start+n]
}
