// Package digestcheck finds messages whose binary forms (sim.Digester) fail
// to tell apart what their canonical lines tell apart. It depends on sim
// alone, so that both the shipped protocols' test kit and simtest, which
// users import, can offer the check without pulling in each other's
// dependencies.
package digestcheck
