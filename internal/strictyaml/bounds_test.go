package strictyaml

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTwoDigitLeadingZeroIsRefused: the shortest integer with a leading
// zero, two digits such as 03, is as ambiguous as 010 (YAML 1.1 octal, YAML
// 1.2 decimal) and is refused with its position, never silently read as 3.
func TestTwoDigitLeadingZeroIsRefused(t *testing.T) {
	var v struct {
		Nodes int `yaml:"nodes"`
	}
	require.EqualError(t, decodeText(t, "nodes: 03\n", &v),
		"f.yaml:1:8: nodes: 03 has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal: write it without the zero, or 0o3 for octal")
	require.EqualError(t, decodeText(t, "nodes: -07\n", &v),
		"f.yaml:1:8: nodes: -07 has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal: write it without the zero, or 0o7 for octal")
	require.NoError(t, decodeText(t, "nodes: 3\n", &v))
	require.Equal(t, 3, v.Nodes)
}

// TestDecodeDepthBoundary: the decoder takes a document nested exactly
// MaxDepth levels deep and refuses one nested a level more, with the
// position where it goes past: the bound is the one TooDeep reads, so what
// passes the text check is decoded and nothing deeper is.
func TestDecodeDepthBoundary(t *testing.T) {
	nested := func(levels int) string { // levels lists inside each other, the innermost empty
		return strings.Repeat("[", levels) + strings.Repeat("]", levels) + "\n"
	}
	var v any
	require.NoError(t, decodeText(t, nested(MaxDepth), &v))
	_, deep := TooDeep([]byte(nested(MaxDepth)))
	require.False(t, deep, "TooDeep agrees the limit itself is allowed")

	v = nil
	err := decodeText(t, nested(MaxDepth+1), &v)
	require.Error(t, err)
	require.Contains(t, err.Error(), "nested more than 64 levels deep")
	require.True(t, strings.HasPrefix(err.Error(), "f.yaml:1:65: "), err.Error())
	_, deep = TooDeep([]byte(nested(MaxDepth + 1)))
	require.True(t, deep, "TooDeep agrees one level more is too deep")
}
