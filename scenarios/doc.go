// Package scenarios reads, validates and writes scenario files: one YAML file
// describes a cluster (protocol, nodes, protocol options), its network, its
// clients, a fault timeline (faults.Step) and the checks that judge a run.
// README.md in this directory documents every key; the shipped *.yaml files
// are ready to run.
//
// Parsing is strict and precise: unknown keys, duplicate keys, wrong types and
// impossible values are one-line errors naming the file, line, column and the
// field path, such as
//
//	raft.yaml:12:17: faults[2].crash: node 7 out of range (cluster has 5 nodes)
//
// go-yaml parses the text into an AST; a small decoder in this package walks it
// into the Scenario types, so that every error, including one raised by a
// custom unmarshaler, knows where it happened. Omitted optional keys get their
// documented defaults, so a parsed Scenario is complete, and Marshal writes it
// back out in a form Parse reads to an equal scenario: that is how a failing
// run is exported as an editable file pinned to its seed.
//
// The protocol's own options stay undecoded until the runner knows which
// protocol runs: Scenario.DecodeProtocolOptions decodes them, just as
// strictly, into the protocol's Config struct. This package knows no
// protocol, workload or checker package: the runner maps these plain types
// onto theirs.
package scenarios
