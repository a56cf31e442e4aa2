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
