package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/simrun/simrun/internal/suggest"
)

const rootLong = `simrun runs distributed protocols (see "simrun protocols") inside a deterministic simulator.

One goroutine, one virtual clock and one seed drive a cluster through message
delay, loss, duplication, partitions and crashes while simulated clients use a
replicated key-value store. Checkers then judge the run: agreement, one leader
per term, and linearizability of the client history (Porcupine).

The same scenario file and seed always give the same run, event for event: the
trace hash printed at the end proves it. A failing run prints the one command
that replays it.

Exit codes:
  0  pass
  1  internal error (simrun itself failed), a sweep or a shrink was
     interrupted, or merged shards left seeds of their range without a result
     (a sweep's, only when no seed failed: a failure's code wins)
  2  bad input: a scenario file, a flag, a results file; a path a flag names
     (--out, --trace, --history) that cannot be created or written; an --out
     another sweep is using
  3  safety violation
  4  liveness violation
  5  protocol crash (a panic in protocol code)
  6  inconclusive (a checker timed out or a bound was hit)
  7  nondeterministic (the same seed gave two different runs)
  8  vacuous (the checks had nothing to judge: no leader, commit or apply was
     announced, commits came without digests, or no client operation
     succeeded)
  130, 143  a second interrupt (Ctrl-C, SIGTERM) while a sweep or shrink
     stops: it quits at once, with no summary (results written are kept)
A sweep or merge exits with the gravest class among its seeds (3, 5, 4, 7,
6, 8 in that order).
A failing run whose artifacts cannot be written still exits with its class's
code (3 to 8); a warning on stderr says what was not written.

Start with:
  simrun run scenarios/raft-calm.yaml --seed 1`

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           a.name,
		Short:         "Deterministic simulation testing for distributed protocols",
		Long:          strings.ReplaceAll(rootLong, "simrun ", a.name+" "),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if a.name != "simrun" {
		root.Long += "\n" + shippedScenariosNote
	}
	root.Args = unknownCommand
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.SetHelpCommand(helpCmd(root))
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(suggestFlag) // the subcommands inherit it
	root.AddCommand(a.newRunCmd(), a.newSweepCmd(), a.newMergeCmd(), a.newShrinkCmd(), a.newReportCmd(), a.newVersionCmd(), a.newProtocolsCmd())
	for _, c := range root.Commands() { // help and examples name this binary
		c.Long = strings.ReplaceAll(c.Long, "simrun ", a.name+" ")
		c.Example = strings.ReplaceAll(c.Example, "simrun ", a.name+" ")
		if a.name != "simrun" && strings.Contains(c.Example, "scenarios/") {
			c.Example += "\n" + shippedScenariosNote
		}
	}
	return root
}

// shippedScenariosNote tells the user of a program of their own (cli.Program)
// where the scenario files its examples name are: in a simrun checkout, not
// in their module.
const shippedScenariosNote = "  # scenarios/...: the shipped protocols' scenario files, in a simrun checkout"

// suggestFlag adds to an unknown flag's error the flag of cmd it most
// likely meant: "unknown flag: --seeds (did you mean --seed?)".
func suggestFlag(cmd *cobra.Command, err error) error {
	var invalid *pflag.InvalidValueError
	if errors.As(err, &invalid) {
		return invalidValue(invalid)
	}
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var known []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	if best, ok := suggest.Closest(name, known); ok {
		return fmt.Errorf("%w (did you mean --%s?)", err, best)
	}
	return err
}

// printCmd is a command that takes no arguments and only prints what write
// writes, as version and protocols do.
func printCmd(use, short string, write func(w io.Writer)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write(cmd.OutOrStdout())
			return nil
		},
	}
}

// wantOfType says what a flag of each value type takes, for an invalid
// value's error: the parser's own words name Go's functions.
var wantOfType = map[string]string{
	"uint64":   "a whole number from 0 to 18446744073709551615",
	"int":      "a whole number",
	"float64":  "a number",
	"duration": "a duration such as 500ms, 2s or 1m30s",
	"bool":     "true or false",
}

// invalidValue says which flag got which value and what it takes.
func invalidValue(e *pflag.InvalidValueError) error {
	f := e.GetFlag()
	want, ok := wantOfType[f.Value.Type()]
	if !ok {
		return e
	}
	return fmt.Errorf("--%s: %q is not %s", f.Name, e.GetValue(), want)
}
