// Package chunked holds a list that grows in chunks of fixed size instead of
// one array doubled and copied: what a long run accumulates (the client
// history, a checker's record per log index) never holds an old array and
// its copy at once, never keeps up to half its capacity unused, and an
// element's address stays valid as the list grows. Peak memory is the
// issue, not speed: an element is reached through one more index.
package chunked
