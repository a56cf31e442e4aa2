package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/simrun/simrun/runner"
	"github.com/spf13/cobra"
)

const mergeLong = `Combine the results.jsonl files of several sweeps (the shards of one sweep
run on many machines, say) into one summary per scenario, as if one sweep had
run every seed.

Each argument is a results.jsonl file or a directory searched for them. A seed
found twice with different trace hashes means two machines ran the same seed
differently: it is reported as nondeterministic.`

func (a *app) newMergeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge RESULTS...",
		Short: "Summarize the results of several sweeps or shards together",
		Long:  mergeLong,
		Example: `  simrun merge shard-0 shard-1 shard-2 shard-3
  simrun merge results/*/raft-lossy/results.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.merge(cmd.OutOrStdout(), args)
		},
	}
}

func (a *app) merge(stdout io.Writer, args []string) error {
	files, err := resultFiles(args)
	if err != nil {
		return err
	}
	tallies := map[string]*tally{}
	for _, f := range files {
		if err := readInto(f, tallies); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(tallies))
	for name := range tallies {
		names = append(names, name)
	}
	slices.Sort(names)
	worst := exitPass
	for _, name := range names {
		t := tallies[name]
		t.print(stdout, fmt.Sprintf("%d files", len(files)), a.name, "")
		if code := t.exitCode(); worst == exitPass {
			worst = code
		}
	}
	if worst != exitPass {
		return &exitError{code: worst}
	}
	return nil
}

// resultFiles expands the arguments into results.jsonl files, sorted.
func resultFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, badInputErr(err)
		}
		if !info.IsDir() {
			files = append(files, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == "results.jsonl" {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, internalErr(err)
		}
	}
	if len(files) == 0 {
		return nil, badInput("no results.jsonl under %v", args)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// readInto adds every result of one file to the tally of its scenario. A
// malformed line is bad input naming the file and line; a last line cut short
// (an interrupted sweep) is skipped.
func readInto(path string, tallies map[string]*tally) error {
	f, err := os.Open(path)
	if err != nil {
		return badInputErr(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for line := 1; ; line++ {
		text, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // a final line without '\n' was cut short: skip it
		}
		if err != nil {
			return internalErr(err)
		}
		var rep runner.Report
		if err := json.Unmarshal(text, &rep); err != nil {
			return badInput("%s:%d: not a sweep result: %v", path, line, err)
		}
		t, ok := tallies[rep.Scenario]
		if !ok {
			t = newTally(nil)
			tallies[rep.Scenario] = t
		}
		t.add(&rep)
	}
}
