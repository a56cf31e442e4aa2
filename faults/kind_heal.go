package faults

// The heal action: end network faults, or every fault condition.

// heal ends the faults of a scope; it counts when something was to heal.
func (in *Injector) heal(scope string) {
	in.heals++
	healed := in.anyCut()
	in.w.HealAll()
	n := len(in.servers)
	for a := range n {
		for b := range n {
			if in.w.IsClogged(in.servers[a], in.servers[b]) {
				in.w.Unclog(in.servers[a], in.servers[b])
				healed = true
			}
			if in.linkChanged[a*n+b] {
				in.resetLink(a, b)
				healed = true
			}
		}
	}
	if scope == HealEverything {
		// Both heal, whatever the first found: no short-circuit.
		clocks, disks := in.clockRates.heal(), in.diskFaults.heal()
		healed = healed || clocks || disks
	}
	if healed {
		in.counts.Heals++
	}
}

func (in *Injector) anyCut() bool {
	for _, a := range in.servers {
		for _, b := range in.servers {
			if in.w.IsCut(a, b) {
				return true
			}
		}
	}
	return false
}

var healKind = actionKind{
	name: "heal",
	has:  func(s *Step) bool { return s.Heal != "" },
	text: func(s *Step) string { return s.Heal },
	fire: func(in *Injector, _ int, s Step) { in.heal(s.Heal) },
	validate: func(s *Step, _ int) error {
		if s.Heal != HealEverything && s.Heal != HealNetwork {
			return fieldErr("heal", "unknown heal scope %q (want all or network)", s.Heal)
		}
		return nil
	},
}

// Heal scopes.
const (
	// HealNetwork removes every cut and every clog, and gives the links the
	// injector changed their default settings back.
	HealNetwork = "network"
	// HealEverything heals the network, sets changed clocks back to rate 1
	// and clears disk faults. Crashes and pauses are not heals: see restart
	// and resume.
	HealEverything = "all"
)
