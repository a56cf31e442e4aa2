package faults

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a span of virtual time that reads and writes as a Go duration
// string ("150ms", "2s", "1m30s") in scenario files. A bare number is refused,
// except 0: "5" could mean seconds or milliseconds, and a silent guess would
// turn a scenario into a different one.
type Duration time.Duration

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String formats d like time.Duration ("1.5s").
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration reads a duration with a unit ("150ms"), or "0".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration: write it like 150ms or 2s")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not a duration: write it like 150ms or 2s", s)
		}
		return 0, fmt.Errorf("%q has no unit: write %ss or %sms", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: write it like 150ms or 2s", s)
	}
	return Duration(d), nil
}

// UnmarshalText reads a duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes d as a duration string, in ASCII ("500us", not "500µs").
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.ascii()), nil }

func (d Duration) ascii() string { return strings.ReplaceAll(d.String(), "µ", "u") }

// UnmarshalYAML reads a YAML duration string, or the number 0. It follows
// go-yaml's InterfaceUnmarshaler convention.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	return UnmarshalScalar(unmarshal, d, ParseDuration, durationFromNumber)
}

// durationFromNumber takes the number 0 only: any other bare number lacks
// the unit that says what it means.
func durationFromNumber(raw any) (Duration, error) {
	switch {
	case raw == nil:
		return 0, fmt.Errorf("missing duration: write it like 150ms or 2s")
	case isZeroNumber(raw):
		return 0, nil
	}
	switch v := raw.(type) {
	case []any, map[string]any, bool:
		return 0, fmt.Errorf("want a duration like 150ms or 2s, got %s", Described(raw))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%v is not a duration: write it like 150ms or 2s", raw)
		}
	}
	return 0, fmt.Errorf("%v has no unit: write %vs or %vms", raw, raw, raw)
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.ascii(), nil }

func isZeroNumber(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 0
	case int64:
		return n == 0
	case uint64:
		return n == 0
	case float64:
		return n == 0
	}
	return false
}
