package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
)

// TestABrokenBuildIsTheProtocolsCrash: a protocol whose Build panics, or
// returns no Factory, is a bug in the protocol's code: run, sweep and shrink
// say so in one line (with the panic's stack), exit 5 as for a handler's
// panic, not 2 as for a bad scenario, and a sweep runs no seed.
func TestABrokenBuildIsTheProtocolsCrash(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(runner.Cluster) (runner.Servers, error)
		want  string
	}{
		{"panics", func(runner.Cluster) (runner.Servers, error) {
			var servers []int
			_ = servers[3] // a set-up bug: an index out of range
			return runner.Servers{}, nil
		}, "mysim: protocol broken: Build panicked: runtime error: index out of range [3] with length 0"},
		{"no factory", func(runner.Cluster) (runner.Servers, error) { return runner.Servers{}, nil },
			"mysim: protocol broken: Build returned Servers without a Factory (Servers.Factory is nil)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			scenario := writeIn(t, dir, "short.yaml", strings.Replace(shortScenario, "protocol: raft", "protocol: broken", 1))
			program := Program{Name: "mysim", Protocols: append(registry.Shipped(), runner.Protocol{Name: "broken", Build: c.build})}
			for _, args := range [][]string{
				{"run", scenario, "--seed", "1", "--out", filepath.Join(dir, "run")},
				{"sweep", scenario, "--seeds", "3", "--out", filepath.Join(dir, "sweep")},
				{"shrink", scenario, "--seed", "1"},
			} {
				var out, errOut bytes.Buffer
				code := program.Execute(args, &out, &errOut)
				require.Equal(t, exitCrash, code, "%s: %s%s", args[0], out.String(), errOut.String())
				first, rest, _ := strings.Cut(errOut.String(), "\n")
				require.Equal(t, c.want, first, args[0])
				if c.name == "panics" {
					require.Contains(t, rest, "crash stack\n", "the panic's stack follows the line")
					require.Contains(t, rest, "TestABrokenBuildIsTheProtocolsCrash", "the stack reaches the protocol's Build")
				} else {
					require.Empty(t, rest)
				}
			}
			require.False(t, anyFileNamed(t, filepath.Join(dir, "sweep"), "results.jsonl"), "the sweep ran no seed")
		})
	}
}

// anyFileNamed reports whether a file of that name is anywhere below root.
func anyFileNamed(t *testing.T, root, name string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		found = found || d.Name() == name
		return nil
	})
	require.NoError(t, err)
	return found
}

// fragile is a shipped protocol whose Build panics for some clusters only,
// those broken returns true for: a bug that some seeds reach.
func fragile(t *testing.T, shipped string, broken func(runner.Cluster) bool) runner.Protocol {
	t.Helper()
	inner, ok := registry.Lookup(shipped)
	require.True(t, ok, "no shipped protocol %s", shipped)
	return runner.Protocol{Name: "fragile", Build: func(c runner.Cluster) (runner.Servers, error) {
		if broken(c) {
			panic("fragile: this cluster breaks the set-up")
		}
		return inner.Build(c)
	}}
}

// TestABuildThatBreaksForSomeSeedsIsTheirCrash: a Build that panics only
// for the cluster size an options swarm draws is not taken for a size that
// does not fit, and one that panics only for the Byzantine server some
// seeds draw makes those seeds protocol crashes: exit 5 either way.
func TestABuildThatBreaksForSomeSeedsIsTheirCrash(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return writeIn(t, dir, name, text) }
	sized := Program{Name: "mysim", Protocols: append(registry.Shipped(),
		fragile(t, "raft", func(c runner.Cluster) bool { return c.Scenario.Nodes == 5 }))}
	scenario := write("sized.yaml", strings.Replace(shortScenario, "protocol: raft\nnodes: 3", "protocol: fragile\nnodes: 5\nswarm_options: [nodes]", 1))
	var out, errOut bytes.Buffer
	code := sized.Execute([]string{"run", scenario, "--seed", "1", "--out", filepath.Join(dir, "run")}, &out, &errOut)
	require.Equal(t, exitCrash, code, out.String()+errOut.String())
	require.True(t, strings.HasPrefix(errOut.String(), "mysim: protocol fragile: Build panicked: fragile: this cluster breaks the set-up\n"), errOut.String())

	byzantine := Program{Name: "mysim", Protocols: append(registry.Shipped(),
		fragile(t, "pbft", func(c runner.Cluster) bool {
			return len(c.Byzantine) > 0 && c.Byzantine[0].ID == 2
		}))}
	scenario = write("byzantine.yaml", strings.Replace(shortScenario, "protocol: raft\nnodes: 3",
		"protocol: fragile\nnodes: 4\nbyzantine: [{count: 1, behaviour: silent}]", 1))
	out.Reset()
	errOut.Reset()
	code = byzantine.Execute([]string{"sweep", scenario, "--seeds", "12", "--parallel", "1", "--out", filepath.Join(dir, "sweep")}, &out, &errOut)
	require.Equal(t, exitCrash, code, out.String()+errOut.String())
	require.Regexp(t, `crash +[1-9]\d*\n`, out.String(), "the seeds that drew server 2")
	require.Regexp(t, `pass +[1-9]\d*\n`, out.String(), "the others ran")
	require.Contains(t, out.String(), "Build panicked: fragile: this cluster breaks the set-up")
}

// crashy wraps a node so that it panics when it receives its tenth message.
type crashy struct {
	sim.Node
	received int
}

func (c *crashy) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if c.received++; c.received == 10 {
		panic("crashy: an invariant broke")
	}
	c.Node.Receive(env, from, m)
}

// TestAHandlersPanicPrintsItsStackAndLastEvents: a panic in a handler is a
// protocol crash whose summary shows the stack and the events that led to
// it, as docs/PROTOCOLS.md promises.
func TestAHandlersPanicPrintsItsStackAndLastEvents(t *testing.T) {
	inner, ok := registry.Lookup("raft")
	require.True(t, ok)
	proto := runner.Protocol{Name: "crashy", Build: func(c runner.Cluster) (runner.Servers, error) {
		s, err := inner.Build(c)
		factory := s.Factory
		s.Factory = func(id sim.NodeID) sim.Node { return &crashy{Node: factory(id)} }
		return s, err
	}}
	dir := t.TempDir()
	scenario := writeIn(t, dir, "crashy.yaml", strings.Replace(shortScenario, "protocol: raft", "protocol: crashy", 1))
	var out, errOut bytes.Buffer
	code := Program{Name: "mysim", Protocols: append(registry.Shipped(), proto)}.Execute(
		[]string{"run", scenario, "--seed", "1", "--out", filepath.Join(dir, "run")}, &out, &errOut)
	require.Equal(t, exitCrash, code, out.String()+errOut.String())
	require.Contains(t, out.String(), "crash stack\n")
	require.Regexp(t, `last events before the crash\n(    .*\n){32}verdict     CRASH: node n\d panicked at event \d+ .*: crashy: an invariant broke\n`, out.String())
}

// TestAProgramsHelpSaysWhereTheShippedScenariosAre: a program of the user's
// own names itself in its help and examples, and says that the scenario
// files they name are simrun's, not the user's module's; simrun's own help
// does not.
func TestAProgramsHelpSaysWhereTheShippedScenariosAre(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"sweep", "--help"}, {"shrink", "--help"}} {
		var out, errOut bytes.Buffer
		mysim := Program{Name: "mysim", Protocols: registry.Shipped()}
		require.Zero(t, mysim.Execute(args, &out, &errOut), errOut.String())
		require.Contains(t, out.String(), "\n  mysim ", args)
		require.Contains(t, out.String(), shippedScenariosNote, args)
		out.Reset()
		require.Zero(t, Program{Name: "simrun", Protocols: registry.Shipped()}.Execute(args, &out, &errOut), errOut.String())
		require.NotContains(t, out.String(), shippedScenariosNote, args)
	}
}
