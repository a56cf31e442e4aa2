package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a sweep's advance: a bar on a terminal, plain periodic lines
// otherwise (CI logs, files), with seeds done, failures and seeds per second.
type progress struct {
	w        io.Writer
	name     string
	total    int64 // seeds this sweep runs
	before   int64 // seeds of its range an earlier sweep finished
	done     int64
	failures int64
	start    time.Time
	lastLine time.Time
	bar      *progressbar.ProgressBar
}

const plainProgressEvery = 5 * time.Second

// newProgress shows the advance of a sweep that runs total seeds, of a
// range of which an earlier sweep finished before, beforeFailed of them
// failing: the failures it counts are the range's, as the seeds are.
func newProgress(w io.Writer, name string, total, before, beforeFailed int64) *progress {
	p := &progress{w: w, name: name, total: total, before: before, failures: beforeFailed, start: time.Now(), lastLine: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && total > 0 {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("seeds"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) add(failed bool) {
	p.done++
	if failed {
		p.failures++
	}
	if p.bar != nil {
		desc := fmt.Sprintf("%s (%d failed)", p.name, p.failures)
		if p.before > 0 {
			desc = fmt.Sprintf("%s (%d failed; %s)", p.name, p.failures, p.earlier())
		}
		p.bar.Describe(desc)
		_ = p.bar.Add(1)
		return
	}
	if time.Since(p.lastLine) >= plainProgressEvery {
		p.lastLine = time.Now()
		p.line()
	}
}

// line writes where the sweep stands, counting the seeds an earlier sweep
// finished among those done (the rate is this sweep's own).
func (p *progress) line() {
	switch {
	case p.total == 0 && p.before == 0:
		fmt.Fprintf(p.w, "sweep %s: nothing to run\n", p.name)
		return
	case p.total == 0 && p.before == 1:
		fmt.Fprintf(p.w, "sweep %s: nothing to run, its one seed was finished by an earlier sweep\n", p.name)
		return
	case p.total == 0:
		fmt.Fprintf(p.w, "sweep %s: nothing to run, all %d seeds were finished by an earlier sweep\n", p.name, p.before)
		return
	}
	earlier := ""
	if p.before > 0 {
		earlier = " (" + p.earlier() + ")"
	}
	rate := float64(p.done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "sweep %s: %d/%d seeds%s, %d failed, %.1f seeds/s\n",
		p.name, p.before+p.done, p.before+p.total, earlier, p.failures, rate)
}

// earlier says how many seeds of the range an earlier sweep finished.
func (p *progress) earlier() string { return fmt.Sprintf("%d by an earlier sweep", p.before) }

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.line()
}
