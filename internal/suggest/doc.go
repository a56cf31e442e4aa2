// Package suggest finds the known name a mistyped one most likely meant, for
// the "did you mean" hints of error messages about scenario files, protocol
// options and flags. It imports nothing of the project, so every layer may
// use it.
package suggest
