package prototest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/simrun/simrun/sim"
)

// Script runs datadriven interaction tests over a Net, in etcd-raft's style:
// each file of a directory is a list of commands, each followed by the trace
// lines it produced. Run with -rewrite to regenerate the expected output.
//
// Commands every protocol gets (nodes are written n0, n1, ...; a filter is
// any of from=nX, to=nX and type=MsgKind, and matches every queued message
// when empty):
//
//	net n=3                         a new Net of n servers, not started
//	start [n0 n1 ...]               start the servers given, or all
//	crash n1                        crash a server: its unsynced writes are lost
//	restart n1                      start a new instance from its disk
//	fire n0 election                run a timer (names from Net.TimerNames)
//	advance by=100ms                move the clock
//	request from=n9 to=n0 seq=1 op=(add k)   queue a client request
//	deliver [filter]                deliver the queued messages that match, once
//	stabilize                       deliver everything until the queue is empty
//	drop [filter]                   lose the queued messages that match
//	duplicate [filter]              queue a copy of each that matches
//	reorder [filter]                reverse the order of those that match
//	queue                           list the queued messages
//	status [n0 ...]                 the protocol's Status of each server, or all
//	check                           the checkers' verdict on every observation so far
//
// The output of a command is the trace lines it produced (Net.TakeTrace), or
// "ok" if none.
type Script[N sim.Node] struct {
	// New builds the Net for "net n=...", its TimerNames naming the timers
	// the fire command takes.
	New func(t *testing.T, servers int) *Net[N]
	// Status describes one running server in a line.
	Status func(n N) string
	// Commands adds protocol commands; each returns its output ("" for the trace).
	Commands map[string]func(t testing.TB, tn *Net[N], d *datadriven.TestData) string
}

// Run runs every file of dir as a subtest.
func (s Script[N]) Run(t *testing.T, dir string) {
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		var tn *Net[N]
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "net" {
				var n int
				d.ScanArgs(t, "n", &n)
				tn = s.New(t, n)
				return "ok\n"
			}
			if tn == nil {
				t.Fatalf("%s: the first command must be net", d.Pos)
			}
			out := s.command(t, tn, d)
			if lines := tn.TakeTrace(); len(lines) > 0 {
				out = strings.Join(lines, "\n") + "\n" + out
			}
			if out == "" {
				return "ok\n"
			}
			return out
		})
	})
}

// command runs one command and returns what it prints besides the trace.
func (s Script[N]) command(t *testing.T, tn *Net[N], d *datadriven.TestData) string {
	switch d.Cmd {
	case "start":
		ids := positional(t, d)
		if len(ids) == 0 {
			ids = tn.Servers()
		}
		for _, id := range ids {
			tn.Start(id)
		}
	case "crash", "restart":
		for _, id := range positional(t, d) {
			if d.Cmd == "crash" {
				tn.Crash(id)
			} else {
				tn.Restart(id)
			}
		}
	case "fire":
		if len(d.CmdArgs) != 2 {
			t.Fatalf("%s: want fire nX timer", d.Pos)
		}
		kind, ok := tn.TimerKind(d.CmdArgs[1].Key)
		if !ok {
			t.Fatalf("%s: unknown timer %q", d.Pos, d.CmdArgs[1].Key)
		}
		tn.Fire(parseNode(t, d.CmdArgs[0].Key), kind)
	case "advance":
		var by string
		d.ScanArgs(t, "by", &by)
		dur, err := time.ParseDuration(by)
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		tn.Advance(dur)
	case "request":
		var from, to, op string
		var seq uint64
		d.ScanArgs(t, "from", &from)
		d.ScanArgs(t, "to", &to)
		d.ScanArgs(t, "seq", &seq)
		d.ScanArgs(t, "op", &op)
		tn.Request(parseNode(t, from), parseNode(t, to), seq, op)
	case "deliver":
		tn.Deliver(filter(t, d))
	case "stabilize":
		tn.Stabilize()
	case "drop":
		tn.DropQueued(filter(t, d))
	case "duplicate":
		tn.Duplicate(filter(t, d))
	case "reorder":
		tn.Reorder(filter(t, d))
	case "queue":
		return Format(tn.Queue)
	case "status":
		ids := positional(t, d)
		if len(ids) == 0 {
			ids = tn.Servers()
		}
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(id.String())
			if !tn.Up(id) {
				b.WriteString(" down\n")
				continue
			}
			b.WriteString(" " + s.Status(tn.Node(id)) + "\n")
		}
		return b.String()
	case "check":
		if vs := tn.Violations(); len(vs) > 0 {
			var b strings.Builder
			for _, v := range vs {
				b.WriteString(v.Error() + "\n")
			}
			return b.String()
		}
		return "agreement and one leader per term hold\n"
	default:
		cmd, ok := s.Commands[d.Cmd]
		if !ok {
			t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		}
		return cmd(t, tn, d)
	}
	return ""
}

// positional returns the command's bare node arguments (n0 n1 ...).
func positional(t testing.TB, d *datadriven.TestData) []sim.NodeID {
	var ids []sim.NodeID
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			ids = append(ids, parseNode(t, a.Key))
		}
	}
	return ids
}

// filter builds a message filter from from=, to= and type= arguments.
func filter(t testing.TB, d *datadriven.TestData) func(Envelope) bool {
	from, to := sim.None, sim.None
	kind := ""
	if d.HasArg("from") {
		var s string
		d.ScanArgs(t, "from", &s)
		from = parseNode(t, s)
	}
	if d.HasArg("to") {
		var s string
		d.ScanArgs(t, "to", &s)
		to = parseNode(t, s)
	}
	if d.HasArg("type") {
		d.ScanArgs(t, "type", &kind)
	}
	return func(e Envelope) bool {
		return (from == sim.None || e.From == from) && (to == sim.None || e.To == to) &&
			(kind == "" || MessageKind(e.Msg) == kind)
	}
}

// MessageKind returns the first word of m's trace form ("MsgVote").
func MessageKind(m sim.Message) string {
	s := string(m.AppendTrace(nil))
	kind, _, _ := strings.Cut(s, " ")
	return kind
}

// parseNode reads "n3".
func parseNode(t testing.TB, s string) sim.NodeID {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(s, "n"))
	if err != nil || !strings.HasPrefix(s, "n") {
		t.Fatalf("want a node such as n3, got %q", s)
	}
	return sim.NodeID(n)
}
