package sim

import (
	"iter"
	"math/bits"
	"strings"
)

// Members is a set of servers, one bit per NodeID: the compact form a
// cluster configuration travels in (an ObsConfig's Digest, a membership
// change). It holds servers 0 to MaxMembers-1.
type Members uint64

// MaxMembers bounds the NodeIDs a Members set can hold.
const MaxMembers = 64

// MembersOf returns the set of the given servers. An ID outside
// [0, MaxMembers) is left out.
func MembersOf(ids ...NodeID) Members {
	var m Members
	for _, id := range ids {
		m = m.With(id)
	}
	return m
}

// FirstMembers returns the set of servers 0 to n-1.
func FirstMembers(n int) Members {
	if n >= MaxMembers {
		return ^Members(0)
	}
	return Members(1)<<uint(max(n, 0)) - 1
}

// Has reports whether id is in the set.
func (m Members) Has(id NodeID) bool {
	return id >= 0 && id < MaxMembers && m&(1<<uint(id)) != 0
}

// With returns the set with id added.
func (m Members) With(id NodeID) Members {
	if id < 0 || id >= MaxMembers {
		return m
	}
	return m | 1<<uint(id)
}

// Without returns the set with id removed.
func (m Members) Without(id NodeID) Members {
	if id < 0 || id >= MaxMembers {
		return m
	}
	return m &^ (1 << uint(id))
}

// Len is the number of servers in the set.
func (m Members) Len() int { return bits.OnesCount64(uint64(m)) }

// All yields the servers of the set in ID order, allocating nothing.
func (m Members) All() iter.Seq[NodeID] {
	return func(yield func(NodeID) bool) {
		for rest := uint64(m); rest != 0; rest &= rest - 1 {
			if !yield(NodeID(bits.TrailingZeros64(rest))) {
				return
			}
		}
	}
}

// IDs lists the servers of the set in ID order.
func (m Members) IDs() []NodeID {
	ids := make([]NodeID, 0, m.Len())
	for rest := uint64(m); rest != 0; rest &= rest - 1 {
		ids = append(ids, NodeID(bits.TrailingZeros64(rest)))
	}
	return ids
}

// String lists the servers as the trace names them: "n0 n1 n2".
func (m Members) String() string {
	var b strings.Builder
	for i, id := range m.IDs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id.String())
	}
	return b.String()
}
