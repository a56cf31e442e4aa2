package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// The window of the space-time diagram: at most MaxMessages copies of
// messages, most of them before the violation (its causes), a few after.
const (
	MaxMessages  = 400
	afterAnchor  = 40
	diagramX0    = 130.0 // room for lane labels
	diagramW     = 1100.0
	laneGap      = 30.0
	diagramTop   = 34.0
	titleMaxLen  = 200
	bandHalf     = 9.0
	maxWindowPad = 0.25 // a send may start the window at most this share of its span earlier
)

// Window is what the diagram shows.
type Window struct {
	T0, T1  int64 // virtual time range
	Lanes   []int // nodes, in lane order: servers, then clients
	Msgs    []Msg
	Bands   []Band
	Points  []Point
	Anchor  Anchor
	AnchorE Event
	Related []Event
	Total   int // messages in the whole run
}

// window picks the messages around the anchor and what happened meanwhile.
func (r *Run) window(a Anchor, ns nodeSet, allBands []Band) Window {
	w := Window{Anchor: a, Lanes: append(ns.servers(), clientNodes(ns)...)}
	if p, ok := r.find(a.Event); ok {
		w.AnchorE = r.Events[p]
	}
	msgs := pairMessages(r.Events)
	w.Total = len(msgs)
	w.Msgs = around(msgs, a.Event)
	w.T0, w.T1 = timeRange(w.Msgs, w.AnchorE.T)
	for _, b := range allBands {
		if b.To >= w.T0 && b.From <= w.T1 && (b.To > b.From || b.Kind == "down") {
			w.Bands = append(w.Bands, b)
		}
	}
	for _, e := range r.Events {
		if e.T < w.T0 || e.T > w.T1 {
			continue
		}
		if isPoint(e) {
			w.Points = append(w.Points, Point{Node: e.Node, I: e.I, T: e.T, Kind: pointKind(e), Detail: e.Detail})
		}
		if slices.Contains(a.Related, e.I) {
			w.Related = append(w.Related, e)
		}
	}
	return w
}

func clientNodes(ns nodeSet) []int {
	var out []int
	for _, n := range ns.all {
		if _, ok := ns.clients[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// endOf is the event that places a copy in time for the window: its end,
// or its send while it is still in flight.
func endOf(m Msg) uint64 {
	if m.Fate == InFlight {
		return m.SendI
	}
	return m.EndI
}

// around keeps the copies that ended nearest the anchor event: up to
// MaxMessages-afterAnchor before or at it, the rest after it.
func around(msgs []Msg, anchor uint64) []Msg {
	msgs = slices.Clone(msgs)
	slices.SortStableFunc(msgs, func(a, b Msg) int { return cmp.Compare(endOf(a), endOf(b)) })
	split, _ := slices.BinarySearchFunc(msgs, anchor+1, func(m Msg, i uint64) int { return cmp.Compare(endOf(m), i) })
	after := min(afterAnchor, len(msgs)-split)
	before := min(split, MaxMessages-after)
	after = min(len(msgs)-split, MaxMessages-before)
	return msgs[split-before : split+after]
}

// timeRange spans the window's copies and the anchor. Sends are let in to
// stretch the window a little (a message held on a clogged link for
// seconds would squash everything else), never more than maxWindowPad.
func timeRange(msgs []Msg, anchorT int64) (int64, int64) {
	t0, t1 := anchorT, anchorT
	for _, m := range msgs {
		t := m.EndT
		if m.Fate == InFlight {
			t = m.SendT
		}
		t0, t1 = min(t0, t), max(t1, t)
	}
	early := t0
	for _, m := range msgs {
		if m.SendI > 0 {
			early = min(early, m.SendT)
		}
	}
	pad := int64(float64(t1-t0) * maxWindowPad)
	t0 = max(early, t0-pad)
	if t1 == t0 {
		t1 = t0 + 1_000_000 // one event alone: show a millisecond
	}
	t1 += (t1 - t0) / 50 // room after the last event
	return t0, t1
}

// isPoint says whether e is drawn on its own: node lifecycle, faults, leaders.
func isPoint(e Event) bool {
	switch e.Kind {
	case "crash", "restart", "pause", "resume", "control", "heal", "torn-step", "corrupt", "clock-skew", "clock-rate", "link", "link-all":
		return true
	case "obs":
		return strings.HasPrefix(e.Detail, "leader ")
	}
	return false
}

func pointKind(e Event) string {
	if e.Kind == "obs" {
		return "leader"
	}
	return e.Kind
}

// laneY is the y of a lane's line, by its position among the lanes shown.
func laneY(pos int) float64 { return diagramTop + 14 + float64(pos)*laneGap }

// diagramSVG draws the window. The script relays it out on zoom and filter
// with the same formulas, reading the data-* attributes: a (start time),
// b (end time), f and t (from and to node), n (node), k (message kind).
func diagramSVG(w Window, ns nodeSet) string {
	pos := map[int]int{}
	for i, n := range w.Lanes {
		pos[n] = i
	}
	sc := scale{t0: w.T0, t1: w.T1, x0: diagramX0, w: diagramW}
	height := laneY(len(w.Lanes)-1) + laneGap
	var s svg
	s.f(`<svg id="st" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" data-t0="%d" data-t1="%d" data-x0="%s" data-w="%s" data-top="%s" data-gap="%s">`,
		num(diagramX0+diagramW+20), num(height), w.T0, w.T1, num(diagramX0), num(diagramW), num(diagramTop+14), num(laneGap))
	s.f(`<defs><clipPath id="plot"><rect x="%s" y="0" width="%s" height="%s"/></clipPath>`, num(diagramX0), num(diagramW), num(height))
	s.f(`<marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#456"/></marker>`)
	s.f(`<marker id="arrdup" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#c70"/></marker>`)
	s.f(`<marker id="lost" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" markerHeight="9"><path d="M1,1L9,9M9,1L1,9" stroke="#d00" stroke-width="2"/></marker></defs>`)
	s.f(`<g id="st-axis">`)
	s.axis(sc, diagramTop-8, height-diagramTop)
	s.f(`</g><g id="st-lanes">`)
	for i, n := range w.Lanes {
		y := num(laneY(i))
		s.f(`<g class="lane" data-n="%d"><line x1="%s" x2="%s" y1="%s" y2="%s"/><text x="4" y="%s">%s</text></g>`,
			n, num(diagramX0), num(diagramX0+diagramW), y, y, num(laneY(i)+4), esc(ns.name(n)))
	}
	s.f(`</g><g clip-path="url(#plot)"><g id="st-bands">`)
	for _, b := range w.Bands {
		y := laneY(pos[b.Node]) - bandHalf
		x0, x1 := sc.x(max(b.From, w.T0)), sc.x(min(b.To, w.T1))
		s.f(`<rect class="band %s" data-n="%d" data-a="%d" data-b="%d" x="%s" y="%s" width="%s" height="%s"><title>%s %s – %s</title></rect>`,
			b.Kind, b.Node, b.From, b.To, num(x0), num(y), num(max(x1-x0, 2)), num(2*bandHalf), esc(b.Label), dur(b.From), dur(b.To))
	}
	s.f(`</g><g id="st-msgs">`)
	for _, m := range w.Msgs {
		msgLine(&s, m, sc, pos, w.T1)
	}
	s.f(`</g><g id="st-points">`)
	for _, p := range w.Points {
		pointMark(&s, p, sc, pos, height)
	}
	s.f(`</g><g id="st-anchor">`)
	for _, e := range w.Related {
		eventMark(&s, e, "related", sc, pos, height)
	}
	if w.Anchor.Event > 0 {
		eventMark(&s, w.AnchorE, "violation", sc, pos, height)
	}
	s.f(`</g></g></svg>`)
	return s.String()
}

// msgLine draws one copy: an arrow from send to delivery, a line ending in a
// cross for a drop (a short stub when it was lost as it was sent), a dashed
// orange arrow for a duplicate, a dotted line running off for one in flight.
func msgLine(s *svg, m Msg, sc scale, pos map[int]int, end int64) {
	a, b := m.SendT, m.EndT
	if m.SendI == 0 {
		a = b // a duplicate whose original send is not in the trace
	}
	if m.Fate == InFlight {
		b = end
	}
	y1, y2 := laneY(pos[m.From]), laneY(pos[m.To])
	x1, x2 := sc.x(a), sc.x(b)
	stub := m.Fate == Dropped && a == b
	if stub {
		x2, y2 = x1+8, y1+(y2-y1)*0.3
	}
	marker := map[Fate]string{Delivered: "arr", Dropped: "lost", Duplicate: "arrdup", InFlight: ""}[m.Fate]
	if m.Fate == Duplicate && m.Reason != "" {
		marker = "lost"
	}
	cls := "m " + m.Fate.String()
	if m.Held != "" {
		cls += " held"
	}
	s.f(`<line class="%s" data-f="%d" data-t="%d" data-a="%d" data-b="%d" data-k="%s"`, cls, m.From, m.To, a, b, esc(m.Kind))
	if stub {
		s.f(` data-stub="1"`)
	}
	if marker != "" {
		s.f(` marker-end="url(#%s)"`, marker)
	}
	s.f(` x1="%s" y1="%s" x2="%s" y2="%s"><title>%s</title></line>`, num(x1), num(y1), num(x2), num(y2), esc(msgTitle(m)))
}

func msgTitle(m Msg) string {
	var b strings.Builder
	b.WriteString("n" + strconv.Itoa(m.From) + " → n" + strconv.Itoa(m.To) + ": " + clip(m.Detail, titleMaxLen) + "\n")
	if m.SendI > 0 {
		b.WriteString("sent at event " + strconv.FormatUint(m.SendI, 10) + " (t=" + dur(m.SendT) + ")")
	}
	switch m.Fate {
	case Delivered:
		b.WriteString(", delivered at event " + strconv.FormatUint(m.EndI, 10) + " (t=" + dur(m.EndT) + ")")
	case Dropped:
		b.WriteString(", dropped (" + m.Reason + ") at event " + strconv.FormatUint(m.EndI, 10) + " (t=" + dur(m.EndT) + ")")
	case Duplicate:
		b.WriteString("; a duplicate, arrived at event " + strconv.FormatUint(m.EndI, 10) + " (t=" + dur(m.EndT) + ")")
		if m.Reason != "" {
			b.WriteString(", dropped (" + m.Reason + ")")
		}
	case InFlight:
		b.WriteString(", still in flight when the run ended")
	}
	if m.Held != "" {
		b.WriteString("; held on the way: " + m.Held)
	}
	return b.String()
}

// pointMark draws a crash (a cross), a restart, pause or resume (a tick),
// a leader announcement (a diamond) on the node's lane, or a step without a
// node (a control step, a heal) as a dashed line across all lanes.
func pointMark(s *svg, p Point, sc scale, pos map[int]int, height float64) {
	x := num(sc.x(p.T))
	title := esc(p.Kind + " at event " + strconv.FormatUint(p.I, 10) + " (t=" + dur(p.T) + ") " + clip(p.Detail, titleMaxLen))
	if _, ok := pos[p.Node]; !ok || p.Node == noNode {
		s.f(`<line class="p global %s" data-a="%d" x1="%s" x2="%s" y1="%s" y2="%s"><title>%s</title></line>`,
			p.Kind, p.T, x, x, num(diagramTop), num(height), title)
		return
	}
	y := laneY(pos[p.Node])
	shape := map[string]string{"crash": "M-6,-6L6,6M6,-6L-6,6", "leader": "M0,-7L6,0L0,7L-6,0z"}[p.Kind]
	if shape == "" {
		shape = "M0,-9L0,9"
	}
	s.f(`<path class="p %s" data-n="%d" data-a="%d" transform="translate(%s,%s)" d="%s"><title>%s</title></path>`,
		p.Kind, p.Node, p.T, x, num(y), shape, title)
}

// eventMark rings an event the report names: the violation (red, labelled)
// or a related one (the conflicting commit, orange).
func eventMark(s *svg, e Event, cls string, sc scale, pos map[int]int, height float64) {
	x := sc.x(e.T)
	title := esc("event " + strconv.FormatUint(e.I, 10) + " (t=" + dur(e.T) + "): " + e.Kind + " " + clip(e.Detail, titleMaxLen))
	p, ok := pos[e.Node]
	if !ok {
		s.f(`<line class="%s" id="ev-%d" data-a="%d" x1="%s" x2="%s" y1="%s" y2="%s"><title>%s</title></line>`,
			cls, e.I, e.T, num(x), num(x), num(diagramTop), num(height), title)
		return
	}
	y := laneY(p)
	s.f(`<g class="%s" id="ev-%d" data-n="%d" data-a="%d" transform="translate(%s,%s)"><circle r="10"/><text x="-13" y="-12" text-anchor="end">event %d</text><title>%s</title></g>`,
		cls, e.I, e.Node, e.T, num(x), num(y), e.I, title)
}
