package service

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckBugs(t *testing.T) {
	known := []Bug{{Name: "a"}, {Name: "b"}}
	require.NoError(t, CheckBugs("p", known, nil))
	require.NoError(t, CheckBugs("p", known, []string{"b", "a"}))
	require.EqualError(t, CheckBugs("p", known, []string{"a", "c"}), `p: bugs[1]: unknown bug "c" (known: a, b)`)
	require.EqualError(t, CheckBugs("p", known, []string{"a", "a"}), `p: bugs[1]: bug "a" listed twice`)
}
