package usermodule

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The example protocol is copied into the user's module under its own
// import path, so nothing of it is reached through simrun's module.
const (
	examplePath = "github.com/simrun/simrun/examples/primarybackup"
	userModule  = "example.com/mysim"
	userPath    = userModule + "/primarybackup"
)

const mainGo = `package main

import (
	"github.com/simrun/simrun/cli"
	"github.com/simrun/simrun/registry"

	"example.com/mysim/primarybackup"
)

func main() {
	cli.Program{Name: "mysim", Protocols: append(registry.Shipped(), primarybackup.Protocol())}.Main()
}
`

// userTest is the user's test, in a package of its own below the module
// root, as tests of a protocol package usually are: its replay lines must
// still work from the root.
const userTest = `package tests

import (
	"testing"

	"github.com/simrun/simrun/simtest"

	"example.com/mysim/primarybackup"
)

func TestCrashChurn(t *testing.T) {
	reps := simtest.Sweep(t, "../scenarios/crash-churn.yaml", simtest.Seeds(4),
		simtest.Protocols(primarybackup.Protocol()), simtest.ReplayWith("go run ./cmd/mysim"))
	if len(reps) != 4 {
		t.Fatalf("want 4 reports, got %d", len(reps))
	}
}

func TestSilent(t *testing.T) {
	simtest.Sweep(t, "../scenarios/silent.yaml", simtest.Seeds(1),
		simtest.Protocols(primarybackup.Protocol()), simtest.ReplayWith("go run ./cmd/mysim"))
}
`

// repoRoot is the simrun checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	return root
}

// writeUserModule lays out a module outside the repository: the example
// protocol under the user's import path, a main that registers it, a test
// that uses simtest, and its scenarios.
func writeUserModule(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(root, "examples", "primarybackup")
	copyDir(t, src, filepath.Join(dir, "primarybackup"), ".go", func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte(examplePath), []byte(userPath))
	})
	copyDir(t, filepath.Join(src, "scenarios"), filepath.Join(dir, "scenarios"), ".yaml", nil)
	write(t, filepath.Join(dir, "cmd", "mysim", "main.go"), mainGo)
	write(t, filepath.Join(dir, "tests", "mysim_test.go"), userTest)
	write(t, filepath.Join(dir, "go.mod"), "module "+userModule+"\n\ngo 1.26\n\nrequire github.com/simrun/simrun v0.0.0\n\n"+
		"replace github.com/simrun/simrun => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	write(t, filepath.Join(dir, "go.sum"), string(sum))
	goCmd(t, dir, "mod", "tidy")
	return dir
}

// copyDir copies the files of src ending in ext (not tests) into dst.
func copyDir(t *testing.T, src, dst, ext string, edit func([]byte) []byte) {
	t.Helper()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ext) || strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		if edit != nil {
			b = edit(b)
		}
		write(t, filepath.Join(dst, name), string(b))
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// goCmd runs the go command in dir, outside any workspace, and returns its
// combined output; it fails the test if go fails.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := runIn(dir, "go", args...)
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return out
}

func runIn(dir, name string, args ...string) (string, error) {
	return runInWith(dir, nil, name, args...)
}

// runInWith is runIn with more environment variables.
func runInWith(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mysim runs the user's binary and returns its exit code and output.
func mysim(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	out, err := runIn(dir, filepath.Join(dir, "mysim"), args...)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out
	}
	require.NoError(t, err, out)
	return 0, out
}

var (
	hashLine   = regexp.MustCompile(`(?m)^trace hash  ([0-9a-f]{16})$`)
	replayLine = regexp.MustCompile(`(?m)^replay      (.+)$`)
	orLine     = regexp.MustCompile(`(?m)^            (mysim run .+)$`)
	shrunkLine = regexp.MustCompile(`(?m)^written     (.+)$`)
)

func hashOf(t *testing.T, out string) string {
	t.Helper()
	m := hashLine.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

// TestAUserModuleGetsEverything builds a user's own binary and test against
// simrun, outside the repository, and uses every command on its protocol.
func TestAUserModuleGetsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module: skipped with -short")
	}
	dir := writeUserModule(t, repoRoot(t))
	goCmd(t, dir, "build", "-o", "mysim", "./cmd/mysim")

	code, out := mysim(t, dir, "protocols")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "primary-backup: ")
	require.Contains(t, out, "raft: ")

	t.Run("run and replay", func(t *testing.T) {
		code, out := mysim(t, dir, "run", "scenarios/crash-churn.yaml", "--seed", "3")
		require.Equal(t, 0, code, out)
		code, again := mysim(t, dir, "run", "scenarios/crash-churn.yaml", "--seed", "3")
		require.Equal(t, 0, code)
		require.Equal(t, hashOf(t, out), hashOf(t, again))

		code, out = mysim(t, dir, "run", "scenarios/silent.yaml", "--seed", "1", "--out", "out")
		require.Equal(t, 8, code, "a protocol that announces nothing is vacuous, exit 8:\n%s", out)
		replay := replayLine.FindStringSubmatch(out)
		require.NotNil(t, replay, out)
		require.Equal(t, "mysim run scenarios/silent.yaml --seed 1", replay[1], "the replay line names the binary that printed it")
		for _, line := range []string{replay[1], orLine.FindStringSubmatch(out)[1]} {
			args := strings.Fields(line)[1:]
			code, again := mysim(t, dir, append(args, "--out", "out2")...)
			require.Equal(t, 8, code, again)
			require.Equal(t, hashOf(t, out), hashOf(t, again), "%q replays the run", line)
		}
	})

	t.Run("sweep, shards and merge", func(t *testing.T) {
		code, out := mysim(t, dir, "sweep", "scenarios/crash-churn.yaml", "--seeds", "6", "--out", "sweep", "--check-determinism=2")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "pass             6")
		for _, shard := range []string{"0/2", "1/2"} {
			code, out := mysim(t, dir, "sweep", "scenarios/crash-churn.yaml", "--seeds", "6", "--shard", shard, "--out", "shard"+shard[:1])
			require.Equal(t, 0, code, out)
		}
		code, out = mysim(t, dir, "merge", "shard0", "shard1")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "pass             6")
	})

	t.Run("shrink", func(t *testing.T) {
		code, out := mysim(t, dir, "run", "scenarios/silent.yaml", "--seed", "2", "--out", "fail")
		require.Equal(t, 8, code, out)
		code, out = mysim(t, dir, "shrink", filepath.Join("fail", "primary-backup-silent-seed2"))
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "note        a vacuous run is no failure: the smaller scenario is only one that is vacuous too")
		written := shrunkLine.FindStringSubmatch(out)
		require.NotNil(t, written, out)
		require.Contains(t, out, "replay      mysim run ")
		code, out = mysim(t, dir, "run", written[1], "--out", "fail2")
		require.Equal(t, 8, code, "the shrunk scenario fails the same way:\n%s", out)
	})

	t.Run("simtest", func(t *testing.T) {
		out, err := runIn(dir, "go", "test", "-count=1", "-run", "^TestCrashChurn$", "./tests")
		require.NoError(t, err, out)
		out, err = runIn(dir, "go", "test", "-count=1", "-run", "^TestSilent$", "./tests")
		require.Error(t, err, "a vacuous seed fails the user's test:\n%s", out)
		require.Contains(t, out, "seed 1: vacuous: ")
		replay := "go run ./cmd/mysim run scenarios/silent.yaml --seed 1"
		require.Contains(t, out, "replay: "+replay)
		require.Contains(t, out, "or:     SIMRUN_SEED=1 go test -run '^TestSilent$' ./tests\n")
		require.Contains(t, out, "(from the module root)")

		// Both lines work as printed, from the module root.
		again, err := runIn(dir, "go", strings.Fields(replay)[1:]...)
		require.Error(t, err)
		require.Contains(t, again, "verdict     VACUOUS", again)
		again, err = runInWith(dir, []string{"SIMRUN_SEED=1"}, "go", "test", "-count=1", "-run", "^TestSilent$", "./tests")
		require.Error(t, err)
		require.Contains(t, again, "seed 1: vacuous: ", again)
	})
}

// TestABrokenRegistrationIsAClearError: a user binary with two protocols of
// one name, or one without a Build, stops at once with a one-line error.
func TestABrokenRegistrationIsAClearError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module: skipped with -short")
	}
	dir := writeUserModule(t, repoRoot(t))
	write(t, filepath.Join(dir, "cmd", "mysim", "main.go"), strings.Replace(mainGo,
		"append(registry.Shipped(), primarybackup.Protocol())",
		"append(registry.Shipped(), primarybackup.Protocol(), primarybackup.Protocol())", 1))
	goCmd(t, dir, "build", "-o", "mysim", "./cmd/mysim")
	code, out := mysim(t, dir, "protocols")
	require.Equal(t, 1, code, out)
	require.Equal(t, `mysim: protocol "primary-backup" is registered twice: names must be unique`+"\n", out)
}
