package scenarios

import (
	"bytes"
	"fmt"

	"github.com/goccy/go-yaml"
)

// Marshal writes s as a scenario file that Parse reads back to an equal
// scenario: every key explicit (defaults included) in the order of the
// README, one fault step per line in flow style. Exported failing runs use it.
func (s *Scenario) Marshal() ([]byte, error) {
	head := yaml.MapSlice{{Key: "name", Value: s.Name}}
	if s.Description != "" {
		head = append(head, yaml.MapItem{Key: "description", Value: s.Description})
	}
	head = append(head, yaml.MapItem{Key: "protocol", Value: s.Protocol}, yaml.MapItem{Key: "nodes", Value: s.Nodes})
	if s.Seed != nil {
		head = append(head, yaml.MapItem{Key: "seed", Value: *s.Seed})
	}
	head = append(head, yaml.MapItem{Key: "duration", Value: s.Duration}, yaml.MapItem{Key: "drain", Value: s.Drain})
	if s.MaxEvents != 0 {
		head = append(head, yaml.MapItem{Key: "max_events", Value: s.MaxEvents})
	}
	head = append(head, yaml.MapItem{Key: "network", Value: s.Network}, yaml.MapItem{Key: "workload", Value: s.Workload})

	var b bytes.Buffer
	if err := encodeBlock(&b, head); err != nil {
		return nil, err
	}
	if len(s.Faults) > 0 {
		b.WriteString("faults:\n")
		for i, st := range s.Faults {
			line, err := yaml.MarshalWithOptions(st, yaml.Flow(true))
			if err != nil {
				return nil, fmt.Errorf("faults[%d]: %w", i, err)
			}
			b.WriteString("  - ")
			b.Write(bytes.TrimSpace(line))
			b.WriteByte('\n')
		}
	}
	checks := s.Checks
	if checks == nil {
		checks = []string{}
	}
	line, err := yaml.MarshalWithOptions(checks, yaml.Flow(true))
	if err != nil {
		return nil, fmt.Errorf("checks: %w", err)
	}
	b.WriteString("checks: ")
	b.Write(bytes.TrimSpace(line))
	b.WriteByte('\n')
	if len(s.ProtocolOptions) > 0 {
		if err := encodeBlock(&b, yaml.MapSlice{{Key: "protocol_options", Value: s.ProtocolOptions}}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func encodeBlock(b *bytes.Buffer, v any) error {
	out, err := yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}
