package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
)

// TestARerunsArtifactsAreOnlyItsOwn: artifacts written over an earlier
// run's (the same seed again after a change) leave none of its files the
// new run did not write, so the page links nothing of the earlier run;
// files of other names stay. The page and report.json name the program
// that replays the run, and a page drawn again from the files keeps it.
func TestARerunsArtifactsAreOnlyItsOwn(t *testing.T) {
	const file, seed = "raft-bug-forget-vote.yaml", 8
	sc, proto, rep := failedRun(t, file, seed)
	for _, a := range rep.Artifacts {
		require.NotEqual(t, runner.LinearizabilityFile, a.Name, "the run offers no linearizability view of its own")
	}

	dir := t.TempDir()
	earlier := []string{runner.LinearizabilityFile, "read-your-writes-violations.txt", "serializable-anomaly.txt", runner.HistoryFile}
	for _, name := range append(earlier, "notes.txt", "my-violations.txt") {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("an earlier run's\n"), 0o644))
	}
	_, err := runner.WriteArtifactsWith(dir, sc, proto, rep, runner.Options{Seed: seed}, runner.ArtifactOptions{Program: "mysim"})
	require.NoError(t, err)
	for _, name := range earlier[:3] {
		require.NoFileExists(t, filepath.Join(dir, name))
	}
	history, err := os.ReadFile(filepath.Join(dir, runner.HistoryFile))
	require.NoError(t, err)
	require.NotContains(t, string(history), "an earlier run's", "written anew")
	require.FileExists(t, filepath.Join(dir, "notes.txt"), "a file of another name stays")
	require.FileExists(t, filepath.Join(dir, "my-violations.txt"), "even one named like a check's")

	page, err := os.ReadFile(filepath.Join(dir, report.File))
	require.NoError(t, err)
	require.NotContains(t, string(page), `href="linearizability.html"`)
	require.Contains(t, string(page), "Replay: <code>mysim run scenario.yaml</code>")
	var meta struct{ Program string }
	data, err := os.ReadFile(filepath.Join(dir, runner.ReportFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &meta))
	require.Equal(t, "mysim", meta.Program)

	_, err = report.WriteRun(dir)
	require.NoError(t, err)
	page, err = os.ReadFile(filepath.Join(dir, report.File))
	require.NoError(t, err)
	require.Contains(t, string(page), "Replay: <code>mysim run scenario.yaml</code>", "drawn again, the page keeps the program")
}
