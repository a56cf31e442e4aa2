package pinrand

import (
	cryptorand "crypto/rand"
	"io"
	"sync"

	"github.com/simrun/simrun/sim"
)

// mu serializes every pinned call in the process: while one runs,
// crypto/rand.Reader is that call's stream, and no other world may swap it.
var mu sync.Mutex

// Do runs fn with crypto/rand.Reader replaced by a reader over r, then puts
// the previous reader back, even if fn panics. Every byte fn (or a library it
// calls) reads through crypto/rand.Read, crypto/rand.Int or
// crypto/rand.Reader comes from r, so it is part of the run and replays with
// the seed.
//
// Contract: call it from a node's handler with env.Rand() (or a stream the
// kernel handed out), around every call into the library that may draw.
// Calls from worlds running side by side are serialized, which keeps each
// world deterministic but costs parallelism for the time fn runs.
//
// What it pins: crypto/rand.Read, Int, Text and anything that reads
// crypto/rand.Reader when it is called. What it does not: since Go 1.26 most
// of crypto (rand.Prime, ecdsa, ecdh, rsa, ed25519 key generation and
// signing) ignores the reader it is given unless the program sets
// GODEBUG=cryptocustomrand=1 (a //go:debug cryptocustomrand=1 line in the
// main package), and a library that copied crypto/rand.Reader into a
// variable of its own at init keeps the original. Prove a binary pinned with
// `sweep --check-determinism`, which reruns seeds and compares hashes.
//
// Code that
// reads crypto/rand on another goroutine while fn runs would read r's bytes
// and race on the variable: a simulation binary has no such goroutine. Do
// must not be nested.
func Do(r *sim.Rand, fn func()) {
	mu.Lock()
	defer mu.Unlock()
	saved := cryptorand.Reader
	cryptorand.Reader = streamReader{r}
	defer func() { cryptorand.Reader = saved }()
	fn()
}

// streamReader reads bytes from a kernel stream, eight at a time.
type streamReader struct{ r *sim.Rand }

var _ io.Reader = streamReader{}

func (s streamReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := s.r.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return len(p), nil
}
