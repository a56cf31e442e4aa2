package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// TraceRecord is one line of the JSONL trace a world writes to Config.Trace,
// decoded:
//
//	{"i":13,"t":3590141,"kind":"deliver","node":4,"peer":6,"detail":"Request ..."}
//
// For send, Node is the sender and Peer the receiver; for deliver, drop and
// hold, Node is the receiver and Peer the sender. Node and Peer are nil when
// the event has none (a control step, a heal). The writer is the tracer; this
// type is the one reading of its format, for reports and tests.
type TraceRecord struct {
	I      uint64  `json:"i"` // the event's number, from 1
	T      Time    `json:"t"`
	Kind   string  `json:"kind"`
	Node   *NodeID `json:"node"`
	Peer   *NodeID `json:"peer"`
	Detail string  `json:"detail"`
}

// MaxTraceLine bounds a trace line ReadTrace accepts, its newline included
// (as simrun's other JSON Lines readers count it). The tracer writes
// lines far shorter (an event and a message's summary); a longer one means
// the input is not a trace, and reading it whole could take any memory.
const MaxTraceLine = 1 << 20

// ReadTrace decodes a JSONL trace, one record a line; blank lines are
// skipped. An error names the line it is on.
func ReadTrace(r io.Reader) ([]TraceRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), MaxTraceLine)
	var out []TraceRecord
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec TraceRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("trace line %d: %w", line, err)
		}
		out = append(out, rec)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("trace line %d: longer than %d bytes", line+1, MaxTraceLine)
	}
	return out, sc.Err()
}
