package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shippedScenarioFiles lists the scenario files the repository ships: the
// examples beside this package and the planted-bug ones under bugs/.
func shippedScenarioFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	bugs, err := filepath.Glob(filepath.Join("bugs", "*.yaml"))
	require.NoError(t, err)
	return append(files, bugs...)
}

func TestShippedScenariosParse(t *testing.T) {
	for _, f := range shippedScenarioFiles(t) {
		t.Run(f, func(t *testing.T) {
			sc, err := ParseFile(f)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(filepath.Base(f), ".yaml"), sc.Name, "the name matches the file")
			assert.LessOrEqual(t, sc.Duration, Duration(30*time.Second), "shipped scenarios stay quick")
			assert.Positive(t, sc.Workload.Clients)
			assertRoundTrip(t, sc)
		})
	}
}

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

// TestEveryShippedScenarioHasARow keeps README.md's catalogue whole: each
// scenario beside this package has a row of its own in a table of shipped
// scenarios, or falls under a row naming a family: pbft-byz-<behaviour>-n4
// and -n7, whose file name must then say what the file holds.
func TestEveryShippedScenarioHasARow(t *testing.T) {
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(data)
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasPrefix(f, "pbft-byz-") && strings.Contains(readme, "| `pbft-byz-<behaviour>-n") {
			assertNamedForItsByzantine(t, f)
			continue
		}
		assert.True(t, strings.Contains(readme, "| `"+f+"` |"), "README.md has no row for %s", f)
	}
}

// byzantineFamily is the name of a pbft-byz scenario: its behaviour, then
// its number of replicas.
var byzantineFamily = regexp.MustCompile(`^pbft-byz-([a-z-]+)-n(4|7)\.yaml$`)

// assertNamedForItsByzantine checks that a pbft-byz-<behaviour>-n<N> file has
// N replicas and Byzantine ones playing that behaviour, so that the
// family's README row describes it.
func assertNamedForItsByzantine(t *testing.T, file string) {
	t.Helper()
	m := byzantineFamily.FindStringSubmatch(file)
	if !assert.NotNil(t, m, "%s: not named pbft-byz-<behaviour>-n4 or -n7", file) {
		return
	}
	sc, err := ParseFile(file)
	require.NoError(t, err)
	assert.Equal(t, m[2], strconv.Itoa(sc.Nodes), "%s: nodes", file)
	if assert.NotEmpty(t, sc.Byzantine, "%s: no byzantine servers", file) {
		assert.Equal(t, m[1], sc.Byzantine[0].Behaviour, "%s: behaviour", file)
	}
}
