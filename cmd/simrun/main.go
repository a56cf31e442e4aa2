// Command simrun runs deterministic simulations of distributed protocols.
// See doc.go and `simrun help`.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs the CLI with args and returns the process exit code.
func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitPass
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "simrun: "+ex.msg)
		}
		return ex.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong argument
	// count) is bad input.
	fmt.Fprintln(os.Stderr, "simrun: "+err.Error())
	return exitBadInput
}
