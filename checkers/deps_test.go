package checkers

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports enforces the layering: checkers judge observations and
// histories, never a protocol's internals or the fault plan.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err)
	const project = "github.com/simrun/simrun/"
	allowed := map[string]bool{project + "checkers": true, project + "sim": true, project + "workload": true, project + "service": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, project) {
			require.True(t, allowed[pkg], "checkers must not import %s", pkg)
		}
	}
}
