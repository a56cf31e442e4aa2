package scenarios_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImports enforces the layering: scenarios knows the kernel's types and
// the fault timeline, never a protocol, the workload or the runner.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err)
	const project = "github.com/simrun/simrun/"
	allowed := map[string]bool{project + "scenarios": true, project + "sim": true, project + "faults": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, project) {
			require.True(t, allowed[pkg], "scenarios must not import %s", pkg)
		}
	}
}

// TestKnownChecksMatchCheckers keeps the check names a file may use in sync
// with the checkers that exist.
func TestKnownChecksMatchCheckers(t *testing.T) {
	assert.ElementsMatch(t, checkers.KnownChecks(),
		scenarios.KnownChecks)
}
