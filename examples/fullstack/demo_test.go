package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// TestDemo runs the whole story on a fresh simulated cloud, as `demo`
// does, and checks each chapter: the plan writes nothing, the second
// apply changes nothing, the phases follow the lifecycle, the cutover
// steps 10 → 25 → 50, the incident at 50 % is rolled back by the Lambda
// (alarm → Lambda → executor), the retry goes 10 → 25 → 50 → 100 and
// completes, and destroy leaves nothing owned.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about 20 seconds")
	}
	a, cloud, out := testApp(t, demoScale)
	start := time.Now()
	res, err := demo(context.Background(), a, cloud)
	require.NoError(t, err, out.String())
	// Under a minute, as the demo promises; the race detector's slowdown
	// (and a loaded machine, whose slowness the scaled clock turns into
	// simulated hours) is not the demo's.
	took := time.Since(start)
	t.Logf("the demo: %s simulated in %s", cloud.Clock().Now().Sub(fakecloud.Epoch).Round(time.Minute), took.Round(time.Second))
	if !raceEnabled {
		assert.Less(t, took, time.Minute, "the demo finishes in under a minute")
	}

	assert.Positive(t, res.planCalls)
	assert.Zero(t, res.planWrites, "plan writes nothing")
	assert.Zero(t, res.againWrites, "the second apply writes no resource")
	assert.Equal(t, []migration.Phase{
		migration.PhaseProvisioned, migration.PhaseReplicating, migration.PhaseValidated,
		migration.PhaseRolledBack, migration.PhaseComplete,
	}, res.phases)
	assert.Equal(t, []migration.Split{
		migration.GreenPercent(10), migration.GreenPercent(25), migration.GreenPercent(50),
		migration.GreenPercent(10), migration.GreenPercent(25), migration.GreenPercent(50), migration.GreenPercent(100),
	}, res.shifts)
	assert.Equal(t, "lambda", res.rolledBackBy, "the rollback came through the alarm and the Lambda")
	// The database record: blue until the switch, green from it on — the
	// Lambda's traffic rollback leaves the database on AWS.
	allAWS := migration.GreenPercent(100)
	assert.Equal(t, [4]migration.Split{migration.AllBlue, allAWS, allAWS, allAWS}, res.database, "before the cutover, at its first step, after the Lambda's rollback, at completion")
	assert.Regexp(t, `database\s+blue 0 / green 100\s+db\.corp\.example\.internal → rds-target-dev\.\S+: the applications write to the AWS database`, out.String(), "the demo shows the flip")
	assert.Equal(t, 1, strings.Count(out.String(), "the applications write to the AWS database"), "the database flips once: the second cutover finds it switched")
	assert.Empty(t, res.leftovers)

	// The composite alarm's action invoked the rollback Lambda, which ran.
	invoked := false
	for _, d := range cloud.CloudWatch().AlarmDeliveries() {
		if d.Alarm == "alarm-rollback-dev" && d.State == "ALARM" && d.Delivered && strings.Contains(d.Action, ":function:migration-rollback-dev") {
			invoked = true
		}
	}
	assert.True(t, invoked, "the composite alarm invoked the rollback Lambda")
	ran := 0
	for _, inv := range cloud.Lambda().Invocations() {
		if inv.Function == "migration-rollback-dev" && inv.Err == "" {
			ran++
		}
	}
	assert.Positive(t, ran, "the handler ran without error")

	// Both paths delivered the composite's ALARM to the Lambda — its own
	// action and the EventBridge rule — and the executor made one
	// transition and sent one notification of it.
	via := map[string]int{}
	for _, inv := range cloud.Lambda().Invocations() {
		if inv.Function != "migration-rollback-dev" || inv.Attempt != 1 {
			continue
		}
		evs, err := rollback.DecodeAlarmEvents(inv.Payload)
		require.NoError(t, err)
		for _, ev := range evs {
			if ev.AlarmName == "alarm-rollback-dev" && ev.State == "ALARM" {
				via[ev.Via]++
			}
		}
	}
	assert.Positive(t, via["alarm-action"], "the composite alarm's action invoked the Lambda")
	assert.Positive(t, via["eventbridge"], "the EventBridge rule invoked the Lambda")
	rule := cloud.EventBridge().EventDeliveries()
	require.NotEmpty(t, rule)
	for _, d := range rule {
		assert.Equal(t, "migration-rollback-alarms-dev", d.Rule)
		assert.True(t, d.Delivered, "the function's policy allows the rule: %s", d.Err)
	}
	rolledBack := 0
	for _, m := range cloud.SNS().Published("") {
		if strings.Contains(m.Subject, "Cutover rolled back to blue") {
			rolledBack++
		}
	}
	assert.Equal(t, 1, rolledBack, "one rollback notification for two deliveries")
	assert.Contains(t, out.String(), "Nothing owned by env \"dev\" is left in the simulated cloud.")

	// The operator's IAM policy, derived from every call of the story.
	policy, err := operatorPolicy(a.env(nil), cloud.Calls())
	require.NoError(t, err)
	actions := map[string]bool{}
	for _, st := range policy.Statement {
		for _, act := range st.Action {
			actions[act] = true
		}
	}
	for _, want := range []string{"ec2:CreateVpc", "ec2:CreateVpnConnection", "kms:CreateKey", "dms:CreateReplicationInstance", "dms:StartReplicationTask",
		"rds:CreateDBInstance", "route53:ChangeResourceRecordSets", "dynamodb:PutItem", "sns:Publish", "cloudwatch:PutMetricAlarm",
		"lambda:CreateFunction", "mgn:StartCutover", "datasync:StartTaskExecution", "s3:PutEncryptionConfiguration", "ssm:SendCommand",
		"iam:CreateRole", "iam:PassRole", "events:PutRule", "events:PutTargets", "events:DeleteRule"} {
		assert.True(t, actions[want], "the operator policy allows %s", want)
	}
	assert.False(t, actions["s3:PutBucketEncryption"], "S3 operations map to their IAM actions")
	assert.Contains(t, out.String(), "Why it rolled back")
	// The status after the Lambda's rollback shows the database as it is:
	// the forward task stopped at the switch, the reverse one running.
	status := out.String()[strings.Index(out.String(), "== 7. status"):strings.Index(out.String(), "== 8.")]
	assert.Regexp(t, `dms-task-forward-dev\s+stopped`, status)
	assert.Regexp(t, `dms-task-reverse-dev\s+running`, status)
	// The reverse task carries back every table the forward task brought.
	assert.Regexp(t, `dms-task-forward-dev\s+stopped\s+lag \S+\s+tables: 6 completed`, status)
	assert.Regexp(t, `dms-task-reverse-dev\s+running\s+lag \S+\s+tables: 6 completed`, status)
	assert.Regexp(t, `datasync-task-files-dev\s+success\s+2\.0 TiB of 2\.0 TiB, \d+ files \(task-[0-9a-f]+\)`, status)
	assert.Regexp(t, `Traffic\s+blue 100 / green 0`, status)
	assert.Regexp(t, `Database\s+writer AWS: db\.corp\.example\.internal → rds-target-dev\.`, status)
}
