package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/validate"
)

// TestValidateFailsThenPasses: a validation that fails on the servers
// exits 1, leaves the migration replicating and tells the topic; fixed
// and re-run, it passes and the migration is validated.
func TestValidateFailsThenPasses(t *testing.T) {
	ctx := context.Background()
	a, cloud := replicating(t)
	env := a.env(nil)
	doc := env.Name(validate.DocDatabase)
	cloud.SSM().ScriptOutcome(fakecloud.AnyInstance, doc, ssmtypes.CommandInvocationStatusFailed, "FAIL cannot reach the database")

	err := runValidation(ctx, a)
	require.Error(t, err)
	assert.Equal(t, exitFailure, exitCode(err))
	store, serr := a.store(false)
	require.NoError(t, serr)
	phase, serr := store.Phase(ctx)
	require.NoError(t, serr)
	assert.Equal(t, migration.PhaseReplicating, phase, "a failed validation validates nothing")

	topic := a.platform.out.topic.ARN
	before := len(cloud.SNS().Published(topic))
	a.notifyFailure(ctx, "validate", err)
	published := cloud.SNS().Published(topic)
	require.Len(t, published, before+1, "one notification of the failure")
	last := published[len(published)-1]
	assert.Equal(t, "[cutover dev] validate failed", last.Subject)
	assert.Equal(t, "warning", last.Attrs["severity"])
	assert.Contains(t, last.Message, `"reason":`)
	assert.Contains(t, last.Message, `"command":"validate"`)

	cloud.SSM().ScriptOutcome(fakecloud.AnyInstance, doc, ssmtypes.CommandInvocationStatusSuccess, "ok")
	require.NoError(t, runValidation(ctx, a), "fixed, the re-run passes")
	phase, err = store.Phase(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.PhaseValidated, phase)
}

// TestFailureNotifications: which failures are notified, at which
// severity; the controller's own rollbacks are not notified twice.
func TestFailureNotifications(t *testing.T) {
	ctx := context.Background()
	a, cloud, out := testApp(t, 0)
	failed := errors.New("boom")
	// Before apply there is no topic: nothing to notify, nothing sent.
	a.notifyFailure(ctx, "apply", failed)
	require.NoError(t, apply(ctx, a, &migration.Report{}), out.String())
	topic := a.platform.out.topic.ARN
	tests := []struct {
		command  string
		err      error
		severity string // "" for none
	}{
		{"apply", failed, "warning"},
		{"replicate", failed, "warning"},
		{"validate", failed, "warning"},
		{"cutover", failed, "critical"},
		{"rollback", failed, "critical"},
		{"cutover", fmt.Errorf("step 3: %w", rollback.ErrRolledBack), ""},
		{"cutover", rollback.ErrAborted, ""},
		{"cutover", context.Canceled, ""},
		{"apply", usageError{errors.New("bad spec")}, ""},
		{"plan", errChanges, ""},
		{"plan", failed, ""},
		{"status", failed, ""},
		{"destroy", failed, ""},
		{"cutover", nil, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.command, tt.err), func(t *testing.T) {
			before := len(cloud.SNS().Published(topic))
			a.notifyFailure(ctx, tt.command, tt.err)
			published := cloud.SNS().Published(topic)[before:]
			if tt.severity == "" {
				assert.Empty(t, published)
				return
			}
			require.Len(t, published, 1)
			assert.Equal(t, "[cutover dev] "+tt.command+" failed", published[0].Subject)
			assert.Equal(t, tt.severity, published[0].Attrs["severity"])
		})
	}
	// A cutover the controller rolled back still exits 1.
	assert.Equal(t, exitFailure, exitCode(fmt.Errorf("step 3: %w", rollback.ErrRolledBack)))
}
