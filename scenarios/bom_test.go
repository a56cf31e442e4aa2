package scenarios_test

import (
	"os"
	"strings"
	"testing"

	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// TestByteOrderMarkIsSkipped: a UTF-8 byte order mark, as some editors
// write, is not part of the first key: the file parses as without it, and
// an error on its first line points where an editor shows the text.
func TestByteOrderMarkIsSkipped(t *testing.T) {
	data, err := os.ReadFile("raft-calm.yaml")
	require.NoError(t, err)
	plain, err := scenarios.Parse("raft-calm.yaml", data)
	require.NoError(t, err)
	withBOM, err := scenarios.Parse("raft-calm.yaml", append([]byte("\ufeff"), data...))
	require.NoError(t, err)
	a, err := plain.Marshal()
	require.NoError(t, err)
	b, err := withBOM.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	_, err = scenarios.Parse("bom.yaml", []byte("\ufeffnodez: 3\n"))
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "bom.yaml:1:1: nodez"), err.Error())
}
