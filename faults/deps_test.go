package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports enforces the layering: faults uses sim's control API and
// nothing else of the project, and no source of nondeterminism.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	require.NoError(t, err)
	const project = "github.com/simrun/simrun/"
	forbidden := map[string]bool{"math/rand": true, "math/rand/v2": true, "crypto/rand": true, "sync": true,
		"sync/atomic": true, "os": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, project) {
			require.Equal(t, project+"sim", pkg, "faults must not import %s", pkg)
		}
		require.False(t, forbidden[pkg], "faults must not import %s (determinism)", pkg)
	}
}

// TestNoWallClockOrGoroutines scans the package's sources for the
// determinism contract's other don'ts.
func TestNoWallClockOrGoroutines(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, bad := range []string{"time.Now", "time.Sleep", "time.After", "time.Tick", "go func", "chan ", "select {"} {
			require.NotContains(t, string(src), bad, "%s: %s breaks determinism", f, bad)
		}
	}
}
