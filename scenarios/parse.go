package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/strictyaml"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ParseFile reads and parses one scenario file. It reads at most one byte
// past MaxFileSize, so that a path to something endless (/dev/zero, a huge
// file named by mistake) is refused in bounded memory.
func ParseFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: describeReadError(err), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: describeReadError(err), Err: err}
	}
	sc, err := Parse(path, data)
	var e *Error
	if err != nil && errors.As(err, &e) {
		e.Msg += ownOutputHint(filepath.Base(path))
	}
	return sc, err
}

// ownOutputHint names what a file simrun writes is, when one is read as a
// scenario: its keys are no scenario's, and the error alone would not say
// the file is the wrong one.
func ownOutputHint(base string) string {
	switch {
	case base == "report.json":
		return " (report.json is a run's report; the scenario.yaml beside it replays the run)"
	case base == "results.jsonl":
		return " (results.jsonl holds a sweep's results, not a scenario)"
	case base == "trace.jsonl" || base == "history.jsonl":
		return " (" + base + " is a run's " + strings.TrimSuffix(base, ".jsonl") + "; the scenario.yaml beside it replays the run)"
	}
	return ""
}

func describeReadError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses a scenario from data; filename is used in errors and as the
// default name. Decoding is strict: unknown keys, wrong types, duplicate keys
// and impossible values are errors. Every error is a one-line *Error,
// "file:line:column: path: message". Parse never panics.
func Parse(filename string, data []byte) (sc *Scenario, err error) {
	defer func() {
		if r := recover(); r != nil {
			sc, err = nil, &Error{File: filename, Line: 1, Column: 1,
				Msg: fmt.Sprintf("internal error reading YAML: %v", r)}
		}
	}()
	if len(data) > MaxFileSize {
		return nil, &Error{File: filename, Line: 1, Column: 1,
			Msg: fmt.Sprintf("file is larger than the %d bytes a scenario may have", MaxFileSize)}
	}
	// Editors on Windows may start a UTF-8 file with a byte order mark; it
	// says nothing about the scenario, and the YAML parser would take it for
	// part of the first key.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, invalidUTF8(filename, data)
	}
	if at, deep := strictyaml.TooDeep(data); deep {
		return nil, &Error{File: filename, Line: at.Line, Column: at.Col,
			Msg: fmt.Sprintf("nested more than %d levels deep", strictyaml.MaxDepth)}
	}
	root, err := parseDocument(filename, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(filename)
	var s Scenario
	if err := d.Decode(root, "", reflect.ValueOf(&s).Elem()); err != nil {
		return nil, err
	}
	s.src = &source{file: filename, positions: d.Positions, nulls: d.Nulls, options: findOptions(root, d)}
	s.applyDefaults(s.src)
	s.normalize()
	s.src.steps, s.src.optionsSeen = slices.Clone(s.Faults), maps.Clone(s.ProtocolOptions)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// parseDocument parses data into the body of its single document.
func parseDocument(filename string, data []byte) (ast.Node, error) {
	// Duplicate keys pass the parser so that the decoder reports them with
	// their field path (strictyaml).
	file, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, syntaxError(filename, err)
	}
	var root ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if root != nil {
			p := strictyaml.NodePos(doc.Body)
			return nil, &Error{File: filename, Line: p.Line, Column: p.Col,
				Msg: "a second YAML document: a file holds one scenario"}
		}
		root = doc.Body
	}
	if root == nil {
		return nil, &Error{File: filename, Line: 1, Column: 1,
			Msg: "empty scenario: give at least protocol and nodes"}
	}
	return root, nil
}

// syntaxError turns a go-yaml parse error into one line, dropping its source
// excerpt and keeping its position.
func syntaxError(filename string, err error) *Error {
	e := &Error{File: filename, Line: 1, Column: 1}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line > 0 {
			e.Line, e.Column = tk.Position.Line, max(tk.Position.Column, 1)
		}
	} else {
		e.Msg, _, _ = strings.Cut(err.Error(), "\n")
	}
	e.Msg = "YAML syntax: " + strings.TrimSpace(e.Msg)
	if strings.Contains(e.Msg, "mapping value is not allowed in this context") {
		// go-yaml points at the value that a wrongly indented line below
		// continues, or that holds a second ": ".
		e.Msg += " (check the indentation of the lines below, and quote a value that holds \": \")"
	}
	return e
}

func invalidUTF8(filename string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return &Error{File: filename, Line: line, Column: col, Msg: "the file is not valid UTF-8"}
}

// optionsNode is the undecoded protocol_options mapping and the anchors it
// may refer to.
type optionsNode struct {
	node    ast.Node
	anchors map[string]ast.Node
}

func findOptions(root ast.Node, d *strictyaml.Decoder) optionsNode {
	kvs, _ := strictyaml.Pairs(root)
	for _, kv := range kvs {
		if k, err := d.Key(kv, ""); err == nil && k == "protocol_options" {
			return optionsNode{node: strictyaml.ValueOf(kv), anchors: d.Anchors}
		}
	}
	return optionsNode{}
}

// DecodeProtocolOptions decodes protocol_options strictly into the protocol's
// configuration struct (a non-nil pointer), by its yaml tags: unknown keys,
// wrong types and malformed durations are one-line errors naming
// file:line:column and the path ("protocol_options.election_timeout_min").
// Keys the file leaves out keep the values into already holds, so pass a
// pointer to the protocol's defaults.
func (s *Scenario) DecodeProtocolOptions(into any) error {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("scenarios: DecodeProtocolOptions needs a non-nil pointer, got %T", into)
	}
	if s.src != nil && s.src.options.node != nil && reflect.DeepEqual(s.ProtocolOptions, s.src.optionsSeen) {
		d := newDecoder(s.src.file)
		for k, v := range s.src.options.anchors {
			d.Anchors[k] = v
		}
		return d.Decode(s.src.options.node, "protocol_options", rv.Elem())
	}
	if len(s.ProtocolOptions) == 0 {
		return nil
	}
	return s.decodeOptionsFromValue(rv)
}

// OptionError places err, which a protocol's validation of its decoded
// options returned, at the option it names: the written protocol_options
// key that its message mentions first (as a whole word; the entry of a
// list, for "bugs[1]"), or the protocol_options mapping when it names
// none. Validation sees Go values, not the file; its messages name the
// keys ("raft: heartbeat_interval -50ms must be positive"), which is
// enough to point at the right line.
func (s *Scenario) OptionError(err error) error {
	msg := err.Error()
	best, at := "", len(msg)
	for _, key := range slices.Sorted(maps.Keys(s.ProtocolOptions)) {
		if i := wordIndex(msg, key); i >= 0 && (i < at || i == at && len(key) > len(best)) {
			best, at = key, i
		}
	}
	if best == "" {
		return s.Errorf("protocol_options", "%s", msg)
	}
	entry := best + listIndex(msg[at+len(best):])
	if rest, said := strings.CutPrefix(msg[at+len(entry):], ": "); entry != best && said {
		msg = msg[:at] + rest // "bugs[1]: " opens the message: the path says it already
	}
	return s.Errorf("protocol_options."+entry, "%s", msg)
}

// listIndex is the "[3]" that rest starts with, when a message names an
// entry of a list option ("bugs[3]: unknown bug ..."), or "".
func listIndex(rest string) string {
	digits := 0
	for 1+digits < len(rest) && rest[1+digits] >= '0' && rest[1+digits] <= '9' {
		digits++
	}
	if digits == 0 || rest[0] != '[' || 1+digits >= len(rest) || rest[1+digits] != ']' {
		return ""
	}
	return rest[:digits+2]
}

// wordIndex is the index of the first occurrence of word in s that is not
// part of a longer name (letters, digits, '_' and '-'), or -1.
func wordIndex(s, word string) int {
	inName := func(i int) bool {
		if i < 0 || i >= len(s) {
			return false
		}
		c := s[i]
		return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for from := 0; word != ""; {
		i := strings.Index(s[from:], word)
		if i < 0 {
			return -1
		}
		i += from
		if !inName(i-1) && !inName(i+len(word)) {
			return i
		}
		from = i + 1
	}
	return -1
}

// decodeOptionsFromValue handles a scenario built in code: its options have
// no source, so they are rendered, re-read and decoded, and errors keep only
// the path.
func (s *Scenario) decodeOptionsFromValue(into reflect.Value) error {
	data, err := yaml.Marshal(s.ProtocolOptions)
	if err != nil {
		return fmt.Errorf("%s: protocol_options: %v", s.Name, err)
	}
	root, err := parseDocument(s.Name, data)
	if err != nil {
		return err
	}
	err = newDecoder(s.Name).Decode(root, "protocol_options", into.Elem())
	var e *Error
	if errors.As(err, &e) {
		e.Line, e.Column = 0, 0
	}
	return err
}

// newDecoder is a strict decoder of a scenario file: its durations are
// faults.Duration, which refuse a bare number but 0.
func newDecoder(file string) *strictyaml.Decoder {
	d := strictyaml.NewDecoder(file)
	d.DurationAs = reflect.TypeFor[faults.Duration]()
	return d
}

// Error is a scenario file error: one line, "file:line:column: path: message".
type Error = strictyaml.Error
