// Package registry is the one place that knows every concrete protocol: it
// maps a scenario's "protocol:" name to the runner entry that builds it. The
// CLI and Go test helpers use it; nothing below it imports a protocol by name.
package registry
