package report

import "strconv"

const (
	histBins = 20
	histW    = 520.0
	histH    = 110.0
	histX0   = 40.0
	histTop  = 10.0
)

// histogramSVG draws sorted values in histBins equal bins from the lowest
// to the highest, labelled at both ends with label.
func histogramSVG(sorted []float64, id string, label func(float64) string) string {
	lo, hi := sorted[0], sorted[len(sorted)-1]
	counts := make([]int, histBins)
	for _, v := range sorted {
		b := 0
		if hi > lo {
			b = min(int((v-lo)/(hi-lo)*histBins), histBins-1)
		}
		counts[b]++
	}
	peak := max(1, slicesMax(counts))
	var s svg
	s.f(`<svg class="hist" id="hist-%s" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s">`, id, num(histX0+histW+60), num(histTop+histH+30))
	bw := histW / histBins
	for i, c := range counts {
		h := float64(c) / float64(peak) * histH
		s.f(`<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%d seeds</title></rect>`,
			num(histX0+float64(i)*bw+1), num(histTop+histH-h), num(bw-2), num(h), c)
	}
	s.f(`<line class="base" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(histX0), num(histX0+histW), num(histTop+histH), num(histTop+histH))
	s.f(`<text x="%s" y="%s">%s</text>`, num(histX0), num(histTop+histH+14), esc(label(lo)))
	s.f(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(histX0+histW), num(histTop+histH+14), esc(label(hi)))
	s.f(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(histX0-4), num(histTop+8), strconv.Itoa(peak))
	s.f(`</svg>`)
	return s.String()
}

func slicesMax(x []int) int {
	m := 0
	for _, v := range x {
		m = max(m, v)
	}
	return m
}
