package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Protocol configurations come in many shapes; the decoder must take the
// usual ones, strictly.

type upper string

func (u *upper) UnmarshalText(b []byte) error { *u = upper(strings.ToUpper(string(b))); return nil }

type rawBytes struct{ text string }

func (r *rawBytes) UnmarshalYAML(b []byte) error { r.text = strings.TrimSpace(string(b)); return nil }

type embedded struct {
	Inner int `yaml:"inner"`
}

type shapes struct {
	embedded `yaml:",inline"`
	Flag     bool              `yaml:"flag"`
	Small    uint8             `yaml:"small"`
	Ratio    float64           `yaml:"ratio"`
	Wait     time.Duration     `yaml:"wait"`
	Weights  map[string]int    `yaml:"weights"`
	Ptr      *int              `yaml:"ptr"`
	Name     upper             `yaml:"name"`
	Raw      rawBytes          `yaml:"raw"`
	Any      any               `yaml:"any"`
	List     []time.Duration   `yaml:"list"`
	Nested   map[string][]bool `yaml:"nested"`
	Untagged int
	Skipped  int `yaml:"-"`
}

func decodeOptions(t *testing.T, body string, into any) error {
	t.Helper()
	sc, err := Parse("o.yaml", []byte(base+"protocol_options:\n"+body))
	require.NoError(t, err)
	return sc.DecodeProtocolOptions(into)
}

func TestDecoderShapes(t *testing.T) {
	var got shapes
	got.Small = 9 // a default that "small:" with no value keeps
	require.NoError(t, decodeOptions(t, `  inner: 3
  flag: true
  small:
  ratio: 2
  wait: 250ms
  weights: {a: 1, b: 2}
  ptr: 7
  name: quiet
  raw: {x: 1}
  any: [1, two, 3.5, {k: v}]
  list: [1s, 2ms]
  nested: {x: [true, false]}
  untagged: 4
`, &got))
	seven := 7
	want := shapes{
		embedded: embedded{Inner: 3}, Flag: true, Small: 9, Ratio: 2, Wait: 250 * time.Millisecond,
		Weights: map[string]int{"a": 1, "b": 2}, Ptr: &seven, Name: "QUIET", Raw: rawBytes{text: "{x: 1}"},
		Any:  []any{uint64(1), "two", 3.5, map[string]any{"k": "v"}},
		List: []time.Duration{time.Second, 2 * time.Millisecond}, Nested: map[string][]bool{"x": {true, false}},
		Untagged: 4,
	}
	assert.Equal(t, want, got)
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{"  small: 300\n", "o.yaml:5:10: protocol_options.small: 300 is out of range for uint8"},
		{"  small: -1\n", "o.yaml:5:10: protocol_options.small: want a non-negative integer, got -1"},
		{"  weights: {a: 18446744073709551615}\n",
			"o.yaml:5:16: protocol_options.weights.a: 18446744073709551615 is out of range for int (32 bits here, as on every platform)"},
		// An int holds what it holds on 386 on every platform: the same file is accepted everywhere.
		{"  weights: {a: 2147483648}\n",
			"o.yaml:5:16: protocol_options.weights.a: 2147483648 is out of range for int (32 bits here, as on every platform)"},
		{"  flag: yes\n", `o.yaml:5:9: protocol_options.flag: want true or false, got string "yes"`},
		{"  ratio: high\n", `o.yaml:5:10: protocol_options.ratio: want a number, got string "high"`},
		{"  wait: 5\n", "o.yaml:5:9: protocol_options.wait: 5 has no unit: write 5s or 5ms"},
		{"  weights: {a: x}\n", `o.yaml:5:16: protocol_options.weights.a: want an integer, got string "x"`},
		{"  list: [1s, 2]\n", "o.yaml:5:14: protocol_options.list[1]: 2 has no unit: write 2s or 2ms"},
		{"  skipped: 1\n", "o.yaml:5:3: protocol_options.skipped: unknown field (known: inner, flag, small, ratio, wait, weights, ptr, name, raw, any, list, nested, untagged)"},
		{"  name: [a]\n", "o.yaml:5:9: protocol_options.name: want a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var got shapes
			err := decodeOptions(t, tt.body, &got)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestNullProtocolOptionsKeepDefaults(t *testing.T) {
	cfg := defaultRaftLike()
	sc, err := Parse("o.yaml", []byte(base+"protocol_options:\n"))
	require.NoError(t, err)
	require.NoError(t, sc.DecodeProtocolOptions(&cfg))
	assert.Equal(t, defaultRaftLike(), cfg)
}

type withNamedInline struct {
	Shared embedded `yaml:",inline"`
	Own    int      `yaml:"own"`
}

// TestDecoderInlinesANamedField: ",inline" flattens a named struct field as
// go-yaml does, not only an embedded one.
func TestDecoderInlinesANamedField(t *testing.T) {
	var got withNamedInline
	require.NoError(t, decodeOptions(t, "  inner: 3\n  own: 4\n", &got))
	assert.Equal(t, withNamedInline{Shared: embedded{Inner: 3}, Own: 4}, got)
}
