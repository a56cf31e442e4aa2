package faults

// Range is a uniform range of durations. In YAML: {min: 1ms, max: 5ms}, or one
// duration for a constant.
type Range struct {
	Min Duration `yaml:"min"`
	Max Duration `yaml:"max"`
}

type rangeFields Range

// UnmarshalYAML reads {min, max} or one duration.
func (r *Range) UnmarshalYAML(unmarshal func(any) error) error {
	return UnmarshalMappingOr(unmarshal, (*rangeFields)(r), func(d Duration) error {
		*r = Range{Min: d, Max: d}
		return nil
	})
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
