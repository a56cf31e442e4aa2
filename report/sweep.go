package report

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat"
)

// ResultsFile is the name of a sweep's per-scenario results (cli/sweep.go).
const ResultsFile = "results.jsonl"

// Result is what the sweep page shows of one seed's result (a
// runner.Report, as the command line counted it).
type Result struct {
	Scenario     string
	Seed         uint64
	ScenarioHash string
	Build        string
	Hash         string // the trace hash
	Class        string
	Reason       string
	Events       uint64
	SimTime      int64 // nanoseconds
	WallTime     int64 // nanoseconds
	Checks       []Check
	// Beyond says where the faults went beyond what the protocol assumes
	// (runner.Report.Beyond): shown under a failure's reason.
	Beyond []string
	// Rechecked: the seed ran twice (or on two machines) and the trace
	// hashes were compared. A nondeterministic seed always was.
	Rechecked bool
	// Replay is the command that runs a failing seed again, for one whose
	// artifacts hold no page ("" otherwise).
	Replay string
}

// Check is one checker's verdict on a seed.
type Check struct{ Name, Verdict string }

// failureClass names a failure as the sweep's summary does: its class and,
// when one check failed, that check ("safety/agreement").
func (r Result) failureClass() string {
	for _, c := range r.Checks {
		if c.Verdict == "fail" {
			return r.Class + "/" + c.Name
		}
	}
	return r.Class
}

// Scenario is one scenario version's results in a sweep directory, as the
// sweep and merge count them: one result a seed, in seed order. The page
// only shows them; the command line reads and counts the results files, so
// that the page and merge's summary never disagree.
type Scenario struct {
	Name, Hash string
	Build      string // the program builds that ran it, comma separated ("" in results from before builds were recorded)
	// SweptWith is the flag that drew each seed's faults ("--swarm all"),
	// part of the version; "" without one.
	SweptWith string
	Results   []Result
	Reports   map[uint64]string // seed -> its failure page, relative to the sweep directory (FailurePage)
	// Unreadable holds, by seed, why a failure's artifacts that lacked a
	// page could not be read for one (WriteSweep): the sweep's page is
	// written without it.
	Unreadable map[uint64]string
	// LeftApart says what the results files hold of an earlier build of
	// this scenario version, which a later build continued (--resume): not
	// counted, as the sweep does not count it; "" if nothing.
	LeftApart string
	// Unfinished says which seeds of the ranges swept have no result (a
	// shard missing or cut short, an interrupted sweep), as merge says it:
	// the rates speak of the seeds that ran; "" if none is missing.
	Unfinished string
}

// FindResults lists the results.jsonl files below dir, in order: one
// scenario's (dir/results.jsonl), a sweep's --out (dir/<scenario>/...), or
// the shards of one sweep fanned out over machines (dir/shard-3/<scenario>/
// ...); none is no error. A failure's directory holds none and is not
// searched.
func FindResults(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "failures" && path != dir && fileExists(filepath.Join(filepath.Dir(path), ResultsFile)):
			return filepath.SkipDir // a scenario's failures, beside its results
		case !d.IsDir() && d.Name() == ResultsFile:
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	return files, nil
}

// NoResults is the error for a directory with no results file below it.
func NoResults(dir string) error {
	return fmt.Errorf("%s: no %s below it: not a sweep directory", dir, ResultsFile)
}

// BuildName is how a results line's build is shown: "unknown" for results
// written before builds were recorded.
func BuildName(build string) string {
	if build == "" {
		return "unknown"
	}
	return build
}

// FailurePage returns where the page of a failing seed stands, relative to
// the sweep directory root, if its artifacts are in the failures directory
// beside the results file read from resultsDir (or could be: WriteSweep
// writes the missing pages) and are of the run whose trace hash is given:
// a directory of results of two scenario versions holds one failures
// directory per seed, which the later version's failure overwrote.
func FailurePage(root, resultsDir string, seed uint64, traceHash string) (string, bool) {
	dir := filepath.Join(resultsDir, "failures", "seed-"+strconv.FormatUint(seed, 10))
	var m Meta
	if err := readMeta(filepath.Join(dir, reportJSON), &m); err != nil || m.Hash != traceHash {
		return "", false
	}
	rel, err := filepath.Rel(root, filepath.Join(dir, File))
	if err != nil {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// ClassRow is one outcome's share of a scenario's seeds.
type ClassRow struct {
	Class string
	Count int
	// Of is the seeds the rate is of: all of them, but for nondeterminism,
	// which only the seeds run twice can show.
	Of       int
	Rate     float64
	Wilson   Interval
	Clopper  Interval
	FirstHit uint64 // the lowest seed with this outcome
}

// Dist summarizes one quantity across seeds.
type Dist struct {
	Mean, StdDev, P50, P90, Max float64
	Histogram                   string // SVG
}

// SweepStats is what the page shows of one scenario version.
type SweepStats struct {
	Scenario       *Scenario
	Seeds          int
	Rechecked      int      // seeds run twice and compared (Result.Rechecked)
	Failed         ClassRow // every failure together
	Classes        []ClassRow
	SeedsPerSecond float64 // seeds over the sum of their wall times: per core
	Wall           Dist
	Events         Dist
	SimTime        Dist
	Slowest        []Result
	Failures       []Result
}

// MaxFailuresListed caps the failures listed one by one on a sweep page.
const MaxFailuresListed = 200

// Stats computes a scenario version's rates, intervals and distributions.
func Stats(s *Scenario) SweepStats {
	st := SweepStats{Scenario: s, Seeds: len(s.Results)}
	rechecked := 0
	counts := map[string]int{}
	first := map[string]uint64{}
	var classes []string
	failed := 0
	var wall, events, simTime []float64
	for _, r := range s.Results {
		c := r.Class
		if c != "pass" {
			c = r.failureClass()
			failed++
			if len(st.Failures) < MaxFailuresListed {
				st.Failures = append(st.Failures, r)
			}
		}
		if counts[c] == 0 {
			classes = append(classes, c)
			first[c] = r.Seed
		}
		counts[c]++
		if r.Rechecked {
			rechecked++
		}
		wall = append(wall, float64(r.WallTime))
		events = append(events, float64(r.Events))
		simTime = append(simTime, float64(r.SimTime))
	}
	slices.Sort(classes)
	st.Rechecked = rechecked
	for _, c := range classes {
		of := st.Seeds
		if c == nondeterministic {
			of = rechecked
		}
		st.Classes = append(st.Classes, classRow(c, counts[c], of, first[c]))
	}
	st.Failed = classRow("all failures", failed, st.Seeds, 0)
	if total := stat.Mean(wall, nil) * float64(len(wall)); total > 0 {
		st.SeedsPerSecond = float64(len(wall)) / (total / 1e9)
	}
	st.Wall = dist(wall, "wall", func(v float64) string { return seconds(int64(v)) })
	st.Events = dist(events, "events", func(v float64) string { return strconv.FormatInt(int64(v), 10) })
	st.SimTime = dist(simTime, "simtime", func(v float64) string { return seconds(int64(v)) })
	st.Slowest = slowest(s.Results, 10)
	return st
}

// nondeterministic is runner.Nondeterministic, the class only seeds run
// twice can show.
const nondeterministic = "nondeterministic"

func classRow(class string, k, n int, first uint64) ClassRow {
	row := ClassRow{Class: class, Count: k, Of: n, Wilson: Wilson(k, n), Clopper: ClopperPearson(k, n), FirstHit: first}
	if n > 0 {
		row.Rate = float64(k) / float64(n)
	}
	return row
}

// dist summarizes x with gonum's mean, standard deviation and empirical
// quantiles, and draws its histogram.
func dist(x []float64, id string, label func(float64) string) Dist {
	if len(x) == 0 {
		return Dist{}
	}
	sorted := slices.Clone(x)
	slices.Sort(sorted)
	mean, sd := stat.MeanStdDev(sorted, nil)
	if len(sorted) < 2 {
		sd = 0 // one seed has no spread (gonum gives NaN)
	}
	return Dist{Mean: mean, StdDev: sd,
		P50: stat.Quantile(0.5, stat.Empirical, sorted, nil), P90: stat.Quantile(0.9, stat.Empirical, sorted, nil),
		Max: sorted[len(sorted)-1], Histogram: histogramSVG(sorted, id, label)}
}

// slowest returns the n seeds with the longest wall time, slowest first
// (ties by seed, so the order is the same every time).
func slowest(rs []Result, n int) []Result {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Result) int {
		if c := cmp.Compare(b.WallTime, a.WallTime); c != 0 {
			return c
		}
		return cmp.Compare(a.Seed, b.Seed)
	})
	return rs[:min(n, len(rs))]
}

// WriteSweep writes dir/report.html for the sweep in dir, whose results
// the caller read into scs, first writing the page of every failure whose
// artifacts lack one (a sweep run before pages existed). Artifacts that
// cannot be read (a file deleted or cut short) leave that failure without
// a page, and say why in Unreadable, rather than the sweep without its
// page. It returns the path written.
func WriteSweep(dir string, scs []*Scenario) (string, error) {
	if len(scs) == 0 {
		return "", fmt.Errorf("%s: no sweep results: nothing to report", dir)
	}
	for _, s := range scs {
		for _, seed := range sortedSeeds(s.Reports) {
			page := filepath.Join(dir, filepath.FromSlash(s.Reports[seed]))
			if _, err := os.Stat(page); errors.Is(err, os.ErrNotExist) {
				if _, err := WriteRun(filepath.Dir(page)); err != nil {
					delete(s.Reports, seed)
					if s.Unreadable == nil {
						s.Unreadable = map[uint64]string{}
					}
					s.Unreadable[seed] = err.Error()
				}
			}
		}
	}
	path := filepath.Join(dir, File)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := RenderSweep(f, scs); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func sortedSeeds(m map[uint64]string) []uint64 {
	var out []uint64
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// seconds formats a wall time for the page.
func seconds(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
