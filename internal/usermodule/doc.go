// Package usermodule holds the test that plays a simrun user: it builds a
// throwaway Go module outside the repository with a protocol of its own,
// registers it with cli.Program and simtest, and runs run, sweep, merge,
// shrink, replay lines and go test against it. It has no code of its own.
package usermodule
