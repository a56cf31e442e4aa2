package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// TestKubernetesJobIsValid: the shipped Indexed Job parses as YAML, shards
// the seeds over as many pods as it completes, names a shipped scenario, and
// passes simrun sweep only flags it has.
func TestKubernetesJobIsValid(t *testing.T) {
	data, err := os.ReadFile("../deploy/k8s-sweep-job.yaml")
	require.NoError(t, err)
	docs := bytes.Split(data, []byte("\n---\n"))
	require.Len(t, docs, 2)
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string `yaml:"args"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(docs[0], &job))
	require.Equal(t, "batch/v1", job.APIVersion)
	require.Equal(t, "Job", job.Kind)
	require.Equal(t, "Indexed", job.Spec.CompletionMode)
	require.Len(t, job.Spec.Template.Spec.Containers, 1)
	script := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " ")
	line := strings.TrimSpace(strings.SplitN(script, ";", 2)[0])
	args := strings.Fields(strings.NewReplacer(`"`, "", "$JOB_COMPLETION_INDEX", "0").Replace(line))
	require.Equal(t, "/usr/local/bin/simrun", args[0])
	require.Equal(t, "sweep", args[1])

	shard := regexp.MustCompile(`--shard 0/(\d+)`).FindStringSubmatch(strings.Join(args, " "))
	require.NotNil(t, shard, line)
	n, _ := strconv.Atoi(shard[1])
	require.Equal(t, job.Spec.Completions, n, "one shard per completion index")

	scenario := strings.TrimPrefix(args[2], "/scenarios/")
	require.FileExists(t, filepath.Join("..", "scenarios", scenario))
	cmd := (&app{name: "simrun"}).newSweepCmd()
	require.NoError(t, cmd.ParseFlags(args[3:]), "flags of simrun sweep")
	require.Equal(t, "0/8", cmd.Flags().Lookup("shard").Value.String())

	requireResultCodesPass(t, script)

	var pvc struct {
		Kind string `yaml:"kind"`
	}
	require.NoError(t, yaml.Unmarshal(docs[1], &pvc))
	require.Equal(t, "PersistentVolumeClaim", pvc.Kind)
}

func TestCIWorkflowExampleIsValidYAML(t *testing.T) {
	data, err := os.ReadFile("../deploy/github-actions-sweep.yml")
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Needs string `yaml:"needs"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(data, &wf))
	require.Contains(t, wf.Jobs, "shard")
	require.Equal(t, "shard", wf.Jobs["merge"].Needs)
	requireResultCodesPass(t, string(data))
}

// requireResultCodesPass requires the script's exit-code filter (case
// "$code" in 0|3|...) to let every failure class's code through, as a result
// for merge to judge, and not an internal error or bad input.
func requireResultCodesPass(t *testing.T, script string) {
	t.Helper()
	m := regexp.MustCompile(`case "\$code" in ([0-9|]+)\)`).FindStringSubmatch(script)
	require.NotNil(t, m, "no exit-code filter in:\n%s", script)
	passed := strings.Split(m[1], "|")
	for _, class := range byGravity {
		require.Contains(t, passed, strconv.Itoa(exitCodeFor(class)), "a %s seed is a result", class)
	}
	require.NotContains(t, passed, strconv.Itoa(exitInternal))
	require.NotContains(t, passed, strconv.Itoa(exitBadInput))
}
