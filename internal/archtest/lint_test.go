package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// lintRoots are the folders whose code runs inside a world and must be
// deterministic (DESIGN.md §4), each with its subfolders.
var lintRoots = []string{"sim", "service", "workload", "protocols", "faults", "checkers", "examples"}

// forbiddenImports are packages that bring concurrency, unseeded randomness,
// or memory tricks into a world.
var forbiddenImports = map[string]string{
	"sync":         "no concurrency inside a world",
	"sync/atomic":  "no concurrency inside a world",
	"math/rand":    "randomness only from env.Rand() or World.Stream",
	"math/rand/v2": "randomness only from env.Rand() or World.Stream",
	"crypto/rand":  "randomness only from env.Rand() or World.Stream",
	"os/signal":    "no outside events inside a world",
	"unsafe":       "no pointer tricks: traces and hashes must not see addresses",
}

// wallClock are the functions of package time that read or wait on the real
// clock. Durations, Time values from the virtual clock and formatting are fine.
var wallClock = []string{"Now", "Since", "Until", "Sleep", "After", "Tick", "NewTimer", "NewTicker", "AfterFunc"}

const allowMarker = "//simrun:allow"

// finding is one breach of the determinism rules, or a misused marker.
type finding struct {
	pos  token.Position
	what string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d: %s", f.pos.Filename, f.pos.Line, f.what) }

// exemption is an honoured allow marker.
type exemption struct {
	finding
	reason string
}

// lintSource parses and checks one file. It returns the breaches not exempted
// by a marker, and the exemptions it honoured.
func lintSource(fset *token.FileSet, filename string, src []byte) (breaches []finding, exempted []exemption, err error) {
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	breaches, exempted = applyMarkers(fset, f, src, lintFile(fset, f))
	return breaches, exempted, nil
}

// lintFile returns every breach in f, exempted or not.
func lintFile(fset *token.FileSet, f *ast.File) []finding {
	var raw []finding
	report := func(n ast.Node, format string, args ...any) {
		raw = append(raw, finding{pos: fset.Position(n.Pos()), what: fmt.Sprintf(format, args...)})
	}
	timeNames := map[string]bool{} // local names of package time in this file
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if why, bad := forbiddenImports[path]; bad {
			report(imp, "import %q: %s", path, why)
		}
		if path == "time" {
			switch {
			case imp.Name == nil:
				timeNames["time"] = true
			case imp.Name.Name == ".":
				report(imp, `dot import of "time" hides wall-clock calls from this lint`)
			case imp.Name.Name != "_":
				timeNames[imp.Name.Name] = true
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n, "go statement: a world is single-threaded")
		case *ast.ChanType:
			report(n, "channel type: a world is single-threaded")
		case *ast.SendStmt:
			report(n, "channel send: a world is single-threaded")
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				report(n, "channel receive: a world is single-threaded")
			}
		case *ast.SelectStmt:
			report(n, "select statement: a world is single-threaded")
		case *ast.SelectorExpr:
			// An identifier resolved in the file (Obj != nil) is a local
			// variable that shadows the package name, not the package.
			if id, ok := n.X.(*ast.Ident); ok && timeNames[id.Name] && id.Obj == nil &&
				slices.Contains(wallClock, n.Sel.Name) {
				report(n, "time.%s reads the wall clock: use env.Now() and timers", n.Sel.Name)
			}
		}
		return true
	})
	return raw
}

// applyMarkers exempts the findings on a line with an allow marker, or on the
// line below a marker that stands alone, and reports markers that are empty or
// exempt nothing.
func applyMarkers(fset *token.FileSet, f *ast.File, src []byte, raw []finding) (breaches []finding, exempted []exemption) {
	type marker struct {
		pos    token.Position
		reason string
		used   bool
	}
	var markers []*marker
	byLine := map[int]*marker{} // the line a marker covers
	for _, group := range f.Comments {
		for _, c := range group.List {
			rest, ok := strings.CutPrefix(c.Text, allowMarker)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			m := &marker{pos: fset.Position(c.Pos()), reason: strings.TrimSpace(rest)}
			markers = append(markers, m)
			byLine[m.pos.Line] = m
			if standsAlone(fset, src, c) {
				byLine[m.pos.Line+1] = m
			}
		}
	}
	for _, fd := range raw {
		m := byLine[fd.pos.Line]
		if m == nil || m.reason == "" {
			breaches = append(breaches, fd)
			continue
		}
		m.used = true
		exempted = append(exempted, exemption{finding: fd, reason: m.reason})
	}
	for _, m := range markers {
		switch {
		case m.reason == "":
			breaches = append(breaches, finding{pos: m.pos, what: allowMarker + " needs a reason"})
		case !m.used:
			breaches = append(breaches, finding{pos: m.pos, what: allowMarker + " exempts nothing on its line: remove it"})
		}
	}
	return breaches, exempted
}

// standsAlone reports whether comment c is the first thing on its line, so
// that it covers the line below.
func standsAlone(fset *token.FileSet, src []byte, c *ast.Comment) bool {
	tf := fset.File(c.Pos())
	lineStart := tf.Offset(tf.LineStart(tf.Line(c.Pos())))
	return len(strings.TrimSpace(string(src[lineStart:tf.Offset(c.Pos())]))) == 0
}

// lintDirs returns the folders under the lint roots that hold Go files, with
// the non-test files of each.
func lintDirs(t *testing.T, root string) map[string][]string {
	t.Helper()
	dirs := map[string][]string{}
	for _, top := range lintRoots {
		base := filepath.Join(root, top)
		if _, err := os.Stat(base); err != nil {
			continue // not created yet
		}
		err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != base && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				dirs[filepath.ToSlash(rel)] = append(dirs[filepath.ToSlash(rel)], path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

func TestDeterminismLint(t *testing.T) {
	m := module(t)
	dirs := lintDirs(t, m.root)
	if len(dirs) == 0 {
		t.Skip("no package to lint yet")
	}
	var all []exemption
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		t.Run(dir, func(t *testing.T) {
			fset := token.NewFileSet()
			for _, path := range dirs[dir] {
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				breaches, exempted, err := lintSource(fset, path, src)
				if err != nil {
					t.Logf("skipping %s: does not parse (being written?): %v", relTo(m.root, path), err)
					continue
				}
				for _, b := range breaches {
					b.pos.Filename = relTo(m.root, b.pos.Filename)
					t.Error(b)
				}
				for _, e := range exempted {
					e.pos.Filename = relTo(m.root, e.pos.Filename)
					all = append(all, e)
				}
			}
		})
	}
	if len(all) == 0 {
		t.Log("no exemptions")
	}
	for _, e := range all {
		t.Logf("exempted: %s (%s)", e.finding, e.reason)
	}
}

func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// TestEveryPackageHasDocGo: every package of the module says what it is for in
// a doc.go (DESIGN.md §7), and a library's comment starts "Package <name>".
func TestEveryPackageHasDocGo(t *testing.T) {
	m := module(t)
	for _, p := range m.own {
		if len(p.GoFiles) == 0 {
			continue // test files only, or nothing buildable yet
		}
		rel := m.rel(p.ImportPath)
		path := filepath.Join(p.Dir, "doc.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: no usable doc.go: %v", rel, err)
			continue
		}
		if f.Doc == nil {
			t.Errorf("%s/doc.go has no package comment", rel)
			continue
		}
		if want := "Package " + f.Name.Name + " "; f.Name.Name != "main" && !strings.HasPrefix(f.Doc.Text(), want) {
			t.Errorf("%s/doc.go: the package comment should start %q", rel, want)
		}
	}
}

func TestLintRules(t *testing.T) {
	tests := []struct {
		name string
		src  string // the body of a file after "package p"
		want []string
	}{
		{"clean", `import "time"
func f(d time.Duration) time.Duration { return d * time.Millisecond }`, nil},
		{"go statement", `func f() { go f() }`, []string{"2: go statement"}},
		{"channel type", `var c chan int`, []string{"2: channel type"}},
		{"channel ops", `func f(c <-chan int, d chan<- int) { d <- <-c }`,
			[]string{"2: channel type", "2: channel type", "2: channel send", "2: channel receive"}},
		{"select", `func f() { select {} }`, []string{"2: select statement"}},
		{"forbidden imports", `import (
	"sync"
	"sync/atomic"
	"math/rand"
	r2 "math/rand/v2"
	"crypto/rand"
	_ "os/signal"
	"unsafe"
	"strings"
)`, []string{`3: import "sync"`, `4: import "sync/atomic"`, `5: import "math/rand"`, `6: import "math/rand/v2"`,
			`7: import "crypto/rand"`, `8: import "os/signal"`, `9: import "unsafe"`}},
		{"wall clock", `import "time"
var a = time.Now()
var b = time.Since(a)
var c = time.Until(a)
func f() { time.Sleep(1); <-time.After(1); time.Tick(1); time.NewTimer(1); time.NewTicker(1); time.AfterFunc(1, f) }
var g = time.Now // a reference is as bad as a call`,
			[]string{"3: time.Now", "4: time.Since", "5: time.Until", "6: time.Sleep", "6: channel receive", "6: time.After",
				"6: time.Tick", "6: time.NewTimer", "6: time.NewTicker", "6: time.AfterFunc", "7: time.Now"}},
		{"renamed time import", `import clock "time"
var a = clock.Now()`, []string{"3: time.Now"}},
		{"dot import of time", `import . "time"
var a = Now()`, []string{`2: dot import of "time"`}},
		{"local variable shadowing time", `import "time"
type fake struct{}
func (fake) Now() int { return 0 }
func f() int { time := fake{}; return time.Now() }
var _ time.Duration`, nil},
		{"marker on the line", `import "time"
var a = time.Now() //simrun:allow wall time for a log line only`, nil},
		{"marker on the line above", `import "time"
//simrun:allow wall time for a log line only
var a = time.Now()`, nil},
		{"marker covers only its line", `import "time"
//simrun:allow wall time for a log line only
var a = time.Now()
var b = time.Now()`, []string{"5: time.Now"}},
		{"trailing marker does not cover the next line", `import "time"
var x = 1 //simrun:allow not here
var a = time.Now()`, []string{"4: time.Now", "3: //simrun:allow exempts nothing"}},
		{"marker without reason", `import "time"
var a = time.Now() //simrun:allow`, []string{"3: time.Now", "3: //simrun:allow needs a reason"}},
		{"unused marker", `var a = 1 //simrun:allow nothing to allow`, []string{"2: //simrun:allow exempts nothing"}},
		{"look-alike comment is not a marker", `var c chan int //simrun:allowed`, []string{"2: channel type"}},
		{"marker on an import", `import (
	"sync" //simrun:allow a pool shared across worlds is outside the run
)
var _ sync.Mutex`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package p\n" + tt.src + "\n"
			breaches, _, err := lintSource(token.NewFileSet(), "x.go", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range breaches {
				got = append(got, b.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(got[i], "x.go:"+want) {
					t.Errorf("finding %d = %q, want prefix %q", i, got[i], "x.go:"+want)
				}
			}
		})
	}
}

func TestLintListsExemptions(t *testing.T) {
	src := "package p\nimport \"time\"\nvar a = time.Now() //simrun:allow the reason\n"
	breaches, exempted, err := lintSource(token.NewFileSet(), "x.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(breaches) != 0 || len(exempted) != 1 || exempted[0].reason != "the reason" || exempted[0].pos.Line != 3 {
		t.Fatalf("breaches %v, exemptions %+v", breaches, exempted)
	}
}
