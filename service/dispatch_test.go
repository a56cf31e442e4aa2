package service

import (
	"encoding/binary"
	"hash/fnv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/sim"
)

type otherMessage struct{}

func (otherMessage) AppendTrace(b []byte) []byte { return b }

func TestRequestCommand(t *testing.T) {
	cmd := Command{Client: 3, Seq: 7, Op: []byte("put k v")}
	for _, m := range []sim.Message{Request{Cmd: cmd}, &Request{Cmd: cmd}} {
		got, ok := RequestCommand(m)
		if !ok || got.Client != cmd.Client || got.Seq != cmd.Seq || string(got.Op) != string(cmd.Op) {
			t.Errorf("RequestCommand(%T) = %v, %v; want the request's command", m, got, ok)
		}
	}
	if _, ok := RequestCommand(otherMessage{}); ok {
		t.Error("RequestCommand accepted a message that is not a request")
	}
}

func TestReplyOf(t *testing.T) {
	r := Reply{Client: 3, Seq: 7, Status: StatusOK, Result: []byte("ok")}
	for _, m := range []sim.Message{r, &r} {
		got, ok := ReplyOf(m)
		if !ok || got.Client != r.Client || got.Seq != r.Seq || string(got.Result) != "ok" {
			t.Errorf("ReplyOf(%T) = %v, %v; want the reply", m, got, ok)
		}
	}
	if _, ok := ReplyOf(Request{}); ok {
		t.Error("ReplyOf accepted a request")
	}
}

// Requests and replies are hashed from their binary forms; each variant
// differs from the first in one field.
func TestRequestAndReplyDigestsSeeEveryField(t *testing.T) {
	cmd := Command{Client: 5, Seq: 3, Op: []byte("put k v")}
	require.NoError(t, digestcheck.Collision(Request{Cmd: cmd},
		Request{Cmd: Command{Client: 6, Seq: 3, Op: cmd.Op}},
		Request{Cmd: Command{Client: 5, Seq: 4, Op: cmd.Op}},
		Request{Cmd: Command{Client: 5, Seq: 3, Op: []byte("put k w")}},
		Request{Cmd: Noop}))
	ok := Reply{Client: 5, Seq: 3, Status: StatusOK, Result: []byte("ok v")}
	require.NoError(t, digestcheck.Collision(ok,
		Reply{Client: 6, Seq: 3, Status: StatusOK, Result: ok.Result},
		Reply{Client: 5, Seq: 4, Status: StatusOK, Result: ok.Result},
		Reply{Client: 5, Seq: 3, Status: StatusOK, Result: []byte("ok w")},
		Reply{Client: 5, Seq: 3, Status: StatusNotLeader, Leader: sim.None},
		Reply{Client: 5, Seq: 3, Status: StatusNotLeader, Leader: 2}))
}

// Command.Digest is FNV-1a over the big-endian client and sequence number
// and the operation, the same value hash/fnv gives: checkers and traces
// compare digests across runs and versions.
func TestCommandDigestIsFNV1a(t *testing.T) {
	for _, c := range []Command{Noop, {Client: 5, Seq: 3, Op: []byte("put k v")}, {Client: 0, Seq: 1 << 40}} {
		h := fnv.New64a()
		var head [16]byte
		binary.BigEndian.PutUint64(head[:8], uint64(int64(c.Client)))
		binary.BigEndian.PutUint64(head[8:], c.Seq)
		h.Write(head[:])
		h.Write(c.Op)
		if got, want := c.Digest(), h.Sum64(); got != want {
			t.Errorf("%+v: digest %x, want %x", c, got, want)
		}
	}
}
