package faults

// The cut fault: lose every message on one directed link (a one-way
// partition).

func (in *Injector) cut(i int, s Step) {
	l, ok := in.ends(i, s.Cut.From, s.Cut.To)
	if !ok {
		return
	}
	in.w.Cut(l.from, l.to)
	in.counts.Cuts++
	in.claimLinks(i, s, in.cutClaims, []link{l}, "uncut "+l.from.String()+"->"+l.to.String(), in.uncut)
}

var cutKind = valueKind(func(s *Step) **Cut { return &s.Cut }, actionKind{
	name: "cut", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Cut.validate(servers) },
	fire:     (*Injector).cut,
	targets:  func(s *Step) []*Target { return []*Target{&s.Cut.From, &s.Cut.To} },
})

// Cut is a one-way partition: every message From -> To is lost. Each end is a
// node, random or leader; a random To is drawn among the servers other than
// From.
type Cut struct {
	From Target `yaml:"from"`
	To   Target `yaml:"to"`
}

// String is "n0->n1".
func (c Cut) String() string { return c.From.String() + "->" + c.To.String() }

func (c *Cut) validate(servers int) error {
	return validateLinkEnds("cut", c.From, c.To, servers)
}
