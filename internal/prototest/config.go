package prototest

import (
	"strings"
	"testing"

	"github.com/simrun/simrun/workload"
)

// ConfigCase is one row of a protocol's config table: Change edits a copy of
// the defaults (nil leaves them), and Validate must then refuse the result
// with an error containing Err, or accept it if Err is empty.
type ConfigCase[C any] struct {
	Name   string
	Change func(c *C)
	Err    string
}

// RequireValidation runs each case as a subtest of t. A config Validate
// refuses must be refused by New as well: a scenario with bad options never
// builds servers, whichever way it reaches the protocol.
func (p CrashFault[C, N]) RequireValidation(t *testing.T, cases []ConfigCase[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := p.Defaults
			if tc.Change != nil {
				tc.Change(&cfg)
			}
			err := cfg.Validate()
			if tc.Err == "" {
				if err != nil {
					t.Fatalf("Validate refused the config: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.Err) {
				t.Fatalf("Validate: got %v, want an error containing %q", err, tc.Err)
			}
			if _, err := p.New(cfg, workload.NewKV); err == nil {
				t.Errorf("New accepted a config Validate refused")
			}
		})
	}
}
