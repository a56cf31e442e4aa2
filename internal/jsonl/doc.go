// Package jsonl reads the JSON Lines files that simrun appends to one line at
// a time, such as a sweep's results.jsonl: an interruption can cut the last
// line short, and a file named by mistake can hold anything, so reading is
// bounded per line and a cut last line is told apart from a bad one. Describe
// turns encoding/json's errors into the file's terms (a column, the field's
// JSON name, what was wanted) so that no Go type name reaches a user.
package jsonl
