package validate_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

func assocSpec(env migration.Env, d validate.Document) validate.AssociationSpec {
	return validate.AssociationSpec{Name: env.Name(validate.AssociationName), Document: d, Targets: map[string][]string{"Wave": {"1"}}, Schedule: "rate(30 minutes)"}
}

func describeAssociation(t *testing.T, cloud *fakecloud.Cloud, id string) *types.AssociationDescription {
	t.Helper()
	out, err := cloud.SSM().DescribeAssociation(context.Background(), &ssm.DescribeAssociationInput{AssociationId: aws.String(id)})
	require.NoError(t, err)
	return out.AssociationDescription
}

func TestEnsureAssociation(t *testing.T) {
	ctx := context.Background()
	type fixture struct {
		env   migration.Env
		cloud *fakecloud.Cloud
		doc   validate.Document
	}
	ensure := func(t *testing.T, f fixture, spec validate.AssociationSpec) validate.Association {
		a, err := validate.EnsureAssociation(ctx, f.env, f.cloud.SSM(), spec)
		require.NoError(t, err)
		return a
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, f fixture) // before the call log is reset
		dryRun     bool
		spec       func(f fixture) validate.AssociationSpec
		wantAction migration.Action
		wantWrites []string
		wantErr    string
		wantCount  int // associations afterwards
	}{
		{
			name: "missing is created pinned to the document version", wantAction: migration.ActionCreate, wantWrites: []string{"CreateAssociation"}, wantCount: 1,
		},
		{
			name:       "converged makes no write",
			setup:      func(t *testing.T, f fixture) { ensure(t, f, assocSpec(f.env, f.doc)) },
			wantAction: migration.ActionNoop, wantCount: 1,
		},
		{
			name:  "a schedule change is an update that keeps every other field",
			setup: func(t *testing.T, f fixture) { ensure(t, f, assocSpec(f.env, f.doc)) },
			spec: func(f fixture) validate.AssociationSpec {
				s := assocSpec(f.env, f.doc)
				s.Schedule = "cron(0 2 ? * SUN *)"
				return s
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateAssociation"}, wantCount: 1,
		},
		{
			name: "a new document version is pinned",
			setup: func(t *testing.T, f fixture) {
				ensure(t, f, assocSpec(f.env, f.doc))
				_, err := validate.EnsureDocument(ctx, f.env, f.cloud.SSM(), otherSpec(f.env))
				require.NoError(t, err)
			},
			spec: func(f fixture) validate.AssociationSpec {
				s := assocSpec(f.env, f.doc)
				s.Document.Version = "2"
				return s
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateAssociation"}, wantCount: 1,
		},
		{
			name: "a partial update by hand (which resets the other fields) converges",
			setup: func(t *testing.T, f fixture) {
				a := ensure(t, f, assocSpec(f.env, f.doc))
				_, err := f.cloud.SSM().UpdateAssociation(ctx, &ssm.UpdateAssociationInput{AssociationId: aws.String(a.ID), ScheduleExpression: aws.String("rate(30 minutes)")})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateAssociation"}, wantCount: 1,
		},
		{
			name: "a removed tag converges without touching the settings",
			setup: func(t *testing.T, f fixture) {
				a := ensure(t, f, assocSpec(f.env, f.doc))
				_, err := f.cloud.SSM().RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingAssociation, ResourceId: aws.String(a.ID), TagKeys: []string{"Environment"}})
				require.NoError(t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"AddTagsToResource"}, wantCount: 1,
		},
		{
			name: "dry run reports create and writes nothing", dryRun: true, wantAction: migration.ActionCreate, wantCount: 0,
		},
		{
			name: "a look-alike without the ownership tag is not adopted",
			setup: func(t *testing.T, f fixture) {
				_, err := f.cloud.SSM().CreateAssociation(ctx, &ssm.CreateAssociationInput{
					AssociationName: aws.String(f.env.Name(validate.AssociationName)), Name: aws.String(f.doc.Name),
					Targets: []types.Target{{Key: aws.String("tag:Wave"), Values: []string{"1"}}}, ScheduleExpression: aws.String("rate(1 day)"),
				})
				require.NoError(t, err)
			},
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateAssociation"}, wantCount: 2,
		},
		{
			name: "two owned associations of the name are an error",
			setup: func(t *testing.T, f fixture) {
				for range 2 {
					_, err := f.cloud.SSM().CreateAssociation(ctx, &ssm.CreateAssociationInput{
						AssociationName: aws.String(f.env.Name(validate.AssociationName)), Name: aws.String(f.doc.Name),
						Targets: []types.Target{{Key: aws.String("tag:Wave"), Values: []string{"1"}}}, ScheduleExpression: aws.String("rate(1 day)"),
						Tags: []types.Tag{{Key: aws.String(migration.OwnerTag), Value: aws.String("dev")}},
					})
					require.NoError(t, err)
				}
			},
			wantErr: "expected one", wantCount: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			registerWave(cloud, 3)
			f := fixture{env: env, cloud: cloud, doc: ensureDoc(t, env, cloud)}
			if tt.setup != nil {
				tt.setup(t, f)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			f.env = env
			spec := assocSpec(env, f.doc)
			if tt.spec != nil {
				spec = tt.spec(f)
			}

			a, err := validate.EnsureAssociation(ctx, env, cloud.SSM(), spec)
			assert.Len(t, cloud.SSM().Associations(), tt.wantCount)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			if tt.dryRun {
				assert.True(t, migration.IsPending(a.ID))
				return
			}
			// The state: exactly the spec, with rate controls defaulted.
			got := describeAssociation(t, cloud, a.ID)
			assert.Equal(t, spec.Name, aws.ToString(got.AssociationName))
			assert.Equal(t, spec.Document.Name, aws.ToString(got.Name))
			assert.Equal(t, spec.Document.Version, aws.ToString(got.DocumentVersion))
			assert.Equal(t, spec.Schedule, aws.ToString(got.ScheduleExpression))
			assert.Equal(t, validate.DefaultMaxConcurrency, aws.ToString(got.MaxConcurrency))
			assert.Equal(t, validate.DefaultMaxErrors, aws.ToString(got.MaxErrors))
			assert.Equal(t, types.AssociationComplianceSeverityHigh, got.ComplianceSeverity)
			require.Len(t, got.Targets, 1)
			assert.Equal(t, "tag:Wave", aws.ToString(got.Targets[0].Key))
			tags, err := cloud.SSM().ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingAssociation, ResourceId: aws.String(a.ID)})
			require.NoError(t, err)
			assert.True(t, env.Owns(map[string]string{migration.OwnerTag: tagValue(tags.TagList, migration.OwnerTag)}))
			// Converged.
			cloud.ResetCalls()
			_, err = validate.EnsureAssociation(ctx, env, cloud.SSM(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
		})
	}
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func TestEnsureAssociationPendingDocumentCallsNothing(t *testing.T) {
	env, cloud, report := newEnv(t)
	env.DryRun = true
	d, err := validate.EnsureDocument(context.Background(), env, cloud.SSM(), docSpec(env))
	require.NoError(t, err)
	cloud.ResetCalls()
	a, err := validate.EnsureAssociation(context.Background(), env, cloud.SSM(), assocSpec(env, d))
	require.NoError(t, err)
	assert.Empty(t, cloud.Calls(), "a pending document means no association can exist: no call")
	assert.True(t, migration.IsPending(a.ID))
	assert.Equal(t, migration.ActionCreate, report.Changes()[0].Action)
}

func TestEnsureAssociationNotFoundAfterCreate(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	registerWave(cloud, 2)
	d := ensureDoc(t, env, cloud)
	cloud.SetFaults(fakecloud.Faults{NotFoundReads: 3, ThrottleRate: 0.3, Services: []string{"SSM"}})
	_, err := validate.EnsureAssociation(ctx, env, cloud.SSM(), assocSpec(env, d))
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	// The create waited until the association was readable, so the next
	// run finds it instead of creating a second one.
	cloud.ResetCalls()
	_, err = validate.EnsureAssociation(ctx, env, cloud.SSM(), assocSpec(env, d))
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.SSM().Associations(), 1)
}

func TestDeleteAssociation(t *testing.T) {
	ctx := context.Background()
	env, cloud, report := newEnv(t)
	registerWave(cloud, 2)
	d := ensureDoc(t, env, cloud)
	ours, err := validate.EnsureAssociation(ctx, env, cloud.SSM(), assocSpec(env, d))
	require.NoError(t, err)
	decoy, err := cloud.SSM().CreateAssociation(ctx, &ssm.CreateAssociationInput{
		AssociationName: aws.String(env.Name(validate.AssociationName)), Name: aws.String(d.Name),
		Targets: []types.Target{{Key: aws.String("tag:Wave"), Values: []string{"1"}}},
	})
	require.NoError(t, err)

	require.NoError(t, validate.DeleteAssociation(ctx, env, cloud.SSM(), validate.AssociationSpec{Name: env.Name(validate.AssociationName)}))
	assert.Equal(t, []string{aws.ToString(decoy.AssociationDescription.AssociationId)}, cloud.SSM().Associations(), "only the owned association is deleted")
	last := report.Changes()
	assert.Contains(t, last, migration.Change{Kind: validate.KindAssociation, Name: "validate-config-association-dev", ID: ours.ID, Action: migration.ActionDelete})

	cloud.ResetCalls()
	require.NoError(t, validate.DeleteAssociation(ctx, env, cloud.SSM(), validate.AssociationSpec{Name: env.Name(validate.AssociationName)}))
	assert.Empty(t, cloud.Writes())
}

func TestAssociationSpecValidate(t *testing.T) {
	env, cloud, _ := newEnv(t)
	d := validate.Document{Name: "validate-application-health-dev", Version: "1", Parameters: docSpec(env).Content().Parameters}
	base := assocSpec(env, d)
	tests := []struct {
		mutate func(*validate.AssociationSpec)
		want   string
	}{
		{func(s *validate.AssociationSpec) { s.Schedule = "rate(5 minutes)" }, "at most every 30 minutes"},
		{func(s *validate.AssociationSpec) { s.Schedule = "rate(1 hours)" }, "singular unit"},
		{func(s *validate.AssociationSpec) { s.Schedule = "every hour" }, "neither rate"},
		{func(s *validate.AssociationSpec) { s.Targets = nil }, "association.targets"},
		{func(s *validate.AssociationSpec) { s.Document = validate.Document{} }, "association.document"},
		{func(s *validate.AssociationSpec) { s.Parameters = map[string]string{"httpPort": "80; rm -rf /"} }, "association.parameters[httpPort]"},
		{func(s *validate.AssociationSpec) { s.Parameters = map[string]string{"command": "id"} }, "not a parameter"},
		{func(s *validate.AssociationSpec) { s.MaxErrors = "lots" }, "association.maxErrors"},
	}
	for _, tt := range tests {
		s := base
		tt.mutate(&s)
		_, err := validate.EnsureAssociation(context.Background(), env, cloud.SSM(), s)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}
