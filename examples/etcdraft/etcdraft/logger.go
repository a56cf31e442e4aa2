package etcdraft

import "fmt"

// quietLogger is the raft.Logger of every server: etcd-raft logs each
// election and state change, which in a sweep of thousands of runs is noise
// (the trace already records what happened). Fatal and Panic still panic:
// etcd-raft calls them when its invariants break, and the kernel reports a
// panic as a protocol crash with the seed that replays it.
type quietLogger struct{}

func (quietLogger) Debug(...any)            {}
func (quietLogger) Debugf(string, ...any)   {}
func (quietLogger) Info(...any)             {}
func (quietLogger) Infof(string, ...any)    {}
func (quietLogger) Warning(...any)          {}
func (quietLogger) Warningf(string, ...any) {}
func (quietLogger) Error(...any)            {}
func (quietLogger) Errorf(string, ...any)   {}

func (quietLogger) Fatal(v ...any) { panic("etcdraft: raft: " + fmt.Sprint(v...)) }
func (quietLogger) Fatalf(format string, v ...any) {
	panic("etcdraft: raft: " + fmt.Sprintf(format, v...))
}
func (quietLogger) Panic(v ...any) { panic("etcdraft: raft: " + fmt.Sprint(v...)) }
func (quietLogger) Panicf(format string, v ...any) {
	panic("etcdraft: raft: " + fmt.Sprintf(format, v...))
}
