// Package flaky breaks the determinism contract on purpose, for the tests
// of what checks it: Protocol wraps a protocol into one whose servers depend
// on the state of the process, so that a seed run twice in one process runs
// differently the second time. Nothing but a test may use it.
package flaky
