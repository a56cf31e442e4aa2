// Command pbsim is a user's own simrun binary: the whole simrun command line
// (run, sweep, shrink, merge, protocols) for the primary-backup example
// protocol besides the shipped ones. Its replay lines name pbsim.
package main
