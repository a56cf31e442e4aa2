package plural

import "testing"

func TestOf(t *testing.T) {
	for n, want := range map[int]string{0: "0 keys", 1: "1 key", 2: "2 keys", -1: "-1 keys"} {
		if got := Of(n, "key"); got != want {
			t.Errorf("Of(%d, key) = %q, want %q", n, got, want)
		}
	}
}

func TestNoun(t *testing.T) {
	if Noun(1, "seed") != "seed" || Noun(uint64(3), "seed") != "seeds" || Noun(int64(0), "seed") != "seeds" {
		t.Error("Noun agrees with its count")
	}
}
