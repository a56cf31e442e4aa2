package plural

import "fmt"

// Of is n followed by noun, with an s unless n is 1: Of(1, "key") is
// "1 key", Of(4, "key") "4 keys". Every noun simrun counts takes a plain s.
func Of[N ~int | ~int64 | ~uint64](n N, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
