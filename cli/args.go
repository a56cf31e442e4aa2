package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simrun/simrun/internal/suggest"
)

// oneArg is cobra.ExactArgs(1) with an error that says what the argument is
// and, for a stray number after a flag that takes no value on this command
// (run's --check-determinism, a switch there), where it came from.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 1:
			return nil
		case len(args) == 0:
			return fmt.Errorf("%s: name %s", cmd.Name(), what)
		}
		msg := fmt.Sprintf("%s takes one argument, %s; got %d: %s", cmd.Name(), what, len(args), strings.Join(args, " "))
		if f := cmd.Flags().Lookup("check-determinism"); f != nil && f.Changed && f.Value.Type() == "bool" && anyCount(args) {
			msg += fmt.Sprintf(" (--check-determinism on %s takes no count: it runs the seed twice)", cmd.Name())
		}
		return fmt.Errorf("%s", msg)
	}
}

// anyCount reports whether one of args is a whole number, as a flag's
// stray value is, before the file or after it.
func anyCount(args []string) bool { return slices.ContainsFunc(args, isCount) }

// unknownCommand is the root's argument check: cobra's own error for a
// word that names no command spans four lines.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("unknown command %q%s", args[0], suggest.Hint(args[0], commandNames(cmd)))
}

// commandNames lists root's commands, help included (SetHelpCommand adds it).
func commandNames(root *cobra.Command) []string {
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	return names
}

// helpCmd replaces cobra's help command, which prints the whole usage and
// exits 0 for a topic it does not know.
func helpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			c, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || c == nil {
				return fmt.Errorf("no help topic %q%s", strings.Join(args, " "), suggest.Hint(strings.Join(args, " "), commandNames(root)))
			}
			return c.Help()
		},
	}
}
