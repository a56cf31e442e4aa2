// Package pinrand pins third-party code that reads the process's global
// randomness (crypto/rand.Reader) to a node's seeded stream for the duration
// of one call, so that a library such as etcd's Raft, which draws election
// timeouts from crypto/rand, runs the same way for the same seed.
//
// It is the one sanctioned exception to the rule that run paths use no sync:
// crypto/rand.Reader is a process-wide variable, and worlds of a sweep run
// side by side, so the swap is serialized by a mutex. See
// docs/ARCHITECTURE.md (determinism contract) and docs/PROTOCOLS.md.
package pinrand
