package runner

import (
	"time"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/workload"
)

// workloadConfig maps the scenario's workload section onto the workload package.
func workloadConfig(sc *scenarios.Scenario) workload.Config {
	w := sc.Workload
	return workload.Config{
		Clients:         w.Clients,
		Keys:            w.Keys,
		Mix:             workload.Mix{Get: w.Mix.Get, Put: w.Mix.Put, Append: w.Mix.Append, CAS: w.Mix.CAS},
		Rate:            w.Rate.PerSecond(),
		ThinkTime:       time.Duration(w.ThinkTime),
		Timeout:         time.Duration(w.Timeout),
		RetryInterval:   time.Duration(w.RetryInterval),
		Backlog:         w.Backlog,
		Model:           w.Model,
		MaxTxnOps:       w.MaxTxnOps,
		MaxWritesPerKey: w.MaxWritesPerKey,
	}
}
