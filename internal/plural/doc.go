// Package plural writes a count with its noun ("1 key", "4 keys") for the
// lines simrun prints. It imports nothing of the project, so every layer
// may use it.
package plural
