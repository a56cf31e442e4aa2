package archtest

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The float rules of the determinism lint need types: whether an operand is
// a float decides whether an addition may be fused. Imports are read from the
// compiler's export data, which `go list -export` builds (or finds in the
// build cache) for the lint roots and everything they import.

// moduleExports is the export data of one module's linted packages: import
// path -> export data file.
type moduleExports struct {
	files map[string]string
	err   error
}

var exportsByModule = map[string]*moduleExports{} // by module directory

// exportFiles lists the export data of the linted packages of the module in
// dir, and their dependencies: the lint roots of the main module (root), or
// every package of a nested module (an example with its own go.mod).
func exportFiles(root, dir string) (map[string]string, error) {
	if e, ok := exportsByModule[dir]; ok {
		return e.files, e.err
	}
	patterns := []string{"./..."}
	if dir == root {
		patterns = nil
		for _, top := range lintRoots {
			if _, err := os.Stat(filepath.Join(root, top)); err == nil {
				patterns = append(patterns, "./"+top+"/...")
			}
		}
	}
	e := &moduleExports{}
	e.files, e.err = listExports(dir, patterns...)
	exportsByModule[dir] = e
	return e.files, e.err
}

// moduleDir returns the directory of the go.mod that governs the package in
// dir (root's, unless a nested module's is nearer).
func moduleDir(root, dir string) string {
	for d := dir; len(d) > len(root); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return root
}

// listExports runs go list -export on patterns and their dependencies.
func listExports(dir string, patterns ...string) (map[string]string, error) {
	out, err := goCommand(dir, append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export"}, patterns...)...)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err == io.EOF {
			return files, nil
		} else if err != nil {
			return nil, err
		}
		if p.Export != "" {
			files[p.ImportPath] = p.Export
		}
	}
}

// exportImporter imports packages from the export data listed by exportFiles.
func exportImporter(fset *token.FileSet, files map[string]string) types.Importer {
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q (it does not build?)", path)
		}
		return os.Open(file)
	})
}

// typeCheck type-checks the files of one package as far as it can: a package
// being edited may not type-check, and what did still gets linted. It returns
// the first error, if any, for the test to report.
func typeCheck(fset *token.FileSet, files []*ast.File, imp types.Importer) (*types.Info, error) {
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	var errs []error
	conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err) }}
	if len(files) > 0 {
		_, _ = conf.Check(files[0].Name.Name, fset, files, info) // the errors are collected by conf.Error
	}
	switch len(errs) {
	case 0:
		return info, nil
	case 1:
		return info, errs[0]
	}
	return info, fmt.Errorf("%w (and %d more type errors)", errs[0], len(errs)-1)
}

// snippetImporter type-checks the lint's test snippets, which import only
// these packages of the standard library (and forbidden ones, whose types
// the rules do not need). One listing is much faster than importer.Default,
// which runs the go tool once per package.
var snippetImporter = sync.OnceValue(func() types.Importer {
	files, err := listExports("", "cmp", "math", "slices", "sort", "strings", "time")
	if err != nil {
		return importer.Default()
	}
	return exportImporter(token.NewFileSet(), files)
})

// moduleImporter returns an importer for the dependencies of the package in
// dir, a folder of the module in root or of a module nested in it.
func moduleImporter(t *testing.T, root, dir string, fset *token.FileSet) types.Importer {
	t.Helper()
	files, err := exportFiles(root, moduleDir(root, dir))
	if err != nil {
		t.Fatalf("listing export data for the float rules: %v", err)
	}
	return exportImporter(fset, files)
}
