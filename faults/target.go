package faults

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// TargetKind says how a Target picks its node.
type TargetKind uint8

const (
	// TargetNone is the zero Target: no node (the action is absent).
	TargetNone TargetKind = iota
	// TargetNode is a fixed server, by number.
	TargetNode
	// TargetRandom is a server drawn from the "faults" stream when the action runs.
	TargetRandom
	// TargetLeader is the current leader (see the package doc), or a random
	// server when no leader is known.
	TargetLeader
	// TargetAllDown is every crashed server (restart only).
	TargetAllDown
	// TargetAllPaused is every paused server (resume only).
	TargetAllPaused
	// TargetAll is every server at once (crash only).
	TargetAll
	// TargetRolling is every server in turn, in ID order: a rolling restart
	// (crash only).
	TargetRolling
)

// Target names the server an action hits. In YAML it is a node number (3, or
// "n3" as the trace writes it) or one of the words random, leader, all-down,
// all-paused, all and rolling.
type Target struct {
	Kind TargetKind
	Node int // the server, for TargetNode
}

// Node targets server id.
func Node(id int) Target { return Target{Kind: TargetNode, Node: id} }

// Random targets a server drawn when the action runs.
func Random() Target { return Target{Kind: TargetRandom} }

// Leader targets the current leader.
func Leader() Target { return Target{Kind: TargetLeader} }

// AllDown targets every crashed server (for restart).
func AllDown() Target { return Target{Kind: TargetAllDown} }

// AllPaused targets every paused server (for resume).
func AllPaused() Target { return Target{Kind: TargetAllPaused} }

// All targets every server at once (for crash).
func All() Target { return Target{Kind: TargetAll} }

// Rolling targets every server in turn, in ID order (for crash).
func Rolling() Target { return Target{Kind: TargetRolling} }

// numbered lists, in ID order and each once, the servers that steps target
// by number, as target reads a step's target (the zero Target for a step
// that does not count): the faulty-by-design listers' one loop.
func numbered(steps []Step, target func(Step) Target) []int {
	var ids []int
	for _, s := range steps {
		if t := target(s); t.Kind == TargetNode {
			ids = append(ids, t.Node)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// IsZero reports whether t is absent; YAML omitempty uses it.
func (t Target) IsZero() bool { return t.Kind == TargetNone }

var targetWords = [...]string{TargetRandom: "random", TargetLeader: "leader", TargetAllDown: "all-down",
	TargetAllPaused: "all-paused", TargetAll: "all", TargetRolling: "rolling"}

// String is the YAML word, or "n3" for a node.
func (t Target) String() string {
	switch t.Kind {
	case TargetNone:
		return "none"
	case TargetNode:
		return "n" + strconv.Itoa(t.Node)
	}
	if int(t.Kind) < len(targetWords) {
		return targetWords[t.Kind]
	}
	return "target(" + strconv.Itoa(int(t.Kind)) + ")"
}

// ParseTarget reads "3", "n3", "random", "leader", "all-down", "all-paused",
// "all" or "rolling". (Its error message names the common words only; the
// step's validation says which words each action takes.)
func ParseTarget(s string) (Target, error) {
	for kind, word := range targetWords {
		if word != "" && s == word {
			return Target{Kind: TargetKind(kind)}, nil
		}
	}
	digits := strings.TrimPrefix(s, "n")
	if n, err := strconv.Atoi(digits); err == nil && digits != "" && digits[0] != '+' && digits[0] != '-' {
		return Node(n), nil
	}
	return Target{}, fmt.Errorf("unknown target %q (want a node number, random, leader, all, rolling, all-down or all-paused)", s)
}

// UnmarshalYAML reads a node number or a target word (go-yaml's
// InterfaceUnmarshaler convention).
func (t *Target) UnmarshalYAML(unmarshal func(any) error) error {
	return UnmarshalScalar(unmarshal, t, ParseTarget, targetFromNumber)
}

// targetFromNumber reads a node number as go-yaml decodes it.
func targetFromNumber(raw any) (Target, error) {
	switch v := raw.(type) {
	case int64:
		return nodeNumber(v >= math.MinInt32 && v <= math.MaxInt32, int(v), v)
	case uint64:
		return nodeNumber(v <= math.MaxInt32, int(v), v)
	case int:
		return nodeNumber(v >= math.MinInt32 && v <= math.MaxInt32, v, v)
	case nil:
		return Target{}, fmt.Errorf("missing target (want a node number, random, leader, all, rolling, all-down or all-paused)")
	}
	return Target{}, fmt.Errorf("want a target (a node number, random, leader, all, rolling, all-down or all-paused), got %s", Described(raw))
}

// nodeNumber is node n, refusing numbers no cluster could have (the range
// check against the cluster size comes later, in Step.Validate).
func nodeNumber(fits bool, n int, shown any) (Target, error) {
	if !fits {
		return Target{}, fmt.Errorf("node %v out of range", shown)
	}
	return Node(n), nil
}

// MarshalYAML writes a node number or a target word.
func (t Target) MarshalYAML() (any, error) {
	if t.Kind == TargetNode {
		return t.Node, nil
	}
	return t.String(), nil
}
