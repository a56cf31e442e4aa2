package sim

import "encoding/binary"

// Digester is a Message that also has a compact binary form, for the trace
// hash. The kernel digests every message it sends; without this it formats
// the message's canonical text (AppendTrace) to do so, which for a protocol's
// frequent messages (an AppendEntries with its entries, a client request)
// costs more than the rest of the send. AppendDigest must append every field
// AppendTrace shows, so that two messages with different lines have different
// forms, and depend on nothing else (docs/ARCHITECTURE.md §4): build it with
// DigestForm, which starts with the kind so that two kinds never share a form.
type Digester interface {
	Message
	AppendDigest(b []byte) []byte
}

// DigestForm builds a message's binary form for Digester.AppendDigest: the
// kind's name, then each field as a varint or a length-prefixed byte string,
// the same on every platform. Like TraceLine, each method appends and returns
// the form, so a message's form reads as one expression:
//
//	func (m MsgVote) AppendDigest(b []byte) []byte {
//		return sim.DigestForm(b).Kind("MsgVote").Uint(m.Term).Uint(m.LastIndex)
//	}
type DigestForm []byte

// Kind appends the message kind's name.
func (f DigestForm) Kind(name string) DigestForm {
	return append(binary.AppendUvarint(f, uint64(len(name))), name...)
}

// Uint appends v.
func (f DigestForm) Uint(v uint64) DigestForm { return binary.AppendUvarint(f, v) }

// Int appends v (zig-zag encoded, so small negative numbers stay short).
func (f DigestForm) Int(v int64) DigestForm { return binary.AppendVarint(f, v) }

// Node appends id.
func (f DigestForm) Node(id NodeID) DigestForm { return binary.AppendVarint(f, int64(id)) }

// Bool appends v as one byte.
func (f DigestForm) Bool(v bool) DigestForm {
	if v {
		return append(f, 1)
	}
	return append(f, 0)
}

// Bytes appends p, length first.
func (f DigestForm) Bytes(p []byte) DigestForm {
	return append(binary.AppendUvarint(f, uint64(len(p))), p...)
}

// Text appends s, length first.
func (f DigestForm) Text(s string) DigestForm {
	return append(binary.AppendUvarint(f, uint64(len(s))), s...)
}
