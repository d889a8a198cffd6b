package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// TestSimAcrossRuns drives the platform as an operator does, one command
// per process: each run loads the simulated cloud from the state file and
// saves it back, so every service's state must survive the round trip.
func TestSimAcrossRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the migration command by command")
	}
	state := filepath.Join(t.TempDir(), "sim.json")
	sim := func(args ...string) string {
		t.Helper()
		// -timeout bounds replicate, validate and cutover: one that never
		// converges fails here with its output, not at the test deadline.
		code, stdout, stderr := cli(t, append([]string{"-sim", "-state", state, "-sim-speed", "20000", "-timeout", "3m"}, args...)...)
		require.Equal(t, exitOK, code, "%v\nstdout: %s\nstderr: %s", args, tail(stdout), stderr)
		return stdout
	}
	sim("apply")
	out := sim("-detailed-exitcode", "plan")
	assert.Contains(t, out, "Plan: 0 to create, 0 to update, 0 to delete", "converged across runs")
	assert.Contains(t, sim("replicate"), "Replication is continuous")
	assert.Contains(t, sim("validate"), "Validated")
	status := sim("status")
	assert.Contains(t, status, "VALIDATED")
	assert.Regexp(t, `Database\s+writer on-premises: db\.corp\.example\.internal → pg13\.dc1\.corp\.example \(blue 100 / green 0\)`, status)
	assert.Contains(t, sim("cutover"), "Cutover complete")
	status = sim("status")
	assert.Contains(t, status, "COMPLETE")
	assert.Regexp(t, `Database\s+writer AWS: db\.corp\.example\.internal → rds-target-dev\.`, status, "the switch flipped the database record")
	assert.Contains(t, status, "blue 0 / green 100")
	assert.Regexp(t, `dms-task-forward-dev\s+stopped`, status, "the database switched")
	assert.Regexp(t, `dms-task-reverse-dev\s+running`, status)
	assert.Contains(t, sim("-yes", "-reason", "a late defect", "rollback"), "Rollback: rolled-back")
	status = sim("status")
	assert.Contains(t, status, "ROLLED-BACK")
	assert.Contains(t, status, "blue 100 / green 0")
	assert.Regexp(t, `dms-task-reverse-dev\s+running`, status, "the reverse task keeps on-premises current")
	assert.Regexp(t, `Database\s+writer AWS`, status, "a traffic rollback leaves the database on AWS")
	// The bucket holds the migrated files: destroy refuses to delete them
	// unless the spec says so.
	code, _, stderr := cli(t, "-sim", "-state", state, "-sim-speed", "20000", "-yes", "destroy")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "bucket is not empty: it holds the migrated files")
	sim("-config", writeSpec(t, [2]string{"forceDeleteObjects: false", "forceDeleteObjects: true"}), "-yes", "destroy")

	cloud, err := fakecloud.LoadFile(state, 0)
	require.NoError(t, err)
	env := migration.Env{Suffix: "dev"}
	assert.Empty(t, leftovers(context.Background(), env, cloud))
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}
