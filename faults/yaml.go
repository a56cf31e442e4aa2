package faults

// unmarshalMappingOr decodes a value that YAML writes either as a mapping of
// its fields or in a short form (a word, a target, one duration). A mapping
// decodes into fields, a type with the value's fields and without its YAML
// methods, so that decoding does not recurse; anything else decodes as an S
// and goes to short. fields is written only when the mapping decodes.
func unmarshalMappingOr[F, S any](unmarshal func(any) error, fields *F, short func(S) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isMap := raw.(map[string]any); !isMap {
		var s S
		if err := unmarshal(&s); err != nil {
			return err
		}
		return short(s)
	}
	var f F
	if err := unmarshal(&f); err != nil {
		return err
	}
	*fields = f
	return nil
}
