package strictyaml

// TooDeep finds where text nests deeper than MaxDepth, before go-yaml's
// parser sees it: brackets and braces of flow collections, and block
// sequences or complex keys opened on one line ("- - - x"). The parser takes
// time and memory quadratic in that depth (20,000 levels, 40 KB of
// brackets: 3 s and 650 MB), so a small file could otherwise take minutes
// and gigabytes; nesting by indentation alone needs a longer line for each
// level, which a bound on the file's size keeps to a few hundred. It reads
// the text as YAML's indicators would, skipping quoted scalars and
// comments; a bracket inside a plain scalar counts too, which can only
// refuse a file with dozens of unmatched ones, never let a deep one
// through. The decoder holds the same bound on what it decodes.
func TooDeep(data []byte) (at Pos, deep bool) {
	line, col := 1, 0
	flow := 0
	var quote byte // the open quote, or 0
	comment := false
	lineStart := true // only indentation and "- " or "? " seen on this line
	compact := 0      // block indicators opened on this line
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if c == '\n' {
			line, col, comment, lineStart, compact = line+1, 0, false, true, 0
			continue
		}
		switch {
		case comment:
			continue
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
				col++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		next := byte(' ')
		if i+1 < len(data) {
			next = data[i+1]
		}
		switch {
		case c == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n'):
			comment = true
		case c == '"' || c == '\'':
			quote, lineStart = c, false
		case c == '[' || c == '{':
			flow++
			lineStart = false
		case (c == ']' || c == '}') && flow > 0:
			flow--
		case lineStart && (c == '-' || c == '?') && (next == ' ' || next == '\t'):
			compact++
		case c != ' ' && c != '\t':
			lineStart = false
		}
		if flow+compact > MaxDepth {
			return Pos{Line: line, Col: col}, true
		}
	}
	return Pos{}, false
}
