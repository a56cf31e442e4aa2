package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/simrun/simrun/internal/chunked"
	"github.com/simrun/simrun/internal/jsonl"
	"github.com/simrun/simrun/sim"
)

// Status is what a client learned about an operation.
type Status uint8

const (
	// StatusUnknown: no answer came before the timeout (or the run ended first).
	// The op may or may not have taken effect; it returns at sim.Forever.
	StatusUnknown Status = iota
	// StatusOK: the service answered with a valid result. A cas whose
	// expectation did not hold is OK with CASOK false: a definite answer.
	StatusOK
	// StatusFailed: the service answered, but with something that is not a
	// valid result for the op (an "err" result, undecodable bytes). The workload
	// sends only well-formed ops, so this means the service corrupted a
	// command or a result; Output holds the raw answer.
	StatusFailed
)

var statusNames = [...]string{StatusUnknown: "unknown", StatusOK: "ok", StatusFailed: "failed"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Operation is one client operation in a history.
type Operation struct {
	ID     int    // position in the history, in call order, from 0
	Client int    // client index, 0..Clients-1 (not the node ID)
	Seq    uint64 // the client's sequence number for it
	Kind   OpKind
	Key    string
	Value  string // put, append: the value written; cas: the new value
	Expect string // cas: the expected value
	Call   sim.Time
	Return sim.Time // sim.Forever while unanswered and when Status is unknown
	Status Status
	Output string // get: the value read; failed: the raw answer
	Found  bool   // get: the key existed
	CASOK  bool   // cas: the write happened
	// Txn is, for a list-append transaction (OpTxn), its micro-operations,
	// with the lists read filled in once answered OK.
	Txn []MicroOp
}

// Op returns the operation's request.
func (o Operation) Op() Op {
	return Op{Kind: o.Kind, Key: o.Key, Value: o.Value, Expect: o.Expect, Txn: requestOf(o.Txn)}
}

// History is the ordered record of a run's client operations, in call order.
// An operation still in flight reads as unknown, returning at sim.Forever,
// which is what a checker must assume of it.
//
// An hour-long run records hundreds of thousands of operations, most of
// what such a run keeps in memory, so the history stores each one as a
// 64-byte record (its strings in one, its key by number, a transaction
// apart) in a chunked list, which never holds an array and its doubled
// copy at once, and builds an Operation only when asked for one.
type History struct {
	ops      chunked.List[record]
	keys     []string          // key names, by number
	keyIndex map[string]uint32 // key name -> number
	txns     [][]MicroOp       // list-append transactions, by record.txn-1
}

// record is an operation as the history stores it.
type record struct {
	call, ret sim.Time
	seq       uint64
	// text is the value, then the expected value, then the output: one
	// string, which a get's output or a put's value is alone (no copy).
	text                string
	client              int32
	key                 uint32 // index into History.keys
	valueLen, expectLen uint32
	txn                 uint32 // index+1 into History.txns; 0: not a transaction
	kind                OpKind
	status              Status
	found, casOK        bool
}

// NewHistory builds a history from operations, for tests and tools (a history
// read back from a file, a hand-made counterexample). IDs are renumbered to
// positions.
func NewHistory(ops ...Operation) *History {
	h := &History{}
	for i := range ops {
		h.add(&ops[i])
	}
	return h
}

// Len is the number of operations.
func (h *History) Len() int { return h.ops.Len() }

// Operations returns a copy of the operations in call order.
func (h *History) Operations() []Operation {
	ops := make([]Operation, h.Len())
	for i := range ops {
		ops[i] = h.At(i)
	}
	return ops
}

// At returns a copy of the i-th operation in call order (its ID is i), for
// checkers that walk a long history without copying all of it.
func (h *History) At(i int) Operation {
	r := h.ops.At(i)
	value, rest := r.text[:r.valueLen], r.text[r.valueLen:]
	expect, output := rest[:r.expectLen], rest[r.expectLen:]
	op := Operation{ID: i, Client: int(r.client), Seq: r.seq, Kind: r.kind, Key: h.keys[r.key],
		Value: value, Expect: expect, Call: r.call, Return: r.ret, Status: r.status,
		Output: output, Found: r.found, CASOK: r.casOK}
	if r.txn != 0 {
		op.Txn = h.txns[r.txn-1]
	}
	return op
}

// Counts returns how many operations are OK, failed and unknown. A cas that
// found an unexpected value is OK (a definite "no"), not failed; failed
// counts only answers that are not valid results (see StatusFailed).
func (h *History) Counts() (ok, failed, unknown int) {
	for i := range h.Len() {
		switch h.ops.At(i).status {
		case StatusOK:
			ok++
		case StatusFailed:
			failed++
		default:
			unknown++
		}
	}
	return ok, failed, unknown
}

// call records a new operation and returns its ID.
func (h *History) call(client int, seq uint64, op Op, at sim.Time) int {
	return h.add(&Operation{Client: client, Seq: seq, Kind: op.Kind, Key: op.Key, Value: op.Value,
		Expect: op.Expect, Call: at, Return: sim.Forever, Status: StatusUnknown, Txn: requestOf(op.Txn)})
}

// add appends op, whatever its state, and returns its ID.
func (h *History) add(op *Operation) int {
	r := record{call: op.Call, ret: op.Return, seq: op.Seq, text: op.Value + op.Expect + op.Output,
		client: int32(op.Client), key: h.keyNumber(op.Key),
		valueLen: uint32(len(op.Value)), expectLen: uint32(len(op.Expect)),
		kind: op.Kind, status: op.Status, found: op.Found, casOK: op.CASOK}
	if op.Txn != nil {
		h.txns = append(h.txns, op.Txn)
		r.txn = uint32(len(h.txns))
	}
	return h.ops.Append(r)
}

// keyNumber interns a key name.
func (h *History) keyNumber(key string) uint32 {
	if n, ok := h.keyIndex[key]; ok {
		return n
	}
	if h.keyIndex == nil {
		h.keyIndex = map[string]uint32{}
	}
	n := uint32(len(h.keys))
	h.keys = append(h.keys, key)
	h.keyIndex[key] = n
	return n
}

// complete records the service's answer to operation id and returns the
// operation as answered.
func (h *History) complete(id int, at sim.Time, raw []byte) Operation {
	r := h.ops.At(id)
	r.ret = at
	if r.kind == OpTxn {
		txn, err := ParseTxnResult(h.txns[r.txn-1], raw)
		if err != nil {
			r.status, r.text = StatusFailed, r.text+string(raw)
			return h.At(id)
		}
		r.status, h.txns[r.txn-1] = StatusOK, txn
		return h.At(id)
	}
	res, err := ParseResult(r.kind, raw)
	if err != nil {
		r.status, r.text = StatusFailed, r.text+string(raw)
		return h.At(id)
	}
	r.status, r.text, r.found, r.casOK = StatusOK, r.text+res.Value, res.Found, res.CASOK
	return h.At(id)
}

// jsonOperation is the JSONL form of an Operation. Return is null when the
// operation has no definite return (unknown outcome).
type jsonOperation struct {
	ID     int    `json:"id"`
	Client int    `json:"client"`
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Expect string `json:"expect,omitempty"`
	Call   int64  `json:"call"`
	Return *int64 `json:"return"`
	Status string `json:"status"`
	Output string `json:"output,omitempty"`
	Found  bool   `json:"found,omitempty"`
	// CASOK is written for every cas answered OK, false too: a cas whose
	// expectation did not hold is a definite answer, not a missing field.
	CASOK *bool `json:"cas_ok,omitempty"`
	// Txn: a list-append transaction's micro-operations.
	Txn []jsonMicroOp `json:"txn,omitempty"`
}

// WriteJSON writes the history as JSON lines, one operation per line in call
// order, times in virtual nanoseconds:
//
//	{"id":0,"client":0,"seq":1,"kind":"put","key":"k3","value":"c0.1","call":0,"return":2000000,"status":"ok"}
func (h *History) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range h.Len() {
		op := h.At(i)
		if err := enc.Encode(toJSON(&op)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func toJSON(o *Operation) jsonOperation {
	j := jsonOperation{ID: o.ID, Client: o.Client, Seq: o.Seq, Kind: o.Kind.String(), Key: o.Key,
		Value: o.Value, Expect: o.Expect, Call: int64(o.Call), Status: o.Status.String(),
		Output: o.Output, Found: o.Found, Txn: txnToJSON(o.Txn)}
	if o.Kind == OpCAS && o.Status == StatusOK {
		j.CASOK = &o.CASOK
	}
	if o.Return != sim.Forever {
		r := int64(o.Return)
		j.Return = &r
	}
	return j
}

// maxHistoryLine bounds a history line as read: far above what a run
// writes (a list-append read of long lists takes megabytes), so that a file
// of anything else is refused without being read whole.
const maxHistoryLine = 64 << 20

// ReadJSON reads a history written by WriteJSON: one operation a line,
// blank lines aside. An error names the line (a *jsonl.Error).
func ReadJSON(r io.Reader) (*History, error) {
	h := &History{}
	// The newline appended ends a last line written without one, which
	// jsonl.Lines would leave out as a write cut short: every line counts.
	_, err := jsonl.Lines(io.MultiReader(r, strings.NewReader("\n")), maxHistoryLine, func(line int, text []byte) error {
		if len(bytes.TrimSpace(text)) == 0 {
			return nil
		}
		op, err := readOperation(text, h.Len())
		if err != nil {
			err.Line = line
			return err
		}
		h.add(&op)
		return nil
	})
	var tooLong *jsonl.TooLongError
	if errors.As(err, &tooLong) {
		return nil, &jsonl.Error{Line: tooLong.Line, Msg: fmt.Sprintf("longer than %d bytes: not an operation", tooLong.Max)}
	}
	if err != nil {
		return nil, err
	}
	return h, nil
}

// readOperation decodes one line's operation, which must have id next.
func readOperation(text []byte, next int) (Operation, *jsonl.Error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	var j jsonOperation
	if err := dec.Decode(&j); err != nil {
		e := jsonl.DescribeError("", err)
		if e.Col == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			e.Col = len(bytes.TrimRight(text, " \t\r")) + 1 // where the line ends, short of the value
		}
		return Operation{}, e
	}
	if dec.More() {
		return Operation{}, &jsonl.Error{Msg: "more than one operation on the line"}
	}
	op, err := fromJSON(&j)
	switch {
	case err != nil:
		return Operation{}, &jsonl.Error{Msg: err.Error()}
	case j.ID != next:
		return Operation{}, &jsonl.Error{Msg: fmt.Sprintf("id: %d, want %d (ids number the operations from 0 in order)", j.ID, next)}
	case j.Client < 0 || j.Client >= MaxClients:
		return Operation{}, &jsonl.Error{Msg: fmt.Sprintf("client: %d is not a client index (0 to %d)", j.Client, MaxClients-1)}
	case j.Call < 0:
		return Operation{}, &jsonl.Error{Msg: fmt.Sprintf("call: %d is negative", j.Call)}
	case j.Return != nil && *j.Return < j.Call:
		return Operation{}, &jsonl.Error{Msg: fmt.Sprintf("return: %d is before the call, %d", *j.Return, j.Call)}
	}
	return op, nil
}

func fromJSON(j *jsonOperation) (Operation, error) {
	kind, err := ParseOpKind(j.Kind)
	if err != nil {
		return Operation{}, err
	}
	status, err := parseStatus(j.Status)
	if err != nil {
		return Operation{}, err
	}
	op := Operation{ID: j.ID, Client: j.Client, Seq: j.Seq, Kind: kind, Key: j.Key, Value: j.Value,
		Expect: j.Expect, Call: sim.Time(j.Call), Return: sim.Forever, Status: status,
		Output: j.Output, Found: j.Found, CASOK: j.CASOK != nil && *j.CASOK, Txn: txnFromJSON(j.Txn)}
	if j.Return != nil {
		op.Return = sim.Time(*j.Return)
	}
	return op, nil
}

func parseStatus(s string) (Status, error) {
	for st, name := range statusNames {
		if name == s {
			return Status(st), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q", s)
}
