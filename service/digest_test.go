package service_test

import (
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
