package fakecloud_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func ssmDoc(echo string) string {
	return `{"schemaVersion":"2.2","parameters":{"port":{"type":"String","default":"80","allowedPattern":"^[0-9]{1,5}$"},"host":{"type":"String"}},` +
		`"mainSteps":[{"action":"aws:runShellScript","name":"check","inputs":{"runCommand":["echo ` + echo + ` {{ port }} {{ host }}"]}}]}`
}

func createSSMDoc(t *testing.T, cloud *fakecloud.Cloud, name, content string) {
	t.Helper()
	_, err := cloud.SSM().CreateDocument(context.Background(), &ssm.CreateDocumentInput{Name: aws.String(name), Content: aws.String(content), DocumentType: types.DocumentTypeCommand})
	require.NoError(t, err)
}

func TestSSMDocumentVersions(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	f := cloud.SSM()
	createSSMDoc(t, cloud, "check-doc", ssmDoc("a"))
	describe := func(version string) *types.DocumentDescription {
		in := &ssm.DescribeDocumentInput{Name: aws.String("check-doc")}
		if version != "" {
			in.DocumentVersion = aws.String(version)
		}
		out, err := f.DescribeDocument(ctx, in)
		require.NoError(t, err)
		return out.Document
	}
	assert.Equal(t, types.DocumentStatusCreating, describe("").Status)
	cloud.Clock().Advance(fakecloud.SSMDocumentActivation)
	d := describe("")
	assert.Equal(t, types.DocumentStatusActive, d.Status)
	assert.Equal(t, []string{"1", "1", "1"}, []string{*d.DocumentVersion, *d.DefaultVersion, *d.LatestVersion})
	assert.Equal(t, types.DocumentHashTypeSha256, d.HashType)
	require.Len(t, d.Parameters, 2)

	// Same content: DuplicateDocumentContent. Only the latest version can
	// be updated.
	_, err := f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc("a")), DocumentVersion: aws.String("$LATEST")})
	assert.Equal(t, "DuplicateDocumentContent", awsx.Code(err))
	up, err := f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc("b")), DocumentVersion: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, "2", *up.DocumentDescription.DocumentVersion)
	assert.Equal(t, types.DocumentStatusUpdating, up.DocumentDescription.Status)
	_, err = f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc("c")), DocumentVersion: aws.String("1")})
	assert.Equal(t, "InvalidDocumentVersion", awsx.Code(err))
	// Reverting to an older version's content is a duplicate too.
	_, err = f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc("a")), DocumentVersion: aws.String("$LATEST")})
	assert.Equal(t, "DuplicateDocumentContent", awsx.Code(err))

	// The default moves only explicitly, and only to an Active version.
	assert.Equal(t, "1", *describe("").DefaultVersion)
	_, err = f.UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("2")})
	assert.Equal(t, "InvalidDocumentOperation", awsx.Code(err))
	cloud.Clock().Advance(fakecloud.SSMDocumentActivation)
	_, err = f.UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("2")})
	require.NoError(t, err)
	got, err := f.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("check-doc")})
	require.NoError(t, err)
	assert.Equal(t, ssmDoc("b"), *got.Content)
	got, err = f.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, ssmDoc("a"), *got.Content)
	assert.NotEqual(t, *describe("1").Hash, *describe("2").Hash)

	// Versions list in pages; the default cannot be deleted alone.
	for _, c := range []string{"c", "d", "e"} {
		_, err := f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc(c)), DocumentVersion: aws.String("$LATEST")})
		require.NoError(t, err)
	}
	var versions []string
	p := ssm.NewListDocumentVersionsPaginator(f, &ssm.ListDocumentVersionsInput{Name: aws.String("check-doc"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, v := range page.DocumentVersions {
			versions = append(versions, *v.DocumentVersion)
			assert.Equal(t, *v.DocumentVersion == "2", v.IsDefaultVersion)
		}
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, versions)
	_, err = f.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("2")})
	assert.Equal(t, "InvalidDocumentOperation", awsx.Code(err))

	// The version limit.
	f.SetVersionLimit(5)
	_, err = f.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("check-doc"), Content: aws.String(ssmDoc("f")), DocumentVersion: aws.String("$LATEST")})
	assert.Equal(t, "DocumentVersionLimitExceeded", awsx.Code(err))
	_, err = f.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("3")})
	require.NoError(t, err)
	_, err = f.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("check-doc"), DocumentVersion: aws.String("3")})
	assert.Equal(t, "InvalidDocumentVersion", awsx.Code(err))

	_, err = f.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("check-doc")})
	require.NoError(t, err)
	_, err = f.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("check-doc")})
	assert.True(t, awsx.IsNotFound(err))
}

func TestSSMCreateDocumentValidation(t *testing.T) {
	tests := []struct{ name, docName, content, code string }{
		{"not JSON", "doc-a", "mainSteps: []", "InvalidDocumentContent"},
		{"schema 1.2", "doc-a", `{"schemaVersion":"1.2","runtimeConfig":{}}`, "InvalidDocumentSchemaVersion"},
		{"no steps", "doc-a", `{"schemaVersion":"2.2","mainSteps":[]}`, "InvalidDocumentContent"},
		{"unknown plugin", "doc-a", strings.Replace(ssmDoc("x"), "aws:runShellScript", "aws:runBash", 1), "InvalidDocumentContent"},
		{"undeclared parameter", "doc-a", strings.Replace(ssmDoc("x"), "{{ host }}", "{{ hots }}", 1), "InvalidDocumentContent"},
		{"duplicate step", "doc-a", `{"schemaVersion":"2.2","mainSteps":[{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["true"]}},{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["true"]}}]}`, "InvalidDocumentContent"},
		{"reserved name", "AWS-Mine", ssmDoc("x"), "ValidationException"},
		{"short name", "ab", ssmDoc("x"), "ValidationException"},
		{"too large", "doc-a", strings.Replace(ssmDoc("x"), "echo x", "echo "+strings.Repeat("x", 70000), 1), "MaxDocumentSizeExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			_, err := cloud.SSM().CreateDocument(context.Background(), &ssm.CreateDocumentInput{Name: aws.String(tt.docName), Content: aws.String(tt.content)})
			assert.Equal(t, tt.code, awsx.Code(err), "%v", err)
			assert.Empty(t, cloud.SSM().Documents())
		})
	}
	cloud := fakecloud.New()
	createSSMDoc(t, cloud, "doc-a", ssmDoc("x"))
	_, err := cloud.SSM().CreateDocument(context.Background(), &ssm.CreateDocumentInput{Name: aws.String("doc-a"), Content: aws.String(ssmDoc("y"))})
	assert.Equal(t, "DocumentAlreadyExists", awsx.Code(err))
}

// activeDoc creates an Active document and n managed instances tagged
// Role=app.
func activeDoc(t *testing.T, n int) (*fakecloud.Cloud, []string) {
	t.Helper()
	cloud := fakecloud.New()
	createSSMDoc(t, cloud, "check-doc", ssmDoc("a"))
	cloud.Clock().Advance(fakecloud.SSMDocumentActivation)
	var ids []string
	for i := range n {
		id := "i-0" + strings.Repeat("0", 15) + string(rune('a'+i))
		cloud.SSM().RegisterInstance(id, map[string]string{"Role": "app", "Name": "app-" + string(rune('a'+i))})
		ids = append(ids, id)
	}
	return cloud, ids
}

func TestSSMSendCommandValidation(t *testing.T) {
	tags := []types.Target{{Key: aws.String("tag:Role"), Values: []string{"app"}}}
	host := map[string][]string{"host": {"db"}}
	tests := []struct {
		name string
		in   ssm.SendCommandInput
		code string
	}{
		{"unknown document", ssm.SendCommandInput{DocumentName: aws.String("nope"), Targets: tags, Parameters: host}, "InvalidDocument"},
		{"unknown version", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), DocumentVersion: aws.String("7"), Targets: tags, Parameters: host}, "InvalidDocumentVersion"},
		{"undeclared parameter", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, Parameters: map[string][]string{"host": {"db"}, "cmd": {"id"}}}, "InvalidParameters"},
		{"value outside the pattern", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, Parameters: map[string][]string{"host": {"db"}, "port": {"80; id"}}}, "InvalidParameters"},
		{"required parameter missing", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags}, "InvalidParameters"},
		{"targets and IDs", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, InstanceIds: []string{"i-1"}, Parameters: host}, "ValidationException"},
		{"unknown instance", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), InstanceIds: []string{"i-404"}, Parameters: host}, "InvalidInstanceId"},
		{"bad target key", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: []types.Target{{Key: aws.String("Role"), Values: []string{"app"}}}, Parameters: host}, "ValidationException"},
		{"bad MaxConcurrency", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, Parameters: host, MaxConcurrency: aws.String("0")}, "ValidationException"},
		{"delivery timeout too short", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, Parameters: host, TimeoutSeconds: aws.Int32(5)}, "ValidationException"},
		{"document hash mismatch", ssm.SendCommandInput{DocumentName: aws.String("check-doc"), Targets: tags, Parameters: host, DocumentHash: aws.String("00")}, "InvalidDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud, _ := activeDoc(t, 2)
			_, err := cloud.SSM().SendCommand(context.Background(), &tt.in)
			assert.Equal(t, tt.code, awsx.Code(err), "%v", err)
			assert.Empty(t, cloud.SSM().Commands())
		})
	}
	// A document still being created cannot run.
	cloud := fakecloud.New()
	createSSMDoc(t, cloud, "check-doc", ssmDoc("a"))
	cloud.SSM().RegisterInstance("i-1", nil)
	_, err := cloud.SSM().SendCommand(context.Background(), &ssm.SendCommandInput{DocumentName: aws.String("check-doc"), InstanceIds: []string{"i-1"}, Parameters: host})
	assert.Equal(t, "InvalidDocument", awsx.Code(err))
}

func invocationStatuses(t *testing.T, cloud *fakecloud.Cloud, id string) map[string]types.CommandInvocationStatus {
	t.Helper()
	out := map[string]types.CommandInvocationStatus{}
	p := ssm.NewListCommandInvocationsPaginator(cloud.SSM(), &ssm.ListCommandInvocationsInput{CommandId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, inv := range page.CommandInvocations {
			out[*inv.InstanceId] = inv.Status
		}
	}
	return out
}

func commandStatus(t *testing.T, cloud *fakecloud.Cloud, id string) types.Command {
	t.Helper()
	out, err := cloud.SSM().ListCommands(context.Background(), &ssm.ListCommandsInput{CommandId: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.Commands, 1)
	return out.Commands[0]
}

func TestSSMCommandLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud, ids := activeDoc(t, 4)
	f := cloud.SSM()
	f.ScriptOutcome(ids[1], "check-doc", types.CommandInvocationStatusFailed, "FAIL port")
	sent, err := f.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("check-doc"), Targets: []types.Target{{Key: aws.String("tag:Role"), Values: []string{"app"}}},
		Parameters: map[string][]string{"host": {"db"}}, MaxConcurrency: aws.String("2"), MaxErrors: aws.String("100%"),
		CloudWatchOutputConfig: &types.CloudWatchOutputConfig{CloudWatchLogGroupName: aws.String("/cutover/dev/validation"), CloudWatchOutputEnabled: true},
	})
	require.NoError(t, err)
	id := *sent.Command.CommandId
	// Targets resolve first: no invocations yet.
	assert.Equal(t, types.CommandStatusPending, commandStatus(t, cloud, id).Status)
	assert.Empty(t, invocationStatuses(t, cloud, id))
	_, err = f.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(ids[0])})
	assert.Equal(t, "InvocationDoesNotExist", awsx.Code(err))

	cloud.Clock().Advance(fakecloud.SSMTargetResolution)
	assert.Equal(t, map[string]types.CommandInvocationStatus{ids[0]: "Pending", ids[1]: "Pending", ids[2]: "Pending", ids[3]: "Pending"}, invocationStatuses(t, cloud, id))
	cloud.Clock().Advance(fakecloud.SSMDispatch)
	assert.Equal(t, map[string]types.CommandInvocationStatus{ids[0]: "InProgress", ids[1]: "InProgress", ids[2]: "Pending", ids[3]: "Pending"}, invocationStatuses(t, cloud, id), "two at a time")
	c := commandStatus(t, cloud, id)
	assert.Equal(t, types.CommandStatusInProgress, c.Status)
	assert.EqualValues(t, 4, c.TargetCount)
	cloud.Clock().Advance(fakecloud.SSMRunTime + fakecloud.SSMDispatch)
	assert.Equal(t, map[string]types.CommandInvocationStatus{ids[0]: "Success", ids[1]: "Failed", ids[2]: "InProgress", ids[3]: "InProgress"}, invocationStatuses(t, cloud, id))
	cloud.Clock().Advance(fakecloud.SSMRunTime)
	c = commandStatus(t, cloud, id)
	assert.Equal(t, types.CommandStatusSuccess, c.Status, "within MaxErrors the command is a Success, one instance failing notwithstanding")
	assert.EqualValues(t, 4, c.CompletedCount)
	assert.EqualValues(t, 1, c.ErrorCount)

	out, err := f.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(ids[1])})
	require.NoError(t, err)
	assert.Equal(t, "FAIL port", *out.StandardOutputContent)
	assert.EqualValues(t, 1, out.ResponseCode)
	details, err := f.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), InstanceId: aws.String(ids[1]), Details: true})
	require.NoError(t, err)
	require.Len(t, details.CommandInvocations, 1)
	inv := details.CommandInvocations[0]
	assert.Equal(t, "app-b", *inv.InstanceName)
	assert.Equal(t, "/cutover/dev/validation", *inv.CloudWatchOutputConfig.CloudWatchLogGroupName)
	require.Len(t, inv.CommandPlugins, 1)
	assert.Equal(t, "check", *inv.CommandPlugins[0].Name)
}

func TestSSMMaxErrorsStopsLaterBatches(t *testing.T) {
	cloud, ids := activeDoc(t, 4)
	cloud.SSM().ScriptOutcome(ids[0], "check-doc", types.CommandInvocationStatusFailed, "boom")
	sent, err := cloud.SSM().SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("check-doc"), InstanceIds: ids, Parameters: map[string][]string{"host": {"db"}}, MaxConcurrency: aws.String("2"),
	})
	require.NoError(t, err)
	cloud.Clock().Advance(time.Hour)
	assert.Equal(t, map[string]types.CommandInvocationStatus{ids[0]: "Failed", ids[1]: "Success", ids[2]: "Cancelled", ids[3]: "Cancelled"}, invocationStatuses(t, cloud, *sent.Command.CommandId))
	assert.Equal(t, types.CommandStatusFailed, commandStatus(t, cloud, *sent.Command.CommandId).Status)
}

func TestSSMOfflineInstanceTimesOutOnDelivery(t *testing.T) {
	cloud, ids := activeDoc(t, 2)
	cloud.SSM().SetOnline(ids[0], false)
	sent, err := cloud.SSM().SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("check-doc"), InstanceIds: ids, Parameters: map[string][]string{"host": {"db"}}, MaxConcurrency: aws.String("2"), TimeoutSeconds: aws.Int32(60),
	})
	require.NoError(t, err)
	id := *sent.Command.CommandId
	cloud.Clock().Advance(30 * time.Second)
	assert.Equal(t, types.CommandInvocationStatusPending, invocationStatuses(t, cloud, id)[ids[0]])
	cloud.Clock().Advance(30 * time.Second)
	out, err := cloud.SSM().ListCommandInvocations(context.Background(), &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), InstanceId: aws.String(ids[0])})
	require.NoError(t, err)
	assert.Equal(t, types.CommandInvocationStatusTimedOut, out.CommandInvocations[0].Status)
	assert.Equal(t, "DeliveryTimedOut", *out.CommandInvocations[0].StatusDetails)
	assert.EqualValues(t, 1, commandStatus(t, cloud, id).DeliveryTimedOutCount)
}

func TestSSMAssociations(t *testing.T) {
	ctx := context.Background()
	cloud, _ := activeDoc(t, 2)
	f := cloud.SSM()
	tags := []types.Target{{Key: aws.String("tag:Role"), Values: []string{"app"}}}
	for _, bad := range []string{"rate(10 minutes)", "rate(1 hours)", "cron(0 2 * *)", "daily"} {
		_, err := f.CreateAssociation(ctx, &ssm.CreateAssociationInput{Name: aws.String("check-doc"), Targets: tags, ScheduleExpression: aws.String(bad), Parameters: map[string][]string{"host": {"db"}}})
		assert.Equal(t, "InvalidSchedule", awsx.Code(err), bad)
	}
	_, err := f.CreateAssociation(ctx, &ssm.CreateAssociationInput{Name: aws.String("check-doc"), Targets: tags, ScheduleExpression: aws.String("rate(1 hour)")})
	assert.Equal(t, "InvalidParameters", awsx.Code(err), "a required parameter is missing")

	created, err := f.CreateAssociation(ctx, &ssm.CreateAssociationInput{
		AssociationName: aws.String("check-assoc"), Name: aws.String("check-doc"), DocumentVersion: aws.String("1"), Targets: tags,
		ScheduleExpression: aws.String("rate(30 minutes)"), Parameters: map[string][]string{"host": {"db"}}, MaxErrors: aws.String("100%"),
		ComplianceSeverity: types.AssociationComplianceSeverityHigh, Tags: []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}},
	})
	require.NoError(t, err)
	id := *created.AssociationDescription.AssociationId
	assert.Equal(t, types.AssociationStatusNamePending, created.AssociationDescription.Status.Name)
	cloud.Clock().Advance(fakecloud.SSMAssociationFirstRun)
	d, err := f.DescribeAssociation(ctx, &ssm.DescribeAssociationInput{AssociationId: aws.String(id)})
	require.NoError(t, err)
	assert.Equal(t, types.AssociationStatusNameSuccess, d.AssociationDescription.Status.Name)

	// A stale version is refused; a partial update resets what it omits.
	_, err = f.UpdateAssociation(ctx, &ssm.UpdateAssociationInput{AssociationId: aws.String(id), AssociationVersion: aws.String("7"), ScheduleExpression: aws.String("rate(1 day)"), Parameters: map[string][]string{"host": {"db"}}})
	assert.Equal(t, "InvalidAssociationVersion", awsx.Code(err))
	up, err := f.UpdateAssociation(ctx, &ssm.UpdateAssociationInput{AssociationId: aws.String(id), AssociationVersion: aws.String("1"), ScheduleExpression: aws.String("rate(1 day)"), Parameters: map[string][]string{"host": {"db"}}})
	require.NoError(t, err)
	ad := up.AssociationDescription
	assert.Equal(t, "2", *ad.AssociationVersion)
	assert.Nil(t, ad.MaxErrors, "omitted from the update: reset")
	assert.Nil(t, ad.AssociationName, "omitted from the update: reset")
	assert.Empty(t, ad.ComplianceSeverity)
	assert.Equal(t, "check-doc", *ad.Name)

	list, err := f.ListAssociations(ctx, &ssm.ListAssociationsInput{AssociationFilterList: []types.AssociationFilter{{Key: types.AssociationFilterKeyName, Value: aws.String("check-doc")}}})
	require.NoError(t, err)
	assert.Len(t, list.Associations, 1)
	_, err = f.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("check-doc")})
	assert.Equal(t, "AssociatedInstances", awsx.Code(err))
	assert.True(t, awsx.IsDependencyViolation(err))
	_, err = f.DeleteAssociation(ctx, &ssm.DeleteAssociationInput{AssociationId: aws.String(id)})
	require.NoError(t, err)
	_, err = f.DescribeAssociation(ctx, &ssm.DescribeAssociationInput{AssociationId: aws.String(id)})
	assert.True(t, awsx.IsNotFound(err))
	_, err = f.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("check-doc")})
	require.NoError(t, err)
}

func TestSSMSaveLoad(t *testing.T) {
	ctx := context.Background()
	cloud, ids := activeDoc(t, 2)
	sent, err := cloud.SSM().SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String("check-doc"), InstanceIds: ids, Parameters: map[string][]string{"host": {"db"}}})
	require.NoError(t, err)
	_, err = cloud.SSM().CreateAssociation(ctx, &ssm.CreateAssociationInput{Name: aws.String("check-doc"), Targets: []types.Target{{Key: aws.String("InstanceIds"), Values: ids}}, Parameters: map[string][]string{"host": {"db"}}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	loaded.Clock().Advance(time.Minute)
	assert.Equal(t, []string{"check-doc"}, loaded.SSM().Documents())
	assert.Len(t, loaded.SSM().Associations(), 1)
	assert.Equal(t, types.CommandStatusSuccess, commandStatus(t, loaded, *sent.Command.CommandId).Status)
}

// TestSSMScriptOutcomeAnyInstance: an AnyInstance outcome applies to every
// instance without one of its own, and only to the document it names.
func TestSSMScriptOutcomeAnyInstance(t *testing.T) {
	ctx := context.Background()
	cloud, ids := activeDoc(t, 3)
	f := cloud.SSM()
	f.ScriptOutcome(fakecloud.AnyInstance, "check-doc", types.CommandInvocationStatusFailed, "FAIL everywhere")
	f.ScriptOutcome(ids[2], "check-doc", types.CommandInvocationStatusSuccess, "ok here")
	f.ScriptOutcome(fakecloud.AnyInstance, "other-doc", types.CommandInvocationStatusTimedOut, "")
	sent, err := f.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String("check-doc"), InstanceIds: ids, Parameters: map[string][]string{"host": {"db"}}, MaxConcurrency: aws.String("3"), MaxErrors: aws.String("100%")})
	require.NoError(t, err)
	cloud.Clock().Advance(fakecloud.SSMTargetResolution + fakecloud.SSMDispatch + 2*fakecloud.SSMRunTime)
	assert.Equal(t, map[string]types.CommandInvocationStatus{ids[0]: "Failed", ids[1]: "Failed", ids[2]: "Success"}, invocationStatuses(t, cloud, *sent.Command.CommandId))
}
