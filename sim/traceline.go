package sim

import (
	"math/bits"
	"strconv"
)

// TraceLine builds the canonical one-line form of a message or a record,
// for Message.AppendTrace: a kind word, then " key=value" fields. Each
// method appends to the line and returns it, so a message's form reads as
// one expression:
//
//	func (m MsgVote) AppendTrace(b []byte) []byte {
//		return sim.TraceLine(b).Kind("MsgVote").Uint("term", m.Term).Uint("last-index", m.LastIndex)
//	}
//
// It allocates nothing beyond the growth of the line itself.
type TraceLine []byte

// Kind appends the line's first word, the message kind, with no space.
func (l TraceLine) Kind(word string) TraceLine { return append(l, word...) }

// Word appends " word": a flag or a bare value.
func (l TraceLine) Word(word string) TraceLine { return append(append(l, ' '), word...) }

// Uint appends " key=v", v in decimal.
func (l TraceLine) Uint(key string, v uint64) TraceLine {
	return strconv.AppendUint(l.key(key), v, 10)
}

// Int appends " key=v", v in decimal.
func (l TraceLine) Int(key string, v int64) TraceLine {
	return strconv.AppendInt(l.key(key), v, 10)
}

// Hex appends " key=v", v in hexadecimal (digests).
func (l TraceLine) Hex(key string, v uint64) TraceLine {
	return strconv.AppendUint(l.key(key), v, 16)
}

// Node appends " key=nN".
func (l TraceLine) Node(key string, id NodeID) TraceLine {
	return strconv.AppendInt(append(l.key(key), 'n'), int64(id), 10)
}

// Members appends " key=n0,n1,n2" (" key=" for an empty set).
func (l TraceLine) Members(key string, m Members) TraceLine {
	l = l.key(key)
	for rest := uint64(m); rest != 0; rest &= rest - 1 {
		if len(l) > 0 && l[len(l)-1] != '=' {
			l = append(l, ',')
		}
		l = strconv.AppendInt(append(l, 'n'), int64(bits.TrailingZeros64(rest)), 10)
	}
	return l
}

// Quote appends " key=" and s as a Go-quoted string.
func (l TraceLine) Quote(key string, s string) TraceLine {
	return strconv.AppendQuote(l.key(key), s)
}

// If appends " word" when cond holds, else " otherwise" (if not empty).
func (l TraceLine) If(cond bool, word, otherwise string) TraceLine {
	switch {
	case cond:
		return l.Word(word)
	case otherwise != "":
		return l.Word(otherwise)
	}
	return l
}

func (l TraceLine) key(key string) TraceLine {
	l = append(append(l, ' '), key...)
	return append(l, '=')
}
