package service

import "github.com/simrun/simrun/sim"

// RequestCommand returns the command of a client's request, which reaches a
// server as a Request or as a pointer to one (both are in use by clients);
// ok is false for any other message, which the server dispatches itself.
func RequestCommand(m sim.Message) (cmd Command, ok bool) {
	switch m := m.(type) {
	case Request:
		return m.Cmd, true
	case *Request:
		return m.Cmd, true
	}
	return Command{}, false
}

// ReplyOf returns the Reply m is, sent as a value or, from a Slab, a pointer.
func ReplyOf(m sim.Message) (r Reply, ok bool) {
	switch m := m.(type) {
	case Reply:
		return m, true
	case *Reply:
		return *m, true
	}
	return Reply{}, false
}
