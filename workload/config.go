package workload

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config describes the simulated clients. Durations are virtual time.
type Config struct {
	// Clients is the number of client nodes. Each has at most one operation
	// outstanding at a time (Jepsen's process model). Zero means no workload.
	Clients int `yaml:"clients"`
	// Keys is the number of keys, named "k0".."k{Keys-1}"; each op picks one
	// uniformly. For ModelListAppend it is the number of keys in use at once:
	// a key retired after MaxWritesPerKey appends leaves its place to a fresh
	// one, named on from "k{Keys}".
	Keys int `yaml:"keys"`
	// Mix weighs the operation kinds.
	Mix Mix `yaml:"mix"`
	// Rate is the total arrival rate in operations per second across all
	// clients (open loop: Poisson arrivals, Rate/Clients per client). Zero
	// means closed loop: each client issues its next op ThinkTime after the
	// previous one returned.
	Rate float64 `yaml:"rate"`
	// ThinkTime is, in closed loop, the wait between an op's return and the
	// client's next call.
	ThinkTime time.Duration `yaml:"think_time"`
	// Timeout bounds one operation: without an answer by then it is recorded
	// with an unknown outcome (it may or may not take effect) and the client
	// moves on to its next sequence number.
	Timeout time.Duration `yaml:"timeout"`
	// RetryInterval is how long a client waits for a reply before resending the
	// same command (same sequence number) to the next server.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// Backlog bounds, in open loop, the arrivals that wait while the client is
	// busy; arrivals beyond it are shed and counted (Stats.Shed). Zero means
	// DefaultBacklog.
	Backlog int `yaml:"backlog"`
	// Model is the data model: ModelKV (also when empty) or ModelListAppend,
	// whose operations are transactions of reads and appends (Mix is unused).
	Model string `yaml:"model"`
	// MaxTxnOps is, for ModelListAppend, the most micro-operations of one
	// transaction; 0 means DefaultMaxTxnOps.
	MaxTxnOps int `yaml:"max_txn_ops"`
	// MaxWritesPerKey is, for ModelListAppend, how many appends a key takes
	// before it is retired and a fresh key takes its place, as Elle's
	// list-append generator does: lists stay short, so a read's result, the
	// history and the checkers' work grow with the run's length, not with its
	// square. 0 means DefaultMaxWritesPerKey.
	MaxWritesPerKey int `yaml:"max_writes_per_key"`

	// ReplyQuorum is how many matching replies from distinct servers a client
	// needs to accept a result: 1 (or 0) for crash-fault protocols, f+1 for a
	// Byzantine-fault-tolerant one, where up to f servers may lie. The
	// protocol sets it, not the scenario.
	ReplyQuorum int `yaml:"-"`
	// BroadcastRetry makes a late request go to every server at once (as a
	// PBFT client does) instead of to the next server.
	BroadcastRetry bool `yaml:"-"`
}

// Mix gives the relative weights of the operation kinds (non-negative, not all zero).
type Mix struct {
	Get    int `yaml:"get"`
	Put    int `yaml:"put"`
	Append int `yaml:"append"`
	CAS    int `yaml:"cas"`
}

// MaxMixWeight bounds each weight of a Mix, so that their sum fits an int
// of 32 bits: a sum that wrapped on 386 alone would draw other operations
// there than on amd64.
const MaxMixWeight = 1_000_000

// Total is the sum of the weights.
func (m Mix) Total() int { return m.Get + m.Put + m.Append + m.CAS }

// pick maps a draw in [0, Total) to a kind.
func (m Mix) pick(r int) OpKind {
	for _, w := range []struct {
		kind   OpKind
		weight int
	}{{OpGet, m.Get}, {OpPut, m.Put}, {OpAppend, m.Append}} {
		if r < w.weight {
			return w.kind
		}
		r -= w.weight
	}
	return OpCAS
}

// DefaultBacklog is the open-loop backlog of a Config that sets none.
const DefaultBacklog = 16

// Limits that keep a typo from building an absurd world.
const (
	MaxClients = 1000
	MaxKeys    = 1_000_000
)

// DefaultConfig is a small closed-loop workload: 4 clients over 8 keys,
// mostly reads and writes with some appends and compare-and-sets.
func DefaultConfig() Config {
	return Config{
		Clients:       4,
		Keys:          8,
		Mix:           Mix{Get: 4, Put: 4, Append: 1, CAS: 1},
		ThinkTime:     20 * time.Millisecond,
		Timeout:       time.Second,
		RetryInterval: 100 * time.Millisecond,
	}
}

// Validate reports an impossible configuration.
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Clients < 0 || c.Clients > MaxClients, "clients %d is not in [0, %d]", c.Clients, MaxClients)
	check(c.Keys < 1 || c.Keys > MaxKeys, "keys %d is not in [1, %d]", c.Keys, MaxKeys)
	check(c.Mix.Get < 0 || c.Mix.Put < 0 || c.Mix.Append < 0 || c.Mix.CAS < 0,
		"mix weights must not be negative (%+v)", c.Mix)
	check(max(c.Mix.Get, c.Mix.Put, c.Mix.Append, c.Mix.CAS) > MaxMixWeight,
		"mix weights must be at most %d (%+v)", MaxMixWeight, c.Mix)
	check(c.Mix.Total() <= 0, "mix weights must not all be zero")
	check(!(c.Rate >= 0) || math.IsInf(c.Rate, 0), "rate %v must be a finite number >= 0 (ops per second)", c.Rate)
	check(c.ThinkTime < 0, "think_time %v is negative", c.ThinkTime)
	check(c.Timeout <= 0, "timeout %v must be positive", c.Timeout)
	check(c.RetryInterval <= 0, "retry_interval %v must be positive", c.RetryInterval)
	check(c.Backlog < 0, "backlog %d is negative", c.Backlog)
	check(c.ReplyQuorum < 0, "reply quorum %d is negative", c.ReplyQuorum)
	check(c.Model != "" && c.Model != ModelKV && c.Model != ModelListAppend,
		"model %q: want %s or %s", c.Model, ModelKV, ModelListAppend)
	check(c.MaxTxnOps < 0, "max_txn_ops %d is negative", c.MaxTxnOps)
	check(c.MaxWritesPerKey < 0 || c.MaxWritesPerKey > MaxWritesPerKeyLimit,
		"max_writes_per_key %d is not in [0, %d]", c.MaxWritesPerKey, MaxWritesPerKeyLimit)
	return errors.Join(errs...)
}

// openLoop reports whether clients draw Poisson arrivals.
func (c Config) openLoop() bool { return c.Rate > 0 }

// backlog is the effective open-loop backlog bound.
func (c Config) backlog() int {
	if c.Backlog == 0 {
		return DefaultBacklog
	}
	return c.Backlog
}

// meanInterarrival is one client's mean time between open-loop arrivals.
// A product and a quotient are each rounded exactly by IEEE 754, so the
// mean is the same on every platform; converting a float beyond the int64
// range is not (amd64 and arm64 disagree), so a tiny rate saturates here.
func (c Config) meanInterarrival() time.Duration {
	mean := float64(time.Second) * float64(c.Clients) / c.Rate
	if mean >= 0x1p63 {
		return math.MaxInt64
	}
	return time.Duration(mean)
}
