package report

import (
	"io"
	"strings"

	"github.com/simrun/simrun/sim"
)

// noNode marks an event without a node or a peer (a control step, a heal).
const noNode = -1

// Event is one line of a trace.jsonl file (sim.TraceRecord), with a missing
// node or peer as noNode, so that nodes index and compare as plain ints.
type Event struct {
	I      uint64
	T      int64 // virtual nanoseconds
	Kind   string
	Node   int
	Peer   int
	Detail string
}

// ReadTrace reads a trace written by the kernel, one JSON object a line.
func ReadTrace(r io.Reader) ([]Event, error) {
	recs, err := sim.ReadTrace(r)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(recs))
	for i, rec := range recs {
		out[i] = Event{I: rec.I, T: int64(rec.T), Kind: rec.Kind, Node: orNone(rec.Node), Peer: orNone(rec.Peer), Detail: rec.Detail}
	}
	return out, nil
}

func orNone(p *sim.NodeID) int {
	if p == nil {
		return noNode
	}
	return int(*p)
}

// message returns the message part of a deliver, drop or hold detail: a drop
// and a hold start with their reason ("target-down MsgApp term=3 ..."), a
// delivery is the message alone. ok is false for a held timer.
func (e Event) message() (reason, msg string, ok bool) {
	switch e.Kind {
	case "send", "deliver":
		return "", e.Detail, true
	case "drop", "hold":
		reason, msg, _ = strings.Cut(e.Detail, " ")
		if e.Kind == "hold" && strings.HasPrefix(msg, "timer ") {
			return reason, "", false
		}
		return reason, msg, true
	}
	return "", "", false
}

// msgKind is a message's kind: the first word of its trace form.
func msgKind(msg string) string {
	k, _, _ := strings.Cut(msg, " ")
	return k
}

// field returns the value of " key=" in a trace detail, if present.
func field(detail, key string) (string, bool) {
	for _, w := range strings.Fields(detail) {
		if v, ok := strings.CutPrefix(w, key+"="); ok {
			return v, true
		}
	}
	return "", false
}
