package faults

import (
	"strconv"
	"time"

	"github.com/simrun/simrun/sim"
)

// The link fault: change the latency, tail, loss or duplication of links for
// a while.

func (in *Injector) link(i int, s Step) {
	links, ok := in.faultLinks(i, s.Link.From, s.Link.To, in.serverLinks)
	if !ok {
		return
	}
	for _, l := range links {
		in.setLink(l, s.Link.apply(in.w.Link(l.from, l.to)))
	}
	in.counts.Links++
	in.claimLinks(i, s, in.linkClaims, links, "links back to default", func(l link) {
		if in.linkChanged[l.cell] {
			in.resetLink(int(l.from), int(l.to))
		}
	})
}

func (in *Injector) setLink(l link, settings sim.Link) {
	if err := in.w.SetLink(l.from, l.to, settings); err != nil {
		panic("faults: validated link settings refused: " + err.Error())
	}
	in.linkChanged[l.cell] = settings != in.w.DefaultLink()
}

func (in *Injector) resetLink(a, b int) {
	in.setLink(in.linkOf(in.servers[a], in.servers[b]), in.w.DefaultLink())
}

// apply overlays the change on a link's settings.
func (l *LinkChange) apply(cur sim.Link) sim.Link {
	if l.Latency != nil { // a range replaces the scenario's distribution too, or it would not show
		cur.LatencyMin, cur.LatencyMax, cur.LatencyDist = l.Latency.Min.Duration(), l.Latency.Max.Duration(), nil
	}
	if l.Tail != nil {
		cur.TailProb, cur.TailMean = l.Tail.Probability, l.Tail.Mean.Duration()
	}
	if l.Drop != nil {
		cur.Drop = *l.Drop
	}
	if l.Duplicate != nil {
		cur.Duplicate = *l.Duplicate
	}
	return cur
}

var linkKind = valueKind(func(s *Step) **LinkChange { return &s.Link }, actionKind{
	name: "link", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Link.validate(servers) },
	fire:     (*Injector).link,
	targets:  func(s *Step) []*Target { return []*Target{&s.Link.From, &s.Link.To} },
	clone: func(s *Step) {
		l := s.Link
		l.Latency, l.Tail, l.Drop, l.Duplicate = clonePtr(l.Latency), clonePtr(l.Tail), clonePtr(l.Drop), clonePtr(l.Duplicate)
	},
})

func drawSlowLink(rng *sim.Rand, _ int, hold Duration) Step {
	lo := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond))
	return Step{Link: &LinkChange{From: Random(), To: Random(), Latency: &Range{Min: lo, Max: 2 * lo}}, For: hold}
}

func drawLossyLink(rng *sim.Rand, _ int, hold Duration) Step {
	// A whole number of per mille, by integer draw and one exact division:
	// 0.05 + 0.45*rng.Float64() may be fused into one multiply-add on arm64
	// and amd64 v3 and round differently.
	drop := float64(50+rng.IntN(451)) / 1000
	return Step{Link: &LinkChange{Drop: &drop}, For: hold}
}

// Tail is a long tail of latency: with Probability, a message takes an extra
// delay drawn from an exponential distribution of mean Mean.
type Tail struct {
	Probability float64  `yaml:"probability"`
	Mean        Duration `yaml:"mean"`
}

// LinkChange degrades links for a while: every setting given replaces the
// link's current one, the others stay. From and To name one directed link;
// without them the change applies to every link between two servers (links
// to clients keep their settings). For, or a heal, gives the links their
// default settings back.
type LinkChange struct {
	From      Target   `yaml:"from,omitempty"`
	To        Target   `yaml:"to,omitempty"`
	Latency   *Range   `yaml:"latency,omitempty,flow"`
	Tail      *Tail    `yaml:"tail,omitempty,flow"`
	Drop      *float64 `yaml:"drop,omitempty"`
	Duplicate *float64 `yaml:"duplicate,omitempty"`
}

// String is "all drop=0.2 latency=5ms..50ms" or "n0->n1 ...".
func (l LinkChange) String() string {
	b := "all"
	if !l.From.IsZero() || !l.To.IsZero() {
		b = l.From.String() + "->" + l.To.String()
	}
	if l.Latency != nil {
		b += " latency=" + l.Latency.String()
	}
	if l.Tail != nil {
		b += " tail=" + strconv.FormatFloat(l.Tail.Probability, 'g', -1, 64) + "/" + l.Tail.Mean.String()
	}
	if l.Drop != nil {
		b += " drop=" + strconv.FormatFloat(*l.Drop, 'g', -1, 64)
	}
	if l.Duplicate != nil {
		b += " duplicate=" + strconv.FormatFloat(*l.Duplicate, 'g', -1, 64)
	}
	return b
}

func (l *LinkChange) validate(servers int) error {
	if servers < 2 {
		return fieldErr("link", "a link needs at least 2 servers (cluster has %d)", servers)
	}
	if !l.From.IsZero() || !l.To.IsZero() {
		if err := validateLinkEnds("link", l.From, l.To, servers); err != nil {
			return err
		}
	}
	if l.Latency == nil && l.Tail == nil && l.Drop == nil && l.Duplicate == nil {
		return fieldErr("link", "change something: latency, tail, drop or duplicate")
	}
	if l.Latency != nil {
		if err := l.Latency.validate("link.latency"); err != nil {
			return err
		}
	}
	if t := l.Tail; t != nil {
		switch {
		case !isProbability(t.Probability):
			return fieldErr("link.tail.probability", "%v is not a probability in [0, 1]", t.Probability)
		case t.Mean < 0:
			return fieldErr("link.tail.mean", "%v is negative", t.Mean)
		case t.Probability > 0 && t.Mean == 0:
			return fieldErr("link.tail.mean", "must be positive when the probability is")
		}
	}
	for _, p := range []struct {
		field string
		v     *float64
	}{{"link.drop", l.Drop}, {"link.duplicate", l.Duplicate}} {
		if p.v != nil && !isProbability(*p.v) {
			return fieldErr(p.field, "%v is not a probability in [0, 1]", *p.v)
		}
	}
	return nil
}

// isProbability reports whether p is in [0, 1] (NaN is not).
func isProbability(p float64) bool { return p >= 0 && p <= 1 }
