// Package digestcheck finds messages whose binary forms (sim.Digester) fail
// to tell apart what their canonical lines tell apart. It depends on sim
// alone, so that the shipped protocols' in-package tests can use it without
// an import cycle, and simtest, which users import, offers it without
// pulling in the protocol test kit's dependencies.
package digestcheck
