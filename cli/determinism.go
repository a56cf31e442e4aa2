package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// run --check-determinism: the first run's trace goes to a temporary file
// (and to --trace, if given), the second run's trace is compared with it
// line by line as it is written, so that memory stays bounded however long
// the run, and the first event that differs is what the user sees: the
// place to look for map order, a goroutine or the clock.

// traceCopy writes the first run's trace to a temporary file, and on to
// another writer if one was given.
type traceCopy struct {
	file *os.File
	buf  *bufio.Writer
	also io.Writer
}

func newTraceCopy(also io.Writer) (*traceCopy, error) {
	f, err := os.CreateTemp("", "simrun-trace-*.jsonl")
	if err != nil {
		return nil, internalErr(err)
	}
	return &traceCopy{file: f, buf: bufio.NewWriterSize(f, 1<<16), also: also}, nil
}

func (c *traceCopy) Write(p []byte) (int, error) {
	if c.also != nil {
		if _, err := c.also.Write(p); err != nil {
			return 0, err
		}
	}
	return c.buf.Write(p)
}

// reader rewinds the copy for reading.
func (c *traceCopy) reader() (*bufio.Reader, error) {
	if err := c.buf.Flush(); err != nil {
		return nil, err
	}
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(c.file, 1<<16), nil
}

func (c *traceCopy) remove() {
	c.file.Close()
	os.Remove(c.file.Name())
}

// traceComparer takes the second run's trace and finds its first line that
// differs from the first run's.
type traceComparer struct {
	first   *bufio.Reader
	partial []byte // the second run's line written so far
	line    int
	// Where they first differ: the line number and both lines ("" where
	// one trace ended).
	diffLine     int
	diffA, diffB string
}

func (c *traceComparer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.diffLine == 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		c.partial = append(c.partial, p[:i]...)
		p = p[i+1:]
		c.compare(string(c.partial))
		c.partial = c.partial[:0]
	}
	return n, nil
}

// compare checks the second run's next line against the first run's.
func (c *traceComparer) compare(b string) {
	c.line++
	a, err := c.first.ReadString('\n')
	a = strings.TrimSuffix(a, "\n")
	if err != nil && a == "" {
		c.diffLine, c.diffA, c.diffB = c.line, "", b
		return
	}
	if a != b {
		c.diffLine, c.diffA, c.diffB = c.line, a, b
	}
}

// finish compares a last line written without its newline, and notes a
// first trace longer than the second.
func (c *traceComparer) finish() {
	if c.diffLine == 0 && len(c.partial) > 0 {
		c.compare(string(c.partial))
	}
	if c.diffLine != 0 {
		return
	}
	if a, _ := c.first.ReadString('\n'); a != "" {
		c.diffLine, c.diffA = c.line+1, strings.TrimSuffix(a, "\n")
	}
}

// runAgainAndCompare runs the seed a second time, compares its trace with
// the first run's, and reports a difference as a nondeterministic result:
// rep's class and reason say so, and the error carries exit code 7.
func runAgainAndCompare(stdout io.Writer, sc *scenarios.Scenario, proto runner.Protocol, f runFlags,
	first *traceCopy, rep *runner.Report) error {
	rd, err := first.reader()
	if err != nil {
		return internalErr(err)
	}
	cmp := &traceComparer{first: rd}
	again, err := runner.Run(sc, proto, runner.Options{Seed: f.seed, LinearizabilityTimeout: f.linTimeout, Trace: cmp})
	if err != nil {
		return buildErr(err)
	}
	cmp.finish()
	if cmp.diffLine == 0 && again.Hash == rep.Hash {
		fmt.Fprintf(stdout, "determinism the seed ran twice, the same %d events (trace hash %s)\n", rep.Events, rep.Hash)
		return nil
	}
	rep.MarkNondeterministic(again)
	fmt.Fprintf(stdout, "determinism the seed ran twice differently: trace hashes %s and %s\n", rep.Hash, again.Hash)
	if cmp.diffLine != 0 {
		fmt.Fprintf(stdout, "            first difference at trace line %d:\n", cmp.diffLine)
		fmt.Fprintf(stdout, "            first run:  %s\n", orEnd(cmp.diffA))
		fmt.Fprintf(stdout, "            second run: %s\n", orEnd(cmp.diffB))
	}
	return &exitError{code: exitNondeterministic, msg: fmt.Sprintf("seed %d of %s is not deterministic", f.seed, sc.Name)}
}

func orEnd(line string) string {
	if line == "" {
		return "(the trace ended)"
	}
	return line
}
