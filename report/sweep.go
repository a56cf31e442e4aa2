package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/simrun/simrun/internal/jsonl"
)

// resultsFile is the name of a sweep's per-scenario results (cli/sweep.go).
const resultsFile = "results.jsonl"

// Result is what the sweep page needs of one results.jsonl line (a
// runner.Report in JSON).
type Result struct {
	Scenario     string `json:"scenario"`
	Seed         uint64 `json:"seed"`
	ScenarioHash string `json:"scenario_hash"`
	Build        string `json:"build"`
	Hash         string `json:"trace_hash"`
	Class        string `json:"class"`
	Reason       string `json:"reason"`
	Events       uint64 `json:"events"`
	SimTime      int64  `json:"sim_time_ns"`
	WallTime     int64  `json:"wall_time_ns"`
	Checks       []struct {
		Name    string `json:"name"`
		Verdict string `json:"verdict"`
	} `json:"checks"`
	// Beyond says where the faults went beyond what the protocol assumes
	// (runner.Report.Beyond): shown under a failure's reason.
	Beyond []string `json:"beyond_assumptions"`
}

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

// Scenario is one scenario version's results in a sweep directory.
type Scenario struct {
	Name, Hash string
	Build      string // the program builds that ran it, comma separated ("" in results from before builds were recorded)
	Dir        string // relative to the sweep directory ("" for the directory itself)
	Results    []Result
	Reports    map[uint64]string // seed -> its failure page, relative to the sweep directory
	// LeftApart says what the results file holds of an earlier build of
	// this scenario version, which this build continued (--resume): not
	// counted, as the sweep does not count it; "" if nothing.
	LeftApart string
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
		case d.IsDir() && d.Name() == "failures" && path != dir && fileExists(filepath.Join(filepath.Dir(path), resultsFile)):
			return filepath.SkipDir // a scenario's failures, beside its results
		case !d.IsDir() && d.Name() == resultsFile:
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
	return fmt.Errorf("%s: no %s below it: not a sweep directory", dir, resultsFile)
}

// LoadSweep reads every results file below a sweep directory. A seed that
// appears twice in one version (a retried inconclusive seed) counts once,
// by its last line; versions of a scenario are kept apart, and the results
// of one version in several files (the shards of one sweep) are shown as
// one.
func LoadSweep(dir string) ([]*Scenario, error) {
	files, err := FindResults(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, NoResults(dir)
	}
	var out []*Scenario
	byVersion := map[shardedKey]*Scenario{}
	for _, f := range files {
		scs, err := readResults(dir, f)
		if err != nil {
			return nil, err
		}
		for _, sc := range scs {
			k := shardedKey{sc.Name, sc.Hash}
			if first, ok := byVersion[k]; ok {
				first.addShard(sc)
				continue
			}
			byVersion[k] = sc
			out = append(out, sc)
		}
	}
	return out, nil
}

func readResults(root, path string) ([]*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rel, _ := filepath.Rel(root, filepath.Dir(path))
	vs := versions{dir: filepath.ToSlash(rel), byKey: map[versionKey]*Scenario{}, latest: map[versionKey]map[uint64]int{},
		lastBuild: map[string]string{}}
	// A sweep that was interrupted may have left its last line cut short: the
	// sweep leaves it out when it continues, and so does the report.
	var bad error
	_, err = jsonl.Lines(f, jsonl.MaxLine, func(line int, text []byte) error {
		var r Result
		if err := json.Unmarshal(text, &r); err != nil {
			bad = fmt.Errorf("%s:%d: %w", path, line, err)
			return bad
		}
		vs.add(r)
		return nil
	})
	var tooLong *jsonl.TooLongError
	switch {
	case err == nil:
	case err == bad:
		return nil, err
	case errors.As(err, &tooLong):
		return nil, fmt.Errorf("%s:%d: longer than %d bytes: not a sweep result", path, tooLong.Line, tooLong.Max)
	default:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vs.latestBuilds(root), nil
}

// latestBuilds returns, of each scenario version, the results of the
// latest build that ran it in the file (that of its last line), as the
// sweep counts them; an earlier build's, which a sweep continued with
// --resume after a rebuild, are noted on the version kept (their failure
// pages, of the same seeds, are the later build's now).
func (vs *versions) latestBuilds(root string) []*Scenario {
	var out []*Scenario
	for _, k := range vs.order {
		if k.build != vs.lastBuild[k.hash] {
			continue
		}
		v := vs.byKey[k]
		var apart []string
		for _, old := range vs.order {
			if old.hash == k.hash && old.build != k.build {
				apart = append(apart, fmt.Sprintf("%d results of build %s", len(vs.byKey[old].Results), BuildName(old.build)))
			}
		}
		if len(apart) > 0 {
			v.LeftApart = "the file also holds " + strings.Join(apart, " and ") + ", which this build continued: left apart, not counted"
		}
		slices.SortFunc(v.Results, func(a, b Result) int { return cmp.Compare(a.Seed, b.Seed) })
		v.findReports(root)
		out = append(out, v)
	}
	return out
}

// BuildName is how a results line's build is shown: "unknown" for results
// written before builds were recorded.
func BuildName(build string) string {
	if build == "" {
		return "unknown"
	}
	return build
}

// versions gathers one results file's lines by version (scenario hash and
// build, as the sweep keeps them apart), in the order they first appear.
type versions struct {
	dir    string
	byKey  map[versionKey]*Scenario
	order  []versionKey
	latest map[versionKey]map[uint64]int // version -> seed -> index in Results
	// lastBuild is, by scenario hash, the build of its last line.
	lastBuild map[string]string
}

type versionKey struct{ hash, build string }

// add records r; a seed already seen in its version is replaced by the later
// line (a retried inconclusive seed).
func (vs *versions) add(r Result) {
	k := versionKey{r.ScenarioHash, r.Build}
	vs.lastBuild[r.ScenarioHash] = r.Build
	v, ok := vs.byKey[k]
	if !ok {
		v = &Scenario{Name: r.Scenario, Hash: r.ScenarioHash, Build: r.Build, Dir: vs.dir, Reports: map[uint64]string{}}
		vs.byKey[k], vs.latest[k] = v, map[uint64]int{}
		vs.order = append(vs.order, k)
	}
	if i, seen := vs.latest[k][r.Seed]; seen {
		v.Results[i] = r
		return
	}
	vs.latest[k][r.Seed] = len(v.Results)
	v.Results = append(v.Results, r)
}

// shardedKey is what the shards of one sweep share: a scenario version.
// Shards may be built on machines of different kinds (different builds), as
// merge combines them.
type shardedKey struct{ name, hash string }

// addShard adds another file's results of s's version. A seed both hold
// (shards that overlap) counts once; with two trace hashes it is
// nondeterministic, as merge says.
func (s *Scenario) addShard(other *Scenario) {
	at := make(map[uint64]int, len(s.Results))
	for i, r := range s.Results {
		at[r.Seed] = i
	}
	for _, r := range other.Results {
		i, seen := at[r.Seed]
		switch {
		case !seen:
			s.Results = append(s.Results, r)
		case r.Hash != "" && s.Results[i].Hash != "" && r.Hash != s.Results[i].Hash:
			first := s.Results[i]
			s.Results[i].Class = "nondeterministic"
			s.Results[i].Reason = fmt.Sprintf("seed %d: trace hash %s (build %s) and %s (build %s) in two shards",
				r.Seed, first.Hash, BuildName(first.Build), r.Hash, BuildName(r.Build))
			s.Results[i].Checks = nil
		}
	}
	if other.Build != "" && !slices.Contains(strings.Split(s.Build, ", "), other.Build) {
		s.Build = strings.TrimPrefix(s.Build+", "+other.Build, ", ")
	}
	slices.SortFunc(s.Results, func(a, b Result) int { return cmp.Compare(a.Seed, b.Seed) })
	for seed, page := range other.Reports {
		if _, ok := s.Reports[seed]; !ok {
			s.Reports[seed] = page
		}
	}
	if other.LeftApart != "" {
		s.LeftApart = strings.TrimPrefix(s.LeftApart+"; "+other.LeftApart, "; ")
	}
}

// findReports notes the failures whose artifacts have a page (or could:
// WriteSweep writes the missing ones).
func (s *Scenario) findReports(root string) {
	for _, r := range s.Results {
		if r.Class == "pass" {
			continue
		}
		rel := filepath.Join(s.Dir, "failures", "seed-"+strconv.FormatUint(r.Seed, 10))
		if _, err := os.Stat(filepath.Join(root, rel, reportJSON)); err == nil {
			s.Reports[r.Seed] = filepath.ToSlash(filepath.Join(rel, File))
		}
	}
}

// ClassRow is one outcome's share of a scenario's seeds.
type ClassRow struct {
	Class    string
	Count    int
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
		wall = append(wall, float64(r.WallTime))
		events = append(events, float64(r.Events))
		simTime = append(simTime, float64(r.SimTime))
	}
	slices.Sort(classes)
	for _, c := range classes {
		st.Classes = append(st.Classes, classRow(c, counts[c], st.Seeds, first[c]))
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

func classRow(class string, k, n int, first uint64) ClassRow {
	row := ClassRow{Class: class, Count: k, Wilson: Wilson(k, n), Clopper: ClopperPearson(k, n), FirstHit: first}
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

// WriteSweep writes dir/report.html for the sweep in dir, first writing the
// page of every failure whose artifacts lack one (a sweep run before pages
// existed). It returns the path written.
func WriteSweep(dir string) (string, error) {
	scs, err := LoadSweep(dir)
	if err != nil {
		return "", err
	}
	if len(scs) == 0 {
		return "", fmt.Errorf("%s: no sweep results: nothing to report", dir)
	}
	for _, s := range scs {
		for _, seed := range sortedSeeds(s.Reports) {
			page := filepath.Join(dir, filepath.FromSlash(s.Reports[seed]))
			if _, err := os.Stat(page); errors.Is(err, os.ErrNotExist) {
				if _, err := WriteRun(filepath.Dir(page)); err != nil {
					return "", fmt.Errorf("seed %d: %w", seed, err)
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
