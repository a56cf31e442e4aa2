// Package jsonl reads the JSON Lines files that simrun appends to one line at
// a time, such as a sweep's results.jsonl: an interruption can cut the last
// line short, and a file named by mistake can hold anything, so reading is
// bounded per line and a cut last line is told apart from a bad one.
package jsonl
