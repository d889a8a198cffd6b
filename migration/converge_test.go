package migration_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestConverge(t *testing.T) {
	boom := errors.New("boom")
	base := migration.Change{Kind: "thing", Name: "thing-dev", ID: "t-1", Note: "a note"}
	env := migration.Env{Suffix: "dev"}
	envTags := env.NameTags("thing-dev") // Name, cutover:env, Environment, ManagedBy, Project

	tests := []struct {
		name string
		// record records on c; write(label) returns a write that logs
		// label and fails when label is in failing.
		record    func(c *migration.Converge, write func(label string) func() error)
		failing   string
		dryRun    bool
		report    migration.Change // a caller's Action and Diff are replaced
		wantRan   []string
		wantErr   bool
		wantDiff  []migration.FieldDiff
		wantNoted bool // a Change was reported
	}{
		{
			name:      "nothing differs: noop, no diff, the note kept, no write",
			record:    func(c *migration.Converge, write func(string) func() error) {},
			wantNoted: true,
		},
		{
			name: "fields and tags: update with the diff in recording order, the writes in the same order",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.Fix("retention", "7", "30", write("retention"))
				c.Tags(map[string]string{migration.OwnerTag: "dev", "Name": "old"}, envTags, func(missing map[string]string) error {
					return write(fmt.Sprint("tag ", len(missing)))()
				})
			},
			wantRan: []string{"retention", "tag 4"},
			wantDiff: []migration.FieldDiff{
				{Field: "retention", From: "7", To: "30"},
				{Field: "tags", From: "(missing)", To: "[Environment ManagedBy Name Project]"},
			},
			wantNoted: true,
		},
		{
			name: "dry run: the same diff, no write",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.Fix("retention", "7", "30", write("retention"))
				c.Then(write("wait"))
			},
			dryRun:    true,
			wantDiff:  []migration.FieldDiff{{Field: "retention", From: "7", To: "30"}},
			wantNoted: true,
		},
		{
			name: "a failed write stops the rest and reports nothing",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.Fix("a", "1", "2", write("a"))
				c.Fix("b", "1", "2", write("b"))
				c.Fix("c", "1", "2", write("c"))
			},
			failing:  "b",
			wantRan:  []string{"a", "b"},
			wantErr:  true,
			wantDiff: []migration.FieldDiff{{Field: "a", From: "1", To: "2"}, {Field: "b", From: "1", To: "2"}, {Field: "c", From: "1", To: "2"}},
		},
		{
			name: "FixAll: several fields, one write; an empty diff records nothing",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.FixAll(nil, write("never"))
				c.FixAll([]migration.FieldDiff{{Field: "a", From: "1", To: "2"}, {Field: "b", From: "x", To: "y"}}, write("update"))
			},
			wantRan:   []string{"update"},
			wantDiff:  []migration.FieldDiff{{Field: "a", From: "1", To: "2"}, {Field: "b", From: "x", To: "y"}},
			wantNoted: true,
		},
		{
			name: "Differs and Then: tag first, update after, the diff still lists the fields first",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.Differs(migration.FieldDiff{Field: "schedule", From: "1h", To: "30m"})
				c.Tags(map[string]string{}, map[string]string{"k": "v"}, func(map[string]string) error { return write("tag")() })
				c.Then(write("update"))
			},
			wantRan:   []string{"tag", "update"},
			wantDiff:  []migration.FieldDiff{{Field: "schedule", From: "1h", To: "30m"}, {Field: "tags", From: "(missing)", To: "[k]"}},
			wantNoted: true,
		},
		{
			name: "a step without a diff runs but the resource is unchanged",
			record: func(c *migration.Converge, write func(string) func() error) {
				c.Then(write("wait until available"))
			},
			wantRan:   []string{"wait until available"},
			wantNoted: true,
		},
		{
			name: "tags: all present (and others set by someone else) record nothing",
			record: func(c *migration.Converge, write func(string) func() error) {
				have := maps.Clone(envTags)
				have["CostCenter"] = "theirs"
				c.Tags(have, envTags, func(map[string]string) error { return write("tag")() })
			},
			wantNoted: true,
		},
		{
			name:      "the caller's Action and Diff are replaced by what was recorded",
			record:    func(c *migration.Converge, write func(string) func() error) {},
			report:    migration.Change{Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "stale"}}},
			wantNoted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := &migration.Report{}
			env := env
			env.Reporter, env.DryRun = report, tt.dryRun
			var ran []string
			write := func(label string) func() error {
				return func() error {
					ran = append(ran, label)
					if label == tt.failing {
						return fmt.Errorf("write %s: %w", label, boom)
					}
					return nil
				}
			}
			var c migration.Converge
			tt.record(&c, write)
			assert.Equal(t, tt.wantDiff != nil, c.Changed())
			assert.Equal(t, tt.wantDiff, c.Diff())

			ch := base
			ch.Action, ch.Diff = tt.report.Action, tt.report.Diff
			err := c.Apply(env, ch)
			if tt.wantErr {
				require.ErrorIs(t, err, boom)
				assert.EqualError(t, err, "write "+tt.failing+": boom", "the write's own error, unchanged")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantRan, ran)
			if !tt.wantNoted {
				assert.Empty(t, report.Changes())
				return
			}
			want := base
			want.Action, want.Diff = migration.ActionNoop, nil
			if tt.wantDiff != nil {
				want.Action, want.Diff = migration.ActionUpdate, tt.wantDiff
			}
			assert.Equal(t, []migration.Change{want}, report.Changes())
		})
	}
}

func TestConvergeTagsPassesExactlyTheMissingTags(t *testing.T) {
	var got map[string]string
	var c migration.Converge
	c.Tags(map[string]string{"a": "1", "b": "old", "other": "x"}, map[string]string{"a": "1", "b": "2", "c": "3"}, func(missing map[string]string) error {
		got = missing
		return nil
	})
	require.NoError(t, c.Run(migration.Env{Suffix: "dev"}))
	assert.Equal(t, map[string]string{"b": "2", "c": "3"}, got, "a value that differs is rewritten; a tag want does not name is left alone")
}

func TestConvergeDiffIsACopy(t *testing.T) {
	var c migration.Converge
	c.Fix("a", "1", "2", func() error { return nil })
	d := c.Diff()
	d[0].To = "changed"
	assert.Equal(t, "2", c.Diff()[0].To)
}

func TestConvergeRunReportsNothing(t *testing.T) {
	report := &migration.Report{}
	var c migration.Converge
	n := 0
	c.Fix("a", "1", "2", func() error { n++; return nil })
	require.NoError(t, c.Run(migration.Env{Suffix: "dev", Reporter: report}))
	assert.Equal(t, 1, n)
	assert.Empty(t, report.Changes())
}

// An Ensure converges a resource that exists with Converge: here a log
// group whose retention someone shortened by hand and that lacks the
// env's Name tag. The plan (a dry run) shows the diff and writes nothing;
// the apply fixes it; the next apply finds nothing to do.
func ExampleConverge() {
	ctx := context.Background()
	cloud := fakecloud.New()
	logs := cloud.Logs()
	var last migration.Change
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(),
		Reporter: migration.ReporterFunc(func(c migration.Change) { last = c })}
	name := env.LogGroup("app")
	tags := env.Tags() // no Name tag
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: tags}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(name), RetentionInDays: aws.Int32(7)}); err != nil {
		fmt.Println(err)
		return
	}
	arn := migration.LogGroupARN(env, name)

	converge := func(env migration.Env) error {
		found, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
		if err != nil {
			return err
		}
		have, err := logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			return err
		}
		var c migration.Converge
		if r := aws.ToInt32(found.LogGroups[0].RetentionInDays); r != 30 {
			c.Fix("retentionDays", fmt.Sprint(r), "30", func() error {
				_, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(name), RetentionInDays: aws.Int32(30)})
				return err
			})
		}
		c.Tags(have.Tags, env.NameTags(name), func(missing map[string]string) error {
			_, err := logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: missing})
			return err
		})
		return c.Apply(env, migration.Change{Kind: migration.KindLogGroup, Name: name, ID: arn})
	}

	plan := env
	plan.DryRun = true
	for _, e := range []migration.Env{plan, env, env} {
		cloud.ResetCalls()
		if err := converge(e); err != nil {
			fmt.Println(err)
			return
		}
		writes := []string{}
		for _, call := range cloud.Writes() {
			writes = append(writes, call.Op)
		}
		fmt.Println(last, writes)
	}
	// Output:
	// update log-group "/cutover/dev/app" (arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/app) retentionDays: 7 -> 30; tags: (missing) -> [Name] []
	// update log-group "/cutover/dev/app" (arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/app) retentionDays: 7 -> 30; tags: (missing) -> [Name] [PutRetentionPolicy TagResource]
	// noop log-group "/cutover/dev/app" (arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/app) []
}
