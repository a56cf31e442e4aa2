package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gzipMagic opens every profile go tool pprof reads.
var gzipMagic = []byte{0x1f, 0x8b}

func TestRunAndSweepWriteProfilesAndTheSameRun(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	code, plain, errOut := simrun(t, "run", "../scenarios/raft-calm.yaml", "--seed", "2")
	require.Equal(t, exitPass, code, errOut)
	code, profiled, errOut := simrun(t, "run", "../scenarios/raft-calm.yaml", "--seed", "2",
		"--cpuprofile", cpu, "--memprofile", mem)
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, traceHash(t, plain), traceHash(t, profiled), "profiling changes no run")
	requireProfile(t, cpu)
	requireProfile(t, mem)

	sweepCPU := filepath.Join(dir, "sweep-cpu.pprof")
	code, _, errOut = simrun(t, "sweep", "../scenarios/raft-calm.yaml", "--seeds", "2",
		"--out", filepath.Join(dir, "out"), "--cpuprofile", sweepCPU)
	require.Equal(t, exitPass, code, errOut)
	requireProfile(t, sweepCPU)
}

func requireProfile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, gzipMagic), "%s is not a gzipped profile", path)
}

func TestProfileToAnUnwritablePathIsBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "no-such-dir", "cpu.pprof")
	for _, flag := range []string{"--cpuprofile", "--memprofile"} {
		code, out, errOut := simrun(t, "run", "../scenarios/raft-calm.yaml", flag, bad)
		require.Equal(t, exitBadInput, code, out)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %q", errOut)
		require.Contains(t, errOut, flag)
		require.Empty(t, out, "nothing runs")
	}
}

// TestProfileThatCannotBeWrittenOutIsBadInput: a profile file that opens but
// takes no bytes (a full disk) fails the command, CPU profile included,
// whose writes runtime/pprof does not report.
func TestProfileThatCannotBeWrittenOutIsBadInput(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	for _, flag := range []string{"--cpuprofile", "--memprofile"} {
		code, out, errOut := simrun(t, "run", "../scenarios/raft-calm.yaml", flag, "/dev/full")
		require.Equal(t, exitBadInput, code, out)
		require.Contains(t, errOut, flag+": ")
		require.Contains(t, errOut, "no space left on device")
	}
}
