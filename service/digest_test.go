package service_test

import (
	"encoding/binary"
	"hash/fnv"
	"testing"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Requests and replies are hashed from their binary forms; each variant
// differs from the first in one field.
func TestRequestAndReplyDigestsSeeEveryField(t *testing.T) {
	cmd := service.Command{Client: 5, Seq: 3, Op: []byte("put k v")}
	prototest.RequireDigestsTellApart(t, service.Request{Cmd: cmd},
		service.Request{Cmd: service.Command{Client: 6, Seq: 3, Op: cmd.Op}},
		service.Request{Cmd: service.Command{Client: 5, Seq: 4, Op: cmd.Op}},
		service.Request{Cmd: service.Command{Client: 5, Seq: 3, Op: []byte("put k w")}},
		service.Request{Cmd: service.Noop})
	ok := service.Reply{Client: 5, Seq: 3, Status: service.StatusOK, Result: []byte("ok v")}
	prototest.RequireDigestsTellApart(t, ok,
		service.Reply{Client: 6, Seq: 3, Status: service.StatusOK, Result: ok.Result},
		service.Reply{Client: 5, Seq: 4, Status: service.StatusOK, Result: ok.Result},
		service.Reply{Client: 5, Seq: 3, Status: service.StatusOK, Result: []byte("ok w")},
		service.Reply{Client: 5, Seq: 3, Status: service.StatusNotLeader, Leader: sim.None},
		service.Reply{Client: 5, Seq: 3, Status: service.StatusNotLeader, Leader: 2})
}

// Command.Digest is FNV-1a over the big-endian client and sequence number
// and the operation, the same value hash/fnv gives: checkers and traces
// compare digests across runs and versions.
func TestCommandDigestIsFNV1a(t *testing.T) {
	for _, c := range []service.Command{service.Noop, {Client: 5, Seq: 3, Op: []byte("put k v")}, {Client: 0, Seq: 1 << 40}} {
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
