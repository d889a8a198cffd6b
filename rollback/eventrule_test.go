package rollback_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

const testRuleName = "migration-rollback-alarms-dev"

func ruleSpec(env migration.Env) rollback.AlarmRuleSpec {
	return rollback.AlarmRuleSpec{
		AlarmARNs:   []string{rollback.AlarmARN(env, rollback.CompositeAlarmName(env))},
		FunctionARN: rollback.FunctionARN(env),
	}
}

func ruleChange(t *testing.T, r *migration.Report) migration.Change {
	t.Helper()
	var out []migration.Change
	for _, c := range r.Changes() {
		if c.Kind == rollback.KindEventRule {
			out = append(out, c)
		}
	}
	require.Len(t, out, 1)
	return out[0]
}

func TestEnsureAlarmRule(t *testing.T) {
	ctx := context.Background()
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
		t.Helper()
		env.Reporter = nil
		_, err := rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), spec)
		require.NoError(t, err)
	}
	eb := func(cloud *fakecloud.Cloud) *fakecloud.EventBridge { return cloud.EventBridge() }
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec)
		edit       func(s *rollback.AlarmRuleSpec)
		dryRun     bool
		faults     fakecloud.Faults
		wantAction migration.Action
		wantDiff   []string // fields
		wantWrites []string
		wantErr    string
	}{
		{name: "missing: the rule is created with its target", wantAction: migration.ActionCreate, wantWrites: []string{"PutRule", "PutTargets"}},
		{name: "converged: reads only", setup: ensure, wantAction: migration.ActionNoop},
		{name: "another alarm: one PutRule with the new pattern", setup: ensure, edit: func(s *rollback.AlarmRuleSpec) {
			s.AlarmARNs = append(s.AlarmARNs, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-other-dev")
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"eventPattern"}, wantWrites: []string{"PutRule"}},
		{name: "disabled by hand: re-enabled", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			_, err := eb(cloud).PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testRuleName), EventPattern: aws.String(rollback.AlarmRulePattern(spec.AlarmARNs)),
				Description: aws.String("Invokes the rollback Lambda of cutover env dev when its rollback alarm goes to ALARM"), State: ebtypes.RuleStateDisabled})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"state"}, wantWrites: []string{"PutRule"}},
		{name: "the same pattern spaced and ordered otherwise is converged", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			pattern := `{ "detail": {"state": {"value": ["ALARM"]}}, "resources": ["` + spec.AlarmARNs[0] + `"], "detail-type": ["CloudWatch Alarm State Change"], "source": ["aws.cloudwatch"] }`
			_, err := eb(cloud).PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testRuleName), EventPattern: aws.String(pattern),
				Description: aws.String("Invokes the rollback Lambda of cutover env dev when its rollback alarm goes to ALARM")})
			require.NoError(t, err)
		}, wantAction: migration.ActionNoop},
		{name: "the target points elsewhere: one PutTargets", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			_, err := eb(cloud).PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(testRuleName), Targets: []ebtypes.Target{{Id: aws.String("rollback-lambda"), Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:other")}}})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"target rollback-lambda"}, wantWrites: []string{"PutTargets"}},
		{name: "the target transforms the event: one PutTargets", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			_, err := eb(cloud).PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(testRuleName), Targets: []ebtypes.Target{{Id: aws.String("rollback-lambda"), Arn: aws.String(spec.FunctionARN), Input: aws.String(`{}`)}}})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"target rollback-lambda"}, wantWrites: []string{"PutTargets"}},
		{name: "the target was removed (a crash after PutRule): put back", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			_, err := eb(cloud).RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(testRuleName), Ids: []string{"rollback-lambda"}})
			require.NoError(t, err)
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"target rollback-lambda"}, wantWrites: []string{"PutTargets"}},
		{name: "someone else's target on the rule is left alone", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			ensure(t, env, cloud, spec)
			_, err := eb(cloud).PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(testRuleName), Targets: []ebtypes.Target{{Id: aws.String("audit"), Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:audit")}}})
			require.NoError(t, err)
		}, wantAction: migration.ActionNoop},
		{name: "a tag went missing: TagResource", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			env.UserTags = nil
			ensure(t, env, cloud, spec)
		}, edit: nil, wantAction: migration.ActionUpdate, wantDiff: []string{"tags"}, wantWrites: []string{"TagResource"}},
		{name: "a crash after PutRule: the next run finds the rule and adds the target", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
			env.Reporter = nil
			_, err := rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), spec)
			require.ErrorIs(t, err, fakecloud.ErrCrash)
			cloud.Restart()
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"target rollback-lambda"}, wantWrites: []string{"PutTargets"}},
		{name: "eventual consistency after create: found again, not duplicated", faults: fakecloud.Faults{NotFoundReads: 1}, wantAction: migration.ActionCreate,
			wantWrites: []string{"PutRule", "PutTargets"}},
		{name: "a rule not visible yet is put again by name, never duplicated", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			cloud.SetFaults(fakecloud.Faults{NotFoundReads: 1})
			ensure(t, env, cloud, spec)
		}, wantAction: migration.ActionCreate, wantWrites: []string{"PutRule", "PutTargets"}},
		{name: "dry run: reads only, a pending ARN", dryRun: true, wantAction: migration.ActionCreate},
		{name: "dry run over a pending function: no call at all", dryRun: true, edit: func(s *rollback.AlarmRuleSpec) {
			s.FunctionARN = migration.Pending("migration-rollback-dev")
		}, wantAction: migration.ActionCreate},
		{name: "dry run of a drifted rule shows the diff and writes nothing", dryRun: true, setup: ensure, edit: func(s *rollback.AlarmRuleSpec) {
			s.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:other-dev"
		}, wantAction: migration.ActionUpdate, wantDiff: []string{"target rollback-lambda"}},
		{name: "a rule of that name without the ownership tag is refused", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, spec rollback.AlarmRuleSpec) {
			_, err := eb(cloud).PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testRuleName), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`)})
			require.NoError(t, err)
		}, wantErr: "without the ownership tag cutover:env=dev; refusing to adopt it"},
		{name: "a pending ID outside a dry run is refused", edit: func(s *rollback.AlarmRuleSpec) {
			s.FunctionARN = migration.Pending("migration-rollback-dev")
		}, wantErr: "pending: ensure them first"},
		{name: "no alarm is refused before any call", edit: func(s *rollback.AlarmRuleSpec) { s.AlarmARNs = nil }, wantErr: "rule.alarmArns: at least one alarm ARN is required"},
		{name: "an alarm of another Region is refused before any call", edit: func(s *rollback.AlarmRuleSpec) {
			s.AlarmARNs = []string{"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alarm-rollback-dev"}
		}, wantErr: `rule.alarmArns: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alarm-rollback-dev" is in Region eu-west-1, not the env's us-east-1`},
		{name: "an alarm of another account is refused before any call", edit: func(s *rollback.AlarmRuleSpec) {
			s.AlarmARNs = []string{"arn:aws:cloudwatch:us-east-1:210987654321:alarm:alarm-rollback-dev"}
		}, wantErr: `is in account 210987654321, not the env's 123456789012`},
		{name: "a topic as the function is refused before any call", edit: func(s *rollback.AlarmRuleSpec) { s.FunctionARN = testTopicARN },
			wantErr: `rule.functionArn: "` + testTopicARN + `" is not a Lambda function ARN`},
		{name: "an SNS topic as an alarm, listed twice, is refused with both errors", edit: func(s *rollback.AlarmRuleSpec) {
			s.AlarmARNs = []string{testTopicARN, testTopicARN}
		}, wantErr: "is not a CloudWatch alarm ARN\nrule.alarmArns: \"" + testTopicARN + "\" listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			env.UserTags = map[string]string{"CostCenter": "migration"}
			spec := ruleSpec(env)
			if tt.setup != nil {
				tt.setup(t, env, cloud, spec)
			}
			if tt.edit != nil {
				tt.edit(&spec)
			}
			cloud.ResetCalls()
			cloud.SetFaults(tt.faults)
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			rule, err := rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure rule "migration-rollback-alarms-dev": `)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			ch := ruleChange(t, report)
			assert.Equal(t, tt.wantAction, ch.Action)
			var fields []string
			for _, d := range ch.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.dryRun {
				if tt.wantAction == migration.ActionCreate {
					assert.Equal(t, migration.Pending(testRuleName), rule.ARN)
					assert.Equal(t, rule.ARN, ch.ID)
					assert.Empty(t, cloud.EventBridge().RuleNames())
				}
				if migration.IsPending(spec.FunctionARN) {
					assert.Empty(t, cloud.Calls(), "a pending parent: no call")
				}
				return
			}
			cloud.SetFaults(fakecloud.Faults{})

			// The state: the rule as specified, once.
			assert.Equal(t, []string{testRuleName}, cloud.EventBridge().RuleNames())
			assert.Equal(t, rollback.AlarmRuleARN(env), rule.ARN)
			assert.Equal(t, rule.ARN, ch.ID)
			got, err := eb(cloud).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(testRuleName)})
			for range tt.faults.NotFoundReads { // not visible yet: read again
				if err == nil {
					break
				}
				got, err = eb(cloud).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(testRuleName)})
			}
			require.NoError(t, err)
			assert.Equal(t, ebtypes.RuleStateEnabled, got.State)
			assert.JSONEq(t, rollback.AlarmRulePattern(spec.AlarmARNs), aws.ToString(got.EventPattern))
			targets, err := eb(cloud).ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(testRuleName)})
			require.NoError(t, err)
			var ours []ebtypes.Target
			for _, tg := range targets.Targets {
				if aws.ToString(tg.Id) == "rollback-lambda" {
					ours = append(ours, tg)
				}
			}
			require.Len(t, ours, 1)
			assert.Equal(t, spec.FunctionARN, aws.ToString(ours[0].Arn))
			assert.Nil(t, ours[0].Input, "the event as it is")
			tags, err := eb(cloud).ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(rule.ARN)})
			require.NoError(t, err)
			tagMap := map[string]string{}
			for _, tg := range tags.Tags {
				tagMap[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			for k, v := range env.NameTags(testRuleName) {
				assert.Equal(t, v, tagMap[k], "tag %s", k)
			}

			// A second apply of the same spec changes nothing.
			cloud.ResetCalls()
			report2 := &migration.Report{}
			env.Reporter = report2
			_, err = rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
			assert.Equal(t, migration.ActionNoop, ruleChange(t, report2).Action)
		})
	}
}

func TestAlarmRulePattern(t *testing.T) {
	got := rollback.AlarmRulePattern([]string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:b", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"})
	assert.Equal(t, `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],`+
		`"resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a","arn:aws:cloudwatch:us-east-1:123456789012:alarm:b"],`+
		`"detail":{"state":{"value":["ALARM"]}}}`, got, "resources sorted, keys in the documented order")
	assert.True(t, json.Valid([]byte(got)))
}

func TestDeleteAlarmRule(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud)
		dryRun     bool
		wantAction migration.Action
		wantNote   string
		wantWrites []string
		wantRules  []string
	}{
		{name: "owned: targets, then the rule", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			env.Reporter = nil
			_, err := rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), ruleSpec(env))
			require.NoError(t, err)
			_, err = cloud.EventBridge().PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(testRuleName), Targets: []ebtypes.Target{{Id: aws.String("audit"), Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:audit")}}})
			require.NoError(t, err)
		}, wantAction: migration.ActionDelete, wantWrites: []string{"RemoveTargets", "DeleteRule"}},
		{name: "dry run: reads only", dryRun: true, setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			env.Reporter = nil
			_, err := rollback.EnsureAlarmRule(ctx, env, cloud.EventBridge(), ruleSpec(env))
			require.NoError(t, err)
		}, wantAction: migration.ActionDelete, wantRules: []string{testRuleName}},
		{name: "gone: a no-op", wantAction: migration.ActionNoop, wantNote: "already deleted"},
		{name: "a look-alike without the ownership tag is left in place", setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			_, err := cloud.EventBridge().PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testRuleName), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`),
				Tags: []ebtypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev2")}}})
			require.NoError(t, err)
		}, wantAction: migration.ActionNoop, wantNote: "not owned by this env; left in place", wantRules: []string{testRuleName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			require.NoError(t, rollback.DeleteAlarmRule(ctx, env, cloud.EventBridge(), ruleSpec(env)))
			ch := ruleChange(t, report)
			assert.Equal(t, tt.wantAction, ch.Action)
			assert.Equal(t, tt.wantNote, ch.Note)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.wantRules == nil {
				assert.Empty(t, cloud.EventBridge().RuleNames())
			} else {
				assert.Equal(t, tt.wantRules, cloud.EventBridge().RuleNames())
			}
		})
	}

	t.Run("a bad env or spec is refused before any call", func(t *testing.T) {
		env, cloud, _ := cloudEnv(t)
		spec := ruleSpec(env)
		spec.FunctionARN = ""
		err := rollback.DeleteAlarmRule(ctx, env, cloud.EventBridge(), spec)
		require.ErrorContains(t, err, `delete rule "migration-rollback-alarms-dev": rule.functionArn: "" is not a Lambda function ARN (required)`)
		assert.Empty(t, cloud.Calls())
	})
}
