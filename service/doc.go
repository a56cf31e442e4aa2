// Package service is the vocabulary shared by protocols and the workload: the
// client request and reply messages, the replicated command with its client
// session, and the StateMachine interface a protocol applies commands to.
//
// Protocols replicate opaque commands; they know nothing of keys or values.
// Client sessions (client ID plus a sequence number) live here, in the state
// machine wrapper, so every protocol gets exactly-once application of retried
// commands without implementing it again.
package service
