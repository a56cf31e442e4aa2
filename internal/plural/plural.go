package plural

import "fmt"

// Of is n followed by noun, with an s unless n is 1: Of(1, "key") is
// "1 key", Of(4, "key") "4 keys". Every noun simrun counts takes a plain s.
func Of[N ~int | ~int64 | ~uint64](n N, noun string) string {
	return fmt.Sprintf("%d %s", n, Noun(n, noun))
}

// Noun is noun as a count of n takes it, without the count: "key" for 1,
// "keys" otherwise.
func Noun[N ~int | ~int64 | ~uint64](n N, noun string) string {
	if n != 1 {
		return noun + "s"
	}
	return noun
}
