package strictyaml

import (
	"reflect"
	"testing"

	"github.com/goccy/go-yaml/parser"
	"github.com/stretchr/testify/require"
)

// decodeText decodes the one document of text into v.
func decodeText(t *testing.T, text string, v any) error {
	t.Helper()
	file, err := parser.ParseBytes([]byte(text), 0)
	require.NoError(t, err)
	return NewDecoder("f.yaml").Decode(file.Docs[0].Body, "", reflect.ValueOf(v).Elem())
}

// TestFloats: an exponent without a dot is a float, as YAML 1.2's core
// schema reads it, unless quoted; a value a float32 cannot hold is refused
// with its position instead of becoming infinite.
func TestFloats(t *testing.T) {
	var v struct {
		A float64 `yaml:"a"`
		B float64 `yaml:"b"`
		C float32 `yaml:"c"`
	}
	require.NoError(t, decodeText(t, "a: 1e-3\nb: -2E+5\nc: .inf\n", &v))
	require.Equal(t, 0.001, v.A)
	require.Equal(t, -200000.0, v.B)
	require.NoError(t, decodeText(t, "a: 1.5e-3\n", &v))
	require.Equal(t, 0.0015, v.A)
	require.EqualError(t, decodeText(t, "a: '1e-3'\n", &v), `f.yaml:1:4: a: want a number, got string "1e-3"`)
	require.EqualError(t, decodeText(t, "c: 1e300\n", &v), `f.yaml:1:4: c: 1e+300 is out of range for float32`)
}

// TestAmbiguousIntegers: an integer that YAML 1.1 and 1.2 read as different
// numbers (a leading zero, digit separators) is refused with its position;
// the prefixed forms both read alike are taken.
func TestAmbiguousIntegers(t *testing.T) {
	var v struct {
		A int `yaml:"a"`
	}
	require.EqualError(t, decodeText(t, "a: 010\n", &v),
		"f.yaml:1:4: a: 010 has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal: write it without the zero, or 0o10 for octal")
	require.EqualError(t, decodeText(t, "a: 1_0\n", &v), "f.yaml:1:4: a: 1_0: write the number without underscores (YAML 1.2 has no digit separators)")
	for text, want := range map[string]int{"a: 0\n": 0, "a: 10\n": 10, "a: -3\n": -3, "a: 0o10\n": 8, "a: 0x10\n": 16} {
		require.NoError(t, decodeText(t, text, &v), text)
		require.Equal(t, want, v.A, text)
	}
}
