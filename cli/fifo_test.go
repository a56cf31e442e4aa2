//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNamedPipeIsNoResultsFile: opening a named pipe blocks until something
// writes to it, so a results.jsonl that is one hung merge, report and sweep
// (which then survived its first SIGTERM). Each refuses it at once as bad
// input instead, as it refuses a directory or a device.
func TestNamedPipeIsNoResultsFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "raft-calm"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "raft-calm", "results.jsonl"), 0o644))
	scenario := filepath.Join("..", "scenarios", "raft-calm.yaml")
	for _, args := range [][]string{
		{"merge", dir},
		{"report", dir},
		{"sweep", scenario, "--seeds", "1", "--parallel", "1", "--out", dir},
	} {
		code, _, errOut := simrun(t, args...)
		require.Equal(t, exitBadInput, code, "%v: %s", args, errOut)
		require.Contains(t, errOut, "results.jsonl: not a results file: not a regular file", args)
	}
}
