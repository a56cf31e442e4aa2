package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the simrun release; builds may override it with
// -ldflags "-X github.com/simrun/simrun/cli.version=v1.2.3".
var version = "0.1.0-dev"

func (a *app) newVersionCmd() *cobra.Command {
	return printCmd("version", "Print simrun's version", printVersion)
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "simrun %s (%s, %s/%s)%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, vcsSuffix())
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
