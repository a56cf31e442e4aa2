package service

// Slab hands out pointers to values of T allocated a batch at a time: a
// protocol that sends *T rather than T makes one allocation per slabLen
// messages instead of one per message (a value that is not pointer-shaped is
// copied to the heap when it becomes a sim.Message). Messages are never
// modified once sent, so a slot is never reused: a batch is freed by the
// garbage collector once none of its messages is referenced, which costs a
// batch of memory at most per Slab. The zero Slab is ready to use.
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
