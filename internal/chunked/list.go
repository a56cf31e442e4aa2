package chunked

// chunkLen is the elements per chunk: big enough that the list of chunks
// stays short (an hour of a busy cluster is hundreds of thousands of
// operations: a few hundred chunks), small enough that a short run's list
// wastes little.
const chunkLen = 1024

// List is a list of T appended to at its end. The zero value is empty and
// ready to use.
type List[T any] struct {
	chunks [][]T
	n      int
}

// Len is the number of elements.
func (l *List[T]) Len() int { return l.n }

// Append adds v at the end and returns its index.
func (l *List[T]) Append(v T) int {
	if l.n%chunkLen == 0 {
		l.chunks = append(l.chunks, make([]T, 0, chunkLen))
	}
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], v)
	l.n++
	return l.n - 1
}

// At returns the address of element i, valid for the list's lifetime. It
// panics if i is out of range, as a slice index would.
func (l *List[T]) At(i int) *T {
	if i < 0 || i >= l.n {
		panic("chunked: index out of range")
	}
	return &l.chunks[i/chunkLen][i%chunkLen]
}
