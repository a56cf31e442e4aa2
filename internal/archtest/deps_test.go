package archtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// rule is the dependency rule of the packages matching pattern (a path relative
// to the module). "x" matches x and its subpackages; "x/*" matches each x/Y with
// its subpackages, and each x/Y is a root of its own: protocols/raft may not
// import protocols/paxos.
type rule struct {
	pattern   string
	mayImport []string // project packages (with their subpackages) it may depend on
	external  []string // module paths outside the project it may import
	anything  bool     // the top of the stack: no restriction
}

// rules is the layering of docs/ARCHITECTURE.md §2. A package may always import packages
// under its own root (sim/x may import sim).
var rules = []rule{
	{pattern: "sim"},
	{pattern: "service", mayImport: []string{"sim"}},
	// The workload's clients speak the service vocabulary (Request, Reply).
	{pattern: "workload", mayImport: []string{"sim", "service", "internal/chunked", "internal/jsonl"}},
	{pattern: "protocols/*", mayImport: []string{"sim", "service"}},
	{pattern: "faults", mayImport: []string{"sim"}},
	{pattern: "checkers", mayImport: []string{"sim", "service", "workload", "internal/chunked", "internal/jsonl"},
		external: []string{"github.com/anishathalye/porcupine", "gonum.org/v1/gonum"}},
	// The one list of check names and data models (checkers/names) imports
	// nothing of the project, so scenario files are validated against it.
	// Scenarios turn a latency distribution's parameters into the kernel's
	// table with gonum's quantile functions (stat/distuv). A file writes the
	// lower layers' own types where they have one (faults' steps, the
	// workload's operation mix) rather than a copy to keep in step; the
	// workload brings the service vocabulary and its chunked list with it.
	{pattern: "scenarios", mayImport: []string{"sim", "service", "workload", "internal/chunked", "internal/jsonl", "faults", "internal/strictyaml", "checkers/names"},
		external: []string{"github.com/goccy/go-yaml", "gonum.org/v1/gonum"}},
	// A list grown in chunks, for what long runs accumulate: no imports.
	{pattern: "internal/chunked"},
	// "Did you mean" hints, for any layer's error messages: no imports
	// (a leaf, below).
	{pattern: "internal/suggest"},
	// Counts with their nouns, for any layer's lines: no imports (a leaf).
	{pattern: "internal/plural"},
	// The strict YAML decoder knows nothing of scenarios.
	{pattern: "internal/strictyaml", external: []string{"github.com/goccy/go-yaml"}},
	// Bounded reading of the JSON Lines files simrun appends to: no imports.
	{pattern: "internal/jsonl"},
	// report reads a run's artifacts back (the history's JSON form, a
	// sweep's results) and draws them; the runner calls it, so it may not
	// import the runner.
	{pattern: "report", mayImport: []string{"sim", "service", "workload", "internal/chunked", "internal/jsonl"}, external: []string{"gonum.org/v1/gonum"}},
	{pattern: "runner", anything: true},
	{pattern: "registry", anything: true},
	{pattern: "simtest", anything: true},
	{pattern: "cli", anything: true},
	// pinrand pins a library's crypto/rand reads to a node's stream; it sits
	// beside the protocols that use it and outside the lint roots, since it
	// must serialize worlds with a mutex.
	{pattern: "pinrand", mayImport: []string{"sim"}},
	{pattern: "cmd/*", anything: true},
	// Examples are users' code: a protocol package with its Protocol value
	// (runner) and the user's own binary (cli).
	{pattern: "examples/*", anything: true},
	{pattern: "internal/*", anything: true},
}

// leaves are project packages that import nothing of the project and that
// any package may import, as it may the standard library: helpers of no
// layer.
var leaves = []string{"internal/suggest", "internal/plural"}

// match reports whether rel falls under r, and the root it belongs to.
func (r rule) match(rel string) (root string, ok bool) {
	if prefix, wild := strings.CutSuffix(r.pattern, "/*"); wild {
		rest, found := strings.CutPrefix(rel, prefix+"/")
		if !found || rest == "" {
			return "", false
		}
		first, _, _ := strings.Cut(rest, "/")
		return prefix + "/" + first, true
	}
	return r.pattern, within(rel, r.pattern)
}

// within reports whether rel is pkg or one of its subpackages.
func within(rel, pkg string) bool { return rel == pkg || strings.HasPrefix(rel, pkg+"/") }

// ruleFor returns the rule of the module package rel and the root it falls under.
func ruleFor(rel string) (rule, string, bool) {
	for _, r := range rules {
		if root, ok := r.match(rel); ok {
			return r, root, true
		}
	}
	return rule{}, "", false
}

// allows reports whether a package under root may depend on the project package dep.
func (r rule) allows(root, dep string) bool {
	if r.anything || within(dep, root) || slices.Contains(leaves, dep) {
		return true
	}
	return slices.ContainsFunc(r.mayImport, func(pkg string) bool { return within(dep, pkg) })
}

// allowsExternal reports whether the rule lets a package import the
// non-standard, non-project package path.
func (r rule) allowsExternal(path string) bool {
	return r.anything || slices.ContainsFunc(r.external, func(mod string) bool { return within(path, mod) })
}

func TestDependencyRules(t *testing.T) {
	m := module(t)
	for _, r := range rules {
		t.Run(r.pattern, func(t *testing.T) {
			var matched []*goPackage
			for _, p := range m.own {
				if _, ok := r.match(m.rel(p.ImportPath)); ok {
					matched = append(matched, p)
				}
			}
			if len(matched) == 0 {
				t.Skipf("no package matches %q yet", r.pattern)
			}
			for _, p := range matched {
				checkPackage(t, m, p)
			}
		})
	}
}

// checkPackage reports p's violations of its rule.
func checkPackage(t *testing.T, m *moduleInfo, p *goPackage) {
	t.Helper()
	if p.Error != nil {
		t.Logf("%s does not load (%s); checking the imports it declares", m.rel(p.ImportPath), firstLine(p.Error.Err))
	}
	for _, v := range violations(m, p) {
		t.Error(v)
	}
}

// violations checks p's project dependencies transitively and its imports from
// outside the project directly.
func violations(m *moduleInfo, p *goPackage) []string {
	rel := m.rel(p.ImportPath)
	r, root, ok := ruleFor(rel)
	if !ok {
		return []string{"package " + rel + " has no rule"}
	}
	var out []string
	for _, dep := range p.Deps {
		if !m.isOwn(dep) || r.allows(root, m.rel(dep)) {
			continue
		}
		how := "imports"
		if !slices.Contains(p.Imports, dep) {
			how = "depends (indirectly) on"
		}
		out = append(out, fmt.Sprintf("%s %s %s; %q may import only %s and the standard library",
			rel, how, m.rel(dep), r.pattern, describe(r)))
	}
	for _, imp := range p.Imports {
		if m.isOwn(imp) || m.isStandard(imp) || r.allowsExternal(imp) {
			continue
		}
		out = append(out, fmt.Sprintf("%s imports %s, outside the project; %q may import only %s and the standard library",
			rel, imp, r.pattern, describe(r)))
	}
	return out
}

func describe(r rule) string {
	allowed := append(slices.Clone(r.mayImport), r.external...)
	if len(allowed) == 0 {
		return "nothing of the project"
	}
	return strings.Join(allowed, ", ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestEveryPackageHasARule: a new package must take a place in the layering.
func TestEveryPackageHasARule(t *testing.T) {
	m := module(t)
	for _, p := range m.own {
		rel := m.rel(p.ImportPath)
		if _, _, ok := ruleFor(rel); !ok {
			t.Errorf("package %q has no dependency rule: add one to internal/archtest (rules in deps_test.go, and doc.go)", rel)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	tests := []struct {
		rel, root, dep string
		want           bool
	}{
		{"sim", "sim", "service", false},
		{"sim/internal/heap", "sim", "sim", true},
		{"service", "service", "sim", true},
		{"protocols/raft", "protocols/raft", "sim", true},
		{"protocols/raft", "protocols/raft", "service", true},
		{"protocols/raft", "protocols/raft", "protocols/raft/internal/log", true},
		{"protocols/raft", "protocols/raft", "protocols/paxos", false},
		{"protocols/raft/rafttest", "protocols/raft", "workload", false},
		{"protocols/pbft", "protocols/pbft", "faults", false},
		{"faults", "faults", "protocols/raft", false},
		{"checkers", "checkers", "workload", true},
		{"checkers", "checkers", "faults", false},
		{"scenarios", "scenarios", "faults", true},
		{"scenarios", "scenarios", "protocols/raft", false},
		{"scenarios", "scenarios", "runner", false},
		{"scenarios", "scenarios", "checkers", false},
		{"scenarios", "scenarios", "checkers/names", true},
		{"scenarios", "scenarios", "workload", true},
		{"runner", "runner", "protocols/raft", true},
		{"cmd/simrun", "cmd/simrun", "registry", true},
		{"cli", "cli", "registry", true},
		{"pinrand", "pinrand", "runner", false},
	}
	for _, tt := range tests {
		t.Run(tt.rel+"->"+tt.dep, func(t *testing.T) {
			r, root, ok := ruleFor(tt.rel)
			if !ok {
				t.Fatalf("no rule for %s", tt.rel)
			}
			if root != tt.root {
				t.Errorf("root = %q, want %q", root, tt.root)
			}
			if got := r.allows(root, tt.dep); got != tt.want {
				t.Errorf("allows(%s) = %v, want %v", tt.dep, got, tt.want)
			}
		})
	}
	for _, rel := range []string{"protocols", "simulator", "checkersx", "tools/x"} {
		if _, _, ok := ruleFor(rel); ok {
			t.Errorf("%q should have no rule", rel)
		}
	}
	checkers, _, _ := ruleFor("checkers")
	if !checkers.allowsExternal("github.com/anishathalye/porcupine") || checkers.allowsExternal("github.com/goccy/go-yaml/ast") {
		t.Error("checkers' external rule is wrong")
	}
}

// TestViolationsAreFound feeds made-up packages to the checker.
func TestViolationsAreFound(t *testing.T) {
	const mod = "example.com/m"
	m := &moduleInfo{path: mod, packages: map[string]*goPackage{
		"fmt":                      {ImportPath: "fmt", Standard: true},
		"github.com/x/y":           {ImportPath: "github.com/x/y"},
		"github.com/goccy/go-yaml": {ImportPath: "github.com/goccy/go-yaml"},
	}}
	tests := []struct {
		name          string
		pkg           goPackage
		wantSubstring []string // one per expected violation
	}{
		{"clean protocol", goPackage{ImportPath: mod + "/protocols/raft",
			Imports: []string{"fmt", mod + "/sim", mod + "/service"},
			Deps:    []string{"fmt", mod + "/service", mod + "/sim"}}, nil},
		{"sim imports a module", goPackage{ImportPath: mod + "/sim",
			Imports: []string{"github.com/x/y"}, Deps: []string{"github.com/x/y"}},
			[]string{"sim imports github.com/x/y, outside the project"}},
		{"protocol reaches faults indirectly", goPackage{ImportPath: mod + "/protocols/raft",
			Imports: []string{mod + "/protocols/raft/helper"},
			Deps:    []string{mod + "/faults", mod + "/protocols/raft/helper", mod + "/sim"}},
			[]string{"protocols/raft depends (indirectly) on faults"}},
		{"protocol imports another", goPackage{ImportPath: mod + "/protocols/paxos",
			Imports: []string{mod + "/protocols/raft"}, Deps: []string{mod + "/protocols/raft", mod + "/sim"}},
			[]string{"protocols/paxos imports protocols/raft"}},
		{"scenarios with yaml and checkers", goPackage{ImportPath: mod + "/scenarios",
			Imports: []string{"github.com/goccy/go-yaml", mod + "/checkers"},
			Deps:    []string{mod + "/checkers", "github.com/goccy/go-yaml"}},
			[]string{"scenarios imports checkers"}},
		{"unknown package", goPackage{ImportPath: mod + "/tools"}, []string{"has no rule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(m, &tt.pkg)
			if len(got) != len(tt.wantSubstring) {
				t.Fatalf("got %d violations %q, want %d", len(got), got, len(tt.wantSubstring))
			}
			for i, want := range tt.wantSubstring {
				if !strings.Contains(got[i], want) {
					t.Errorf("violation %q does not say %q", got[i], want)
				}
			}
		})
	}
}
