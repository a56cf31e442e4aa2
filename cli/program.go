package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
)

// Program is a simrun command line: the shipped `simrun` binary is one, and
// a user's own binary (cmd/mysim/main.go) is another, with its own protocols.
//
//	func main() {
//		cli.Program{Name: "mysim", Protocols: append(registry.Shipped(), myproto.Protocol())}.Main()
//	}
type Program struct {
	// Name is the command's name in help text and in the replay lines it
	// prints, so that a printed replay line runs on the binary that printed
	// it. Empty means the base name of os.Args[0].
	Name string
	// Protocols are the protocols a scenario may name. Nil means the shipped
	// ones (registry.Shipped()); a user's binary lists its own, with the
	// shipped ones appended if it wants them too.
	Protocols []runner.Protocol
	// Build identifies the code that runs the seeds, stored with each sweep
	// result: a sweep continues only results of its own build, since a
	// change to a protocol or to simrun may change what a seed does. Empty
	// means a hash of the running executable, which any change to the code
	// changes and a rebuild of the same code keeps.
	Build string
}

// Main runs the command line on os.Args and exits with its exit code.
func (p Program) Main() {
	os.Exit(p.Execute(os.Args[1:], os.Stdout, os.Stderr))
}

// Execute runs the command line with args and returns the process exit code
// (0 pass, 2 bad input, 3 safety, ...: see the root command's help). An
// invalid protocol list (an incomplete protocol, a name used twice) is an
// internal error of the program, reported on stderr.
func (p Program) Execute(args []string, stdout, stderr io.Writer) int {
	return p.execute(context.Background(), args, stdout, stderr)
}

// execute is Execute under a context, which a sweep treats like Ctrl-C when
// it is cancelled (tests stop sweeps this way).
func (p Program) execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, err := p.app()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.name(), err)
		return exitInternal
	}
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err = root.ExecuteContext(ctx)
	if err == nil {
		return exitPass
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(stderr, a.name+": "+ex.msg)
		}
		return ex.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong argument
	// count) is bad input.
	fmt.Fprintf(stderr, "%s: %s (see '%s help')\n", a.name, err.Error(), a.name)
	return exitBadInput
}

func (p Program) name() string {
	if p.Name != "" {
		return p.Name
	}
	if len(os.Args) > 0 {
		if base := filepath.Base(os.Args[0]); base != "" && base != "." && !strings.HasSuffix(base, ".test") {
			return base
		}
	}
	return "simrun"
}

func (p Program) app() (*app, error) {
	protos := p.Protocols
	if protos == nil {
		protos = registry.Shipped()
	}
	set, err := registry.New(protos...)
	if err != nil {
		return nil, err
	}
	build := func() string { return p.Build }
	if p.Build == "" {
		build = executableHash
	}
	name := p.name()
	return &app{name: name, command: typedAs(name), protocols: set, build: build}, nil
}

// typedAs is how to type the program again, for the commands it prints
// (replay lines): as it was invoked when that was a relative path to a
// binary of this name ("./mysim", not on the PATH); as "go run" of its
// main package when go run built it (the README's quick start), since no
// binary of that name is anywhere to be typed; else by its name.
func typedAs(name string) string {
	if len(os.Args) == 0 {
		return name
	}
	var mainPath string
	if info, ok := debug.ReadBuildInfo(); ok {
		mainPath = info.Path
	}
	return typedFrom(os.Args[0], name, mainPath)
}

// typedFrom is typedAs for the program invoked as arg, whose main package
// is mainPath ("" when unknown).
func typedFrom(arg, name, mainPath string) string {
	switch {
	case filepath.Base(arg) != name:
		return name
	case builtByGoRun(arg) && mainPath != "":
		return "go run " + mainPath
	case filepath.IsAbs(arg) || !strings.ContainsRune(arg, filepath.Separator):
		return name
	}
	return shellQuote(arg)
}

// builtByGoRun reports whether the program at path is the executable go run
// builds and runs: in an exe folder of a go-build work directory
// ($TMPDIR/go-build123/b001/exe/simrun) the first time, and from the second
// run on (Go 1.24 and later) the copy go run keeps in the build cache
// ($GOCACHE/22/225a…4848-d/simrun: a folder of two hex digits, then one
// named for the build's 64-digit hash).
func builtByGoRun(path string) bool {
	dir := filepath.Dir(path)
	if isCachedRunDir(filepath.Base(dir)) && isHex(filepath.Base(filepath.Dir(dir)), 2) {
		return true
	}
	if filepath.Base(dir) != "exe" {
		return false
	}
	for range 2 {
		dir = filepath.Dir(dir)
		if strings.HasPrefix(filepath.Base(dir), "go-build") {
			return true
		}
	}
	return false
}

// isCachedRunDir reports whether name is a build cache folder of go run's
// executables: a 64-digit hex hash and "-d".
func isCachedRunDir(name string) bool {
	hash, ok := strings.CutSuffix(name, "-d")
	return ok && isHex(hash, 64)
}

// isHex reports whether s is digits lower-case hex digits.
func isHex(s string, digits int) bool {
	if len(s) != digits {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// app is one command line's state: its name and its protocols. Every
// command is a method of it, so two Programs in one process never share
// anything.
type app struct {
	name      string
	command   string // how the commands it prints invoke it (typedAs)
	protocols *registry.Set
	build     func() string // Program.Build, computed when a sweep needs it
}
