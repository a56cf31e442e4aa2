package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/simrun/simrun/internal/jsonl"
)

// FuzzParseResult feeds arbitrary lines to the results-file reader that
// merge, report and a resumed sweep share: it must never panic, every
// refusal must be one line naming a column, and every line it accepts must
// survive being written and read again.
//
//	go test ./cli -run '^$' -fuzz FuzzParseResult -fuzztime 60s
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"scenario":"s","protocol":"raft","seed":4,"file":"s.yaml","scenario_hash":"5ce0a110000000aa","class":"pass",` +
			`"checks":[{"name":"agreement","verdict":"pass"}],"events":10,"sim_time_ns":5,"wall_time_ns":7,"trace_hash":"00000000000000aa",` +
			`"build":"b","platform":"linux/amd64","swept":{"from":1,"seeds":10,"shard":0,"of":1}}`,
		`{"scenario":"r","protocol":"raft","seed":2,"file":"r.yaml","scenario_hash":"210dba293b63c8dd","class":"safety",` +
			`"reason":"agreement violated","checks":[{"name":"agreement","verdict":"fail","detail":"two votes"}],"events":31273,` +
			`"sim_time_ns":5798973096,"wall_time_ns":8754924,"trace_hash":"aed79f74db5e7b53","ops":{"ok":132,"failed":0,"unknown":10},` +
			`"faults":"crashes=141","probes":{"raft/vote-granted":89},"lin_timeout_ns":40000000000,"swarm_kinds":["crash"],"no_artifacts":true}`,
		`{"scenario":"s","seed":1}`,
		`{"Scenario":"s","scenario":"t"}`,
		`{"scenario":null}`,
		`[]`,
		``,
		`{"swept":{"from":18446744073709551615,"seeds":2,"shard":0,"of":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if strings.ContainsAny(string(line), "\n\r") {
			return // the reader splits lines before it parses one
		}
		r, err := parseResult(line)
		if err != nil {
			var je *jsonl.Error
			if !errors.As(err, &je) || je.Col < 1 {
				t.Fatalf("refusal without a column: %T %v", err, err)
			}
			if strings.ContainsAny(je.Msg, "\n\r") {
				t.Fatalf("refusal of more than one line: %q", je.Msg)
			}
			return
		}
		out, err := json.Marshal(&r)
		if err != nil {
			t.Fatalf("an accepted result does not marshal: %v", err)
		}
		if _, err := parseResult(out); err != nil {
			t.Fatalf("an accepted result, written again, is refused: %v\n%s", err, out)
		}
	})
}
