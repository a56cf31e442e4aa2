package report

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/internal/plural"
)

// The page's style and script are inlined: the page must open from a file,
// offline, on a machine that never saw this one.
var (
	//go:embed assets/report.css
	css string
	//go:embed assets/report.js
	js string
	//go:embed assets/run.html
	runPage string
)

var runTmpl = template.Must(template.New("run").Funcs(template.FuncMap{"dur": dur}).Parse(runPage))

// runView is what the run page template reads.
type runView struct {
	CSS           template.CSS
	Script        template.JS
	Meta          Meta
	Anchor        Anchor
	AnchorEvent   Event
	Window        Window
	WindowStart   string
	WindowEnd     string
	Diagram       template.HTML
	Roles         template.HTML
	OpsSVG        template.HTML
	OpsShown      int
	OpsTotal      int
	Latency       []LatencyRow
	HasLin        bool
	Findings      []string // the history checks' other files (Run.Findings)
	Nodes         []nodeOption
	Kinds         []string
	ByzantineText string
}

type nodeOption struct {
	ID   int
	Name string
}

// Render writes the run's page.
func (r *Run) Render(w io.Writer) error {
	ns := nodesOf(r.Events)
	end := r.Meta.SimTime
	if n := len(r.Events); n > 0 {
		end = max(end, r.Events[n-1].T)
	}
	a := r.Violation()
	all := bands(r.Events, end)
	win := r.window(a, ns, all)
	v := runView{CSS: template.CSS(css), Script: template.JS(js), Meta: r.Meta, Anchor: a, AnchorEvent: win.AnchorE,
		Window: win, WindowStart: dur(win.T0), WindowEnd: dur(win.T1), HasLin: r.HasLin, Findings: r.Findings,
		Diagram: template.HTML(diagramSVG(win, ns)), Latency: Latencies(r.Ops), OpsTotal: len(r.Ops),
		ByzantineText: strings.Join(r.Meta.Byzantine, ", ")}
	servers := ns.servers()
	roles := append(outsideBands(r.Events, servers, end), all...) // drawn first, under the rest
	v.Roles = template.HTML(rolesSVG(servers, roles, terms(r.Events), byzantine(r.Meta.Byzantine), end, win))
	if len(r.Ops) > 0 {
		s, shown := opsSVG(r.Ops, end, win.AnchorE.T, win)
		v.OpsSVG, v.OpsShown = template.HTML(s), shown
	}
	for _, n := range win.Lanes {
		v.Nodes = append(v.Nodes, nodeOption{n, ns.name(n)})
	}
	for _, m := range win.Msgs {
		if !slices.Contains(v.Kinds, m.Kind) {
			v.Kinds = append(v.Kinds, m.Kind)
		}
	}
	slices.Sort(v.Kinds)
	return runTmpl.Execute(w, v)
}

// byzantine reads the report's "n2=equivocate" entries.
func byzantine(list []string) map[int]string {
	out := map[int]string{}
	for _, b := range list {
		node, behaviour, _ := strings.Cut(b, "=")
		if n, err := strconv.Atoi(strings.TrimPrefix(node, "n")); err == nil {
			out[n] = behaviour
		}
	}
	return out
}

//go:embed assets/sweep.html
var sweepPage string

var sweepTmpl = template.Must(template.New("sweep").Funcs(template.FuncMap{
	"dur":  dur,
	"wall": seconds,
	"ns":   func(v float64) string { return seconds(int64(v)) },
	"pct":  func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" },
	"html": func(s string) template.HTML { return template.HTML(s) },
}).Parse(sweepPage))

// RenderSweep writes the page of a sweep's scenario versions.
func RenderSweep(w io.Writer, scs []*Scenario) error {
	v := struct {
		CSS      template.CSS
		Stats    []SweepStats
		Contents string
	}{CSS: template.CSS(css), Contents: sweepContents(scs)}
	for _, s := range scs {
		v.Stats = append(v.Stats, Stats(s))
	}
	return sweepTmpl.Execute(w, v)
}

// sweepContents counts the scenarios on the page, and their versions when
// some scenario has several: "2 scenarios", "1 scenario, 2 versions".
func sweepContents(scs []*Scenario) string {
	names := map[string]bool{}
	for _, s := range scs {
		names[s.Name] = true
	}
	out := plural.Of(len(names), "scenario")
	if len(scs) > len(names) {
		out += ", " + plural.Of(len(scs), "version")
	}
	return out
}
