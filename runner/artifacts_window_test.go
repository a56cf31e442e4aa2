package runner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// traceLines makes n trace lines, event i's detail "ev i"; event k is the
// return of operation 7.
func traceLines(n, k int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		detail := fmt.Sprintf("ev %d", i)
		if i == k {
			detail = "return op=7 ok"
		}
		fmt.Fprintf(&b, `{"i":%d,"t":%d,"kind":"obs","node":1,"peer":null,"detail":%q}`+"\n", i, 10*i, detail)
	}
	return b.String()
}

// feed writes s to w in pieces of the given size, so lines straddle writes.
func feed(t *testing.T, w *windowWriter, s string, piece int) TraceWindow {
	for len(s) > 0 {
		n := min(piece, len(s))
		_, err := w.Write([]byte(s[:n]))
		require.NoError(t, err)
		s = s[n:]
	}
	win, err := w.finish()
	require.NoError(t, err)
	return win
}

func eventsIn(t *testing.T, out string) []uint64 {
	var evs []uint64
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		evs = append(evs, eventNumber([]byte(l)))
	}
	return evs
}

func span(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestWindowWriterKeepsTheEventsAroundTheAnchor(t *testing.T) {
	for _, piece := range []int{1, 7, 100, 1 << 20} {
		var out bytes.Buffer
		win := feed(t, newWindowWriter(&out, anchorOf{event: 500}, 10, 5), traceLines(1000, 0), piece)
		require.Equal(t, span(490, 505), eventsIn(t, out.String()), "piece %d", piece)
		require.Equal(t, TraceWindow{First: 490, Last: 505, Anchor: 500, Before: 10, After: 5, Events: 1000}, win)
	}
}

func TestWindowWriterNearTheEdges(t *testing.T) {
	var out bytes.Buffer
	win := feed(t, newWindowWriter(&out, anchorOf{event: 3}, 10, 10), traceLines(8, 0), 64)
	require.Equal(t, span(1, 8), eventsIn(t, out.String()), "the window is cut by the run's start and end")
	require.Equal(t, uint64(3), win.Anchor)
}

func TestWindowWriterFindsAnOperationsReturn(t *testing.T) {
	var out bytes.Buffer
	a := anchorOf{parts: [][]byte{[]byte(`"kind":"obs"`), []byte(`"detail":"return op=7 `)}}
	win := feed(t, newWindowWriter(&out, a, 4, 4), traceLines(100, 60), 33)
	require.Equal(t, span(56, 64), eventsIn(t, out.String()))
	require.Equal(t, uint64(60), win.Anchor)
}

// A violation without an event (a liveness bound, an event bound) keeps the
// run's last events.
func TestWindowWriterWithoutAnchorKeepsTheEnd(t *testing.T) {
	var out bytes.Buffer
	win := feed(t, newWindowWriter(&out, anchorOf{}, 10, 10), traceLines(100, 0), 50)
	require.Equal(t, span(91, 100), eventsIn(t, out.String()))
	require.Equal(t, TraceWindow{First: 91, Last: 100, Before: 10, After: 10, Events: 100}, win)
}
