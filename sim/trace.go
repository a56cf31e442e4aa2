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
// for example "1500000 deliver n1 n2 MsgApp term=3 ...". The trace hash does
// not read those lines: it folds a compact binary form of each event (time,
// nodes, kind and a digest of the detail) into a 64-bit state, so that a run
// nobody traces formats few numbers. A message's digest is the CRC-32C
// (hardware accelerated on common CPUs) of its binary form if it is a
// Digester, else of its canonical text, computed once when it is sent and
// carried with it to its delivery, hold or drop. Text is built only when it
// is read: the JSONL trace (Config.Trace), the recent lines of a crash or
// violation report. Same scenario and seed, same events, same hash: that is
// the determinism contract made checkable.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// traceHash is the running hash over the events' binary form.
type traceHash uint64

// word folds one 64-bit word in with splitmix64's finalizer, a bijection, so
// two states that differ stay different.
func (h *traceHash) word(v uint64) {
	_, mixed := splitmix64(uint64(*h) ^ v)
	*h = traceHash(mixed)
}

// bytes folds in a byte string as its length and CRC-32C.
func (h *traceHash) bytes(b []byte) {
	h.word(uint64(len(b))<<32 | uint64(crc32.Update(0, crcTable, b)))
}

// traceKind is an event's kind in the binary form. The frequent kinds have
// their own code and detail; every other event (faults, link settings) is
// traceOther, hashed as its name and text detail.
type traceKind uint8

const (
	traceOther   traceKind = iota // built with begin and end: name and text detail
	traceSend                     // a message leaves: the message
	traceDeliver                  // a message arrives: the message
	traceDrop                     // a message is lost: reason, message
	traceHold                     // an event waits: reason, then the message or timer
	traceTimer                    // a timer fires: its kind
	traceStart                    // a node starts: no detail
	traceObs                      // an observation
	traceControl                  // a control action: its label
)

var traceKindNames = [...]string{traceSend: "send", traceDeliver: "deliver", traceDrop: "drop",
	traceHold: "hold", traceTimer: "timer", traceStart: "start", traceObs: "obs", traceControl: "control"}

// record is one traced event in binary form; its text is made on demand.
type record struct {
	at    Time
	kind  traceKind
	timer bool // traceTimer, or a held timer: tk is set
	tk    TimerKind
	sum   uint32 // msg's digest
	name  string // the kind's name
	node  NodeID
	peer  NodeID
	word  string      // the detail's first word: a drop or hold reason, a control label
	msg   Message     // the message, after word
	obs   Observation // traceObs only (slot leaves it stale for other kinds)
	text  []byte      // traceOther: the detail as its caller built it; traceObs: a copy of obs.Bytes
}

// tracer hashes events and, when a sink is set, writes them as JSON lines.
// The last recentLines events are kept as records, built in place in a
// ring, for crash and violation reports.
type tracer struct {
	hash    traceHash
	count   uint64
	ring    [recentLines]record
	next    int     // the ring slot of the next event
	cur     *record // the event begun and not yet ended
	line    []byte  // traceOther: the detail being built (the slot's buffer)
	scratch []byte  // a message's canonical form, for its digest
	text    []byte  // a line or detail being formatted for a reader
	sink    *bufio.Writer
	sinkErr error
	json    []byte // the JSON line being written
}

const recentLines = 32

// slot returns the ring slot of the next event, reset to its header. The
// observation is left as it was: only an obs event reads it, and sets it
// first (copying it for every event was a tenth of a message's cost).
func (t *tracer) slot(at Time, kind traceKind, node, peer NodeID) *record {
	r := &t.ring[t.next]
	r.at, r.kind, r.name, r.node, r.peer = at, kind, traceKindNames[kind], node, peer
	r.timer, r.tk, r.sum, r.word, r.msg, r.text = false, 0, 0, "", nil, r.text[:0]
	return r
}

// begin starts a rare event named kind; the caller appends its detail to
// t.line, then calls end.
func (t *tracer) begin(at Time, kind string, node, peer NodeID) {
	t.cur = t.slot(at, traceOther, node, peer)
	t.cur.name = kind
	t.line = t.cur.text
}

// end finishes the event begun.
func (t *tracer) end() {
	t.cur.text = t.line
	t.emit(t.cur)
}

// digest returns m's digest: the CRC-32C of its binary form if it is a
// Digester, else of its canonical text.
func (t *tracer) digest(m Message) uint32 {
	if d, ok := m.(Digester); ok {
		t.scratch = d.AppendDigest(t.scratch[:0])
	} else {
		t.scratch = m.AppendTrace(t.scratch[:0])
	}
	return crc32.Update(0, crcTable, t.scratch)
}

// message traces a send, delivery or drop of m, whose digest is sum; word
// (a drop's reason) comes before the message in the text.
func (t *tracer) message(at Time, kind traceKind, node, peer NodeID, word string, m Message, sum uint32) {
	r := t.slot(at, kind, node, peer)
	r.word, r.msg, r.sum = word, m, sum
	t.emit(r)
}

// hold traces an event that waits, for reason.
func (t *tracer) hold(at Time, e *event, reason string) {
	r := t.slot(at, traceHold, e.node, e.from)
	r.word = reason
	switch e.kind {
	case evDeliver:
		r.msg, r.sum = e.msg, e.sum
	case evTimer:
		r.timer, r.tk = true, e.tk
	}
	t.emit(r)
}

// timer traces node's timer of kind tk firing.
func (t *tracer) timer(at Time, node NodeID, tk TimerKind) {
	r := t.slot(at, traceTimer, node, None)
	r.timer, r.tk = true, tk
	t.emit(r)
}

// event traces an event with no detail (a start) or a word (a control label).
func (t *tracer) event(at Time, kind traceKind, node NodeID, word string) {
	t.slot(at, kind, node, None).word = word
	t.emit(&t.ring[t.next])
}

// observation traces o.
func (t *tracer) observation(at Time, o *Observation) {
	r := t.slot(at, traceObs, o.Node, None)
	r.obs = *o
	if len(o.Bytes) > 0 { // the step's arena is reused: the ring keeps a copy
		r.text = append(r.text, o.Bytes...)
		r.obs.Bytes = r.text
	}
	t.emit(r)
}

// emit hashes r, keeps it among the recent events and writes it if asked.
func (t *tracer) emit(r *record) {
	t.count++
	t.hashRecord(r)
	t.next = (t.next + 1) % recentLines
	if t.sink != nil && t.sinkErr == nil {
		t.writeJSON(r)
	}
}

// hashRecord folds r's binary form into the hash: time, nodes, then kind
// with the message digest or timer kind, then what the kind carries.
func (t *tracer) hashRecord(r *record) {
	h := &t.hash
	h.word(uint64(r.at))
	h.word(uint64(uint32(r.node))<<32 | uint64(uint32(r.peer)))
	head := uint64(r.kind)<<56 | uint64(r.tk)<<40 | uint64(r.sum)
	if r.kind == traceObs {
		// Half of a run's events are observations, most of them commits
		// and applies with no text: the kind rides in the header, and an
		// empty text adds nothing.
		head |= uint64(r.obs.Kind)<<48 | uint64(min(len(r.obs.Text)+len(r.obs.Bytes), 1))<<32
	}
	h.word(head)
	switch r.kind {
	case traceOther:
		t.hashString(r.name)
		h.bytes(r.text)
	case traceObs:
		h.word(r.obs.Term)
		h.word(r.obs.Index)
		h.word(r.obs.Digest)
		if r.obs.Text != "" {
			t.hashString(r.obs.Text)
		}
		if len(r.obs.Bytes) > 0 {
			h.bytes(r.obs.Bytes)
		}
	default:
		if r.word != "" {
			t.hashString(r.word)
		}
	}
}

func (t *tracer) hashString(s string) {
	t.scratch = append(t.scratch[:0], s...)
	t.hash.bytes(t.scratch)
}

// appendDetail appends r's detail text: what follows the nodes in its line.
func appendDetail(b []byte, r *record) []byte {
	switch r.kind {
	case traceOther:
		return append(b, r.text...)
	case traceObs:
		return r.obs.appendTrace(b)
	case traceTimer:
		return appendUint(b, uint64(r.tk))
	}
	b = append(b, r.word...)
	if r.msg != nil {
		if r.word != "" {
			b = append(b, ' ')
		}
		b = r.msg.AppendTrace(b)
	}
	if r.timer {
		b = append(b, " timer "...)
		b = appendUint(b, uint64(r.tk))
	}
	return b
}

// appendLine appends r's canonical line.
func appendLine(b []byte, r *record) []byte {
	b = appendTime(b, r.at)
	b = append(b, ' ')
	b = append(b, r.name...)
	if r.node != None {
		b = appendNode(b, r.node)
	}
	if r.peer != None {
		b = appendNode(b, r.peer)
	}
	start := len(b)
	b = appendDetail(append(b, ' '), r)
	if len(b) == start+1 {
		b = b[:start] // no detail: no separator
	}
	return b
}

func appendNode(b []byte, id NodeID) []byte {
	b = append(b, " n"...)
	return strconv.AppendInt(b, int64(id), 10)
}

// recent returns the text of the last events traced, oldest first.
func (t *tracer) recent() []string {
	n := min(t.count, recentLines)
	out := make([]string, 0, n)
	for i := range int(n) {
		r := &t.ring[(t.next-int(n)+i+recentLines)%recentLines]
		t.text = appendLine(t.text[:0], r)
		out = append(out, string(t.text))
	}
	return out
}

// writeJSON writes {"i":..,"t":..,"kind":..,"node":..,"peer":..,"detail":..}.
func (t *tracer) writeJSON(r *record) {
	b := append(t.json[:0], `{"i":`...)
	b = strconv.AppendUint(b, t.count, 10)
	b = append(b, `,"t":`...)
	b = appendTime(b, r.at)
	b = append(b, `,"kind":"`...)
	b = append(b, r.name...)
	b = append(b, '"')
	if r.node != None {
		b = append(b, `,"node":`...)
		b = strconv.AppendInt(b, int64(r.node), 10)
	}
	if r.peer != None {
		b = append(b, `,"peer":`...)
		b = strconv.AppendInt(b, int64(r.peer), 10)
	}
	if t.text = appendDetail(t.text[:0], r); len(t.text) > 0 {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, t.text)
	}
	b = append(b, "}\n"...)
	t.json = b
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
