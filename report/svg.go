package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// svg accumulates SVG markup. Numbers are written with at most one decimal,
// so the output is small and does not depend on float printing details.
type svg struct{ strings.Builder }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.Builder, format, args...) }

// num formats a coordinate with one decimal, dropping ".0".
func num(v float64) string {
	r := math.Round(v*10) / 10
	if r == math.Trunc(r) {
		return strconv.FormatInt(int64(r), 10)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// esc escapes text for an element or an attribute.
func esc(s string) string { return html.EscapeString(s) }

// clip shortens s to n bytes at most, for titles of long messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// dur formats virtual nanoseconds as a duration ("3.173388019s").
func dur(ns int64) string { return time.Duration(ns).String() }

// scale maps virtual time onto x pixels.
type scale struct {
	t0, t1 int64   // the time range shown
	x0, w  float64 // where it is drawn
}

func (s scale) x(t int64) float64 {
	span := float64(s.t1 - s.t0)
	if span <= 0 {
		return s.x0
	}
	return s.x0 + float64(t-s.t0)/span*s.w
}

// tickStep picks a round step (1, 2 or 5 times a power of ten nanoseconds)
// giving at most about eight ticks over span. It divides rather than
// multiplies, so that a span near the largest time (a run of absurd
// duration) cannot overflow into a step that never comes.
func tickStep(span int64) int64 {
	need := span/8 + min(span%8, 1)
	for step := int64(1); ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step > math.MaxInt64/m || m*step >= need {
				return min(m, math.MaxInt64/step) * step
			}
		}
	}
}

// axis draws ticks and labels along y for the range of sc.
func (s *svg) axis(sc scale, y, height float64) {
	step := tickStep(sc.t1 - sc.t0)
	first := (sc.t0 + step - 1) / step * step
	if sc.t0 < 0 {
		first = sc.t0 / step * step
	}
	s.f(`<g class="axis">`)
	for t := first; t <= sc.t1; t += step {
		x := num(sc.x(t))
		s.f(`<line x1="%s" x2="%s" y1="%s" y2="%s"/><text x="%s" y="%s">%s</text>`,
			x, x, num(y), num(y+height), x, num(y-4), esc(dur(t)))
		if t > math.MaxInt64-step {
			break // the next tick would wrap around
		}
	}
	s.f(`</g>`)
}
