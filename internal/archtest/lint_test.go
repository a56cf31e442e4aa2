package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
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
// deterministic (docs/ARCHITECTURE.md §4), each with its subfolders.
var lintRoots = []string{"sim", "service", "workload", "protocols", "faults", "checkers", "examples", "internal/chunked", "internal/suggest", "internal/plural"}

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

// lintSource parses and checks one file, a package of its own that imports
// only the standard library. It returns the breaches not exempted by a
// marker, and the exemptions it honoured.
func lintSource(fset *token.FileSet, filename string, src []byte) (breaches []finding, exempted []exemption, err error) {
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	info, _ := typeCheck(fset, []*ast.File{f}, snippetImporter())
	breaches, exempted = lintChecked(fset, f, src, info)
	return breaches, exempted, nil
}

// lintChecked runs every rule on a parsed file whose package has been type
// checked (as far as it could be) into info.
func lintChecked(fset *token.FileSet, f *ast.File, src []byte, info *types.Info) ([]finding, []exemption) {
	raw := append(lintFile(fset, f), lintFloats(fset, f, info)...)
	return applyMarkers(fset, f, src, append(raw, lintMapRanges(fset, f, info)...))
}

// lintMapRanges reports every range over a map: Go randomizes its order, so
// whatever the loop does must not depend on it (collect and sort the keys,
// or only fold into an order-free result). A loop whose order cannot matter
// says why with an allow marker.
func lintMapRanges(fset *token.FileSet, f *ast.File, info *types.Info) []finding {
	var raw []finding
	ast.Inspect(f, func(n ast.Node) bool {
		r, ok := n.(*ast.RangeStmt)
		if !ok || info == nil {
			return true
		}
		if tv, ok := info.Types[r.X]; ok && tv.Type != nil {
			if _, isMap := tv.Type.Underlying().(*types.Map); isMap {
				raw = append(raw, finding{pos: fset.Position(r.Pos()),
					what: "range over a map (" + types.ExprString(r.X) + "): its order is random; iterate sorted keys, or mark why order cannot matter"})
			}
		}
		return true
	})
	return raw
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
		case *ast.FuncDecl:
			for _, r := range subtractingReturns(n.Type, n.Body) {
				report(r, "comparator returns a difference, which overflows (int is 32 bits on 386): use cmp.Compare")
			}
		case *ast.FuncLit:
			for _, r := range subtractingReturns(n.Type, n.Body) {
				report(r, "comparator returns a difference, which overflows (int is 32 bits on 386): use cmp.Compare")
			}
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

// subtractingReturns returns the return statements of a comparator (a
// function of two arguments of one type that returns an int) that return a
// difference, a - b or int(a - b): the difference of two int64 values wraps,
// and on 32-bit platforms converting it to int truncates, so the sign, and
// the order, come out wrong.
func subtractingReturns(ft *ast.FuncType, body *ast.BlockStmt) []*ast.ReturnStmt {
	if body == nil || !isComparator(ft) {
		return nil
	}
	var found []*ast.ReturnStmt
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // checked on its own
		case *ast.ReturnStmt:
			if len(n.Results) == 1 && isDifference(n.Results[0]) {
				found = append(found, n)
			}
		}
		return true
	})
	return found
}

// isComparator reports whether ft is func(a, b T) int.
func isComparator(ft *ast.FuncType) bool {
	if ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 {
		return false
	}
	if id, ok := ft.Results.List[0].Type.(*ast.Ident); !ok || id.Name != "int" {
		return false
	}
	var params []string
	for _, field := range ft.Params.List {
		for range max(1, len(field.Names)) {
			params = append(params, types.ExprString(field.Type))
		}
	}
	return len(params) == 2 && params[0] == params[1]
}

// isDifference reports whether e is a - b, or a conversion int(a - b).
func isDifference(e ast.Expr) bool {
	e = ast.Unparen(e)
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 {
		if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "int" {
			e = ast.Unparen(call.Args[0])
		}
	}
	bin, ok := e.(*ast.BinaryExpr)
	return ok && bin.Op == token.SUB
}

// lintFloats finds float additions and subtractions that Go may fuse with a
// multiplication into one multiply-add. The Go spec allows it, and the
// compiler does it on arm64, on amd64 built with GOAMD64=v3 and on other
// targets, but not on amd64 v1 or 386: the fused result is rounded once
// instead of twice and may differ in the last bit, which is enough to change
// a drawn duration or a probability comparison, and the whole trace. An
// explicit conversion, float64(a*b) + c, forces the rounding and prevents
// the fusion. The rule flags a + b*c, a*b - c, x += b*c, and an addition of
// a variable that was assigned a product (the compiler may fuse across
// statements too); it needs the types in info, and says nothing about
// expressions it could not type.
func lintFloats(fset *token.FileSet, f *ast.File, info *types.Info) []finding {
	var raw []finding
	report := func(n ast.Node) {
		raw = append(raw, finding{pos: fset.Position(n.Pos()), what: fmt.Sprintf(
			"float multiply-add %s may be fused into one rounding on arm64 and amd64 v3: "+
				"round the product with float64(...), or compute in integers", types.ExprString(n.(ast.Expr)))})
	}
	products := productVars(f, info)
	isProduct := func(e ast.Expr) bool {
		e = ast.Unparen(e)
		if id, ok := e.(*ast.Ident); ok {
			return products[info.Uses[id]]
		}
		bin, ok := e.(*ast.BinaryExpr)
		return ok && bin.Op == token.MUL && isFloatValue(info, bin)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.ADD || n.Op == token.SUB) && isFloatValue(info, n) && (isProduct(n.X) || isProduct(n.Y)) {
				report(n)
			}
		case *ast.AssignStmt:
			if (n.Tok == token.ADD_ASSIGN || n.Tok == token.SUB_ASSIGN) && len(n.Rhs) == 1 && isProduct(n.Rhs[0]) {
				report(n.Rhs[0])
			}
		}
		return true
	})
	return raw
}

// productVars returns the variables of f that are assigned an unrounded
// float product somewhere: added later, the product may still be fused.
func productVars(f *ast.File, info *types.Info) map[types.Object]bool {
	vars := map[types.Object]bool{}
	mark := func(lhs *ast.Ident, rhs ast.Expr) {
		bin, ok := ast.Unparen(rhs).(*ast.BinaryExpr)
		if !ok || bin.Op != token.MUL || !isFloatValue(info, bin) {
			return
		}
		if obj := info.Defs[lhs]; obj != nil {
			vars[obj] = true
		} else if obj := info.Uses[lhs]; obj != nil {
			vars[obj] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) && (n.Tok == token.DEFINE || n.Tok == token.ASSIGN) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						mark(id, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i, id := range n.Names {
					mark(id, n.Values[i])
				}
			}
		}
		return true
	})
	return vars
}

// isFloatValue reports whether e is a float computed at run time (not a
// constant, which the compiler folds exactly).
func isFloatValue(info *types.Info, e ast.Expr) bool {
	tv, ok := info.Types[e]
	if !ok || tv.Value != nil || tv.Type == nil {
		return false
	}
	b, ok := tv.Type.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsFloat != 0
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
			files, srcs := parseDir(t, m.root, fset, dirs[dir])
			info, err := typeCheck(fset, files, moduleImporter(t, m.root, filepath.Join(m.root, dir), fset))
			if err != nil {
				t.Logf("%s does not type-check (being written?); the float rules see only what did: %v", dir, err)
			}
			for i, f := range files {
				breaches, exempted := lintChecked(fset, f, srcs[i], info)
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

// parseDir parses the files of one package, skipping (with a note) those
// that do not parse.
func parseDir(t *testing.T, root string, fset *token.FileSet, paths []string) ([]*ast.File, [][]byte) {
	t.Helper()
	var files []*ast.File
	var srcs [][]byte
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			t.Logf("skipping %s: does not parse (being written?): %v", relTo(root, path), err)
			continue
		}
		files, srcs = append(files, f), append(srcs, src)
	}
	return files, srcs
}

func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// TestEveryPackageHasDocGo: every package of the module says what it is for in
// a doc.go (docs/ARCHITECTURE.md §2), and a library's comment starts "Package <name>".
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
		{"subtracting comparators", `import ("slices"; "time")
type step struct{ At time.Duration; ID int }
func f(s []step, ids []int) {
	slices.SortFunc(s, func(a, b step) int { return int(a.At - b.At) })
	slices.SortStableFunc(s, func(a, b step) int { return (a.ID - b.ID) })
	slices.SortFunc(ids, func(a, b int) int { if a == 0 { return 0 }; return a - b })
}
func byAt(a, b step) int { return int(a.At) - int(b.At) }`, []string{"5: comparator", "6: comparator", "7: comparator", "9: comparator"}},
		{"comparators that compare", `import ("cmp"; "slices"; "time")
type step struct{ At time.Duration }
func f(s []step) { slices.SortFunc(s, func(a, b step) int { return cmp.Compare(a.At, b.At) }) }
func dist(a, b int) int { return a + b }           // not a difference
func gap(a int, b int64) int { return a - int(b) } // not a comparator: two types
func diff(a, b int) (int, bool) { return a - b, true }`, nil},
		{"float multiply-add", `func f(a, b, c float64, x float32) (float64, float32) {
	d := a + b*c
	d = a*b - c
	d += b * c
	x = x*x + 1
	return d, x
}`, []string{"3: float multiply-add a + b * c", "4: float multiply-add a * b - c", "5: float multiply-add b * c", "6: float multiply-add x * x + 1"}},
		{"a product kept in a variable is still fused", `func f(a, b, c float64) float64 {
	p := a * b
	var q = (a * c)
	return p + c + q
}`, []string{"5: float multiply-add p + c + q", "5: float multiply-add p + c"}},
		{"rounded, integer or constant products", `import "time"
const k = 0.05 + 0.45*0.5
type prob float64
func f(a, b, c float64, n, m int, d time.Duration) (float64, int, time.Duration) {
	r := a + float64(b*c)
	p := float64(a * b)
	r += p + c
	r += float64(b * c)
	q := float64(50+n*m) / 1000
	return r + q*0 + k, n + n*m, d + d*2
}`, []string{"11: float multiply-add r + q * 0"}},
		{"map ranges", `import ("maps"; "slices")
type votes map[int]bool
func f(m map[string]int, v votes, s []int) (out []string) {
	for k := range m { out = append(out, k) }
	for k, ok := range v { _, _ = k, ok }
	for _, k := range slices.Sorted(maps.Keys(m)) { out = append(out, k) }
	for range s {}
	//simrun:allow only counted: the order cannot matter
	for range m { out = append(out, "") }
	return out
}`, []string{"5: range over a map (m)", "6: range over a map (v)"}},
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
