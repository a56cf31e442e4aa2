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
	compact := 0      // block indicators opened on this line
	lineStart := true // only blanks and "- " or "? " seen on this line
	var prev byte     // the last byte on this line that is not a blank, 0 at its start
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if c == '\n' {
			line, col, comment, compact, lineStart, prev = line+1, 0, false, 0, true, 0
			continue
		}
		switch {
		case comment:
			continue
		case quote != 0:
			if c == '\\' && quote == '"' && i+1 < len(data) && data[i+1] != '\n' {
				i++ // an escaped character, never the closing quote
				col++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		blank := c == ' ' || c == '\t' || c == '\r'
		indicator := lineStart && (c == '-' || c == '?') && blankAt(data, i+1)
		switch {
		case c == '#' && (prev == 0 || data[i-1] == ' ' || data[i-1] == '\t'):
			comment = true
		case (c == '"' || c == '\'') && opensScalar(prev):
			quote = c
		case c == '[' || c == '{':
			flow++
		case (c == ']' || c == '}') && flow > 0:
			flow--
		case indicator:
			compact++
		}
		if !blank {
			prev, lineStart = c, indicator
		}
		if flow+compact > MaxDepth {
			return Pos{Line: line, Col: col}, true
		}
	}
	return Pos{}, false
}

// opensScalar reports whether a quote after prev, the last byte that is not
// a blank on its line (0 at the line's start), begins a quoted scalar: only
// where a value or key may begin. Elsewhere it is part of a plain scalar
// ("it's"), and taking it for a quote would hide what follows.
func opensScalar(prev byte) bool {
	switch prev {
	case 0, ':', '-', '?', '[', '{', ',':
		return true
	}
	return false
}

// blankAt reports whether data has a blank, a line end or its end at i.
func blankAt(data []byte, i int) bool {
	return i >= len(data) || data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'
}
