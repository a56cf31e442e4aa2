package faults

import (
	"fmt"
	"strconv"
)

// UnmarshalScalar decodes a YAML value that is written as a string or in
// another form (a number, or null), following go-yaml's InterfaceUnmarshaler
// convention: a string goes to parse, anything else to other as go-yaml
// decodes it into an any. into is written only when one of them succeeds.
// Scenario types that read "150ms", "leader" or "200/s" but also take a bare
// number share it, so each says only what its forms mean.
func UnmarshalScalar[T any](unmarshal func(any) error, into *T, parse func(string) (T, error), other func(any) (T, error)) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	var v T
	var err error
	if s, isString := raw.(string); isString {
		v, err = parse(s)
	} else {
		v, err = other(raw)
	}
	if err != nil {
		return err
	}
	*into = v
	return nil
}

// UnmarshalMappingOr decodes a value that YAML writes either as a mapping of
// its fields or in a short form (a word, a target, one duration). A mapping
// decodes into fields, a type with the value's fields and without its YAML
// methods, so that decoding does not recurse; anything else decodes as an S
// and goes to short. fields is written only when the mapping decodes.
func UnmarshalMappingOr[F, S any](unmarshal func(any) error, fields *F, short func(S) error) error {
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

// Described names a value as YAML decoded it, for a "want ..., got ..."
// error about a field that holds the wrong kind of value: "a list", not
// Go's "[1 2]".
func Described(raw any) string {
	switch v := raw.(type) {
	case nil:
		return "nothing"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case string:
		return strconv.Quote(v)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	}
	return fmt.Sprint(raw) // a number
}
