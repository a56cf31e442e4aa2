package strictyaml

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTooDeep: nesting past MaxDepth is found where it goes past, whatever
// hides around it; what only looks deep (quotes, comments, text in plain
// scalars) is not.
func TestTooDeep(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1)
	for name, text := range map[string]string{
		"flow":                     "a: " + deep,
		"compact dashes":           "a:\n  " + strings.Repeat("- ", MaxDepth+1) + "x",
		"compact complex keys":     "a:\n  " + strings.Repeat("? ", MaxDepth+1) + "x",
		"after an apostrophe":      "a: it's\nb: " + deep,
		"after a quoted string":    "a: 'x'\nb: \"y\\\"\"\nc: " + deep,
		"windows line ends":        "a: 1\r\nb: " + deep,
		"after a comment with '\"": "# it's \"\nb: " + deep,
		"after a block scalar":     "a: |\n  'x\nb: " + deep,
		"closers in quotes":        "a: " + strings.Repeat(`[ "]", `, MaxDepth+1),
	} {
		_, found := TooDeep([]byte(text))
		assert.True(t, found, name)
	}
	at, _ := TooDeep([]byte("a: 1\nb: " + deep))
	assert.Equal(t, Pos{Line: 2, Col: len("b: ") + MaxDepth + 1}, at)
	for name, text := range map[string]string{
		"quoted":        "a: '" + deep + "'\nb: \"" + deep + "\"",
		"comment":       "a: 1 # " + deep,
		"block scalar":  "a: |\n  " + deep + "\n  " + strings.Repeat("- ", MaxDepth+1) + "\nb: 1",
		"balanced":      "a: " + strings.Repeat("[1], ", 3*MaxDepth) + "[1]",
		"dashes inside": "a: x - - - " + strings.Repeat("- ", MaxDepth+1),
	} {
		_, found := TooDeep([]byte(text))
		assert.False(t, found, name)
	}
}
