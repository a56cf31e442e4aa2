package strictyaml

import (
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// TooDeep finds where text nests deeper than MaxDepth, before go-yaml's
// parser sees it: flow collections ([ and { inside each other) and block
// sequences or complex keys opened on one line ("- - - x"). The parser takes
// time and memory quadratic in that depth (20,000 levels, 40 KB of
// brackets: 3 s and 650 MB), so a small file could otherwise take minutes
// and gigabytes. The lexer is linear (100,000 brackets: 0.2 s) and knows
// quotes, block scalars and comments, so what it calls a collection is one.
// Nesting by indentation alone needs a longer line for each level, which a
// bound on the file's size keeps to a few hundred. The decoder holds the
// same bound on what it decodes.
func TooDeep(data []byte) (at Pos, deep bool) {
	flow := 0
	compact, line := 0, 0 // block entries opened on line, before anything else on it
	for _, tk := range lexer.Tokenize(string(data)) {
		p := Pos{}
		if tk.Position != nil {
			p = Pos{Line: tk.Position.Line, Col: tk.Position.Column}
		}
		if p.Line != line {
			compact, line = 0, p.Line
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType, token.MappingKeyType:
			if compact >= 0 {
				compact++
			}
		default:
			compact = -1 // something else began the line: no more entries open on it
		}
		if flow+max(compact, 0) > MaxDepth {
			return p, true
		}
	}
	return Pos{}, false
}
