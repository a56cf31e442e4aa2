package prototest

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// KV is a tiny state machine for scripted tests: "set k v" stores v and
// returns "ok", "get k" returns the value, "add k" increments a counter and
// returns its new value; anything else returns "bad op". Its snapshot encodes
// the keys in sorted order, so equal states give equal bytes.
type KV struct{ m map[string]string }

// NewKV builds an empty KV. It is a service.NewStateMachine.
func NewKV() service.StateMachine { return &KV{m: map[string]string{}} }

// NewKVWith builds a KV holding state, for a snapshot prepared by a test.
func NewKVWith(state map[string]string) *KV {
	kv := &KV{m: map[string]string{}}
	for k, v := range state {
		kv.m[k] = v
	}
	return kv
}

// Apply runs op.
func (s *KV) Apply(op []byte) []byte {
	verb, rest, _ := bytes.Cut(op, []byte(" "))
	switch string(verb) {
	case "set":
		k, v, _ := bytes.Cut(rest, []byte(" "))
		s.m[string(k)] = string(v)
		return []byte("ok")
	case "get":
		return []byte(s.m[string(rest)])
	case "add":
		v, _ := strconv.Atoi(s.m[string(rest)])
		s.m[string(rest)] = strconv.Itoa(v + 1)
		return []byte(s.m[string(rest)])
	}
	return []byte("bad op")
}

// State returns a copy of the key-value pairs.
func (s *KV) State() map[string]string {
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

// Snapshot implements service.Snapshotter.
func (s *KV) Snapshot() []byte {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s.m[k])))
		b = append(b, s.m[k]...)
	}
	return b
}

// Restore implements service.Snapshotter.
func (s *KV) Restore(b []byte) error {
	m := map[string]string{}
	for len(b) > 0 {
		var parts [2]string
		for i := range parts {
			size, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < size {
				return service.ErrCorruptSnapshot
			}
			parts[i] = string(b[n : n+int(size)])
			b = b[n+int(size):]
		}
		m[parts[0]] = parts[1]
	}
	s.m = m
	return nil
}

// plainKV hides KV's snapshot methods.
type plainKV struct{ kv *KV }

func (p plainKV) Apply(op []byte) []byte { return p.kv.Apply(op) }

// NewPlainKV builds a KV that cannot snapshot, for the protocols' paths
// without compaction.
func NewPlainKV() service.StateMachine { return plainKV{kv: NewKV().(*KV)} }

// SessionsState returns the KV state inside s, read through a snapshot
// (Sessions keeps its state machine private).
func SessionsState(s *service.Sessions) (map[string]string, error) {
	data, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	kv := NewKV().(*KV)
	if err := service.NewSessions(kv).Restore(data); err != nil {
		return nil, err
	}
	return kv.State(), nil
}

// Cmd builds a client command.
func Cmd(client sim.NodeID, seq uint64, op string) service.Command {
	return service.Command{Client: client, Seq: seq, Op: []byte(op)}
}

// Request builds a client request for Cmd(client, seq, op).
func Request(client sim.NodeID, seq uint64, op string) service.Request {
	return service.Request{Cmd: Cmd(client, seq, op)}
}
