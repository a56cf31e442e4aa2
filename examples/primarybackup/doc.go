// Package primarybackup is the smallest complete protocol written for
// simrun from outside its core: a fixed primary (server 0) orders client
// commands, replicates them to the backups and commits an entry once a
// majority has it on disk. It is the worked example of docs/PROTOCOLS.md:
// the Node contract, the disk with sync before send, the observations the
// checkers rely on, client sessions, and the Protocol value a user
// registers with cli.Program or simtest.Protocols.
//
// It tolerates crashes of any server that comes back with its disk (the
// primary included: it recovers its log and re-collects acknowledgements),
// but not the permanent loss of the primary: there is no election. Its
// option `silent: true` leaves every observation out, to show what simrun
// reports for a protocol that announces nothing (a vacuous run).
package primarybackup
