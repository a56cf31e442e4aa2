package faults

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Partition is the shape of a partition: exactly one of Isolate, Halves,
// Groups, Bridge and Ring. In YAML it is a mapping ({isolate: 2},
// {halves: true}, {groups: [[0, 1], [2, 3, 4]]}, {bridge: true},
// {ring: [3, 0, 4, 1, 2]}) or one of the shorthands isolate-leader,
// isolate-random, halves, bridge and ring.
type Partition struct {
	// Isolate cuts one server (a node, random or leader) off from every other
	// server. Clients keep their links to it: an isolated leader still hears
	// clients but cannot reach a quorum.
	Isolate Target `yaml:"isolate,omitempty"`
	// Halves splits the servers into a random minority of n/2 (rounded down)
	// and a majority.
	Halves bool `yaml:"halves,omitempty"`
	// Groups lists explicit groups of servers; links between groups are cut,
	// servers in no group keep all their links.
	Groups [][]int `yaml:"groups,omitempty,flow"`
	// Bridge (Jepsen's bridge) draws one server, the bridge, and splits the
	// others into two random halves: the links between the halves are cut,
	// the bridge keeps all its links and alone sees both sides. Two leaders
	// can each gather a majority through it. Pinned as Groups, without the
	// bridge.
	Bridge bool `yaml:"bridge,omitempty"`
	// Ring (Jepsen's majorities ring) places the servers on a ring; each keeps
	// its links to the servers within ring distance d = ceil((m-1)/2), m the
	// majority n/2+1, and loses the others (both ways): every server sees a
	// majority, no two see the same one.
	Ring *Ring `yaml:"ring,omitempty"`
}

// partitionFields is Partition without its YAML methods, so that decoding the
// mapping form does not recurse.
type partitionFields Partition

var partitionShorthands = []struct {
	word string
	make func() Partition // a function: Ring is a pointer, each decode gets its own
}{
	{"isolate-leader", func() Partition { return Partition{Isolate: Leader()} }},
	{"isolate-random", func() Partition { return Partition{Isolate: Random()} }},
	{"halves", func() Partition { return Partition{Halves: true} }},
	{"bridge", func() Partition { return Partition{Bridge: true} }},
	{"ring", func() Partition { return Partition{Ring: &Ring{Random: true}} }},
}

// UnmarshalYAML reads a shorthand word or the mapping form (go-yaml's
// InterfaceUnmarshaler convention).
func (p *Partition) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isMap := raw.(map[string]any); isMap {
		var f partitionFields
		if err := unmarshal(&f); err != nil {
			return err
		}
		*p = Partition(f)
		return nil
	}
	word := fmt.Sprint(raw)
	for _, s := range partitionShorthands {
		if s.word == word {
			*p = s.make()
			return nil
		}
	}
	return fmt.Errorf("unknown partition %q (want isolate-leader, isolate-random, halves, bridge, ring, or a mapping with isolate, halves, bridge, ring or groups)", word)
}

// MarshalYAML writes the shorthand when there is one, else the mapping.
func (p Partition) MarshalYAML() (any, error) {
	if w := p.shorthand(); w != "" {
		return w, nil
	}
	return partitionFields(p), nil
}

// shapes counts the shapes set; a valid partition has one.
func (p Partition) shapes() int {
	n := 0
	for _, set := range []bool{p.Isolate.Kind != TargetNone, p.Halves, p.Groups != nil, p.Bridge, p.Ring != nil} {
		if set {
			n++
		}
	}
	return n
}

func (p Partition) shorthand() string {
	if p.shapes() != 1 {
		return ""
	}
	switch {
	case p.Isolate.Kind == TargetLeader:
		return "isolate-leader"
	case p.Isolate.Kind == TargetRandom:
		return "isolate-random"
	case p.Halves:
		return "halves"
	case p.Bridge:
		return "bridge"
	case p.Ring != nil && p.Ring.Random && p.Ring.Order == nil:
		return "ring"
	}
	return ""
}

// String describes the shape: "isolate-leader", "isolate n2", "halves",
// "bridge", "ring", "ring [3 0 4 1 2]", "groups [[0 1] [2 3 4]]".
func (p Partition) String() string {
	if w := p.shorthand(); w != "" {
		return w
	}
	switch {
	case p.Isolate.Kind != TargetNone:
		return "isolate " + p.Isolate.String()
	case p.Ring != nil:
		return "ring " + p.Ring.String()
	}
	return "groups " + fmt.Sprint(p.Groups)
}

func (p *Partition) validate(servers int) error {
	if p.shapes() != 1 {
		return fieldErr("partition", "give exactly one of isolate, halves, groups, bridge, ring")
	}
	if servers < 2 {
		return fieldErr("partition", "a partition needs at least 2 servers (cluster has %d)", servers)
	}
	switch {
	case p.Isolate.Kind != TargetNone:
		return validateTarget("partition.isolate", p.Isolate, servers, anyServer...)
	case p.Groups != nil:
		return validateGroups(p.Groups, servers)
	case p.Bridge && servers < 3:
		return fieldErr("partition.bridge", "a bridge needs at least 3 servers: the bridge and two sides (cluster has %d)", servers)
	case p.Ring != nil:
		return p.Ring.validate(servers)
	}
	return nil
}

// Ring is the order of the servers around a majorities ring: Order lists
// every server once, or Random draws the order when the step fires. In YAML:
// a list ([3, 0, 4, 1, 2]) or the word random.
type Ring struct {
	Random bool
	Order  []int
}

// UnmarshalYAML reads the word random or a list of servers.
func (r *Ring) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isList := raw.([]any); isList {
		var order []int
		if err := unmarshal(&order); err != nil {
			return err
		}
		*r = Ring{Order: order}
		return nil
	}
	if raw == "random" {
		*r = Ring{Random: true}
		return nil
	}
	return fmt.Errorf("ring %v is not random or a list of servers (the order around the ring)", raw)
}

// MarshalYAML writes random or the order.
func (r Ring) MarshalYAML() (any, error) {
	if r.Random {
		return "random", nil
	}
	return r.Order, nil
}

// String is "random" or "[3 0 4 1 2]".
func (r Ring) String() string {
	if r.Random {
		return "random"
	}
	return fmt.Sprint(r.Order)
}

// RingReach is how far around a ring of servers servers each one keeps its
// links: ceil((m-1)/2) for the majority m = servers/2+1, so that a server and
// the servers within that distance on either side make a majority.
func RingReach(servers int) int {
	m := servers/2 + 1
	return m / 2 // ceil((m-1)/2)
}

func (r *Ring) validate(servers int) error {
	if servers < 4 {
		return fieldErr("partition.ring", "a ring needs at least 4 servers: with %d, every server is within reach of every other and nothing is cut", servers)
	}
	switch {
	case r.Random && r.Order != nil:
		return fieldErr("partition.ring", "give random or an order, not both")
	case r.Random:
		return nil
	case len(r.Order) != servers:
		return fieldErr("partition.ring", "lists %d servers, the cluster has %d: give every server once, in ring order", len(r.Order), servers)
	}
	return validatePermutation("partition.ring", r.Order, servers)
}

// validatePermutation checks that list names distinct servers.
func validatePermutation(field string, list []int, servers int) error {
	seen := make(map[int]int, len(list))
	for i, n := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		if err := checkNode(at, n, servers); err != nil {
			return err
		}
		if prev, dup := seen[n]; dup {
			return fieldErr(at, "node %d is already at %s[%d]", n, field[strings.LastIndex(field, ".")+1:], prev)
		}
		seen[n] = i
	}
	return nil
}

func validateGroups(groups [][]int, servers int) error {
	seen := make(map[int]string, servers)
	nonEmpty := 0
	for i, g := range groups {
		if len(g) > 0 {
			nonEmpty++
		}
		for j, n := range g {
			at := fmt.Sprintf("partition.groups[%d][%d]", i, j)
			if err := checkNode(at, n, servers); err != nil {
				return err
			}
			if prev, dup := seen[n]; dup {
				return fieldErr(at, "node %d is already in %s", n, prev)
			}
			seen[n] = fmt.Sprintf("groups[%d]", i)
		}
	}
	if nonEmpty < 2 {
		return fieldErr("partition.groups", "need at least two non-empty groups")
	}
	return nil
}

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

// validateLinkEnds checks the from and to of a directed link.
func validateLinkEnds(field string, from, to Target, servers int) error {
	if servers < 2 {
		return fieldErr(field, "a link needs at least 2 servers (cluster has %d)", servers)
	}
	if err := validateTarget(field+".from", from, servers, anyServer...); err != nil {
		return err
	}
	if err := validateTarget(field+".to", to, servers, anyServer...); err != nil {
		return err
	}
	if from == to && from.Kind != TargetRandom {
		return fieldErr(field+".to", "from and to are the same node (%v)", to)
	}
	return nil
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
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isMap := raw.(map[string]any); isMap {
		var f clogFields
		if err := unmarshal(&f); err != nil {
			return err
		}
		*c = Clog(f)
		return nil
	}
	var t Target
	if err := unmarshal(&t); err != nil {
		return err
	}
	*c = Clog{Node: t}
	return nil
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

// Range is a uniform range of durations. In YAML: {min: 1ms, max: 5ms}, or one
// duration for a constant.
type Range struct {
	Min Duration `yaml:"min"`
	Max Duration `yaml:"max"`
}

type rangeFields Range

// UnmarshalYAML reads {min, max} or one duration.
func (r *Range) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isMap := raw.(map[string]any); isMap {
		var f rangeFields
		if err := unmarshal(&f); err != nil {
			return err
		}
		*r = Range(f)
		return nil
	}
	var d Duration
	if err := unmarshal(&d); err != nil {
		return err
	}
	*r = Range{Min: d, Max: d}
	return nil
}

// MarshalYAML writes {min, max}.
func (r Range) MarshalYAML() (any, error) { return rangeFields(r), nil }

// String is "1ms..5ms".
func (r Range) String() string { return r.Min.String() + ".." + r.Max.String() }

func (r Range) validate(field string) error {
	switch {
	case r.Min < 0:
		return fieldErr(field+".min", "%v is negative", r.Min)
	case r.Max < r.Min:
		return fieldErr(field+".max", "%v is below min %v", r.Max, r.Min)
	}
	return nil
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

// Clock disturbs a server's clock: Rate makes it run fast or slow (local
// seconds per real second, in (0, 100): 1.5 is 50% fast and fires timers
// early), Skew makes it jump (negative: backwards, as NTP may step it).
// Exactly one of the two.
type Clock struct {
	Node Target   `yaml:"node"`
	Rate float64  `yaml:"rate,omitempty"`
	Skew Duration `yaml:"skew,omitempty"`
}

// String is "n2 rate=1.5" or "leader skew=-2s".
func (c Clock) String() string {
	if c.Rate != 0 {
		return c.Node.String() + " rate=" + strconv.FormatFloat(c.Rate, 'g', -1, 64)
	}
	return c.Node.String() + " skew=" + c.Skew.String()
}

func (c *Clock) validate(servers int) error {
	if err := validateTarget("clock.node", c.Node, servers, anyServer...); err != nil {
		return err
	}
	switch {
	case (c.Rate != 0) == (c.Skew != 0):
		return fieldErr("clock", "give exactly one of rate and skew")
	case c.Rate != 0 && !(c.Rate > 0 && c.Rate < 100):
		return fieldErr("clock.rate", "%v is not in (0, 100) (local seconds per real second)", c.Rate)
	}
	return nil
}

// Disk makes a server's disk misbehave: TornWrites makes a crash keep a
// prefix of the unsynced writes with the last one torn, instead of losing
// them all; SyncLatency makes every sync block the server that long.
type Disk struct {
	Node        Target `yaml:"node"`
	TornWrites  bool   `yaml:"torn_writes,omitempty"`
	SyncLatency *Range `yaml:"sync_latency,omitempty,flow"`
}

// String is "n1 torn_writes sync_latency=1ms..10ms".
func (d Disk) String() string {
	var parts []string
	parts = append(parts, d.Node.String())
	if d.TornWrites {
		parts = append(parts, "torn_writes")
	}
	if d.SyncLatency != nil {
		parts = append(parts, "sync_latency="+d.SyncLatency.String())
	}
	return strings.Join(parts, " ")
}

// slowSyncs is the sync latency range, zero when syncs are instant.
func (d *Disk) slowSyncs() Range {
	if d.SyncLatency == nil {
		return Range{}
	}
	return *d.SyncLatency
}

func (d *Disk) validate(servers int) error {
	if err := validateTarget("disk.node", d.Node, servers, anyServer...); err != nil {
		return err
	}
	if d.SyncLatency != nil {
		if err := d.SyncLatency.validate("disk.sync_latency"); err != nil {
			return err
		}
	}
	if !d.TornWrites && d.slowSyncs().Max == 0 {
		return fieldErr("disk", "give a fault: torn_writes, or a sync_latency above 0")
	}
	return nil
}

// Swizzle is FoundationDB's swizzle-clogging: it clogs servers one after
// another (every link between the server and the other servers holds its
// messages, both ways), one every Every, and, For after the firing, unclogs
// them one every Every in another order. A link stays clogged while either
// end is. The gradual onset and the staggered, reordered recovery reach
// states a plain partition never does.
//
// Random form: Nodes servers (0: a majority, n/2+1) in a random order, and
// with For a random unclog order. Explicit form, as pinning writes it: Clog
// gives the clog order and, with For, Unclog the unclog order (the same
// servers). In YAML: {nodes: 3, every: 100ms} or
// {clog: [2, 0, 4], unclog: [4, 2, 0], every: 100ms}.
type Swizzle struct {
	Nodes  int      `yaml:"nodes,omitempty"`
	Clog   []int    `yaml:"clog,omitempty,flow"`
	Unclog []int    `yaml:"unclog,omitempty,flow"`
	Every  Duration `yaml:"every"` // between two clogs, and between two unclogs; > 0
}

// count is how many servers the swizzle clogs in a cluster of servers.
func (z Swizzle) count(servers int) int {
	switch {
	case z.Clog != nil:
		return len(z.Clog)
	case z.Nodes > 0:
		return z.Nodes
	}
	return servers/2 + 1
}

// String is "nodes=3 every=100ms", "majority every=100ms" or
// "clog=[2 0 4] unclog=[4 2 0] every=100ms".
func (z Swizzle) String() string {
	b := "majority"
	switch {
	case z.Clog != nil:
		b = "clog=" + fmt.Sprint(z.Clog)
		if z.Unclog != nil {
			b += " unclog=" + fmt.Sprint(z.Unclog)
		}
	case z.Nodes > 0:
		b = "nodes=" + strconv.Itoa(z.Nodes)
	}
	return b + " every=" + z.Every.String()
}

func (z *Swizzle) validate(servers int, undo Duration) error {
	switch {
	case servers < 2:
		return fieldErr("swizzle", "a swizzle needs at least 2 servers (cluster has %d)", servers)
	case z.Every <= 0:
		return fieldErr("swizzle.every", "%v is not positive: give the time between two clogs", z.Every)
	case z.Nodes != 0 && z.Clog != nil:
		return fieldErr("swizzle.nodes", "give nodes (drawn at random) or clog (an explicit order), not both")
	case z.Nodes < 0 || z.Nodes > servers:
		return fieldErr("swizzle.nodes", "%d is not in [1, %d] (cluster has %d nodes; leave it out for a majority)", z.Nodes, servers, servers)
	case z.Clog != nil && len(z.Clog) == 0:
		return fieldErr("swizzle.clog", "is empty: give the servers to clog, in order")
	case z.Unclog != nil && z.Clog == nil:
		return fieldErr("swizzle.unclog", "an explicit unclog order needs an explicit clog order")
	case z.Unclog != nil && undo == 0:
		return fieldErr("swizzle.unclog", "nothing unclogs without for: give for, or leave unclog out")
	case z.Clog != nil && undo > 0 && z.Unclog == nil:
		return fieldErr("swizzle.unclog", "missing: with for and clog, give the order to unclog them in (the same servers)")
	}
	if z.Clog != nil {
		if err := validatePermutation("swizzle.clog", z.Clog, servers); err != nil {
			return err
		}
	}
	if z.Unclog != nil {
		if err := validateReorder("swizzle.unclog", z.Unclog, z.Clog); err != nil {
			return err
		}
	}
	last := time.Duration(z.count(servers)-1) * z.Every.Duration()
	if undo > 0 && undo.Duration() < last {
		return fieldErr("for", "%v is before the last clog (%d servers, one every %v: the last at %v); unclogging starts after clogging ends",
			undo, z.count(servers), z.Every, Duration(last))
	}
	return nil
}

// validateReorder checks that list is a reordering of the servers in of.
func validateReorder(field string, list, of []int) error {
	if len(list) != len(of) {
		return fieldErr(field, "lists %d servers, clog lists %d: give the same servers", len(list), len(of))
	}
	for i, n := range list {
		if !slices.Contains(of, n) {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "node %d is not in clog", n)
		}
		if j := slices.Index(list, n); j < i {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "node %d is already at unclog[%d]", n, j)
		}
	}
	return nil
}
