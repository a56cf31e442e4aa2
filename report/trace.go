package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/simrun/simrun/internal/jsonl"
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

// ReadTrace reads a trace written by the kernel, one sim.TraceRecord a line,
// in bounded memory: a line past jsonl.MaxLine is an error, not read whole (a
// trace line takes well under a kilobyte). Blank lines, and a last line an
// interrupted write cut short, are left out.
func ReadTrace(r io.Reader) ([]Event, error) {
	var out []Event
	_, err := jsonl.Lines(r, jsonl.MaxLine, func(line int, text []byte) error {
		if len(bytes.TrimSpace(text)) == 0 {
			return nil
		}
		var rec sim.TraceRecord
		if err := json.Unmarshal(text, &rec); err != nil {
			e := jsonl.DescribeError("not a trace event: ", err)
			e.Line, e.Col = line, max(e.Col, 1)
			return e
		}
		out = append(out, Event{I: rec.I, T: int64(rec.T), Kind: rec.Kind, Node: orNone(rec.Node), Peer: orNone(rec.Peer), Detail: rec.Detail})
		return nil
	})
	var tooLong *jsonl.TooLongError
	if errors.As(err, &tooLong) {
		return nil, &jsonl.Error{Line: tooLong.Line, Col: 1, Msg: fmt.Sprintf("not a trace event: longer than %d bytes", tooLong.Max)}
	}
	return out, err
}

// inFile prefixes err with path, as path:line:column when err has a
// position.
func inFile(path string, err error) error {
	var le *jsonl.Error
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %s", le.At(path), le.Msg)
	}
	return fmt.Errorf("%s: %w", path, err)
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
