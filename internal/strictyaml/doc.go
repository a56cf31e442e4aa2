// Package strictyaml decodes YAML documents (go-yaml's AST) into Go values
// strictly, and reports every error as one line naming file, line, column
// and field path: unknown keys (with a suggestion), wrong types, duplicate
// keys, out-of-range numbers. go-yaml's own decoder loses the position of an
// error raised by a custom unmarshaler; scenario files need both. Hostile
// input stays cheap: TooDeep refuses deep nesting before go-yaml's parser,
// which is quadratic in it, sees the text, and the decoder bounds the nodes
// an alias bomb expands to. It knows nothing of scenarios: package
// scenarios uses it for their schema.
package strictyaml
