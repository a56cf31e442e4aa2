package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
)

// porcupineData returns the JSON object Porcupine's visualization embeds
// ("const data = {...}"), or nil when the page has none.
func porcupineData(page []byte) []byte {
	_, rest, ok := bytes.Cut(page, []byte("const data = "))
	if !ok {
		return nil
	}
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(rest)).Decode(&raw); err != nil {
		return nil
	}
	return raw
}

type porcupineView struct {
	Partitions []struct {
		History []struct {
			OriginalEnd string
			Metadata    string // "c2 op 17 seq 5" (checkers/linearizable.go)
		}
		PartialLinearizations [][]struct{ Index int }
	}
}

var opRe = regexp.MustCompile(`\bop (\d+)\b`)

// stuckOp names the first operation a linearization cannot place: in the
// first failing partition, of the operations outside its longest partial
// linearization, the one that returned first. Every linearization must place
// it before anything that started after its return, so this is where the
// history stops making sense. Of several longest linearizations (Porcupine
// lists them as a set, in no fixed order), the one stuck earliest counts.
func stuckOp(data []byte) (int, bool) {
	if data == nil {
		return 0, false
	}
	var v porcupineView
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, false
	}
	for _, p := range v.Partitions {
		best, bestEnd := -1, int64(0)
		for _, lin := range longestOf(p.PartialLinearizations) {
			placed := map[int]bool{}
			for _, s := range lin {
				placed[s.Index] = true
			}
			for i, h := range p.History {
				end, err := strconv.ParseInt(h.OriginalEnd, 10, 64)
				if placed[i] || err != nil {
					continue
				}
				if best < 0 || end < bestEnd || end == bestEnd && i < best {
					best, bestEnd = i, end
				}
			}
		}
		if best < 0 {
			continue // this partition linearizes
		}
		if m := opRe.FindStringSubmatch(p.History[best].Metadata); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
	}
	return 0, false
}

// longestOf returns the longest of lins, all of them if several tie, or
// one empty linearization when there are none.
func longestOf[L ~[]E, E any](lins []L) []L {
	var out []L
	for _, lin := range lins {
		switch {
		case len(out) == 0 || len(lin) > len(out[0]):
			out = append(out[:0], lin)
		case len(lin) == len(out[0]):
			out = append(out, lin)
		}
	}
	if len(out) == 0 {
		out = append(out, nil)
	}
	return out
}
