package sim

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CutStack cuts a panic's stack, as debug.Stack gives it in a recover, to
// the frames the author of the code that panicked reads: from the frame that
// panicked down to the first frame of caller (a function's name as the stack
// prints it, up to its opening parenthesis: the function that called the
// code and recovered). The frames of the recover and of the panic above
// them, and the frames below caller, the same in every crash (the kernel,
// the runner, the command line), are left out. A stack of another shape is
// kept whole.
func CutStack(full, caller string) string {
	lines := strings.Split(strings.TrimRight(full, "\n"), "\n")
	// A frame is a function line followed by a tab-indented file line.
	panicAt, callerAt := -1, -1
	for i, l := range lines {
		if panicAt < 0 && strings.HasPrefix(l, "panic(") {
			panicAt = i
		} else if panicAt >= 0 && strings.HasPrefix(l, caller+"(") {
			callerAt = i
			break
		}
	}
	if panicAt < 1 || callerAt < 0 || callerAt+1 >= len(lines) {
		return full
	}
	kept := []string{lines[0]} // goroutine N [running]:
	kept = append(kept, lines[panicAt+2:callerAt+2]...)
	kept = append(kept, "\t(the frames below are simrun's: left out)")
	return strings.Join(kept, "\n") + "\n"
}

// handlerStack is the stack of a panic in a node's handler, down to the
// kernel's call of it.
func handlerStack(full string) string {
	return CutStack(full, "github.com/simrun/simrun/sim.(*World).call")
}

// MaxPanicValue bounds the text of a panic's value that a crash keeps: a
// value of any size (a whole buffer) must not make a report, or a results
// line carrying it, too large to read back.
const MaxPanicValue = 4 << 10

// PanicValue is the text of a recovered panic's value, cut to
// MaxPanicValue bytes with a note of what was left out.
func PanicValue(r any) string { return CutText(fmt.Sprint(r), MaxPanicValue) }

// CutText keeps the first max bytes of s, without splitting a character,
// and says how many bytes it left out.
func CutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes more)", s[:cut], len(s)-cut)
}
