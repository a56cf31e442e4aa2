package strictyaml

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/simrun/simrun/internal/suggest"
)

// The decoder walks go-yaml's AST into Go values, strictly, knowing at every
// step the field path ("faults[2].crash") and the source position. go-yaml's
// own decoder is strict too, but an error raised by a custom unmarshaler (a
// malformed duration, an unknown target) reaches the caller without a
// position, and no error names the field path; a scenario error must name both.
//
// It honours the same conventions as go-yaml: `yaml:"name,omitempty"` tags
// (",inline" on embedded structs), UnmarshalYAML(func(any) error) error,
// UnmarshalYAML([]byte) error, encoding.TextUnmarshaler, and time.Duration
// written as "150ms". Anchors and aliases are resolved; merge keys and tags
// are refused.

// Error is a scenario file error: one line, "file:line:column: path: message".
type Error struct {
	File   string
	Line   int    // 1-based; 0 when the position is unknown
	Column int    // 1-based
	Path   string // the field path, "faults[2].crash"; empty for the whole file
	Msg    string
	// Err is the error of the system that Msg describes, if any (a file
	// that could not be read), for errors.Is.
	Err error
}

// Unwrap returns the system's error, if any.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column))
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return oneLine(b.String())
}

// oneLine keeps an error on one line whatever a message or file name holds.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// Pos is a source position, 1-based.
type Pos struct{ Line, Col int }

// MaxDepth bounds how deeply a document may nest, in what TooDeep reads
// and in what the decoder decodes: hostile input stays cheap.
const MaxDepth = 64

// maxDecodeNodes bounds the nodes decoded, aliases expanded: an alias bomb
// stays cheap.
const maxDecodeNodes = 200_000

// Decoder decodes go-yaml AST nodes into Go values strictly, recording where
// each value was written. Build it with NewDecoder; it may decode several
// nodes of one file (their anchors are shared).
type Decoder struct {
	file string
	// Anchors are the anchors defined so far, by name.
	Anchors map[string]ast.Node
	// Positions maps each decoded path to the position of its value.
	Positions map[string]Pos
	// Nulls holds the paths written with no value ("key:").
	Nulls map[string]bool
	// DurationAs, if set, is the type time.Duration values decode as (a
	// type of int64 kind with the unmarshaler conventions above, such as a
	// duration that refuses bare numbers); nil reads Go duration strings.
	DurationAs reflect.Type
	budget     int
	depth      int
}

// NewDecoder returns a decoder for the nodes of file (named in errors).
func NewDecoder(file string) *Decoder {
	return &Decoder{file: file, Anchors: map[string]ast.Node{}, Positions: map[string]Pos{}, Nulls: map[string]bool{},
		budget: maxDecodeNodes}
}

// nodePos is where a node starts in the source. A block mapping's own token is
// the colon of its first pair, so it is placed at its first key instead.
func NodePos(n ast.Node) Pos {
	switch m := n.(type) {
	case nil:
		return Pos{}
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 {
			return NodePos(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return NodePos(m.Key)
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{tk.Position.Line, tk.Position.Column}
}

func (d *Decoder) errAt(p Pos, path, format string, args ...any) *Error {
	return &Error{File: d.file, Line: p.Line, Column: p.Col, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (d *Decoder) errNode(n ast.Node, path, format string, args ...any) *Error {
	return d.errAt(NodePos(n), path, format, args...)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// resolve strips anchors (remembering them) and follows aliases.
func (d *Decoder) resolve(n ast.Node, path string) (ast.Node, error) {
	for range MaxDepth {
		switch a := n.(type) {
		case *ast.AnchorNode:
			if a.Name != nil {
				d.Anchors[a.Name.String()] = a.Value
			}
			n = a.Value
		case *ast.AliasNode:
			name := ""
			if a.Value != nil {
				name = a.Value.String()
			}
			target, ok := d.Anchors[name]
			if !ok {
				return nil, d.errNode(a, path, "alias *%s refers to no anchor defined before it", name)
			}
			n = target
		case *ast.TagNode:
			return nil, d.errNode(a, path, "tags (%s) are not supported", a.Start.Value)
		default:
			return n, nil
		}
	}
	return nil, d.errNode(n, path, "anchors and aliases nested too deeply")
}

// UnmarshalYAML conventions of go-yaml, recognised without importing them by name.
type (
	interfaceUnmarshaler interface{ UnmarshalYAML(func(any) error) error }
	bytesUnmarshaler     interface{ UnmarshalYAML([]byte) error }
)

var durationType = reflect.TypeFor[time.Duration]()

// decode stores node n, found at path, into v (settable).
func (d *Decoder) Decode(n ast.Node, path string, v reflect.Value) error {
	n, err := d.resolve(n, path)
	if err != nil {
		return err
	}
	if d.budget--; d.budget < 0 {
		return d.errNode(n, path, "document too large (more than %d values after alias expansion)", maxDecodeNodes)
	}
	if d.depth++; d.depth > MaxDepth {
		d.depth--
		return d.errNode(n, path, "nested more than %d levels deep", MaxDepth)
	}
	defer func() { d.depth-- }()
	if _, seen := d.Positions[path]; !seen {
		d.Positions[path] = NodePos(n)
	}
	if v.Kind() == reflect.Pointer {
		return d.decodePointer(n, path, v)
	}
	if isNull(n) {
		// "key:" with no value is a key left out: the destination keeps what
		// it holds (a default), even a type that decodes itself.
		d.Nulls[path] = true
		return nil
	}
	if done, err := d.decodeByUnmarshaler(n, path, v); done {
		return err
	}
	if v.Type() == durationType {
		return d.decodeDuration(n, path, v)
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, path, v)
	case reflect.Slice:
		return d.decodeSlice(n, path, v)
	case reflect.Map:
		return d.decodeMap(n, path, v)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return d.errNode(n, path, "cannot decode into %v", v.Type())
		}
		val, err := d.generic(n, path)
		if err != nil {
			return err
		}
		if val == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(val))
		}
		return nil
	case reflect.String:
		s, ok := scalarText(n)
		if !ok {
			return d.errNode(n, path, "want a string, got %s", describe(n))
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			return d.errNode(n, path, "want true or false, got %s", describe(n))
		}
		v.SetBool(b.Value)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInteger(d, n, path, v, "an integer", overflowsInt(v), v.SetInt)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decodeInteger(d, n, path, v, "a non-negative integer", overflowsUint(v), v.SetUint)
	case reflect.Float32, reflect.Float64:
		f, ok := floatValue(n)
		if !ok {
			return d.errNode(n, path, "want a number, got %s", describeNumber(n))
		}
		if v.OverflowFloat(f) {
			return d.errNode(n, path, "%v is out of range for %v", f, v.Type())
		}
		v.SetFloat(f)
		return nil
	}
	return d.errNode(n, path, "cannot decode into %v", v.Type())
}

func (d *Decoder) decodePointer(n ast.Node, path string, v reflect.Value) error {
	if isNull(n) {
		v.SetZero()
		return nil
	}
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
	}
	return d.Decode(n, path, v.Elem())
}

// decodeByUnmarshaler lets a type decode itself. Errors it returns without a
// position get the node's position and path.
func (d *Decoder) decodeByUnmarshaler(n ast.Node, path string, v reflect.Value) (bool, error) {
	if !v.CanAddr() {
		return false, nil
	}
	var err error
	switch u := v.Addr().Interface().(type) {
	case interfaceUnmarshaler:
		err = u.UnmarshalYAML(func(into any) error {
			rv := reflect.ValueOf(into)
			if rv.Kind() != reflect.Pointer || rv.IsNil() {
				return fmt.Errorf("UnmarshalYAML needs a non-nil pointer, got %T", into)
			}
			return d.Decode(n, path, rv.Elem())
		})
	case bytesUnmarshaler:
		err = u.UnmarshalYAML([]byte(n.String()))
	case encoding.TextUnmarshaler:
		s, ok := scalarText(n)
		if !ok {
			return true, d.errNode(n, path, "want a string, got %s", describe(n))
		}
		err = u.UnmarshalText([]byte(s))
	default:
		return false, nil
	}
	if err == nil {
		return true, nil
	}
	var located *Error
	if errors.As(err, &located) {
		return true, located
	}
	return true, d.errNode(n, path, "%v", err)
}

func (d *Decoder) decodeDuration(n ast.Node, path string, v reflect.Value) error {
	if d.DurationAs != nil {
		as := reflect.New(d.DurationAs).Elem()
		if err := d.Decode(n, path, as); err != nil {
			return err
		}
		v.SetInt(as.Int())
		return nil
	}
	text, ok := scalarText(n)
	if !ok {
		return d.errNode(n, path, "want a duration like 150ms, got %s", describe(n))
	}
	dur, err := time.ParseDuration(text)
	if err != nil {
		return d.errNode(n, path, "invalid duration %q: write it like 150ms or 2s", text)
	}
	v.SetInt(int64(dur))
	return nil
}

// decodeInteger stores an integer node in a signed (T int64) or unsigned (T
// uint64) field through set; want names what the field takes. A value T or
// the field's type cannot hold is an error, never a silent wrap.
func decodeInteger[T int64 | uint64](d *Decoder, n ast.Node, path string, v reflect.Value,
	want string, overflows func(T) bool, set func(T)) error {
	i, ok := n.(*ast.IntegerNode)
	if !ok {
		return d.errNode(n, path, "want %s, got %s", want, describeNumber(n))
	}
	if i.Token != nil {
		if why := ambiguousInteger(i.Token.Value); why != "" {
			return d.errNode(n, path, "%s", why)
		}
	}
	x, fits := integerAs[T](i.Value)
	if neg, isInt64 := i.Value.(int64); !fits && isInt64 { // only a negative value misses a uint64
		return d.errNode(n, path, "want %s, got %d", want, neg)
	}
	if !fits || overflows(x) {
		typ := v.Type().String()
		if k := v.Kind(); k == reflect.Int || k == reflect.Uint {
			typ += " (32 bits here, as on every platform)"
		}
		return d.errNode(n, path, "%s is out of range for %s", i.Token.Value, typ)
	}
	set(x)
	return nil
}

// ambiguousInteger explains why an integer as written means different
// numbers to different readers, or "" if it does not: the parser follows
// YAML 1.1, which reads 010 as octal 8 and 1_000 as 1000, where YAML 1.2
// reads 010 as 10 and 1_000 as a string. A file should mean one thing.
func ambiguousInteger(raw string) string {
	digits := strings.TrimLeft(raw, "+-")
	switch {
	case strings.Contains(digits, "_"):
		return fmt.Sprintf("%s: write the number without underscores (YAML 1.2 has no digit separators)", raw)
	case len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9':
		return fmt.Sprintf("%s has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal: "+
			"write it without the zero, or 0o%s for octal", raw, strings.TrimLeft(digits, "0"))
	}
	return ""
}

// overflowsInt reports whether v cannot hold a value. An int or uint holds
// 32 bits here on every platform, the width it has on 386, so that a file
// accepted on amd64 is accepted on every target (and not read as another
// value). Sums and products of such values are the validators' to bound.
func overflowsInt(v reflect.Value) func(int64) bool {
	if v.Kind() == reflect.Int {
		return func(x int64) bool { return x < math.MinInt32 || x > math.MaxInt32 }
	}
	return v.OverflowInt
}

// overflowsUint is overflowsInt for unsigned kinds.
func overflowsUint(v reflect.Value) func(uint64) bool {
	if v.Kind() == reflect.Uint {
		return func(x uint64) bool { return x > math.MaxUint32 }
	}
	return v.OverflowUint
}

// integerAs converts an integer as the YAML parser reads it (an int64, or a
// uint64 above math.MaxInt64) to T and reports whether T holds it unchanged:
// a conversion that flips the sign has wrapped around.
func integerAs[T int64 | uint64](val any) (T, bool) {
	switch val := val.(type) {
	case int64:
		return T(val), (T(val) < 0) == (val < 0)
	case uint64:
		return T(val), T(val) >= 0
	}
	return 0, true
}

// field is a struct field reachable by a YAML key.
// Field is one YAML key of a struct type and the index of its Go field.
type Field struct {
	Name  string
	Index []int
}

// Fields lists the YAML keys of a struct type, in declaration order,
// flattening ",inline" struct fields.
func Fields(t reflect.Type) []Field {
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		inline := HasOpt(opts, "inline") && f.Type.Kind() == reflect.Struct
		if name == "-" || (!f.IsExported() && !(inline && f.Anonymous)) {
			continue
		}
		if inline {
			for _, sub := range Fields(f.Type) {
				out = append(out, Field{Name: sub.Name, Index: append([]int{i}, sub.Index...)})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, Field{Name: name, Index: []int{i}})
	}
	return out
}

// HasOpt reports whether a yaml tag carries the option want (",omitempty").
func HasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// Pairs returns the key/value pairs of a mapping node.
func Pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// key returns a mapping key as a string, refusing merge keys and complex keys.
func (d *Decoder) Key(kv *ast.MappingValueNode, path string) (string, error) {
	if kv.Key == nil {
		return "", d.errNode(kv, path, "mapping entry without a key")
	}
	if kv.Key.IsMergeKey() {
		return "", d.errNode(kv.Key, path, "merge keys (<<) are not supported: write the keys out")
	}
	k, err := d.resolve(kv.Key, path)
	if err != nil {
		return "", err
	}
	s, ok := scalarText(k)
	if !ok {
		return "", d.errNode(kv.Key, path, "a key must be a plain scalar, got %s", describe(k))
	}
	return s, nil
}

// entries walks a mapping's keys, refusing duplicates, and calls fn for each.
func (d *Decoder) entries(n ast.Node, path string, fn func(key string, kv *ast.MappingValueNode) error) error {
	kvs, ok := Pairs(n)
	if !ok {
		return d.errNode(n, path, "want a mapping, got %s", describe(n))
	}
	seen := make(map[string]Pos, len(kvs))
	for _, kv := range kvs {
		k, err := d.Key(kv, path)
		if err != nil {
			return err
		}
		if first, dup := seen[k]; dup {
			return d.errNode(kv.Key, joinPath(path, k), "duplicate key (first at line %d)", first.Line)
		}
		seen[k] = NodePos(kv.Key)
		if err := fn(k, kv); err != nil {
			return err
		}
	}
	return nil
}

// valueOf is a pair's value; a missing value (key:) is a null placed at the key.
func ValueOf(kv *ast.MappingValueNode) ast.Node {
	if kv.Value == nil {
		return ast.Null(kv.Start)
	}
	return kv.Value
}

func (d *Decoder) decodeStruct(n ast.Node, path string, v reflect.Value) error {
	fields := Fields(v.Type())
	return d.entries(n, path, func(k string, kv *ast.MappingValueNode) error {
		sub := joinPath(path, k)
		for _, f := range fields {
			if f.Name == k {
				val := ValueOf(kv)
				if isNull(val) {
					d.Positions[sub] = NodePos(kv.Key)
				}
				return d.Decode(val, sub, v.FieldByIndex(f.Index))
			}
		}
		return d.errNode(kv.Key, joinPath(path, shownKey(k)), "unknown field%s", suggestField(k, fields))
	})
}

// maxShownKey bounds how much of an unknown key an error repeats.
const maxShownKey = 64

// shownKey is k as an error shows it: as it is if it is short and printable,
// else quoted (escapes in place of control characters, which would reach the
// terminal) and cut to maxShownKey bytes.
func shownKey(k string) string {
	printable := utf8.ValidString(k) && !strings.ContainsFunc(k, func(r rune) bool { return !unicode.IsPrint(r) })
	switch {
	case printable && len(k) <= maxShownKey:
		return k
	case len(k) > maxShownKey:
		return strconv.Quote(strings.ToValidUTF8(k[:maxShownKey], "")) + "..."
	}
	return strconv.Quote(k)
}

// suggestField names the closest known field (a typo, or a prefix), or
// lists them all.
func suggestField(k string, fields []Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return suggest.Hint(k, names)
}

func (d *Decoder) decodeSlice(n ast.Node, path string, v reflect.Value) error {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return d.errNode(n, path, "want a list, got %s", describe(n))
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, el := range seq.Values {
		if err := d.Decode(el, indexPath(path, i), out.Index(i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func (d *Decoder) decodeMap(n ast.Node, path string, v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return d.errNode(n, path, "cannot decode into %v", v.Type())
	}
	out := reflect.MakeMap(v.Type())
	err := d.entries(n, path, func(k string, kv *ast.MappingValueNode) error {
		el := reflect.New(v.Type().Elem()).Elem()
		if err := d.Decode(ValueOf(kv), joinPath(path, k), el); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), el)
		return nil
	})
	if err != nil {
		return err
	}
	v.Set(out)
	return nil
}

// generic decodes into plain Go values: map[string]any, []any, string, int64
// or uint64, float64, bool, nil.
func (d *Decoder) generic(n ast.Node, path string) (any, error) {
	switch x := n.(type) {
	// n is resolved, counted and positioned by the Decode that called
	// generic: its children are decoded straight away, so that a level of
	// nesting counts once against MaxDepth.
	case *ast.MappingNode, *ast.MappingValueNode:
		var m map[string]any
		err := d.decodeMap(n, path, reflect.ValueOf(&m).Elem())
		return m, err
	case *ast.SequenceNode:
		var s []any
		err := d.decodeSlice(n, path, reflect.ValueOf(&s).Elem())
		return s, err
	case *ast.NullNode:
		return nil, nil
	case *ast.BoolNode:
		return x.Value, nil
	case *ast.IntegerNode:
		return x.Value, nil
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		f, _ := floatValue(n)
		return f, nil
	}
	if s, ok := scalarText(n); ok {
		return s, nil
	}
	return nil, d.errNode(n, path, "unsupported YAML %s", describe(n))
}

func isNull(n ast.Node) bool {
	_, ok := n.(*ast.NullNode)
	return ok
}

// scalarText is a scalar's string: a string's value, or a number's or
// boolean's text as written.
func scalarText(n ast.Node) (string, bool) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		if s.Value == nil {
			return "", true
		}
		return s.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

func floatValue(n ast.Node) (float64, bool) {
	switch x := n.(type) {
	case *ast.FloatNode:
		return x.Value, true
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			return float64(v), true
		case uint64:
			return float64(v), true
		}
	case *ast.InfinityNode:
		return x.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	case *ast.StringNode:
		// YAML 1.2's core schema reads 1e-3 as a float; the parser keeps
		// an exponent without a dot as a string. Quoted, it stays one.
		if x.Token != nil && x.Token.Type == token.StringType && exponentFloat.MatchString(x.Value) {
			f, err := strconv.ParseFloat(x.Value, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// quoted reports whether a scalar was written in quotes.
func quoted(n ast.Node) bool {
	t := n.GetToken()
	return t != nil && (t.Type == token.DoubleQuoteType || t.Type == token.SingleQuoteType)
}

// exponentFloat is the core schema's float with an exponent and no dot
// (1e-3, -2E+5), which the parser leaves a string.
var exponentFloat = regexp.MustCompile(`^[-+]?[0-9]+[eE][-+]?[0-9]+$`)

// describeNumber is describe for a field that wants a number: a string of
// digits gets a hint, quoted (drop the quotes) or too large for the parser
// to take for a number.
func describeNumber(n ast.Node) string {
	got := describe(n)
	s, _ := scalarText(n)
	if _, isString := n.(*ast.StringNode); !isString || !isNumeric(s) {
		return got
	}
	if quoted(n) && fitsInt(s) {
		return got + " (a number in quotes: write it without them)"
	}
	return got + " (a number too large?)"
}

// fitsInt reports whether s, written as a whole number, fits in 64 bits.
func fitsInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		_, err = strconv.ParseUint(s, 10, 64)
	}
	return err == nil
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch x := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing (null)"
	case *ast.BoolNode:
		return "boolean " + strconv.FormatBool(x.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		s, _ := scalarText(n)
		return "number " + s
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(n)
		return "string " + strconv.Quote(s)
	case *ast.MappingKeyNode:
		return "an explicit key (? key)"
	}
	return "YAML " + n.Type().String()
}

func isNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
