package workload

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/simrun/simrun/service"
)

// OpKind is the kind of a KV operation.
type OpKind uint8

const (
	OpGet    OpKind = iota + 1 // read a key
	OpPut                      // overwrite a key
	OpAppend                   // append to a key's value, creating it if absent
	OpCAS                      // compare-and-set: write only if the key holds the expected value
	OpTxn                      // a list-append transaction: appends and reads over several keys (listappend.go)
)

var opKindNames = [...]string{OpGet: "get", OpPut: "put", OpAppend: "append", OpCAS: "cas", OpTxn: "txn"}

// String returns the kind as it is spelled in ops and histories ("get", ...).
func (k OpKind) String() string {
	if int(k) < len(opKindNames) && opKindNames[k] != "" {
		return opKindNames[k]
	}
	return fmt.Sprintf("opkind(%d)", int(k))
}

// ParseOpKind is the inverse of OpKind.String.
func ParseOpKind(s string) (OpKind, error) {
	for k, name := range opKindNames {
		if name != "" && name == s {
			return OpKind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown op kind %q", s)
}

// arguments is how many words follow the kind in the op's wire form.
func (k OpKind) arguments() int {
	switch k {
	case OpGet:
		return 1
	case OpCAS:
		return 3
	default:
		return 2
	}
}

// AppendSeparator joins appended values: appending "b" to "a" gives "a,b".
// A separator keeps histories readable and every append visible in a read.
const AppendSeparator = ","

// Op is one KV operation. Its wire form (Encode) is compact text, so that it
// reads well where traces quote command bytes:
//
//	get <key>
//	put <key> <value>
//	append <key> <value>
//	cas <key> <expect> <value>
//
// Keys and values are non-empty and contain no space.
type Op struct {
	Kind   OpKind
	Key    string
	Value  string // put and append: the value written; cas: the new value
	Expect string // cas: the value the key must hold for the write to happen
	// Txn is, for OpTxn, the transaction's micro-operations (Key, Value and
	// Expect stay empty).
	Txn []MicroOp
}

// Encode returns the op's wire form.
func (o Op) Encode() []byte { return o.AppendText(nil) }

// AppendText appends the op's wire form to b.
func (o Op) AppendText(b []byte) []byte {
	if o.Kind == OpTxn {
		return appendTxn(b, o.Txn)
	}
	b = append(b, o.Kind.String()...)
	b = append(b, ' ')
	b = append(b, o.Key...)
	if o.Kind == OpCAS {
		b = append(b, ' ')
		b = append(b, o.Expect...)
	}
	if o.Kind != OpGet {
		b = append(b, ' ')
		b = append(b, o.Value...)
	}
	return b
}

// String returns the wire form.
func (o Op) String() string { return string(o.Encode()) }

// ErrMalformed reports op or result bytes that do not decode.
var ErrMalformed = errors.New("workload: malformed")

// ParseOp decodes an op's wire form.
func ParseOp(b []byte) (Op, error) {
	kind, args, err := splitOp(b)
	if err != nil {
		return Op{}, err
	}
	if kind == OpTxn {
		return parseTxn(b, strings.Split(string(b), " ")[1:])
	}
	s := string(b) // one copy: the key and values are its substrings
	op := Op{Kind: kind, Key: args[0].of(s)}
	switch kind {
	case OpPut, OpAppend:
		op.Value = args[1].of(s)
	case OpCAS:
		op.Expect, op.Value = args[1].of(s), args[2].of(s)
	}
	return op, nil
}

// span is a word of an op's wire form: b[from:to].
type span struct{ from, to int }

func (w span) of(s string) string { return s[w.from:w.to] }
func (w span) in(b []byte) []byte { return b[w.from:w.to] }

// splitOp checks an op's wire form and finds its kind and arguments without
// copying anything: Apply and ReadOnly run on every command, and a get needs
// no string of its own. A transaction's words are left to parseTxn.
func splitOp(b []byte) (OpKind, [3]span, error) {
	var args [3]span
	end := bytes.IndexByte(b, ' ')
	if end < 0 {
		end = len(b)
	}
	kind := opKindOf(b[:end])
	if kind == 0 {
		_, err := ParseOpKind(string(b[:end]))
		return 0, args, fmt.Errorf("%w op %q: %v", ErrMalformed, b, err)
	}
	if kind == OpTxn {
		return kind, args, nil
	}
	n := 0
	for end < len(b) {
		from := end + 1
		end = from + bytes.IndexByte(b[from:], ' ')
		if end < from {
			end = len(b)
		}
		if n < len(args) {
			args[n] = span{from, end}
		}
		n++
	}
	if n != kind.arguments() {
		return 0, args, fmt.Errorf("%w op %q: %s takes %d arguments", ErrMalformed, b, kind, kind.arguments())
	}
	for _, w := range args[:n] {
		if w.from == w.to {
			return 0, args, fmt.Errorf("%w op %q: empty argument", ErrMalformed, b)
		}
	}
	return kind, args, nil
}

// opKindOf is ParseOpKind for bytes, without the error (0 if unknown).
func opKindOf(word []byte) OpKind {
	for k, name := range opKindNames {
		if name != "" && name == string(word) {
			return OpKind(k)
		}
	}
	return 0
}

// Result is the decoded answer of the KV to one op. The wire forms are:
//
//	get:          "ok <value>" if the key exists, "nf" (not found) if not
//	put, append:  "ok"
//	cas:          "ok" if it wrote; else "fail <value>" with the value the key held,
//	              or "fail nf" if it did not exist (a failed cas is a read, as
//	              etcd's transactions return the current value on failure)
//	any:          "err <reason>" for an op that does not decode (the KV changes nothing)
type Result struct {
	Value string // get: the value read
	Found bool   // get: whether the key existed
	CASOK bool   // cas: whether the write happened
}

// Wire forms of results.
const (
	resultOK       = "ok"
	resultNotFound = "nf"
	resultCASFail  = "fail"
	resultErr      = "err"
)

// ParseResult decodes the KV's answer to an op of the given kind. An "err"
// answer, or bytes that are not a valid answer for kind, is an error.
func ParseResult(kind OpKind, b []byte) (Result, error) {
	switch {
	case kind == OpGet && string(b) == resultNotFound:
		return Result{}, nil
	case kind == OpGet && bytes.HasPrefix(b, []byte(resultOK+" ")) && len(b) > len(resultOK)+1:
		return Result{Value: string(b[len(resultOK)+1:]), Found: true}, nil
	case (kind == OpPut || kind == OpAppend) && string(b) == resultOK:
		return Result{}, nil
	case kind == OpCAS && string(b) == resultOK:
		return Result{CASOK: true}, nil
	case kind == OpCAS && string(b) == resultCASFail+" "+resultNotFound:
		return Result{}, nil
	case kind == OpCAS && bytes.HasPrefix(b, []byte(resultCASFail+" ")) && len(b) > len(resultCASFail)+1:
		return Result{Value: string(b[len(resultCASFail)+1:]), Found: true}, nil
	}
	return Result{}, fmt.Errorf("%w result %q for %s", ErrMalformed, b, kind)
}

// kv is the replicated key-value state machine. Apply looks keys up but never
// iterates the map, so its results depend only on the ops applied.
//
// A state machine is applied on every server, once per operation, so a write
// parses its op in place and allocates nothing but, the first time, its key:
// a key's value is a slot of vals (index maps keys to slots, and a write
// changes the slot, never the map), and values and answers are copied into
// shared chunks (service.ByteSlab) that are never written again. A chunk
// lives as long as one value in it does: with a few keys a handful of chunks,
// with many keys up to a chunk per key (4 KiB), never more than the values
// written.
type kv struct {
	index   map[string]int
	vals    [][]byte
	values  service.ByteSlab // what vals hold
	results service.ByteSlab // the answers Apply returns
	out     []byte           // where the next value or answer is built
}

// get returns key's value.
func (s *kv) get(key []byte) ([]byte, bool) {
	i, found := s.index[string(key)]
	if !found {
		return nil, false
	}
	return s.vals[i], true
}

// set makes v, copied, key's value.
func (s *kv) set(key, v []byte) {
	v = s.values.Copy(v)
	if i, found := s.index[string(key)]; found {
		s.vals[i] = v
		return
	}
	s.index[string(key)] = len(s.vals)
	s.vals = append(s.vals, v)
}

// appended returns the value of a key after appending v to cur (its value
// if found), built in s.out: set copies it.
func (s *kv) appended(cur []byte, found bool, v []byte) []byte {
	if !found {
		return v
	}
	s.out = append(append(append(s.out[:0], cur...), AppendSeparator...), v...)
	return s.out
}

// NewKV returns an empty KV state machine; it has the service.NewStateMachine
// signature, so protocols take it as their application.
func NewKV() service.StateMachine { return &kv{index: map[string]int{}} }

// ReadOnly implements service.ReadOnly: a get changes nothing.
func (s *kv) ReadOnly(b []byte) bool {
	kind, _, err := splitOp(b)
	return err == nil && kind == OpGet
}

// Apply runs one op and returns its result's wire form. It is total: bytes
// that do not decode give an "err" result and change nothing.
func (s *kv) Apply(b []byte) []byte {
	kind, args, err := splitOp(b)
	if err != nil {
		return s.result(resultErr, malformedDetail)
	}
	if kind == OpTxn {
		op, err := ParseOp(b)
		if err != nil {
			return s.result(resultErr, malformedDetail)
		}
		return s.applyTxn(op)
	}
	key := args[0].in(b)
	cur, found := s.get(key)
	switch kind {
	case OpGet:
		if !found {
			return s.result(resultNotFound, nil)
		}
		return s.result(resultOK, cur)
	case OpPut:
		s.set(key, args[1].in(b))
	case OpAppend:
		s.set(key, s.appended(cur, found, args[1].in(b)))
	case OpCAS:
		if !found {
			return s.result(resultCASFail, notFoundDetail)
		}
		if !bytes.Equal(cur, args[1].in(b)) {
			return s.result(resultCASFail, cur)
		}
		s.set(key, args[2].in(b))
	}
	return s.result(resultOK, nil)
}

// The details of fixed answers.
var (
	malformedDetail = []byte("malformed op")
	notFoundDetail  = []byte(resultNotFound)
)

// result returns "word detail" ("word" alone for an empty detail) from the
// results slab.
func (s *kv) result(word string, detail []byte) []byte {
	s.out = append(s.out[:0], word...)
	if len(detail) > 0 {
		s.out = append(append(s.out, ' '), detail...)
	}
	return s.results.Copy(s.out)
}
