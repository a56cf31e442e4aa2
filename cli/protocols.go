package cli

import (
	"fmt"
	"io"

	"github.com/simrun/simrun/runner"
	"github.com/spf13/cobra"
)

func (a *app) newProtocolsCmd() *cobra.Command {
	return printCmd("protocols", "List the protocols a scenario can name, with their planted bugs and Byzantine behaviours", a.printProtocols)
}

// printProtocols describes each protocol, with its planted bugs and
// Byzantine behaviours.
func (a *app) printProtocols(w io.Writer) {
	for i, p := range a.protocols.All() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", p.Name, p.Description)
		list(w, "planted bugs (protocol_options.bugs)", p.Bugs)
		list(w, "Byzantine behaviours (byzantine[].behaviour)", p.Behaviours)
	}
}

func list(w io.Writer, title string, items []runner.Named) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	width := 0
	for _, it := range items {
		width = max(width, len(it.Name))
	}
	for _, it := range items {
		fmt.Fprintf(w, "    %-*s %s\n", width, it.Name, it.Description)
	}
}
