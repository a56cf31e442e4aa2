package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLine is the bound simrun reads its own JSON Lines files with. A line of
// a sweep's results takes a few kilobytes (a run's checks, fault counts and
// probe counts); a line longer than this, complete or cut short, is not one
// of simrun's, and reading it whole could take any amount of memory.
const MaxLine = 1 << 20

// TooLongError is a line longer than the bound a reader was given; it was
// not read to its end.
type TooLongError struct {
	Line int // 1-based
	Max  int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("line %d: longer than %d bytes", e.Line, e.Max)
}

// Lines calls fn with every complete line of r (its newline removed) and its
// 1-based number, in order, and returns how many bytes those lines take,
// newlines included: where a writer that was cut off may append again. A
// last line without its newline is the write that was cut off and is left
// out, if it can be one: blank, or the start of a JSON object; anything
// else there is an *Error, not taken for an interrupted write. A line
// longer than max bytes, cut or not, is a *TooLongError as soon as it
// passes max, so memory stays bounded whatever the file holds. An error
// from fn stops the reading and is returned as it is.
func Lines(r io.Reader, max int, fn func(line int, text []byte) error) (complete int64, err error) {
	rd := bufio.NewReader(r)
	for line := 1; ; line++ {
		text, err := readLine(rd, max)
		switch {
		case errors.Is(err, io.EOF) && !cutShort(text):
			return complete, &Error{Line: line, Col: 1, Msg: "a last line without its newline that is not the start of a JSON object: no write cut short leaves that"}
		case errors.Is(err, io.EOF):
			return complete, nil
		case errors.Is(err, errTooLong):
			return complete, &TooLongError{Line: line, Max: max}
		case err != nil:
			return complete, err
		}
		if err := fn(line, text[:len(text)-1]); err != nil {
			return complete, err
		}
		complete += int64(len(text))
	}
}

var errTooLong = errors.New("line too long")

// cutShort reports whether a last line without its newline can be the
// start of a line of JSON an interrupted write left: nothing but white
// space, or an object begun.
func cutShort(partial []byte) bool {
	rest := bytes.TrimLeft(partial, " \t\r")
	return len(rest) == 0 || rest[0] == '{'
}

// readLine returns the next line with its newline; at the end, what is left
// without a newline and io.EOF; or errTooLong as soon as the line passes
// max bytes.
func readLine(rd *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := rd.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return line, io.EOF
		default:
			return nil, err
		}
	}
}

// ErrNotRegular is what OpenRegular says of a path that is no regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading if it is a regular file (after
// following links). Opening a named pipe blocks until something writes to
// it, and a device may never end: a reader of simrun's own files refuses
// both before it opens anything, with an error that wraps ErrNotRegular.
func OpenRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	return os.Open(path)
}
