package report

import (
	"strconv"
	"strings"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

const (
	timelineX0  = 130.0
	timelineW   = 1100.0
	rowGap      = 26.0
	timelineTop = 30.0
	// MaxOps caps the operations drawn on the client timeline: those nearest
	// the violation in time are kept.
	MaxOps = 1500
)

// rolesSVG draws each server's life over the whole run: down, paused, cut,
// clogged and leader bands, its term as a step line, Byzantine servers
// tinted and named, and the diagram's window shaded.
func rolesSVG(servers []int, allBands []Band, steps map[int][]TermStep, byz map[int]string, end int64, win Window) string {
	sc := scale{t0: 0, t1: max(end, 1), x0: timelineX0, w: timelineW}
	height := timelineTop + float64(len(servers))*rowGap + 10
	var s svg
	s.f(`<svg id="roles" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s">`, num(timelineX0+timelineW+20), num(height))
	s.axis(sc, timelineTop-6, height-timelineTop)
	s.f(`<rect class="window" x="%s" y="%s" width="%s" height="%s"><title>the diagram's window</title></rect>`,
		num(sc.x(win.T0)), num(timelineTop-4), num(max(sc.x(win.T1)-sc.x(win.T0), 2)), num(height-timelineTop))
	row := map[int]int{}
	maxTerm := uint64(1)
	for i, n := range servers {
		row[n] = i
		for _, st := range steps[n] {
			maxTerm = max(maxTerm, st.Term)
		}
	}
	for i, n := range servers {
		y := timelineTop + float64(i)*rowGap
		label := "n" + strconv.Itoa(n)
		cls := "row"
		if b, ok := byz[n]; ok {
			label += " byz: " + b
			cls += " byzantine"
		}
		s.f(`<g class="%s" data-n="%d"><rect class="rowbg" x="%s" y="%s" width="%s" height="%s"/><text x="4" y="%s">%s</text></g>`,
			cls, n, num(timelineX0), num(y), num(timelineW), num(rowGap-4), num(y+rowGap/2+1), esc(label))
	}
	for _, b := range allBands {
		r, ok := row[b.Node]
		if !ok {
			continue
		}
		y := timelineTop + float64(r)*rowGap
		h, dy := rowGap-4, 0.0
		if b.Kind == "cut" || b.Kind == "clogged" {
			h, dy = 5, rowGap-9 // a thin strip at the bottom: a link fault, not the node's state
		}
		x0 := sc.x(b.From)
		s.f(`<rect class="band %s" x="%s" y="%s" width="%s" height="%s"><title>n%d %s, %s – %s</title></rect>`,
			b.Kind, num(x0), num(y+dy), num(max(sc.x(b.To)-x0, 1.5)), num(h), b.Node, esc(b.Label), dur(b.From), dur(b.To))
	}
	for _, n := range servers {
		termLine(&s, steps[n], sc, timelineTop+float64(row[n])*rowGap, maxTerm, end)
	}
	s.f(`</svg>`)
	return s.String()
}

// termLine draws a server's term as a step line within its row, scaled to
// the highest term of the run, and names the last one.
func termLine(s *svg, steps []TermStep, sc scale, y float64, maxTerm uint64, end int64) {
	if len(steps) == 0 {
		return
	}
	yOf := func(term uint64) float64 { return y + rowGap - 6 - float64(term)/float64(maxTerm)*(rowGap-10) }
	var pts []string
	for i, st := range steps {
		if i > 0 {
			pts = append(pts, num(sc.x(st.T))+","+num(yOf(steps[i-1].Term)))
		}
		pts = append(pts, num(sc.x(st.T))+","+num(yOf(st.Term)))
	}
	last := steps[len(steps)-1]
	pts = append(pts, num(sc.x(end))+","+num(yOf(last.Term)))
	s.f(`<polyline class="term" points="%s"><title>term (term, view or ballot in its messages), last %d</title></polyline>`,
		strings.Join(pts, " "), last.Term)
	s.f(`<text class="termlabel" x="%s" y="%s">t%d</text>`, num(sc.x(end)+2), num(yOf(last.Term)+3), last.Term)
}

// opsSVG draws the client operations, a row per client, each a bar from
// call to return (an unknown one runs to the end, faded), coloured by
// kind; failed answers are outlined red.
func opsSVG(ops []workload.Operation, end, focus int64, win Window) (string, int) {
	ops = nearest(ops, focus, MaxOps)
	clients := 0
	for _, op := range ops {
		clients = max(clients, op.Client+1)
	}
	sc := scale{t0: 0, t1: max(end, 1), x0: timelineX0, w: timelineW}
	height := timelineTop + float64(clients)*rowGap + 10
	var s svg
	s.f(`<svg id="ops" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s">`, num(timelineX0+timelineW+20), num(height))
	s.axis(sc, timelineTop-6, height-timelineTop)
	s.f(`<rect class="window" x="%s" y="%s" width="%s" height="%s"><title>the diagram's window</title></rect>`,
		num(sc.x(win.T0)), num(timelineTop-4), num(max(sc.x(win.T1)-sc.x(win.T0), 2)), num(height-timelineTop))
	for c := range clients {
		s.f(`<text x="4" y="%s">client c%d</text>`, num(timelineTop+float64(c)*rowGap+rowGap/2+1), c)
	}
	for _, op := range ops {
		ret, cls := int64(op.Return), "op "+op.Kind.String()+" "+op.Status.String()
		if op.Return == sim.Forever {
			ret = end
		}
		x0 := sc.x(int64(op.Call))
		s.f(`<rect class="%s" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			cls, num(x0), num(timelineTop+float64(op.Client)*rowGap+3), num(max(sc.x(ret)-x0, 1.5)), num(rowGap-10), esc(opTitle(op)))
	}
	s.f(`</svg>`)
	return s.String(), len(ops)
}

func opTitle(op workload.Operation) string {
	b := "op " + strconv.Itoa(op.ID) + " c" + strconv.Itoa(op.Client) + " seq " + strconv.FormatUint(op.Seq, 10) + ": " + op.Kind.String() + " " + op.Key
	if op.Expect != "" {
		b += " expect " + op.Expect
	}
	if op.Value != "" {
		b += " " + op.Value
	}
	b += " → " + op.Status.String()
	if op.Output != "" {
		b += " " + strconv.Quote(clip(op.Output, 80))
	}
	b += "\ncalled " + dur(int64(op.Call))
	if op.Return != sim.Forever {
		b += ", returned " + dur(int64(op.Return)) + " (" + dur(int64(op.Return-op.Call)) + ")"
	} else {
		b += ", never returned"
	}
	return b
}

// nearest keeps at most n operations, those whose call is nearest focus,
// in their original order.
func nearest(ops []workload.Operation, focus int64, n int) []workload.Operation {
	if len(ops) <= n {
		return ops
	}
	// Operations are in call order: slide a window of n over them to the
	// position whose middle call is nearest focus.
	best := 0
	for i := 0; i+n <= len(ops); i++ {
		mid := int64(ops[i+n/2].Call)
		if abs(mid-focus) < abs(int64(ops[best+n/2].Call)-focus) {
			best = i
		}
	}
	return ops[best : best+n]
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
