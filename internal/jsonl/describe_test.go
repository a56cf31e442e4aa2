package jsonl

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDescribe: encoding/json's errors in the file's terms, with a column.
func TestDescribe(t *testing.T) {
	type inner struct {
		Seed uint64 `json:"seed"`
	}
	var v struct {
		Report inner  `json:"report"`
		Name   string `json:"name"`
	}
	for text, want := range map[string]struct {
		col int
		msg string
	}{
		`{"report": {"seed": "x"}}`: {23, `seed: want a whole number, 0 or more, got string`},
		`{"name": 3}`:               {10, `name: want a string, got number`},
		`{"name": "a",}`:            {14, `invalid character '}' looking for beginning of object key string`},
		`{"name": "a"`:              {12, `cut short: the text ends before the value does`},
	} {
		col, msg := Describe(json.Unmarshal([]byte(text), &v))
		assert.Equal(t, want.col, col, text)
		assert.Equal(t, want.msg, msg, text)
	}
	line, col := LineCol([]byte("{\n  \"a\": x\n}"), 9)
	assert.Equal(t, [2]int{2, 8}, [2]int{line, col})
}

// TestErrorAt: an Error names its place as path:line, and :column when known.
func TestErrorAt(t *testing.T) {
	assert.Equal(t, "r.jsonl:3:7", (&Error{Line: 3, Col: 7}).At("r.jsonl"))
	assert.Equal(t, "r.jsonl:3", (&Error{Line: 3}).At("r.jsonl"))
	assert.Equal(t, "line 3, column 1: bad", (&Error{Line: 3, Msg: "bad"}).Error())
	e := DescribeError("not JSON: ", json.Unmarshal([]byte(`{"a"`), new(any)))
	assert.Equal(t, "not JSON: cut short: the text ends before the value does", e.Msg)
}

// TestDescribeNamesTheInnermostField: a field nested two objects deep, or
// behind a pointer, is named and described as the file spells it.
func TestDescribeNamesTheInnermostField(t *testing.T) {
	var v struct {
		Sweep struct {
			Report struct {
				Seed *uint64 `json:"seed"`
			} `json:"report"`
		} `json:"sweep"`
	}
	_, msg := Describe(json.Unmarshal([]byte(`{"sweep": {"report": {"seed": "x"}}}`), &v))
	assert.Equal(t, "seed: want a whole number, 0 or more, got string", msg)
}

// TestLineColClampsTheOffset: an offset before the text (a column Describe
// could not tell, less one) or past it is the text's first or last place.
func TestLineColClampsTheOffset(t *testing.T) {
	line, col := LineCol([]byte("{\n}"), -1)
	assert.Equal(t, [2]int{1, 1}, [2]int{line, col})
	line, col = LineCol([]byte("{\n}"), 99)
	assert.Equal(t, [2]int{2, 2}, [2]int{line, col})
}
