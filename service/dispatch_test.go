package service

import (
	"testing"

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
