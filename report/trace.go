package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// noNode marks an event without a node or a peer (a control step, a heal).
const noNode = -1

// Event is one line of a trace.jsonl file (sim/trace.go):
//
//	{"i":13,"t":3590141,"kind":"deliver","node":4,"peer":6,"detail":"Request ..."}
//
// For send, node is the sender and peer the receiver; for deliver, drop and
// hold, node is the receiver and peer the sender.
type Event struct {
	I      uint64
	T      int64 // virtual nanoseconds
	Kind   string
	Node   int
	Peer   int
	Detail string
}

type jsonEvent struct {
	I      uint64 `json:"i"`
	T      int64  `json:"t"`
	Kind   string `json:"kind"`
	Node   *int   `json:"node"`
	Peer   *int   `json:"peer"`
	Detail string `json:"detail"`
}

// ReadTrace reads a trace written by the kernel, one JSON object a line.
func ReadTrace(r io.Reader) ([]Event, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []Event
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			var j jsonEvent
			if jerr := json.Unmarshal(b, &j); jerr != nil {
				return nil, fmt.Errorf("trace line %d: %w", line, jerr)
			}
			out = append(out, Event{I: j.I, T: j.T, Kind: j.Kind, Node: orNone(j.Node), Peer: orNone(j.Peer), Detail: j.Detail})
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func orNone(p *int) int {
	if p == nil {
		return noNode
	}
	return *p
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
