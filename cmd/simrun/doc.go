// Command simrun is the simulator's command line with the protocols that
// ship with simrun (Raft, Multi-Paxos, PBFT). Everything it does lives in
// package cli, so a user's own binary gets the same commands for its own
// protocols; see docs/PROTOCOLS.md.
package main
