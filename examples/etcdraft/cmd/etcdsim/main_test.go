package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func execute(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := program().Execute(args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// etcdsim runs etcdraft scenarios and names itself in replay lines, so a
// printed replay runs on the binary that printed it.
func TestEtcdsimRunsAndReplaysItself(t *testing.T) {
	code, out := execute(t, "run", filepath.Join("..", "..", "scenarios", "etcdraft-swarm.yaml"), "--seed", "3")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "etcdraft-swarm (etcdraft, 5 nodes)")

	bug := filepath.Join("..", "..", "scenarios", "bugs", "etcdraft-bug-no-hardstate.yaml")
	code, out = execute(t, "run", bug, "--seed", "1", "--out", t.TempDir())
	assert.Equal(t, 3, code, "a safety violation exits 3:\n%s", out)
	assert.Contains(t, out, "replay      etcdsim run "+bug+" --seed 1")

	code, out = execute(t, "protocols")
	assert.Equal(t, 0, code)
	for _, name := range []string{"etcdraft:", "raft:", "paxos:", "pbft:", "send-before-persist"} {
		assert.Contains(t, out, name)
	}
}
