package workload

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/simrun/simrun/sim"
)

// Data models of the workload (Config.Model), as scenario files write
// workload.model. checkers/names holds the same list; a test keeps them equal.
const (
	ModelKV         = "kv"          // single-key get, put, append, cas (the default)
	ModelListAppend = "list-append" // transactions of appends and reads, as Elle's list-append
)

// DefaultMaxTxnOps is the most micro-operations of one list-append
// transaction of a Config that sets none.
const DefaultMaxTxnOps = 4

// DefaultMaxWritesPerKey is the appends a list-append key takes before it is
// retired, in a Config that sets none: Elle's generator's default, short
// enough that a read returns a few hundred bytes.
const DefaultMaxWritesPerKey = 32

// MaxWritesPerKeyLimit bounds Config.MaxWritesPerKey; at it, keys are in
// effect never retired.
const MaxWritesPerKeyLimit = 1_000_000

// MicroOp is one step of a list-append transaction: an append of Value to
// the list at Key, or a read of that list. The lists are KV values whose
// elements are joined by AppendSeparator, so an append here is the KV's
// append and a read is its get.
type MicroOp struct {
	Append bool
	Key    string
	Value  string // append: the element appended, unique in the run
	// Read is, for a read of a transaction answered OK, the list read (nil:
	// empty or absent). Requests and unanswered transactions leave it nil.
	Read []string
}

// String renders "append k1 c0.3.1" or "r k2 [c1.2 c0.3.1]" (the read list
// only once answered).
func (m MicroOp) String() string {
	if m.Append {
		return "append " + m.Key + " " + m.Value
	}
	return "r " + m.Key + " [" + strings.Join(m.Read, " ") + "]"
}

// Wire forms of a transaction. The op is "txn" then, per micro-op, "r <key>"
// or "a <key> <value>":
//
//	txn r k1 a k2 c0.3.1 r k2
//
// Its result is "ok" then one word per micro-op: "+" for an append, the
// elements read joined by AppendSeparator for a read, or "nf" for an empty
// list:
//
//	ok c1.2 + c0.3.1
const (
	txnRead     = "r"
	txnAppend   = "a"
	txnAppended = "+"
)

// appendTxn appends the wire form of the transaction's micro-ops to b.
func appendTxn(b []byte, txn []MicroOp) []byte {
	b = append(b, OpTxn.String()...)
	for _, m := range txn {
		if m.Append {
			b = append(b, " "+txnAppend+" "...)
			b = append(b, m.Key...)
			b = append(b, ' ')
			b = append(b, m.Value...)
			continue
		}
		b = append(b, " "+txnRead+" "...)
		b = append(b, m.Key...)
	}
	return b
}

// parseTxn decodes the words after "txn".
func parseTxn(b []byte, words []string) (Op, error) {
	op := Op{Kind: OpTxn}
	for i := 0; i < len(words); {
		switch {
		case words[i] == txnRead && i+1 < len(words) && words[i+1] != "":
			op.Txn = append(op.Txn, MicroOp{Key: words[i+1]})
			i += 2
		case words[i] == txnAppend && i+2 < len(words) && words[i+1] != "" && words[i+2] != "":
			op.Txn = append(op.Txn, MicroOp{Append: true, Key: words[i+1], Value: words[i+2]})
			i += 3
		default:
			return Op{}, fmt.Errorf("%w op %q: bad micro-op at word %d", ErrMalformed, b, i+1)
		}
	}
	if len(op.Txn) == 0 {
		return Op{}, fmt.Errorf("%w op %q: an empty transaction", ErrMalformed, b)
	}
	return op, nil
}

// applyTxn runs a transaction on the KV, atomically: it is one command.
func (s *kv) applyTxn(op Op) []byte {
	out := []byte(resultOK)
	for _, m := range op.Txn {
		key := []byte(m.Key)
		cur, found := s.get(key)
		out = append(out, ' ')
		switch {
		case m.Append:
			s.set(key, s.appended(cur, found, []byte(m.Value)))
			out = append(out, txnAppended...)
		case found:
			out = append(out, cur...)
		default:
			out = append(out, resultNotFound...)
		}
	}
	return out
}

// SplitTxn implements service.TxnSplitter: a transaction of two
// micro-operations or more becomes two, its first half and the rest.
func (s *kv) SplitTxn(b []byte) [][]byte {
	op, err := ParseOp(b)
	if err != nil || op.Kind != OpTxn || len(op.Txn) < 2 {
		return nil
	}
	half := len(op.Txn) / 2
	return [][]byte{appendTxn(nil, op.Txn[:half]), appendTxn(nil, op.Txn[half:])}
}

// JoinResults implements service.TxnSplitter: "ok a b" and "ok c" make
// "ok a b c"; a part that did not answer ok answers for the whole.
func (s *kv) JoinResults(results [][]byte) []byte {
	out := []byte(resultOK)
	for _, r := range results {
		rest, ok := bytes.CutPrefix(r, []byte(resultOK))
		if !ok {
			return r
		}
		out = append(out, rest...)
	}
	return out
}

// ParseTxnResult decodes the answer to the transaction txn: a copy of txn
// with the lists read filled in.
func ParseTxnResult(txn []MicroOp, b []byte) ([]MicroOp, error) {
	words := strings.Split(string(b), " ")
	if words[0] != resultOK || len(words) != 1+len(txn) {
		return nil, fmt.Errorf("%w result %q for a transaction of %d operations", ErrMalformed, b, len(txn))
	}
	out := make([]MicroOp, len(txn))
	for i, m := range txn {
		w := words[i+1]
		out[i] = m
		switch {
		case m.Append && w == txnAppended:
		case !m.Append && w == resultNotFound:
		case !m.Append && w != "" && w != txnAppended:
			out[i].Read = strings.Split(w, AppendSeparator)
		default:
			return nil, fmt.Errorf("%w result %q: word %d does not answer %s", ErrMalformed, b, i+2, m)
		}
	}
	return out, nil
}

// drawTxn draws a list-append transaction: 1..MaxTxnOps micro-ops, each a
// read or an append (even odds) of a uniformly drawn key, appends writing
// "c<client>.<seq>.<i>", unique in the run.
func (c *client) drawTxn(r *sim.Rand) Op {
	cfg := &c.wl.cfg
	maxOps := cfg.MaxTxnOps
	if maxOps <= 0 {
		maxOps = DefaultMaxTxnOps
	}
	n := 1 + r.IntN(maxOps)
	op := Op{Kind: OpTxn, Txn: make([]MicroOp, n)}
	for i := range op.Txn {
		var m MicroOp
		place := r.IntN(cfg.Keys)
		if r.IntN(2) == 1 {
			m.Append = true
			m.Value = "c" + strconv.Itoa(c.index) + "." + strconv.FormatUint(c.seq, 10) + "." + strconv.Itoa(i)
		}
		m.Key = c.wl.listKey(place, m.Append)
		op.Txn[i] = m
	}
	return op
}

// listKey returns the key in use at place (one of Config.Keys) for a
// list-append micro-op, counting an append. A key that has taken
// MaxWritesPerKey appends is retired first: the place gets a fresh key,
// whose list starts empty. Appends are counted as transactions are drawn,
// not as they take effect, so a retired key's list may end short of the
// bound (appends that failed), never over it.
func (w *Workload) listKey(place int, appends bool) string {
	k, ok := w.inUse[place]
	if !ok {
		k = &keyInUse{name: w.key(place)}
		w.inUse[place] = k
	}
	if k.appends >= w.cfg.maxWritesPerKey() {
		k.name, k.appends = keyName(w.cfg.Keys+w.retired), 0
		w.retired++
	}
	if appends {
		k.appends++
	}
	return k.name
}

// keyInUse is the key at one place of a list-append workload.
type keyInUse struct {
	name    string
	appends int // drawn so far
}

// maxWritesPerKey is the effective MaxWritesPerKey.
func (c Config) maxWritesPerKey() int {
	if c.MaxWritesPerKey == 0 {
		return DefaultMaxWritesPerKey
	}
	return c.MaxWritesPerKey
}

// mapTxn converts a transaction micro-op by micro-op. A nil transaction (a
// key-value operation's) stays nil, so that its JSON leaves the field out.
func mapTxn[From, To any](txn []From, convert func(From) To) []To {
	if txn == nil {
		return nil
	}
	out := make([]To, len(txn))
	for i, m := range txn {
		out[i] = convert(m)
	}
	return out
}

// requestOf copies a transaction's micro-ops without what was read.
func requestOf(txn []MicroOp) []MicroOp {
	return mapTxn(txn, func(m MicroOp) MicroOp {
		return MicroOp{Append: m.Append, Key: m.Key, Value: m.Value}
	})
}

// jsonMicroOp is the JSONL form of a MicroOp, as Elle writes them:
// {"f":"append","k":"k1","v":"c0.3.1"} or {"f":"r","k":"k2","read":["c1.2"]}.
type jsonMicroOp struct {
	F    string   `json:"f"`
	K    string   `json:"k"`
	V    string   `json:"v,omitempty"`
	Read []string `json:"read,omitempty"`
}

func txnToJSON(txn []MicroOp) []jsonMicroOp {
	return mapTxn(txn, func(m MicroOp) jsonMicroOp {
		f := txnRead
		if m.Append {
			f = "append"
		}
		return jsonMicroOp{F: f, K: m.Key, V: m.Value, Read: m.Read}
	})
}

func txnFromJSON(txn []jsonMicroOp) []MicroOp {
	return mapTxn(txn, func(m jsonMicroOp) MicroOp {
		return MicroOp{Append: m.F == "append", Key: m.K, Value: m.V, Read: m.Read}
	})
}
