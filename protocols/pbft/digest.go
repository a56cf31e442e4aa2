package pbft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Digests. The paper signs (or MACs) messages and names requests by a
// collision-resistant digest D(m) (§3). Here a request's digest is
// service.Command.Digest, and every signed statement is a 64-bit FNV-1a hash
// of a tag and the statement's fields, signed with env.Sign: the kernel's
// model of a signature, which only the signer can make and anyone can check.
// The tags keep a prepare from passing for a commit of the same fields.

// Tags of signed statements.
const (
	tagPrePrepare byte = iota + 1
	tagPrepare
	tagCommit
	tagCheckpoint
	tagViewChange
	tagState
)

// hasher is an FNV-1a hash written to field by field, without allocating.
type hasher uint64

const (
	fnvOffset hasher = 14695981039346656037
	fnvPrime  hasher = 1099511628211
)

func newHasher(tag byte) hasher { return fnvOffset.byte(tag) }

func (h hasher) byte(b byte) hasher { return (h ^ hasher(b)) * fnvPrime }

func (h hasher) u64(v uint64) hasher {
	for range 8 {
		h = h.byte(byte(v))
		v >>= 8
	}
	return h
}

func (h hasher) bytes(b []byte) hasher {
	for _, c := range b {
		h = h.byte(c)
	}
	return h.u64(uint64(len(b)))
}

func (h hasher) sig(s sim.Signature) hasher { return h.u64(uint64(int64(s.Signer))).u64(s.Digest) }

func (h hasher) sigs(ss []sim.Signature) hasher {
	h = h.u64(uint64(len(ss)))
	for _, s := range ss {
		h = h.sig(s)
	}
	return h
}

// voteDigest is what a replica signs in a pre-prepare, prepare or commit:
// ⟨kind, v, n, d⟩ (§4.2).
func voteDigest(tag byte, view, seq, digest uint64) uint64 {
	return uint64(newHasher(tag).u64(view).u64(seq).u64(digest))
}

func prePrepareDigest(view, seq, digest uint64) uint64 {
	return voteDigest(tagPrePrepare, view, seq, digest)
}

func prepareDigest(view, seq, digest uint64) uint64 { return voteDigest(tagPrepare, view, seq, digest) }

func commitDigest(view, seq, digest uint64) uint64 { return voteDigest(tagCommit, view, seq, digest) }

// checkpointDigest is what a replica signs in ⟨CHECKPOINT, n, d⟩ (§4.3).
func checkpointDigest(seq, state uint64) uint64 {
	return uint64(newHasher(tagCheckpoint).u64(seq).u64(state))
}

// stateDigest is the digest of the state after executing seq: the snapshot
// of the state machine with its client sessions, and the digest of the
// request executed at seq, so that a replica that installs the state can
// report what it applied there.
func stateDigest(data []byte, last uint64) uint64 {
	return uint64(newHasher(tagState).bytes(data).u64(last))
}

// noopDigest is the digest of the null request (§4.4).
var noopDigest = service.Noop.Digest()
