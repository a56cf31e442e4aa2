package runner

import (
	"bytes"
	"io"
	"slices"
	"strconv"
)

// DefaultTraceWindow is how many events before and after the first violation
// a failure's trace.jsonl keeps when the caller asks for no other number: a
// minute of a busy five-node cluster, enough for the diagram and for reading
// the causes, a few megabytes where the whole trace of an hour is gigabytes.
const DefaultTraceWindow = 20000

// MaxTraceWindow bounds the events a window keeps on each side: the events
// before the violation wait in memory until it is found, and a window wider
// than this is the whole trace of any run worth reading (--full-trace).
const MaxTraceWindow = 10_000_000

// TraceWindow says which events a failure's trace.jsonl holds. report.json
// carries it (as "trace_window"), so that a reader knows the file is a part.
type TraceWindow struct {
	// First and Last are the first and last event numbers in the file (0
	// and 0 for a run without events).
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	// Anchor is the event the window is centred on, the first violation's;
	// 0 when the violation names no event (a liveness bound that ran out, an
	// event bound), and then the window is the run's last events.
	Anchor uint64 `json:"anchor,omitempty"`
	// Before and After are the window's requested size on each side.
	Before int `json:"before"`
	After  int `json:"after"`
	// Events is how many events the whole run had: the trace hash covers
	// all of them, whatever the file holds.
	Events uint64 `json:"events"`
	// Full is true when the file holds the whole run (--full-trace).
	Full bool `json:"full"`
}

// anchorOf says how the window writer recognises the first violation while
// the replay streams the trace: by its event number, or, when only the
// operation Porcupine could not place is known, by the observation of that
// operation's return. Neither: the window is the run's last events.
type anchorOf struct {
	event uint64
	parts [][]byte // substrings the anchor's JSONL line holds, all of them
}

// windowWriter is the io.Writer a failure's replay traces into. It keeps the
// last before lines in a ring (their buffers reused), writes them once the
// anchor's line passes, then after more lines, and drops the rest: the
// replay still formats every line (the kernel hashes every event either
// way), but the file and the memory stay bounded.
type windowWriter struct {
	out           io.Writer
	anchor        anchorOf
	before, after int

	ring    [][]byte // the last lines before the anchor, oldest at head
	head    int
	partial []byte // a line split across Write calls

	found     bool
	afterLeft int
	win       TraceWindow
	err       error
}

func newWindowWriter(out io.Writer, a anchorOf, before, after int) *windowWriter {
	// The ring grows as lines come, up to before: a wide window costs
	// memory only for a run that has the events to fill it.
	return &windowWriter{out: out, anchor: a, before: before, after: after,
		win: TraceWindow{Before: before, After: after}}
}

// Write takes any run of bytes; lines are handled as they complete.
func (w *windowWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && w.err == nil {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := p[:i+1]
		if len(w.partial) > 0 {
			w.partial = append(w.partial, line...)
			line = w.partial
		}
		w.line(line)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, w.err
}

func (w *windowWriter) line(b []byte) {
	ev := eventNumber(b)
	w.win.Events = max(w.win.Events, ev)
	switch {
	case !w.found && w.isAnchor(ev, b):
		w.found, w.afterLeft, w.win.Anchor = true, w.after, ev
		w.flushRing()
		w.emit(ev, b)
	case !w.found:
		w.keep(b)
	case w.afterLeft > 0:
		w.afterLeft--
		w.emit(ev, b)
	}
}

func (w *windowWriter) isAnchor(ev uint64, b []byte) bool {
	if w.anchor.event > 0 {
		return ev == w.anchor.event
	}
	for _, p := range w.anchor.parts {
		if !bytes.Contains(b, p) {
			return false
		}
	}
	return len(w.anchor.parts) > 0
}

// keep puts a line into the ring, over the oldest when it is full.
func (w *windowWriter) keep(b []byte) {
	if w.before == 0 {
		return
	}
	if len(w.ring) < w.before {
		w.ring = append(w.ring, slices.Clone(b))
		return
	}
	slot := w.head
	w.head = (w.head + 1) % w.before
	w.ring[slot] = append(w.ring[slot][:0], b...)
}

func (w *windowWriter) flushRing() {
	for k := range w.ring {
		b := w.ring[(w.head+k)%len(w.ring)]
		w.emit(eventNumber(b), b)
	}
	w.ring = nil
}

func (w *windowWriter) emit(ev uint64, b []byte) {
	if w.err != nil {
		return
	}
	if w.win.First == 0 {
		w.win.First = ev
	}
	w.win.Last = ev
	_, w.err = w.out.Write(b)
}

// finish writes what is pending once the run is over: with no anchor seen,
// the ring holds the run's last events, and they are the window.
func (w *windowWriter) finish() (TraceWindow, error) {
	if len(w.partial) > 0 {
		w.line(append(w.partial, '\n'))
		w.partial = nil
	}
	if !w.found {
		w.flushRing()
	}
	return w.win, w.err
}

// eventNumber reads the "i" of a trace line, {"i":13,...}; 0 if absent.
func eventNumber(b []byte) uint64 {
	rest, ok := bytes.CutPrefix(b, []byte(`{"i":`))
	if !ok {
		return 0
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0
	}
	n, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
