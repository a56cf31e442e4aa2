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
	total    int64
	done     int64
	failures int64
	start    time.Time
	lastLine time.Time
	bar      *progressbar.ProgressBar
}

const plainProgressEvery = 5 * time.Second

func newProgress(w io.Writer, name string, total int64) *progress {
	p := &progress{w: w, name: name, total: total, start: time.Now(), lastLine: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
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
		p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.name, p.failures))
		_ = p.bar.Add(1)
		return
	}
	if time.Since(p.lastLine) >= plainProgressEvery {
		p.lastLine = time.Now()
		p.line()
	}
}

func (p *progress) line() {
	rate := float64(p.done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "sweep %s: %d/%d seeds, %d failed, %.1f seeds/s\n", p.name, p.done, p.total, p.failures, rate)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.line()
}
