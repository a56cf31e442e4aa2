package faults

import "github.com/simrun/simrun/sim"

// The clog fault: hold the messages of a server's links, or of one link,
// and deliver them in order when it unclogs.

func (in *Injector) clog(i int, s Step) {
	links, ok := in.faultLinks(i, s.Clog.From, s.Clog.To, func() []link {
		return in.nodeLinks(in.resolve(i, s.Clog.Node, sim.None))
	})
	if !ok {
		return
	}
	for _, l := range links {
		in.w.Clog(l.from, l.to)
	}
	in.counts.Clogs++
	in.claimLinks(i, s, in.clogClaims, links, "unclog", func(l link) {
		if in.w.IsClogged(l.from, l.to) {
			in.w.Unclog(l.from, l.to)
		}
	})
}

var clogKind = valueKind(func(s *Step) **Clog { return &s.Clog }, actionKind{
	name: "clog", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Clog.validate(servers) },
	fire:     (*Injector).clog,
	targets:  func(s *Step) []*Target { return []*Target{&s.Clog.Node, &s.Clog.From, &s.Clog.To} },
})

func drawClog(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Clog: &Clog{Node: Random()}, For: hold}
}

// Clog holds messages instead of losing them: a stalled link or a congested
// node. Messages wait, in order, and are delivered when the link unclogs
// (For, or a heal). Either Node (every link between that server and the other
// servers, both ways) or From and To (one directed link). In YAML: a target
// (clog: 2, clog: leader) or a mapping ({from: 0, to: 1}).
type Clog struct {
	Node Target `yaml:"node,omitempty"`
	From Target `yaml:"from,omitempty"`
	To   Target `yaml:"to,omitempty"`
}

type clogFields Clog

// UnmarshalYAML reads a target or the mapping form.
func (c *Clog) UnmarshalYAML(unmarshal func(any) error) error {
	return UnmarshalMappingOr(unmarshal, (*clogFields)(c), func(t Target) error {
		*c = Clog{Node: t}
		return nil
	})
}

// MarshalYAML writes a node clog as its target, a link clog as a mapping.
func (c Clog) MarshalYAML() (any, error) {
	if c.From.IsZero() && c.To.IsZero() {
		return c.Node, nil
	}
	return clogFields(c), nil
}

// String is "n2" or "n0->n1".
func (c Clog) String() string {
	if !c.Node.IsZero() {
		return c.Node.String()
	}
	return c.From.String() + "->" + c.To.String()
}

func (c *Clog) validate(servers int) error {
	link := !c.From.IsZero() || !c.To.IsZero()
	switch {
	case link && !c.Node.IsZero():
		return fieldErr("clog", "give a node, or from and to, not both")
	case link:
		return validateLinkEnds("clog", c.From, c.To, servers)
	case servers < 2:
		return fieldErr("clog", "a clog needs at least 2 servers (cluster has %d)", servers)
	}
	return validateTarget("clog.node", c.Node, servers, anyServer...)
}
