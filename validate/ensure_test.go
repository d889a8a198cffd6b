package validate_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

// otherSpec is docSpec with other content (another health path).
func otherSpec(env migration.Env) validate.DocumentSpec {
	c := appCheck
	c.Path = "/ready"
	return validate.DocumentSpec{Name: env.Name(validate.DocApplication), Description: "health", Checks: []validate.Check{c}}
}

func TestEnsureDocument(t *testing.T) {
	ctx := context.Background()
	ensure := func(spec func(migration.Env) validate.DocumentSpec) func(*testing.T, migration.Env, *fakecloud.Cloud) {
		return func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
			_, err := validate.EnsureDocument(ctx, env, cloud.SSM(), spec(env))
			require.NoError(t, err)
		}
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) // before the call log is reset
		dryRun      bool
		spec        func(migration.Env) validate.DocumentSpec
		wantAction  migration.Action
		wantWrites  []string
		wantErr     string
		wantDefault int // default version afterwards (0: not checked)
		wantLatest  int
		wantVersion string // Document.Version ("pending" for a Pending ID)
	}{
		{
			name: "missing is created as version 1 with tags", spec: docSpec,
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateDocument"}, wantDefault: 1, wantLatest: 1, wantVersion: "1",
		},
		{
			name: "converged makes no write", setup: ensure(docSpec), spec: docSpec,
			wantAction: migration.ActionNoop, wantDefault: 1, wantLatest: 1, wantVersion: "1",
		},
		{
			name: "changed content adds a version and makes it the default", setup: ensure(otherSpec), spec: docSpec,
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateDocument", "UpdateDocumentDefaultVersion"}, wantDefault: 2, wantLatest: 2, wantVersion: "2",
		},
		{
			name: "a latest version that holds the content only becomes the default",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensure(otherSpec)(t, env, cloud)
				ensure(docSpec)(t, env, cloud)
				_, err := cloud.SSM().UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String("validate-application-health-dev"), DocumentVersion: aws.String("1")})
				require.NoError(t, err)
			},
			spec: docSpec, wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateDocumentDefaultVersion"}, wantDefault: 2, wantLatest: 2, wantVersion: "2",
		},
		{
			name: "content of an older version is reused (DuplicateDocumentContent is no change)",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensure(docSpec)(t, env, cloud)
				ensure(otherSpec)(t, env, cloud)
			},
			spec: docSpec, wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateDocument", "UpdateDocumentDefaultVersion"}, wantDefault: 1, wantLatest: 2, wantVersion: "1",
		},
		{
			name: "a removed tag converges",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensure(docSpec)(t, env, cloud)
				_, err := cloud.SSM().RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String("validate-application-health-dev"), TagKeys: []string{"Project"}})
				require.NoError(t, err)
			},
			spec: docSpec, wantAction: migration.ActionUpdate, wantWrites: []string{"AddTagsToResource"}, wantDefault: 1, wantLatest: 1, wantVersion: "1",
		},
		{
			name: "dry run on an empty cloud reports create and writes nothing", dryRun: true, spec: docSpec,
			wantAction: migration.ActionCreate, wantVersion: "pending",
		},
		{
			name: "dry run reports changed content and writes nothing", dryRun: true, setup: ensure(otherSpec), spec: docSpec,
			wantAction: migration.ActionUpdate, wantDefault: 1, wantLatest: 1, wantVersion: "pending",
		},
		{
			name: "a look-alike without the ownership tag is refused",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				_, err := cloud.SSM().CreateDocument(ctx, &ssm.CreateDocumentInput{
					Name: aws.String("validate-application-health-dev"), Content: aws.String(docSpec(env).Content().JSON()),
					DocumentType: types.DocumentTypeCommand, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("validate-application-health-dev")}},
				})
				require.NoError(t, err)
			},
			spec: docSpec, wantErr: "refusing to adopt",
		},
		{
			name: "the version limit is reported, old versions are not deleted",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud) {
				ensure(otherSpec)(t, env, cloud)
				cloud.SSM().SetVersionLimit(1)
			},
			spec: docSpec, wantErr: "version limit", wantWrites: []string{"UpdateDocument"}, wantDefault: 1, wantLatest: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, env, cloud)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			spec := tt.spec(env)

			d, err := validate.EnsureDocument(ctx, env, cloud.SSM(), spec)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			if tt.wantDefault > 0 {
				def, latest, content, ok := cloud.SSM().DocumentVersions(spec.Name)
				require.True(t, ok)
				assert.Equal(t, tt.wantDefault, def, "default version")
				assert.Equal(t, tt.wantLatest, latest, "latest version")
				if tt.wantErr == "" && !tt.dryRun {
					want, _ := validate.ContentHash(spec.Content().JSON())
					got, _ := validate.ContentHash(content)
					assert.Equal(t, want, got, "the default version holds the spec's content")
				}
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure document "validate-application-health-dev"`)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(report))
			if tt.wantVersion == "pending" {
				assert.True(t, migration.IsPending(d.Version), "version %q", d.Version)
			} else {
				assert.Equal(t, tt.wantVersion, d.Version)
			}
			if tt.dryRun {
				assert.Empty(t, cloud.Writes())
				return
			}
			tags := cloud.SSM().DocumentTags(spec.Name)
			for k, v := range env.NameTags(spec.Name) {
				assert.Equal(t, v, tags[k], "tag %s", k)
			}
			assert.Equal(t, "arn:aws:ssm:us-east-1:123456789012:document/validate-application-health-dev", d.ARN)
			// Converged: a second run is a no-op without writes.
			cloud.ResetCalls()
			again, err := validate.EnsureDocument(ctx, env, cloud.SSM(), spec)
			require.NoError(t, err)
			assert.Empty(t, cloud.Writes())
			assert.Equal(t, d.Version, again.Version)
			assert.Equal(t, 3, len(cloud.Calls()), "a converged document costs three reads: %v", cloud.Calls())
		})
	}
}

func TestEnsureDocumentCreatedVersionIsActiveBeforeReturn(t *testing.T) {
	env, cloud, _ := newEnv(t)
	start := cloud.Clock().Now()
	d := ensureDoc(t, env, cloud)
	out, err := cloud.SSM().DescribeDocument(context.Background(), &ssm.DescribeDocumentInput{Name: aws.String(d.Name), DocumentVersion: aws.String(d.Version)})
	require.NoError(t, err)
	assert.Equal(t, types.DocumentStatusActive, out.Document.Status)
	assert.GreaterOrEqual(t, cloud.Clock().Now().Sub(start), fakecloud.SSMDocumentActivation, "waited on the fake clock")
}

func TestEnsureDocumentConvergesUnderFaults(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	// A third of the calls throttled, a new document invisible to its
	// first two reads: the SDK retryer absorbs the throttling, the wait
	// for Active the eventual consistency.
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, NotFoundReads: 2, Services: []string{"SSM"}})
	d, err := validate.EnsureDocument(ctx, env, cloud.SSM(), docSpec(env))
	require.NoError(t, err)
	// And a new version under the same faults.
	_, err = validate.EnsureDocument(ctx, env, cloud.SSM(), otherSpec(env))
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	assert.Equal(t, []string{d.Name}, cloud.SSM().Documents())
	throttled, hidden := 0, 0
	for _, c := range cloud.Calls() {
		switch c.Code {
		case "ThrottlingException":
			throttled++
		case "InvalidDocument":
			hidden++
		}
	}
	assert.Positive(t, throttled, "the throttling fault must have fired")
	assert.Positive(t, hidden, "the eventual-consistency fault must have fired")
	cloud.ResetCalls()
	_, err = validate.EnsureDocument(ctx, env, cloud.SSM(), otherSpec(env))
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	def, latest, _, _ := cloud.SSM().DocumentVersions(d.Name)
	assert.Equal(t, []int{2, 2}, []int{def, latest})
}

func TestEnsureDocumentLostCreateResponse(t *testing.T) {
	ctx := context.Background()
	env, cloud, report := newEnv(t)
	// The create takes effect but its response is lost: the process dies.
	cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
	_, err := validate.EnsureDocument(ctx, env, cloud.SSM(), docSpec(env))
	require.Error(t, err)
	cloud.Restart()
	cloud.ResetCalls()
	d, err := validate.EnsureDocument(ctx, env, cloud.SSM(), docSpec(env))
	require.NoError(t, err)
	assert.Equal(t, "1", d.Version)
	assert.Empty(t, cloud.Writes(), "the document created before the crash is found by name and adopted by its tags")
	assert.Equal(t, migration.ActionNoop, report.Changes()[len(report.Changes())-1].Action)
}

func TestDeleteDocument(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	d := ensureDoc(t, env, cloud)
	decoy := validate.DocumentSpec{Name: env.Name(validate.DocApplication) + "-old", Checks: []validate.Check{appCheck}}
	_, err := cloud.SSM().CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String(decoy.Name), Content: aws.String(decoy.Content().JSON()), DocumentType: types.DocumentTypeCommand})
	require.NoError(t, err)

	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, validate.DeleteDocument(ctx, env, cloud.SSM(), docSpec(env)))
	require.NoError(t, validate.DeleteDocument(ctx, env, cloud.SSM(), decoy))
	assert.Equal(t, []string{decoy.Name}, cloud.SSM().Documents(), "only the owned document is deleted")
	changes := report.Changes()
	require.Len(t, changes, 2)
	assert.Equal(t, migration.ActionDelete, changes[0].Action)
	assert.Equal(t, d.ARN, changes[0].ID)
	assert.Equal(t, "not owned by this env; left in place", changes[1].Note)

	// Gone: a no-op without writes.
	cloud.ResetCalls()
	require.NoError(t, validate.DeleteDocument(ctx, env, cloud.SSM(), docSpec(env)))
	assert.Empty(t, cloud.Writes())
}

func TestDeleteDocumentDryRun(t *testing.T) {
	env, cloud, report := newEnv(t)
	ensureDoc(t, env, cloud)
	cloud.ResetCalls()
	env.DryRun = true
	require.NoError(t, validate.DeleteDocument(context.Background(), env, cloud.SSM(), docSpec(env)))
	assert.Empty(t, cloud.Writes())
	assert.Len(t, cloud.SSM().Documents(), 1)
	assert.Equal(t, migration.ActionDelete, report.Changes()[len(report.Changes())-1].Action)
}

func TestDeleteDocumentWaitsForAssociations(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	d := ensureDoc(t, env, cloud)
	registerWave(cloud, 1)
	// Someone else's association uses the document: AssociatedInstances
	// is retried on the env clock, then reported.
	_, err := cloud.SSM().CreateAssociation(ctx, &ssm.CreateAssociationInput{Name: aws.String(d.Name), Targets: []types.Target{{Key: aws.String("tag:Wave"), Values: []string{"1"}}}})
	require.NoError(t, err)
	start := cloud.Clock().Now()
	err = validate.DeleteDocument(ctx, env, cloud.SSM(), docSpec(env))
	require.ErrorContains(t, err, "AssociatedInstances")
	assert.GreaterOrEqual(t, cloud.Clock().Now().Sub(start), 4*time.Minute, "retried on the env clock")
	assert.Greater(t, cloud.Count("SSM", "DeleteDocument"), 5)
	assert.Len(t, cloud.SSM().Documents(), 1)
}

func TestDocumentSpecValidate(t *testing.T) {
	env, cloud, _ := newEnv(t)
	bad := appCheck
	bad.Port = 0
	tests := []struct {
		spec validate.DocumentSpec
		want string
	}{
		{validate.DocumentSpec{Name: "ab", Checks: []validate.Check{appCheck}}, "document.name"},
		{validate.DocumentSpec{Name: "AWS-Validate", Checks: []validate.Check{appCheck}}, "reserves"},
		{validate.DocumentSpec{Name: "validate-x-dev"}, "document.checks: at least one check"},
		{validate.DocumentSpec{Name: "validate-x-dev", Checks: []validate.Check{bad}}, "applicationHealth.port"},
		{validate.DocumentSpec{Name: "validate-x-dev", Checks: []validate.Check{appCheck, appCheck}}, "declared by another check"},
	}
	for _, tt := range tests {
		_, err := validate.EnsureDocument(context.Background(), env, cloud.SSM(), tt.spec)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls(), "validation happens before any call")
}
