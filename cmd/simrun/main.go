// Command simrun runs deterministic simulations of distributed protocols.
// See doc.go and `simrun help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the CLI with args and returns the process exit code.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitPass
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(stderr, "simrun: "+ex.msg)
		}
		return ex.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong argument
	// count) is bad input.
	fmt.Fprintln(stderr, "simrun: "+err.Error()+" (see 'simrun help')")
	return exitBadInput
}
