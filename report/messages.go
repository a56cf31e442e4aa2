package report

// Fate is what became of one copy of a message.
type Fate uint8

const (
	Delivered Fate = iota
	Dropped        // lost on the wire, on a cut link, or at a crashed target
	Duplicate      // a second copy the network made (a delivery without its own send)
	InFlight       // still on the wire when the run ended
)

var fateNames = [...]string{Delivered: "deliver", Dropped: "drop", Duplicate: "dup", InFlight: "inflight"}

func (f Fate) String() string { return fateNames[f] }

// Msg is one copy of a message: its send and its end (delivery or drop).
type Msg struct {
	From, To     int
	SendI, EndI  uint64 // event numbers; SendI 0 for a duplicate whose send is unknown
	SendT, EndT  int64
	Kind, Detail string
	Fate         Fate
	Reason       string // a drop's reason: loss, cut, target-down, cut-in-flight
	Held         string // why a delivery waited (clogged, paused, ...), if it did
}

// linkKey identifies copies of one message: same ends, same trace form.
type linkKey struct {
	from, to int
	msg      string
}

// pairMessages matches every delivery and drop with its send. The trace has
// no message IDs, so identical messages on one link are matched in send
// order, which is what they are indistinguishable by anyway. A drop at send
// time (loss, a cut link) takes the send just made; a delivery that finds no
// send waiting is a copy the network duplicated.
func pairMessages(events []Event) []Msg {
	var out []Msg
	waiting := map[linkKey][]int{} // indices into out, sends not yet ended
	last := map[linkKey]int{}      // the last send seen on each key, for duplicates
	held := map[linkKey]string{}
	for _, e := range events {
		reason, m, ok := e.message()
		if !ok {
			continue
		}
		switch e.Kind {
		case "send":
			k := linkKey{e.Node, e.Peer, m}
			out = append(out, Msg{From: e.Node, To: e.Peer, SendI: e.I, SendT: e.T, Kind: msgKind(m), Detail: m, Fate: InFlight})
			waiting[k] = append(waiting[k], len(out)-1)
			last[k] = len(out) - 1
		case "hold":
			held[linkKey{e.Peer, e.Node, m}] = reason
		case "deliver", "drop":
			k := linkKey{e.Peer, e.Node, m}
			out = endMessage(out, waiting, last, k, e, reason, held[k])
			delete(held, k)
		}
	}
	return out
}

// endMessage records e, the end of a copy of message k.
func endMessage(out []Msg, waiting map[linkKey][]int, last map[linkKey]int, k linkKey, e Event, reason, held string) []Msg {
	q := waiting[k]
	atSend := e.Kind == "drop" && (reason == "loss" || reason == "cut")
	var at int
	switch {
	case len(q) == 0:
		// A copy without a send of its own: the network duplicated it.
		dup := Msg{From: k.from, To: k.to, EndI: e.I, EndT: e.T, Kind: msgKind(k.msg), Detail: k.msg,
			Fate: Duplicate, Reason: reason, Held: held}
		if s, ok := last[k]; ok {
			dup.SendI, dup.SendT = out[s].SendI, out[s].SendT
		}
		return append(out, dup)
	case atSend:
		at = q[len(q)-1]
		waiting[k] = q[:len(q)-1]
	default:
		at = q[0]
		waiting[k] = q[1:]
	}
	m := &out[at]
	m.EndI, m.EndT, m.Held = e.I, e.T, held
	m.Fate = Delivered
	if e.Kind == "drop" {
		m.Fate, m.Reason = Dropped, reason
	}
	return out
}
