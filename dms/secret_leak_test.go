package dms_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// No password — the operator's source password, the master password RDS
// generated, the one it rotated to, or one in a malformed secret — reaches
// a log line (at debug level), an error, a Change, the rendered plan or
// the fake's call log, across plan, apply, a run, a cutover, a rotation
// with a re-sync, failures and destroy.
func TestNoSecretLeaks(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.env.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := &migration.Report{}
	f.env.Reporter = all
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	spec := f.spec()
	rb, out := f.stack(spec)
	plan := f.env
	plan.DryRun = true
	require.NoError(t, rb.Plan(f.ctx, plan))
	require.NoError(t, rb.Apply(f.ctx, f.env))

	masterARN := out.TargetDB.MasterSecretARN
	require.NotEmpty(t, masterARN)
	master, ok := f.cloud.SecretsManager().SecretValue(masterARN)
	require.True(t, ok)
	var m struct{ Username, Password string }
	require.NoError(t, json.Unmarshal([]byte(master), &m))
	require.NotEmpty(t, m.Password)

	// The endpoint secret DMS reads holds the master credentials plus
	// host and port, and no endpoint was ever given a clear-text password.
	value, ok := f.cloud.SecretsManager().SecretValue(out.TargetSecret.ARN)
	require.True(t, ok)
	var ep map[string]any
	require.NoError(t, json.Unmarshal([]byte(value), &ep))
	assert.Equal(t, m.Password, ep["password"])
	assert.Equal(t, out.TargetDB.Address, ep["host"])
	assert.EqualValues(t, 5432, ep["port"])
	for _, name := range []string{"dms-source-dev", "dms-target-dev", "dms-reverse-source-dev", "dms-reverse-target-dev"} {
		assert.False(t, f.cloud.DMS().EndpointUsesClearText(name), name)
	}
	require.NoError(t, dms.TestConnections(f.ctx, f.env, f.cloud.DMS(), *out))

	// Run, cut over.
	api := f.cloud.DMS()
	require.NoError(t, dms.Start(f.ctx, f.env, api, out.Forward.ARN))
	f.cloud.Clock().Advance(time.Hour)
	_, err := dms.Lag(f.ctx, f.env, api, f.cloud.CloudWatch(), out.Forward.ARN)
	keep(err)
	require.NoError(t, dms.SwitchToReverse(f.ctx, f.env, api, f.cloud.DMS().SourceFence(out.Forward.ARN), out.Forward.ARN, out.Reverse.ARN))

	// RDS rotates the master password: DMS's copy is stale (the
	// connection fails with an authentication error) until apply re-syncs
	// it.
	const rotated = "Rotated-M4ster-Pw-9d2f"
	require.True(t, f.cloud.SecretsManager().Rotate(masterARN, rotated))
	stale := dms.TestConnection(f.ctx, f.env, api, out.Instance.ARN, out.Endpoints[dms.EndpointTarget].ARN)
	require.ErrorContains(t, stale, "password authentication failed")
	keep(stale)
	require.NoError(t, rb.Apply(f.ctx, f.env))
	require.NoError(t, dms.TestConnection(f.ctx, f.env, api, out.Instance.ARN, out.Endpoints[dms.EndpointTarget].ARN))
	value, _ = f.cloud.SecretsManager().SecretValue(out.TargetSecret.ARN)
	assert.Contains(t, value, rotated, "the endpoint secret follows the rotation")

	// Failures: a malformed secret and a refused certificate change.
	const badPassword = "Malformed-S3cret-Pw-77"
	bad := f.createSecret("onprem/broken", f.key, map[string]any{"username": "x", "password": badPassword, "port": "5432"})
	_, err = dms.InspectSecret(f.ctx, f.env, f.cloud.SecretsManager(), bad)
	require.ErrorContains(t, err, "lacks host")
	keep(err)
	changed := spec
	changed.Source.CACertificatePEM = f.pem2
	_, err = dms.EnsureCertificate(f.ctx, f.env, api, changed.CertificateSpecs()[0])
	require.ErrorContains(t, err, "immutable")
	keep(err)

	require.NoError(t, dms.Stop(f.ctx, f.env, api, out.Reverse.ARN))
	require.NoError(t, rb.Destroy(f.ctx, f.env))

	var table bytes.Buffer
	require.NoError(t, all.WriteTable(&table))
	changes, err := json.Marshal(all)
	require.NoError(t, err)
	calls, err := json.Marshal(f.cloud.Calls())
	require.NoError(t, err)
	var errText strings.Builder
	for _, e := range errs {
		errText.WriteString(e.Error())
		var ae interface{ ErrorMessage() string }
		if errors.As(e, &ae) {
			errText.WriteString(ae.ErrorMessage())
		}
	}
	require.NotEmpty(t, logs.String())
	require.GreaterOrEqual(t, len(errs), 3)
	for _, secret := range []string{sourcePassword, m.Password, rotated, badPassword} {
		for where, text := range map[string]string{"logs": logs.String(), "errors": errText.String(), "changes": string(changes), "plan": table.String(), "call log": string(calls)} {
			assert.NotContains(t, text, secret, "a password reached the %s", where)
		}
	}
}
