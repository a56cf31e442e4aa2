package scenarios

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, every error
// must be one *Error line starting with the file name, and every scenario it
// accepts must survive Marshal and Parse unchanged.
//
//	go test ./scenarios -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, file := range shippedScenarioFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		base,
		base + "faults:\n  - {at: 1s, partition: {groups: [[0, 1], [2]]}}\n  - {at: 2s, cut: {from: 0, to: leader}}\n",
		base + "network: {latency: 3ms, tail: {probability: 0.5, mean: 1ms}}\nworkload: {rate: 5/ms}\n",
		base + "protocol_options: {a: &x [1, 2], b: *x, c: {d: 1.5}}\n",
		base + "description: |\n  two\n  lines\n",
		base + "faults:\n  - {at: 1s, pause: leader, down: 1s}\n  - {at: 2s, clog: {from: 0, to: 1}, for: 1s}\n" +
			"  - {at: 3s, link: {drop: 0.5, latency: 3ms}}\n  - {at: 4s, clock: {node: 1, skew: -1s}}\n" +
			"  - {at: 5s, disk: {node: random, torn_writes: true}}\n  - {at: 6s, heal: network}\n",
		base + "checks: [liveness]\nliveness: {within: 5s, heal: core}\nbyzantine:\n  - {count: 1, behaviour: silent}\n",
		"- [",
		"a: b: c",
		"\t- x",
		"&a *a",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkOneLineError(t, err)
			return
		}
		out, err := sc.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed scenario failed: %v", err)
		}
		again, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("Parse of Marshal output failed: %v\n%s", err, out)
		}
		assertSameScenario(t, sc, again)
		for _, opts := range []any{&map[string]any{}, &raftLike{}} {
			if err := sc.DecodeProtocolOptions(opts); err != nil {
				checkOneLineError(t, err)
			}
		}
	})
}

func checkOneLineError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "fuzz.yaml:") {
		t.Fatalf("error does not start with the file name: %q", msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is a %T, not a *Error: %q", err, msg)
	}
}
