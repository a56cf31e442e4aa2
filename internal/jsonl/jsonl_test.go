package jsonl

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// collect reads s with Lines and returns the lines, the complete length and
// the error.
func collect(t *testing.T, r io.Reader, max int) ([]string, int64, error) {
	t.Helper()
	var got []string
	complete, err := Lines(r, max, func(line int, text []byte) error {
		require.Equal(t, len(got)+1, line)
		got = append(got, string(text))
		return nil
	})
	return got, complete, err
}

func TestLinesLeavesOutACutLastLine(t *testing.T) {
	got, complete, err := collect(t, strings.NewReader("{\"a\":1}\n{\"b\":2}\n{\"c\""), 100)
	require.NoError(t, err)
	require.Equal(t, []string{`{"a":1}`, `{"b":2}`}, got)
	require.Equal(t, int64(16), complete, "where an append continues")
}

func TestLinesEmptyAndBlank(t *testing.T) {
	got, complete, err := collect(t, strings.NewReader(""), 100)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Zero(t, complete)

	got, _, err = collect(t, strings.NewReader("\n\n"), 100)
	require.NoError(t, err)
	require.Equal(t, []string{"", ""}, got, "blank lines are the caller's to judge")
}

// TestLinesBoundsMemory: a line past the bound is refused with its number,
// whether it ends or runs to the end of the input, without reading it whole.
func TestLinesBoundsMemory(t *testing.T) {
	max := 8192 // two bufio buffers: the bound holds across ReadSlice chunks
	ok := strings.Repeat("x", max-1) + "\n"
	for name, input := range map[string]io.Reader{
		"a long line":        strings.NewReader(ok + strings.Repeat("y", max) + "\n"),
		"a long cut line":    strings.NewReader(ok + strings.Repeat("y", max+1)),
		"an endless line":    io.MultiReader(strings.NewReader(ok), endless{}),
		"a long line slowly": iotest.OneByteReader(strings.NewReader(ok + strings.Repeat("y", 3*max) + "\n")),
	} {
		t.Run(name, func(t *testing.T) {
			got, complete, err := collect(t, input, max)
			var tooLong *TooLongError
			require.ErrorAs(t, err, &tooLong)
			require.Equal(t, 2, tooLong.Line)
			require.EqualError(t, err, "line 2: longer than 8192 bytes")
			require.Len(t, got, 1, "the line within the bound was read")
			require.Equal(t, int64(max), complete)
		})
	}
	got, _, err := collect(t, strings.NewReader(ok+ok), max)
	require.NoError(t, err, "a line of exactly max bytes, newline included, is within the bound")
	require.Len(t, got, 2)
}

// endless is an input that never ends and never holds a newline.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

func TestLinesStopsAtTheCallersError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	_, err := Lines(strings.NewReader("a\nb\nc\n"), 10, func(line int, _ []byte) error {
		calls++
		if line == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 2, calls)
}

func TestLinesPassesReadErrorsOn(t *testing.T) {
	broken := errors.New("disk gone")
	_, err := Lines(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(broken)), 10, func(int, []byte) error { return nil })
	require.ErrorIs(t, err, broken)
}

// FuzzLines: whatever the input, the lines read, each with its newline, are
// the input's first complete bytes, no line is longer than the bound, and
// what is left is at most one line without its newline (or the line that
// passed the bound).
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a\nb\n", "a\nb", strings.Repeat("x", 40) + "\ny"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 32
		var read []byte
		complete, err := Lines(bytes.NewReader(data), max, func(_ int, text []byte) error {
			require.LessOrEqual(t, len(text)+1, max)
			read = append(append(read, text...), '\n')
			return nil
		})
		require.Equal(t, int64(len(read)), complete)
		require.Equal(t, string(data[:complete]), string(read))
		rest := data[complete:]
		var tooLong *TooLongError
		if errors.As(err, &tooLong) {
			end := bytes.IndexByte(rest, '\n')
			require.True(t, end < 0 || end+1 > max, "only a line past the bound is refused")
			return
		}
		require.NotContains(t, string(rest), "\n", "only a last line without its newline is left")
		var torn *Error
		if errors.As(err, &torn) {
			require.False(t, cutShort(rest), "only a last line that cannot be a JSON object cut short is refused")
			return
		}
		require.NoError(t, err)
		require.True(t, cutShort(rest))
	})
}

// TestLinesRefusesALastLineNoWriteLeaves: a last line without its newline
// is taken for an interrupted write only if it is blank or begins a JSON
// object; anything else (bytes of another file, a line whose start was
// lost) is an error naming the line.
func TestLinesRefusesALastLineNoWriteLeaves(t *testing.T) {
	for _, tail := range []string{"", "  ", "{", ` {"scenario":"s","se`} {
		_, complete, err := collect(t, strings.NewReader("{}\n"+tail), 100)
		require.NoError(t, err, "%q", tail)
		require.Equal(t, int64(3), complete)
	}
	for _, tail := range []string{"x", "\x00\x01", `"seed":1}`, "} {"} {
		got, complete, err := collect(t, strings.NewReader("{}\n"+tail), 100)
		require.EqualError(t, err, "line 2, column 1: a last line without its newline that is not the start of a JSON object: no write cut short leaves that", "%q", tail)
		require.Equal(t, []string{"{}"}, got)
		require.Equal(t, int64(3), complete)
	}
}
