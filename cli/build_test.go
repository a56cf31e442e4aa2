package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
)

// TestABrokenBuildIsTheProtocolsCrash: a protocol whose Build panics, or
// returns no Factory, is a bug in the protocol's code: run, sweep and shrink
// say so in one line (with the panic's stack), exit 5 as for a handler's
// panic, not 2 as for a bad scenario, and a sweep runs no seed.
func TestABrokenBuildIsTheProtocolsCrash(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(runner.Cluster) (runner.Servers, error)
		want  string
	}{
		{"panics", func(runner.Cluster) (runner.Servers, error) {
			var servers []int
			_ = servers[3] // a set-up bug: an index out of range
			return runner.Servers{}, nil
		}, "mysim: protocol broken: Build panicked: runtime error: index out of range [3] with length 0"},
		{"no factory", func(runner.Cluster) (runner.Servers, error) { return runner.Servers{}, nil },
			"mysim: protocol broken: Build returned Servers without a Factory (Servers.Factory is nil)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			scenario := filepath.Join(dir, "short.yaml")
			require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(shortScenario, "protocol: raft", "protocol: broken", 1)), 0o644))
			program := Program{Name: "mysim", Protocols: append(registry.Shipped(), runner.Protocol{Name: "broken", Build: c.build})}
			for _, args := range [][]string{
				{"run", scenario, "--seed", "1", "--out", filepath.Join(dir, "run")},
				{"sweep", scenario, "--seeds", "3", "--out", filepath.Join(dir, "sweep")},
				{"shrink", scenario, "--seed", "1"},
			} {
				var out, errOut bytes.Buffer
				code := program.Execute(args, &out, &errOut)
				require.Equal(t, exitCrash, code, "%s: %s%s", args[0], out.String(), errOut.String())
				first, rest, _ := strings.Cut(errOut.String(), "\n")
				require.Equal(t, c.want, first, args[0])
				if c.name == "panics" {
					require.Contains(t, rest, "crash stack\n", "the panic's stack follows the line")
					require.Contains(t, rest, "TestABrokenBuildIsTheProtocolsCrash", "the stack reaches the protocol's Build")
				} else {
					require.Empty(t, rest)
				}
			}
			require.False(t, anyFileNamed(t, filepath.Join(dir, "sweep"), "results.jsonl"), "the sweep ran no seed")
		})
	}
}

// anyFileNamed reports whether a file of that name is anywhere below root.
func anyFileNamed(t *testing.T, root, name string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		found = found || d.Name() == name
		return nil
	})
	require.NoError(t, err)
	return found
}
