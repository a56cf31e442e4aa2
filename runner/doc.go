// Package runner turns a scenario into a world, runs one seed through its
// phases, judges it with the checkers and classifies the result; it is the one
// place where protocols, workload, faults and checkers meet.
//
// A run has three phases: the safety phase (workload and faults for the
// scenario's duration, invariants checked at every observation), the drain
// (faults healed, crashed nodes restarted, clients stop issuing operations and
// their outstanding ones finish or time out), and the final checks over the
// client history (linearizability with Porcupine).
package runner
