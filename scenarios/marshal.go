package scenarios

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/simrun/simrun/internal/strictyaml"
)

// Marshal writes s as a scenario file that Parse reads back to an equal
// scenario: every key explicit (defaults included) in the order the Scenario
// type declares them, small sections and lists in flow style, one fault step
// per line. Exported failing runs use it.
//
// Keys come from the struct's yaml tags, so a key added to Scenario is
// written without touching this function; ",omitempty" keys are left out when
// empty, ",flow" ones are written on one line.
func (s *Scenario) Marshal() ([]byte, error) {
	var b bytes.Buffer
	v := reflect.ValueOf(s).Elem()
	for _, f := range strictyaml.Fields(v.Type()) {
		tag := v.Type().FieldByIndex(f.Index).Tag.Get("yaml")
		fv := v.FieldByIndex(f.Index)
		if strictyaml.HasOpt(tag, "omitempty") && isEmpty(fv) {
			continue
		}
		if err := writeKey(&b, f.Name, fv, strictyaml.HasOpt(tag, "flow")); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return b.Bytes(), nil
}

// writeKey writes one top-level key: lists of steps one per line, lists of
// scalars and ",flow" values on one line, the rest as blocks.
func writeKey(b *bytes.Buffer, key string, v reflect.Value, flow bool) error {
	if v.Kind() == reflect.Slice && v.Len() > 0 && !isScalar(v.Type().Elem()) {
		b.WriteString(key + ":\n")
		for i := range v.Len() {
			line, err := yaml.MarshalWithOptions(v.Index(i).Interface(), yaml.Flow(true))
			if err != nil {
				return err
			}
			b.WriteString("  - ")
			b.Write(bytes.TrimSpace(line))
			b.WriteByte('\n')
		}
		return nil
	}
	if v.Kind() == reflect.Slice || flow {
		val := v.Interface()
		if v.Kind() == reflect.Slice && v.IsNil() {
			val = []string{} // "checks: []" is not the same as no checks key
		}
		line, err := yaml.MarshalWithOptions(val, yaml.Flow(true))
		if err != nil {
			return err
		}
		b.WriteString(key + ": ")
		b.Write(bytes.TrimSpace(line))
		b.WriteByte('\n')
		return nil
	}
	out, err := yaml.MarshalWithOptions(yaml.MapSlice{{Key: key, Value: v.Interface()}},
		yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return false
	}
	return true
}

// isEmpty is go-yaml's omitempty: nil, zero, an empty slice or map, or a
// value whose IsZero method says so.
func isEmpty(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}
