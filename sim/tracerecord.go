package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
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

// ReadTrace decodes a JSONL trace, one record a line; blank lines are
// skipped. An error names the line it is on.
func ReadTrace(r io.Reader) ([]TraceRecord, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []TraceRecord
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			var rec TraceRecord
			if jerr := json.Unmarshal(b, &rec); jerr != nil {
				return nil, fmt.Errorf("trace line %d: %w", line, jerr)
			}
			out = append(out, rec)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
