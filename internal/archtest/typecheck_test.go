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
	"strings"
	"sync"
	"testing"
)

// The float rules of the determinism lint need types: whether an operand is
// a float decides whether an addition may be fused. Imports are read from the
// compiler's export data, which `go list -export` builds (or finds in the
// build cache) for the lint roots and everything they import.

var (
	exportOnce sync.Once
	exports    map[string]string // import path -> export data file
	exportErr  error
)

// exportFiles lists the export data of the lint roots' packages and their
// dependencies.
func exportFiles(root string) (map[string]string, error) {
	exportOnce.Do(func() {
		args := []string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export"}
		for _, top := range lintRoots {
			if _, err := os.Stat(root + "/" + top); err == nil {
				args = append(args, "./"+top+"/...")
			}
		}
		var out string
		if out, exportErr = goCommand(root, args...); exportErr != nil {
			return
		}
		exports = map[string]string{}
		dec := json.NewDecoder(strings.NewReader(out))
		for {
			var p struct{ ImportPath, Export string }
			if err := dec.Decode(&p); err == io.EOF {
				break
			} else if err != nil {
				exportErr = err
				return
			}
			if p.Export != "" {
				exports[p.ImportPath] = p.Export
			}
		}
	})
	return exports, exportErr
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
// the standard library.
var snippetImporter = sync.OnceValue(func() types.Importer { return importer.Default() })

// moduleImporter returns an importer for the lint roots' dependencies, or
// skips the type-based rules' input when the go tool cannot list them.
func moduleImporter(t *testing.T, root string, fset *token.FileSet) types.Importer {
	t.Helper()
	files, err := exportFiles(root)
	if err != nil {
		t.Fatalf("listing export data for the float rules: %v", err)
	}
	return exportImporter(fset, files)
}
