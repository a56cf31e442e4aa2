// Command etcdsim is simrun with one more protocol: etcd's Raft library
// (go.etcd.io/raft/v3), driven by the adapter in package etcdraft. It is
// what a user of simrun writes to test their own protocol: the whole simrun
// command line (run, sweep, shrink, merge, protocols) over the shipped
// protocols plus theirs, in a binary of their own, whose replay lines name
// it ("etcdsim run ...").
//
//	go run ./cmd/etcdsim sweep scenarios/etcdraft-crash-churn.yaml --seeds 200
package main
