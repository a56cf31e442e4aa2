package main

import (
	"fmt"

	"github.com/simrun/simrun/registry"
	"github.com/spf13/cobra"
)

func newProtocolsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "protocols",
		Short: "List the protocols a scenario can name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range registry.All() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s\n", p.Name, p.Description)
			}
			return nil
		},
	}
}
