package suggest

import (
	"fmt"
	"strings"
)

// Closest returns the known name word most likely stands for: the one
// name that starts with word (a word cut short); else the nearest within two
// edits, and fewer edits than word has letters (a typo; the first of
// equals); else the longest name of three letters or more that word starts
// with (a word run on). ok is false if there is none.
func Closest(word string, known []string) (name string, ok bool) {
	if word == "" {
		return "", false
	}
	var extending []string
	for _, k := range known {
		if strings.HasPrefix(k, word) {
			extending = append(extending, k)
		}
	}
	if len(extending) == 1 {
		return extending[0], true
	}
	best, bestDist := "", min(3, len(word))
	for _, k := range known {
		if d := editDistance(word, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return best, true
	}
	for _, k := range known {
		if len(k) >= 3 && len(k) > len(best) && strings.HasPrefix(word, k) {
			best = k
		}
	}
	return best, best != ""
}

// Hint is what an error message adds after an unknown name: " (did you mean
// x?)" when Closest finds one, else the known names, " (known: a, b)".
func Hint(word string, known []string) string {
	if name, ok := Closest(word, known); ok {
		return fmt.Sprintf(" (did you mean %s?)", name)
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
