package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), got)
}

// cli runs the command line with args and returns the exit code and the
// output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLIUsageAndExitCodes(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim.json")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, exitUsage, "", "usage: fullstack"},
		{"unknown command", []string{"fly"}, exitUsage, "", `unknown command "fly"`},
		{"bad flag", []string{"-nope", "plan"}, exitUsage, "", "flag provided but not defined"},
		{"bad output", []string{"-o", "xml", "plan"}, exitUsage, "", "-o must be text or json"},
		{"help", []string{"-h"}, exitOK, "", "commands:"},
		{"command help", []string{"cutover", "-h"}, exitOK, "", "switches the database once"},
		{"stray argument", []string{"plan", "extra"}, exitUsage, "", "unexpected arguments"},
		{"invalid spec", []string{"-config", writeSpec(t, [2]string{"cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"}), "-sim", "-state", state, "plan"}, exitUsage, "", "network.vpc.cidr"},
		{"missing spec", []string{"-config", "/nonexistent.yaml", "plan"}, exitUsage, "", "read spec"},
		{"rollback needs a reason", []string{"-sim", "-state", state, "rollback"}, exitUsage, "", "-reason"},
		{"rollback needs confirmation", []string{"-sim", "-state", state, "-reason", "test", "rollback"}, exitUsage, "", "without -yes"},
		{"destroy needs confirmation", []string{"-sim", "-state", state, "destroy"}, exitUsage, "", "without -yes"},
		{"plan with changes", []string{"-sim", "-state", state, "-detailed-exitcode", "plan"}, exitChanges, "Plan: ", ""},
		{"status before apply", []string{"-sim", "-state", state, "status"}, exitFailure, "", "run apply first"},
		{"replicate before apply", []string{"-sim", "-state", state, "replicate"}, exitFailure, "", "run apply first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.args...)
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout, tt.stdout)
			assert.Contains(t, stderr, tt.stderr)
		})
	}
}

// TestCLICommandHelp: -h on every subcommand exits 0 and says what the
// command does, and the top-level usage lists every command.
func TestCLICommandHelp(t *testing.T) {
	_, _, usage := cli(t, "-h")
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			assert.Contains(t, usage, "  "+c.name+" ", "the usage lists %s", c.name)
			code, stdout, stderr := cli(t, c.name, "-h")
			assert.Equal(t, exitOK, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "usage: fullstack [flags] "+c.name+" [flags]")
			assert.Contains(t, strings.Join(strings.Fields(stderr), " "), c.help, "the whole help text")
			assert.Contains(t, stderr, "-config", "and the flags")
		})
	}
	want := []string{"init", "plan", "apply", "status", "replicate", "validate", "cutover", "rollback", "destroy", "demo", "iam-policy"}
	var got []string
	for _, c := range commands {
		got = append(got, c.name)
	}
	assert.ElementsMatch(t, want, got)
}

func TestCLIInit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cutover.yaml")
	code, stdout, _ := cli(t, "-config", path, "init")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "wrote "+path)
	s, err := loadSpec(path)
	require.NoError(t, err)
	require.NoError(t, s.Validate(), "the written spec and certificates validate")
	code, _, stderr := cli(t, "-config", path, "init")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "exists")
}

// TestCLIPlanGolden: the plan of the reference migration on an empty
// simulated cloud, as an operator reads it.
func TestCLIPlanGolden(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim.json")
	code, stdout, stderr := cli(t, "-sim", "-state", state, "plan")
	require.Equal(t, exitOK, code, stderr)
	golden(t, "plan.golden", stdout)

	code, stdout, stderr = cli(t, "-sim", "-state", state, "-o", "json", "plan")
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, `{"changes":[`), stdout[:min(len(stdout), 80)])
}

// TestStatusGolden: the status view of a migration mid-cutover, rolled
// back once: traffic on blue, the database still written on AWS.
func TestStatusGolden(t *testing.T) {
	at := time.Date(2026, 11, 2, 21, 30, 0, 0, time.UTC)
	st := tracking.Status{
		Env:   "dev",
		Phase: tracking.PhaseState{Phase: migration.PhaseRolledBack, Version: 7, Epoch: 1, Since: at.Add(-20 * time.Minute), Reason: "green-5xx-rate: 2 of the last 3 datapoints > 1", Actor: "lambda"},
		Servers: []migration.ServerStatus{
			{Name: "app-01", State: "CUTTING_OVER", Replication: "CONTINUOUS", Percent: 100, At: at},
			{Name: "app-02", State: "CUTTING_OVER", Replication: "CONTINUOUS", Percent: 100, At: at},
			{Name: "app-03", State: "READY_FOR_CUTOVER", Replication: "STALLED", Percent: 100, At: at},
		},
		Databases: []migration.ReplicationLag{
			{Task: "dms-task-forward-dev", Status: "stopped", At: at, Tables: map[string]int{"Table completed": 6}},
			{Task: "dms-task-reverse-dev", Status: "running", Source: 2 * time.Second, Target: 4 * time.Second, At: at},
		},
		Transfers:   []migration.TransferStatus{{Task: "arn:aws:datasync:us-east-1:123456789012:task/task-0a1b2c3d4e5f60718", Execution: "arn:aws:datasync:us-east-1:123456789012:task/task-0a1b2c3d4e5f60718/execution/exec-0f1e2d3c4b5a69788", Status: "SUCCESS", BytesDone: 2 << 40, BytesTotal: 2 << 40, FilesDone: 1800000, At: at}},
		Validations: []migration.ValidationResult{{Name: "validate-application-health-dev", Passed: true, At: at.Add(-2 * time.Hour), Instances: []migration.InstanceResult{{InstanceID: "i-1", Name: "app-01", Passed: true}, {InstanceID: "i-2", Name: "app-02", Passed: true}}}},
		Split:       &tracking.SplitState{Split: migration.AllBlue, ChangeID: "C0FFDD8D3D3394CB38", At: at.Add(-20 * time.Minute), Actor: "lambda"},
		Events: []migration.HistoryEntry{
			{Time: at.Add(-60 * time.Minute), Type: "transition", Actor: "controller", Summary: "validated → cutting-over: cutover started"},
			{Time: at.Add(-21 * time.Minute), Type: "rollback", Actor: "lambda", Summary: "rolled back from cutting-over", Details: map[string]string{
				"reason": "green-5xx-rate: 2 of the last 3 datapoints > 1 (need 2) [12.5 12.5 0.08]", "via": "alarm-action", "changeId": "C0FFDD8D3D3394CB38", "reverseLag": "4.2s",
				"rule.green-5xx-rate":                       "breaching: 2 of the last 3 datapoints > 1 (need 2) [12.5 12.5 0.08]",
				"rule.green-5xx-rate.values":                "21:08:00=12.5 21:07:00=12.5 21:06:00=0.08",
				"rule.green-p99-latency":                    "ok: 0 of the last 5 datapoints > 1.5 (alarm at 3) [0.18 0.18 0.18 0.18 0.18]",
				"rule.green-p99-latency.query":              "AWS/ApplicationELB TargetResponseTime{LoadBalancer=app/web-green-dev/0123456789abcdef} p99 per 1m0s",
				"rule.green-p99-latency.values":             "21:08:00=0.18 21:07:00=0.18 21:06:00=0.18 21:05:00=0.18 21:04:00=0.18",
				"rule.server-replication-stalled":           "ok (dry run): 0 of the last 2 datapoints > 0 (alarm at 2) [- -]",
				"rule.server-replication-stalled.threshold": "> 0",
			}},
		},
		At: at,
	}
	var b bytes.Buffer
	db := &databaseRecord{Name: "db.corp.example.internal", Blue: "pg13.dc1.corp.example", Green: "rds-target-dev.c0ffee123456.us-east-1.rds.amazonaws.com", Split: migration.GreenPercent(100)}
	require.NoError(t, writeStatus(&b, st, db))
	golden(t, "status.golden", b.String())
}
