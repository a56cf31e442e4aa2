package sim

import (
	"bufio"
	"hash/crc32"
	"io"
	"strconv"
)

// Every event the kernel processes has one canonical text line:
//
//	<time-ns> <kind> <node> [<peer>] [<detail>]
//
// for example "1500000 deliver n1 n2 MsgApp term=3 ...". The trace hash chains
// the CRC-32C (hardware accelerated on common CPUs) of every line into a 64-bit
// state, so it is always on and cheap; the full trace is written as JSONL only
// on request. Same scenario and seed, same lines, same hash: that is the
// determinism contract made checkable.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// traceHash is the running hash over canonical lines.
type traceHash uint64

func (h *traceHash) add(line []byte) {
	c := crc32.Update(0, crcTable, line)
	_, mixed := splitmix64(uint64(*h) ^ uint64(c) ^ uint64(len(line))<<32)
	*h = traceHash(mixed)
}

// tracer builds canonical lines in a reused buffer, hashes them and, when a
// sink is set, writes them as JSON lines.
type tracer struct {
	line      []byte
	detailAt  int // offset of the detail in line
	kind      string
	node      NodeID
	peer      NodeID
	at        Time
	hash      traceHash
	count     uint64
	sink      *bufio.Writer
	sinkErr   error
	jsonLine  []byte
	lastLines [][]byte // ring of recent lines, for crash and violation reports
	lastNext  int
}

const recentLines = 32

// begin starts a line; the caller appends the detail to t.line, then calls end.
func (t *tracer) begin(at Time, kind string, node, peer NodeID) {
	t.at, t.kind, t.node, t.peer = at, kind, node, peer
	b := appendTime(t.line[:0], at)
	b = append(b, ' ')
	b = append(b, kind...)
	if node != None {
		b = appendNode(b, node)
	}
	if peer != None {
		b = appendNode(b, peer)
	}
	t.detailAt = len(b)
	t.line = append(b, ' ')
}

func appendNode(b []byte, id NodeID) []byte {
	b = append(b, " n"...)
	return strconv.AppendInt(b, int64(id), 10)
}

// end finishes the current line: hash it, remember it, and write it if asked.
func (t *tracer) end() {
	if len(t.line) == t.detailAt+1 {
		t.line = t.line[:t.detailAt] // no detail: drop the separator
	}
	t.count++
	t.hash.add(t.line)
	t.remember()
	if t.sink != nil && t.sinkErr == nil {
		t.writeJSON()
	}
}

func (t *tracer) remember() {
	if len(t.lastLines) < recentLines {
		t.lastLines = append(t.lastLines, append([]byte(nil), t.line...))
		return
	}
	t.lastLines[t.lastNext] = append(t.lastLines[t.lastNext][:0], t.line...)
	t.lastNext = (t.lastNext + 1) % recentLines
}

// recent returns the last lines traced, oldest first.
func (t *tracer) recent() []string {
	out := make([]string, 0, len(t.lastLines))
	for i := range t.lastLines {
		out = append(out, string(t.lastLines[(t.lastNext+i)%len(t.lastLines)]))
	}
	return out
}

// writeJSON writes {"i":..,"t":..,"kind":..,"node":..,"peer":..,"detail":..}.
func (t *tracer) writeJSON() {
	b := append(t.jsonLine[:0], `{"i":`...)
	b = strconv.AppendUint(b, t.count, 10)
	b = append(b, `,"t":`...)
	b = appendTime(b, t.at)
	b = append(b, `,"kind":"`...)
	b = append(b, t.kind...)
	b = append(b, '"')
	if t.node != None {
		b = append(b, `,"node":`...)
		b = strconv.AppendInt(b, int64(t.node), 10)
	}
	if t.peer != None {
		b = append(b, `,"peer":`...)
		b = strconv.AppendInt(b, int64(t.peer), 10)
	}
	if len(t.line) > t.detailAt {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, t.line[t.detailAt+1:])
	}
	b = append(b, "}\n"...)
	t.jsonLine = b
	_, t.sinkErr = t.sink.Write(b)
}

func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func (t *tracer) setSink(w io.Writer) {
	if w != nil {
		t.sink = bufio.NewWriterSize(w, 1<<16)
	}
}

func (t *tracer) flush() error {
	if t.sink == nil {
		return nil
	}
	if t.sinkErr != nil {
		return t.sinkErr
	}
	return t.sink.Flush()
}
