package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Describe says what is wrong with a JSON text that encoding/json refused,
// in the file's terms rather than Go's: the 1-based column (byte offset in
// the text) where the decoder stopped, 0 when it cannot tell, and the
// message, led by the field's JSON name when the error is a value of the
// wrong type ("seed: want a whole number, got string"), so that no Go type
// or struct name reaches a user.
func Describe(err error) (col int, msg string) {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input":
		return int(syntax.Offset), "cut short: the text ends before the value does"
	case errors.Is(err, io.ErrUnexpectedEOF): // a json.Decoder's word for the same
		return 0, "cut short: the text ends before the value does"
	case errors.As(err, &syntax):
		return int(syntax.Offset), strings.TrimPrefix(syntax.Error(), "json: ")
	case errors.As(err, &typ):
		field := typ.Field
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		msg := fmt.Sprintf("want %s, got %s", kindName(typ.Type), typ.Value)
		if field != "" {
			msg = field + ": " + msg
		}
		return int(typ.Offset), msg
	}
	return 0, strings.TrimPrefix(err.Error(), "json: ")
}

// kindName names what a Go type accepts, in JSON's words.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "another value"
}

// Error is what is wrong at a line and column of a JSON Lines file (0
// where one is not known): a line that is not the record its reader wants.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, max(e.Col, 1), e.Msg)
}

// At is where the error stands in the file at path: path:line, and
// :column when it is known.
func (e *Error) At(path string) string {
	at := path + ":" + strconv.Itoa(e.Line)
	if e.Col > 0 {
		at += ":" + strconv.Itoa(e.Col)
	}
	return at
}

// DescribeError is Describe's column and message as an Error, the message
// led by prefix.
func DescribeError(prefix string, err error) *Error {
	col, msg := Describe(err)
	return &Error{Col: col, Msg: prefix + msg}
}

// LineCol turns a 0-based byte offset in text into a 1-based line and
// column.
func LineCol(text []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(text))
	before := text[:offset]
	return 1 + bytes.Count(before, []byte("\n")), offset - bytes.LastIndexByte(before, '\n')
}
