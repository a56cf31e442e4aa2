package suggest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHint(t *testing.T) {
	known := []string{"linearizable", "liveness", "progress", "ab", "to", "trace", "trace-window", "seed", "seeds"}
	for _, c := range []struct{ word, want string }{
		{"livenes", " (did you mean liveness?)"},                 // cut short, and one edit
		{"progrss", " (did you mean progress?)"},                 // one edit
		{"linear", " (did you mean linearizable?)"},              // cut short
		{"trace-w", " (did you mean trace-window?)"},             // the one name it starts
		{"ac", " (did you mean ab?)"},                            // fewer edits than letters
		{"seedz", " (did you mean seed?)"},                       // the first of equals
		{"progress-bar", " (did you mean progress?)"},            // run on
		{"seeds-from", " (did you mean seeds?)"},                 // run on: the longest
		{"total", " (known: " + strings.Join(known, ", ") + ")"}, // "to" is too short to run on from
		{"x", " (known: " + strings.Join(known, ", ") + ")"},     // one letter is no evidence
		{"everything", " (known: " + strings.Join(known, ", ") + ")"},
	} {
		require.Equal(t, c.want, Hint(c.word, known), c.word)
	}
}
