package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Band is an interval of one node's life drawn as a band on its lane.
type Band struct {
	Node       int
	Kind       string // down, paused, cut, clogged, leader
	From, To   int64  // virtual ns; To is the run's end for a band still open
	FromI, ToI uint64 // event numbers where it opened and closed
	Label      string
}

// Point is a single event drawn on a lane: a crash, a restart, a control
// step, a leader announcement.
type Point struct {
	Node   int
	I      uint64
	T      int64
	Kind   string
	Detail string
}

// nodeSet lists the nodes of a run and which of them are clients: every
// node starts at time zero; a client is a node that observes "call op=".
type nodeSet struct {
	all     []int
	clients map[int]string // node -> "c2", the client's own name
}

func nodesOf(events []Event) nodeSet {
	ns := nodeSet{clients: map[int]string{}}
	seen := map[int]bool{}
	add := func(n int) {
		if n != noNode && !seen[n] {
			seen[n] = true
			ns.all = append(ns.all, n)
		}
	}
	for _, e := range events {
		add(e.Node)
		add(e.Peer)
		if e.Kind == "obs" && strings.HasPrefix(e.Detail, "call op=") {
			// "call op=0 c1 seq=1 put k2 c1.1": the third word names the client.
			if w := strings.Fields(e.Detail); len(w) > 2 {
				ns.clients[e.Node] = w[2]
			}
		}
	}
	slices.Sort(ns.all)
	return ns
}

func (ns nodeSet) servers() []int {
	var out []int
	for _, n := range ns.all {
		if _, c := ns.clients[n]; !c {
			out = append(out, n)
		}
	}
	return out
}

func (ns nodeSet) name(n int) string {
	if c, ok := ns.clients[n]; ok {
		return "n" + strconv.Itoa(n) + " (" + c + ")"
	}
	return "n" + strconv.Itoa(n)
}

// bands derives every node's down, paused, cut, clogged and leader
// intervals from the whole trace, in the order they open.
func bands(events []Event, end int64) []Band {
	b := &bandBuilder{open: map[bandKey]int{}, cut: map[[2]int]bool{}, clog: map[[2]int]bool{}}
	for _, e := range events {
		b.event(e)
	}
	for _, k := range b.openKeys() {
		b.close(k, end, 0)
	}
	return b.out
}

type bandKey struct {
	node int
	kind string
}

type bandBuilder struct {
	out  []Band
	open map[bandKey]int // index into out of each open band
	cut  map[[2]int]bool
	clog map[[2]int]bool
}

func (b *bandBuilder) event(e Event) {
	switch e.Kind {
	case "crash":
		b.begin(e, e.Node, "down", "down ("+e.Detail+")")
		b.close(bandKey{e.Node, "leader"}, e.T, e.I)
		b.close(bandKey{e.Node, "paused"}, e.T, e.I)
	case "restart":
		b.close(bandKey{e.Node, "down"}, e.T, e.I)
	case "pause":
		b.begin(e, e.Node, "paused", "paused")
	case "resume":
		b.close(bandKey{e.Node, "paused"}, e.T, e.I)
	case "cut", "uncut", "clog", "unclog", "heal":
		b.link(e)
	case "obs":
		if term, ok := strings.CutPrefix(e.Detail, "leader term="); ok {
			for _, k := range b.openKeys() {
				if k.kind == "leader" {
					b.close(k, e.T, e.I)
				}
			}
			b.begin(e, e.Node, "leader", "leader, term "+term)
		}
	}
}

// link updates the cut and clogged links and, for both ends of every link
// that changed, the band listing the peers it cannot reach (or waits on).
func (b *bandBuilder) link(e Event) {
	set, kind := b.cut, "cut"
	if strings.HasSuffix(e.Kind, "clog") {
		set, kind = b.clog, "clogged"
	}
	touched := []int{e.Node, e.Peer}
	switch e.Kind {
	case "cut", "clog":
		set[[2]int{e.Node, e.Peer}] = true
	case "uncut", "unclog":
		delete(set, [2]int{e.Node, e.Peer})
	case "heal":
		touched = nil
		for l := range set {
			touched = append(touched, l[0], l[1])
		}
		clear(set)
	}
	slices.Sort(touched)
	for _, n := range slices.Compact(touched) {
		b.close(bandKey{n, kind}, e.T, e.I)
		if peers := peersOf(set, n); peers != "" {
			b.begin(e, n, kind, kind+" from "+peers)
		}
	}
}

// peersOf lists, sorted, the nodes that n has a link to or from in set.
func peersOf(set map[[2]int]bool, n int) string {
	var peers []int
	for l := range set {
		switch n {
		case l[0]:
			peers = append(peers, l[1])
		case l[1]:
			peers = append(peers, l[0])
		}
	}
	slices.Sort(peers)
	var s []string
	for _, p := range slices.Compact(peers) {
		s = append(s, "n"+strconv.Itoa(p))
	}
	return strings.Join(s, ",")
}

func (b *bandBuilder) begin(e Event, node int, kind, label string) {
	k := bandKey{node, kind}
	if _, ok := b.open[k]; ok {
		return
	}
	b.open[k] = len(b.out)
	b.out = append(b.out, Band{Node: node, Kind: kind, From: e.T, FromI: e.I, To: e.T, Label: label})
}

func (b *bandBuilder) close(k bandKey, t int64, i uint64) {
	at, ok := b.open[k]
	if !ok {
		return
	}
	delete(b.open, k)
	b.out[at].To, b.out[at].ToI = t, i
}

// openKeys lists the open bands in the order they opened (never map order).
func (b *bandBuilder) openKeys() []bandKey {
	var ks []bandKey
	for k := range b.open {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y bandKey) int { return cmp.Compare(b.open[x], b.open[y]) })
	return ks
}

// TermStep is the term a node speaks in from T on.
type TermStep struct {
	T    int64
	Term uint64
}

// terms follows each server's term (Raft's term, Paxos's ballot, PBFT's
// view) from the messages it sends and the leaderships it announces: the
// highest seen so far, a step at each rise.
func terms(events []Event) map[int][]TermStep {
	out := map[int][]TermStep{}
	for _, e := range events {
		var v string
		var ok bool
		switch {
		case e.Kind == "send":
			v, ok = termField(e.Detail)
		case e.Kind == "obs" && strings.HasPrefix(e.Detail, "leader "):
			v, ok = field(e.Detail, "term")
		}
		if !ok {
			continue
		}
		term, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			continue
		}
		steps := out[e.Node]
		if len(steps) == 0 || term > steps[len(steps)-1].Term {
			out[e.Node] = append(steps, TermStep{T: e.T, Term: term})
		}
	}
	return out
}

func termField(detail string) (string, bool) {
	for _, key := range []string{"term", "view", "ballot"} {
		if v, ok := field(detail, key); ok {
			return v, true
		}
	}
	return "", false
}

// outsideBands derives, from the configurations the servers announce
// ("obs config term=3 index=142 n0 n2 n3", a joint one "... n0 n1 n3 joint
// n0 n1 n2"), when each server was outside the configuration: a spare not
// added yet, or a server removed. The configuration of the highest index
// announced so far is the one in force; before the first announcement every
// server counts as a member (the trace does not name spares).
func outsideBands(events []Event, servers []int, end int64) []Band {
	b := &bandBuilder{open: map[bandKey]int{}}
	var index uint64
	for _, e := range events {
		if e.Kind != "obs" || !strings.HasPrefix(e.Detail, "config ") {
			continue
		}
		v, _ := field(e.Detail, "index")
		i, err := strconv.ParseUint(v, 10, 64)
		if err != nil || i <= index {
			continue
		}
		index = i
		members := configMembers(e.Detail)
		label := "outside the configuration " + strings.TrimSpace(e.Detail[strings.Index(e.Detail, "index="):])
		for _, n := range servers {
			if members[n] {
				b.close(bandKey{n, "outside"}, e.T, e.I)
			} else {
				b.begin(e, n, "outside", label)
			}
		}
	}
	for _, k := range b.openKeys() {
		b.close(k, end, 0)
	}
	return b.out
}

// configMembers reads the servers an "obs config" line names, in either
// half of a joint configuration.
func configMembers(detail string) map[int]bool {
	members := map[int]bool{}
	for _, w := range strings.Fields(detail) {
		if n, err := strconv.Atoi(strings.TrimPrefix(w, "n")); err == nil && strings.HasPrefix(w, "n") {
			members[n] = true
		}
	}
	return members
}
