// Package names is the one list of check names and workload data models that
// scenario files may write. It imports nothing of the project, so both the
// scenarios package (which validates files) and the checkers package (which
// implements the checks) read it; a test in checkers keeps the two in step.
//
// Adding a check is a line here and its implementation in checkers.
package names
