package runner

import (
	"maps"
	"slices"
)

// Coverage probes (sim.Probe). A protocol declares its probes in
// Protocol.Probes and fires them at its acceptance and rejection checks and
// rare paths; each Report counts the ones that fired. A declared probe that
// no seed of a sweep fired is a check the sweep never exercised, so a bug in
// it would go unseen: the sweep summary lists these cold probes.

// ColdProbes returns the names of proto's declared probes that fired in none
// of reports, in the order proto declares them.
func ColdProbes(proto Protocol, reports []*Report) []string {
	fired := FiredProbes(reports)
	var cold []string
	for _, p := range proto.Probes {
		if fired[p.Name] == 0 {
			cold = append(cold, p.Name)
		}
	}
	return cold
}

// FiredProbes sums the probe counts of reports.
func FiredProbes(reports []*Report) map[string]uint64 {
	fired := map[string]uint64{}
	for _, rep := range reports {
		for name, n := range rep.Probes {
			fired[name] += n
		}
	}
	return fired
}

// UndeclaredProbes returns, sorted, the probes that fired in reports but
// that proto does not declare: a misspelt probe name, or one the protocol
// forgot to list (and so one no summary would report cold).
func UndeclaredProbes(proto Protocol, reports []*Report) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(FiredProbes(reports))) {
		if !slices.ContainsFunc(proto.Probes, func(p Named) bool { return p.Name == name }) {
			out = append(out, name)
		}
	}
	return out
}
