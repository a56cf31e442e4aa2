package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the simrun release; builds may override it with
// -ldflags "-X github.com/simrun/simrun/cli.version=v1.2.3".
var version = "0.1.0-dev"

func (a *app) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print simrun's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "simrun %s (%s, %s/%s)%s\n", version, runtime.Version(),
				runtime.GOOS, runtime.GOARCH, vcsSuffix())
			return nil
		},
	}
}

// vcsSuffix returns " commit abc1234" when the binary was built from a checkout.
func vcsSuffix() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 7 {
			return " commit " + s.Value[:7]
		}
	}
	return ""
}
