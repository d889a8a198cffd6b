//go:build unix

package validate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/internal/pgtest"
	"github.com/cutoverkit/cutover/validate"
)

func TestComparePostgres(t *testing.T) {
	pg := pgtest.Start(t)
	const password = "v4lid:at0r'pw"
	pg.Exec(t, "postgres",
		"CREATE ROLE validator LOGIN PASSWORD 'v4lid:at0r''pw'",
		"CREATE DATABASE source", "CREATE DATABASE target")
	common := []string{
		"CREATE TABLE orders (id int PRIMARY KEY, item text, amount numeric(10,2), created timestamptz)",
		"INSERT INTO orders SELECT g, 'item-' || g, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 1000) g",
		"CREATE SCHEMA sales",
		"CREATE TABLE sales.customers (id int PRIMARY KEY, name text)",
		"INSERT INTO sales.customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g",
		"CREATE TABLE items (id int PRIMARY KEY, sku text)",
		"INSERT INTO items SELECT g, 'sku-' || g FROM generate_series(1, 20) g",
		"GRANT USAGE ON SCHEMA sales TO validator",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public, sales TO validator",
	}
	pg.Exec(t, "source", append(common, "CREATE TABLE audit (id int)", "GRANT SELECT ON audit TO validator")...)
	pg.Exec(t, "target", append(common,
		"DELETE FROM sales.customers WHERE id = 50",
		"UPDATE items SET sku = 'sku-changed' WHERE id = 7")...)

	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	secret := func(name, user, pass string) string {
		out, err := cloud.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass)),
		})
		require.NoError(t, err)
		return aws.ToString(out.ARN)
	}
	good := secret("validate/source", "validator", password)
	bad := secret("validate/wrong", "validator", "not-the-password")
	endpoint := func(db, arn string, ca bool) validate.PostgresEndpoint {
		e := validate.PostgresEndpoint{Host: "localhost", Port: pg.Port, Database: db, SecretARN: arn}
		if ca {
			e.RootCAs = pg.CA
		}
		return e
	}
	tables := []string{"orders", "sales.customers", "items", "audit"}

	t.Run("counts and checksums name every differing table", func(t *testing.T) {
		rec := &recorder{}
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), rec, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", good, true), Tables: tables, Checksums: true,
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		require.Len(t, r.Instances, 4)
		byTable := map[string]string{}
		for _, inst := range r.Instances {
			byTable[inst.InstanceID] = inst.Status + ": " + inst.Output
			assert.NotContains(t, inst.Output, password)
		}
		assert.Contains(t, byTable["orders"], "Match: rows: source 1000, target 1000; checksum: source ")
		assert.Contains(t, byTable["sales.customers"], "Mismatch: rows: source 50, target 49")
		assert.Contains(t, byTable["items"], "Mismatch: rows: source 20, target 20; checksum")
		assert.Contains(t, byTable["audit"], "Error: target: ")
		assert.Contains(t, byTable["audit"], `relation "public.audit" does not exist`)
		gate := validate.Passed(r)
		require.ErrorIs(t, gate, validate.ErrNotValidated)
		for _, table := range []string{"sales.customers", "items", "audit"} {
			assert.Contains(t, gate.Error(), "rows on "+table)
		}
		assert.NotContains(t, gate.Error(), "rows on orders")
		require.Len(t, rec.results, 1)
	})

	t.Run("counts only: same row counts match", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", good, true), Tables: []string{"orders", "items"},
		})
		require.NoError(t, err)
		assert.True(t, r.Passed, "%+v", r.Instances)
		require.NoError(t, validate.Passed(r))
	})

	t.Run("the server certificate is verified", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, false), Target: endpoint("target", good, true), Tables: []string{"orders"},
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		assert.Equal(t, validate.StatusError, r.Instances[0].Status)
		assert.Contains(t, r.Instances[0].Output, "certificate")
	})

	t.Run("a wrong password fails without showing any password", func(t *testing.T) {
		r, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{
			Name: "rows", Source: endpoint("source", good, true), Target: endpoint("target", bad, true), Tables: []string{"orders"},
		})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		out := r.Instances[0].Output
		assert.Contains(t, out, "password authentication failed")
		assert.NotContains(t, out, "not-the-password")
		assert.NotContains(t, out, password)
	})

	t.Run("credentials come only from a secret ARN", func(t *testing.T) {
		e := endpoint("source", good, true)
		e.SecretARN = "validator:" + password
		_, err := validate.ComparePostgres(ctx, env, cloud.SecretsManager(), nil, validate.PostgresCompare{Name: "rows", Source: e, Target: e, Tables: []string{"orders"}})
		require.ErrorContains(t, err, "postgresCompare.source.secretArn")
	})
}

// The fake cloud type is used for the secrets above.
var _ validate.SecretsAPI = (*fakecloud.SecretsManager)(nil)
