package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/spf13/cobra"
)

// version is the simrun release; builds may override it with
// -ldflags "-X github.com/simrun/simrun/cli.version=v1.2.3".
var version = "0.1.0-dev"

func (a *app) newVersionCmd() *cobra.Command {
	return printCmd("version", "Print simrun's version", func(w io.Writer) { printVersion(w, a.name) })
}

// printVersion prints simrun's version, after the program's name when a
// program of its own is built on simrun's commands (etcdsim, say).
func printVersion(w io.Writer, program string) {
	if program != "" && program != "simrun" {
		fmt.Fprintf(w, "%s, built on ", program)
	}
	fmt.Fprintf(w, "simrun %s (%s, %s)%s\n", version, runtime.Version(), platform(), vcsSuffix())
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

// platform is where this binary runs: GOOS/GOARCH, and the architecture
// level it was built for (GOAMD64=v3, say) when not the baseline, since a
// level may fuse floating-point operations the baseline rounds apart.
var platform = sync.OnceValue(func() string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return p
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "GOAMD64" && s.Value != "v1", s.Key == "GOARM64" && s.Value != "v8.0":
			return p + " " + s.Value
		}
	}
	return p
})

// executableHash is the default Program.Build: the first 16 hex digits of the
// SHA-256 of the running executable (hashing a 30 MB binary takes tens of
// milliseconds, once per process). Go builds are reproducible, so the same
// code built again with the same toolchain gets the same hash. Where the
// executable cannot be read, the Go version and the VCS stamp stand in.
var executableHash = sync.OnceValue(func() string {
	if h, err := hashExecutable(); err == nil {
		return h
	}
	return runtime.Version() + vcsSuffix()
})

func hashExecutable() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
