package workload

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports enforces the layering: the workload is shared vocabulary that
// protocols and checkers import, so it builds on the kernel and service only.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err)
	const project = "github.com/simrun/simrun/"
	allowed := map[string]bool{project + "sim": true, project + "workload": true, project + "service": true}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, project) {
			require.True(t, allowed[pkg], "workload must not import %s", pkg)
		}
	}
}
