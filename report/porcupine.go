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
		History               []porcupineOp
		PartialLinearizations [][]struct{ Index int }
	}
}

// porcupineOp is an operation of the page's history.
type porcupineOp struct {
	OriginalEnd string
	Metadata    string // "c2 op 17 seq 5" (checkers/linearizable.go)
}

var opRe = regexp.MustCompile(`\bop (\d+)\b`)

// stuckOp names the first operation a linearization cannot place: of the
// operations outside a failing partition's longest partial linearization,
// the one that returned first, over every failing partition (a key's
// history fails on its own, and the page lists the keys in no order of
// time). Every linearization must place it before anything that started
// after its return, so this is where the history stops making sense. Of
// several longest linearizations (Porcupine lists them as a set, in no fixed
// order), the one stuck earliest counts.
func stuckOp(data []byte) (int, bool) {
	if data == nil {
		return 0, false
	}
	var v porcupineView
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, false
	}
	found, op, opEnd := false, 0, int64(0)
	for _, p := range v.Partitions {
		i, end := firstUnplaced(p.History, p.PartialLinearizations)
		if i < 0 || found && end >= opEnd {
			continue // this partition linearizes, or got stuck no earlier
		}
		if m := opRe.FindStringSubmatch(p.History[i].Metadata); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				found, op, opEnd = true, n, end
			}
		}
	}
	return op, found
}

// firstUnplaced returns the index in history of the operation that returned
// first among those one of the longest linearizations leaves out (the lower
// index of a tie), and its return time; -1 if every operation is placed.
func firstUnplaced(history []porcupineOp, lins [][]struct{ Index int }) (int, int64) {
	best, bestEnd := -1, int64(0)
	for _, lin := range longestOf(lins) {
		placed := make([]bool, len(history))
		for _, s := range lin {
			if s.Index >= 0 && s.Index < len(history) {
				placed[s.Index] = true
			}
		}
		for i, h := range history {
			end, err := strconv.ParseInt(h.OriginalEnd, 10, 64)
			if placed[i] || err != nil {
				continue
			}
			if best < 0 || end < bestEnd || end == bestEnd && i < best {
				best, bestEnd = i, end
			}
		}
	}
	return best, bestEnd
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
