package plural

import "strconv"

// Of is n followed by noun, with an s unless n is 1: Of(1, "key") is
// "1 key", Of(4, "key") "4 keys". Every noun simrun counts takes a plain s.
func Of(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
}
