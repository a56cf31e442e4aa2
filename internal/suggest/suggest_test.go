package suggest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHint(t *testing.T) {
	known := []string{"linearizable", "liveness", "progress", "ab"}
	for _, c := range []struct{ word, want string }{
		{"livenes", " (did you mean liveness?)"},                // one edit
		{"progres", " (did you mean progress?)"},                // one edit
		{"linear", " (did you mean linearizable?)"},             // a prefix
		{"ac", " (did you mean ab?)"},                           // fewer edits than letters
		{"x", " (known: linearizable, liveness, progress, ab)"}, // one letter is no evidence
		{"everything", " (known: linearizable, liveness, progress, ab)"},
	} {
		require.Equal(t, c.want, Hint(c.word, known), c.word)
	}
}
