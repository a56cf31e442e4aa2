package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeExamplesParse keeps README.md honest: every YAML example in it
// parses, a section example once completed with the required keys.
func TestReadmeExamplesParse(t *testing.T) {
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := strings.Split(string(data), "```yaml\n")[1:]
	require.NotEmpty(t, blocks)
	for i, b := range blocks {
		example := b[:strings.Index(b, "```")]
		src := example
		if !strings.Contains(example, "protocol:") {
			src = "name: example\nprotocol: raft\nnodes: 5\nduration: 60s\n" + example
		}
		_, err := Parse("README.md", []byte(src))
		require.NoError(t, err, "example %d:\n%s", i, example)
	}
}
