package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// goPackage is the part of `go list -json` output the tests use.
type goPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	DepOnly    bool
	GoFiles    []string
	Imports    []string
	Deps       []string
	Module     *struct {
		Path string
		Main bool
	}
	Error *struct{ Err string }
}

// moduleInfo is the module under test, listed once per test binary.
type moduleInfo struct {
	root     string                // directory holding go.mod
	path     string                // module path
	packages map[string]*goPackage // every listed package, dependencies included
	own      []*goPackage          // the module's packages, in import path order
}

var (
	listOnce sync.Once
	listed   *moduleInfo
	listErr  error
)

// module lists the module's packages and their dependencies with the go tool.
// Packages being written concurrently may fail to load; -e keeps them listed
// with an Error instead of failing the whole listing.
func module(t *testing.T) *moduleInfo {
	t.Helper()
	listOnce.Do(func() { listed, listErr = listModule() })
	if errors.Is(listErr, exec.ErrNotFound) {
		t.Skip("the go tool is not on PATH")
	}
	if listErr != nil {
		t.Fatal(listErr)
	}
	return listed
}

func listModule() (*moduleInfo, error) {
	gomod, err := goCommand("", "env", "GOMOD")
	if err != nil {
		return nil, err
	}
	gomod = strings.TrimSpace(gomod)
	if gomod == "" || gomod == "/dev/null" {
		return nil, errors.New("not inside a Go module")
	}
	m := &moduleInfo{root: filepath.Dir(gomod), packages: map[string]*goPackage{}}
	out, err := goCommand(m.root, "list", "-e", "-deps", "-json", "./...")
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		p := new(goPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		m.packages[p.ImportPath] = p
		if p.Module != nil && p.Module.Main && !p.DepOnly {
			m.path = p.Module.Path
			m.own = append(m.own, p) // go list prints dependencies first, then in path order
		}
	}
	if m.path == "" {
		return nil, errors.New("go list found no package of the main module")
	}
	return m, nil
}

func goCommand(dir string, args ...string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New("go " + strings.Join(args, " ") + ": " + err.Error() + ": " + stderr.String())
	}
	return stdout.String(), nil
}

// rel returns an import path of the module relative to the module ("sim",
// "protocols/raft"), or "" for the module's root package.
func (m *moduleInfo) rel(importPath string) string {
	return strings.TrimPrefix(strings.TrimPrefix(importPath, m.path), "/")
}

// isOwn reports whether importPath is a package of the module.
func (m *moduleInfo) isOwn(importPath string) bool {
	return importPath == m.path || strings.HasPrefix(importPath, m.path+"/")
}

// isStandard reports whether importPath is in the standard library.
func (m *moduleInfo) isStandard(importPath string) bool {
	if p, ok := m.packages[importPath]; ok {
		return p.Standard
	}
	// Not listed (a broken import): judge by the path, as the go tool does.
	first, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".")
}
