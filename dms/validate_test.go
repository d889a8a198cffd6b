package dms_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

const (
	goodEndpointARN = "arn:aws:dms:us-east-1:123456789012:endpoint:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	goodTargetARN   = "arn:aws:dms:us-east-1:123456789012:endpoint:ZYXWVUTSRQPONMLKJIHGFEDCBA"
	goodInstanceARN = "arn:aws:dms:us-east-1:123456789012:rep:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	goodCertARN     = "arn:aws:dms:us-east-1:123456789012:cert:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	goodRoleARN     = "arn:aws:iam::123456789012:role/dms-secrets-role-dev"
	goodKeyARN      = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-1111-4222-a333-444455556666"
	goodSecretARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem/pg-AbC123"
)

// Every bad input is rejected before any API call, with an error naming
// the field and the rule.
func TestValidation(t *testing.T) {
	f := newFixture(t)
	instance := func(edit func(*dms.InstanceSpec)) func(context.Context, migration.Env) error {
		return func(ctx context.Context, env migration.Env) error {
			s := dms.InstanceSpec{SubnetGroup: "dms-subnet-group-dev", SecurityGroupIDs: []string{"sg-1"}, KMSKeyARN: goodKeyARN, EngineVersion: "3.6.1", SourceSizeGB: 500}
			edit(&s)
			_, err := dms.EnsureInstance(ctx, env, f.cloud.DMS(), s)
			return err
		}
	}
	endpoint := func(edit func(*dms.EndpointSpec)) func(context.Context, migration.Env) error {
		return func(ctx context.Context, env migration.Env) error {
			s := dms.EndpointSpec{Name: dms.EndpointSource, DatabaseName: "monolith", SecretARN: goodSecretARN, AccessRoleARN: goodRoleARN, CertificateARN: goodCertARN, KMSKeyARN: goodKeyARN}
			edit(&s)
			_, err := dms.EnsureEndpoint(ctx, env, f.cloud.DMS(), s)
			return err
		}
	}
	task := func(edit func(*dms.TaskSpec)) func(context.Context, migration.Env) error {
		return func(ctx context.Context, env migration.Env) error {
			s := dms.TaskSpec{Direction: dms.Forward, InstanceARN: goodInstanceARN, SourceEndpointARN: goodEndpointARN, TargetEndpointARN: goodTargetARN,
				Tables: dms.TableSelection{Include: []dms.TableRef{{Schema: "public", Table: "%"}}}}
			edit(&s)
			_, err := dms.EnsureTask(ctx, env, f.cloud.DMS(), s)
			return err
		}
	}
	target := func(edit func(*dms.TargetDBSpec)) func(context.Context, migration.Env) error {
		return func(ctx context.Context, env migration.Env) error {
			s := dms.TargetDBSpec{EngineVersion: "16", SourceSizeGB: 500, SubnetGroup: "rds-subnet-group-dev", ParameterGroup: "rds-params-dev",
				SecurityGroupIDs: []string{"sg-1"}, KMSKeyARN: goodKeyARN, DatabaseName: "monolith"}
			edit(&s)
			_, err := dms.EnsureTargetDB(ctx, env, f.cloud.RDS(), s)
			return err
		}
	}
	tables := func(in []dms.TableRef, ex ...dms.TableRef) func(*dms.TaskSpec) {
		return func(s *dms.TaskSpec) { s.Tables = dms.TableSelection{Include: in, Exclude: ex} }
	}
	stack := func(edit func(*dms.Spec)) func(context.Context, migration.Env) error {
		return func(ctx context.Context, env migration.Env) error {
			s := f.spec()
			edit(&s)
			return s.Validate()
		}
	}
	tests := []struct {
		name string
		call func(context.Context, migration.Env) error
		want string
	}{
		// identifiers
		{"env suffix that breaks DMS identifiers", func(ctx context.Context, env migration.Env) error {
			env.Suffix = "dev-"
			return instance(func(*dms.InstanceSpec) {})(ctx, env)
		}, "env.suffix"},
		{"subnet group name", instance(func(s *dms.InstanceSpec) { s.SubnetGroup = "1group" }), "instance.subnetGroup"},
		{"database name with a hyphen", endpoint(func(s *dms.EndpointSpec) { s.DatabaseName = "mono-lith" }), "endpoint.databaseName: \"mono-lith\" is not a PostgreSQL identifier"},
		{"database name too long", endpoint(func(s *dms.EndpointSpec) { s.DatabaseName = "d" + string(make([]byte, 63)) }), "endpoint.databaseName"},
		{"endpoint name", endpoint(func(s *dms.EndpointSpec) { s.Name = "dms-elsewhere" }), "endpoint.name"},
		{"slot name", endpoint(func(s *dms.EndpointSpec) { s.PostgreSQL.SlotName = "Slot-1" }), "endpoint.postgresql.slotName"},
		{"master username reserved", target(func(s *dms.TargetDBSpec) { s.MasterUsername = "postgres" }), "targetDb.masterUsername"},
		// sizes and storage
		{"instance storage above the DMS maximum", instance(func(s *dms.InstanceSpec) { s.AllocatedStorageGB = 7000 }), "instance.allocatedStorageGb: 7000 outside the 5..6144"},
		{"no source size for the defaults", instance(func(s *dms.InstanceSpec) { s.SourceSizeGB = 0 }), "instance.sourceSizeGb: required"},
		{"instance class", instance(func(s *dms.InstanceSpec) { s.Class = "r6i.xlarge" }), "instance.class"},
		{"maintenance window", instance(func(s *dms.InstanceSpec) { s.MaintenanceWindow = "sunday 3am" }), "instance.maintenanceWindow"},
		{"DNS server given by name", instance(func(s *dms.InstanceSpec) { s.DNSNameServers = []string{"192.168.0.2", "dns1.dc1.example.internal"} }),
			"instance.dnsNameServers[1]: \"dns1.dc1.example.internal\" is not an IPv4 address"},
		{"five DNS servers", instance(func(s *dms.InstanceSpec) {
			s.DNSNameServers = []string{"192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4", "192.168.0.5"}
		}), "instance.dnsNameServers: at most 4"},
		{"DNS server twice", instance(func(s *dms.InstanceSpec) { s.DNSNameServers = []string{"192.168.0.2", "192.168.0.2"} }), "listed twice"},
		{"target storage smaller than the source", target(func(s *dms.TargetDBSpec) { s.AllocatedStorageGB = 400 }), "smaller than the 500 GB source"},
		{"backup retention", target(func(s *dms.TargetDBSpec) { s.BackupRetentionDays = 40 }), "targetDb.backupRetentionDays"},
		{"LOB size", task(func(s *dms.TaskSpec) { s.LOB = dms.LOBSettings{MaxSizeKB: 200000} }), "task.lob.maxSizeKb"},
		{"LOB chunk in limited mode", task(func(s *dms.TaskSpec) { s.LOB = dms.LOBSettings{ChunkSizeKB: 64} }), "only for full LOB mode"},
		{"parallel loads", task(func(s *dms.TaskSpec) { s.MaxFullLoadSubTasks = 50 }), "task.maxFullLoadSubTasks"},
		// versions
		{"engine version not pinned", instance(func(s *dms.InstanceSpec) { s.EngineVersion = "latest" }), "pin one"},
		{"engine too old for PostgreSQL 13", instance(func(s *dms.InstanceSpec) { s.EngineVersion = "3.4.2" }), "needs 3.4.3 or later"},
		{"target PostgreSQL 13", target(func(s *dms.TargetDBSpec) { s.EngineVersion = "13" }), "must be PostgreSQL 16 or 17"},
		{"PostgreSQL 17 target with a DMS engine that cannot write it", stack(func(s *dms.Spec) { s.EngineVersion, s.Target.EngineVersion = "3.5.4", "17" }),
			"DMS 3.5.4 does not support PostgreSQL 17; it needs 3.6.1"},
		// ARNs
		{"key alias instead of ARN", instance(func(s *dms.InstanceSpec) { s.KMSKeyARN = "alias/migration-dev" }), "an alias is not accepted"},
		{"partial secret ARN", endpoint(func(s *dms.EndpointSpec) {
			s.SecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem/pg"
		}), "partial secret ARN"},
		{"role name instead of ARN", endpoint(func(s *dms.EndpointSpec) { s.AccessRoleARN = "dms-secrets-role-dev" }), "endpoint.accessRoleArn"},
		{"no certificate (verify-full needs it)", endpoint(func(s *dms.EndpointSpec) { s.CertificateARN = "" }), "endpoint.certificateArn"},
		{"endpoint ARN as instance", task(func(s *dms.TaskSpec) { s.InstanceARN = goodEndpointARN }), "task.instanceArn"},
		{"same endpoint twice", task(func(s *dms.TaskSpec) { s.TargetEndpointARN = s.SourceEndpointARN }), "same"},
		{"security group", target(func(s *dms.TargetDBSpec) { s.SecurityGroupIDs = []string{"default"} }), "targetDb.securityGroupIds"},
		{"one subnet", func(ctx context.Context, env migration.Env) error {
			_, err := dms.EnsureSubnetGroup(ctx, env, f.cloud.DMS(), dms.SubnetGroupSpec{SubnetIDs: []string{"subnet-1"}})
			return err
		}, "at least two private subnets"},
		{"subnet listed twice", func(ctx context.Context, env migration.Env) error {
			_, err := dms.EnsureDBSubnetGroup(ctx, env, f.cloud.RDS(), dms.DBSubnetGroupSpec{SubnetIDs: []string{"subnet-1", "subnet-1", "subnet-2"}})
			return err
		}, "listed twice"},
		{"secrets role without a key", func(ctx context.Context, env migration.Env) error {
			_, err := dms.EnsureSecretsRole(ctx, env, f.cloud.IAM(), dms.SecretsRoleSpec{SecretARNs: []string{goodSecretARN}})
			return err
		}, "secretsRole.kmsKeyArns"},
		// mappings
		{"no include", task(tables(nil)), "at least one schema.table pattern"},
		{"table name with SQL in it", task(tables([]dms.TableRef{{Schema: "public", Table: "orders;drop"}})), "not a PostgreSQL identifier pattern"},
		{"DMS bracket syntax is not ours", task(tables([]dms.TableRef{{Schema: "public", Table: "order[_]items"}})), "tables.include[0].table"},
		{"double wildcard", task(tables([]dms.TableRef{{Schema: "%%", Table: "x"}})), "one % is enough"},
		{"duplicate rule", task(tables([]dms.TableRef{{Schema: "public", Table: "a"}, {Schema: "public", Table: "a"}})), "listed twice"},
		{"exclude outside every include", task(tables([]dms.TableRef{{Schema: "public", Table: "%"}}, dms.TableRef{Schema: "audit", Table: "log"})), "excludes nothing"},
		{"exclude that swallows an include", task(tables([]dms.TableRef{{Schema: "public", Table: "orders"}}, dms.TableRef{Schema: "public", Table: "%"})), "excludes everything"},
		// safety
		{"reverse task that would truncate on-premises tables", task(func(s *dms.TaskSpec) { s.Direction, s.TargetTablePrepMode = dms.Reverse, "TRUNCATE_BEFORE_LOAD" }), "always DO_NOTHING"},
		{"heartbeat on a target", endpoint(func(s *dms.EndpointSpec) { s.Name, s.PostgreSQL.HeartbeatEnable = dms.EndpointTarget, true }), "source settings"},
		{"decoding plugin", endpoint(func(s *dms.EndpointSpec) { s.PostgreSQL.PluginName = "wal2json" }), "endpoint.postgresql.pluginName"},
		{"private key in the CA bundle", func(ctx context.Context, env migration.Env) error {
			_, err := dms.EnsureCertificate(ctx, env, f.cloud.DMS(), dms.CertificateSpec{Name: dms.CertSource, PEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})
			return err
		}, "never a private key"},
		{"overriding force_ssl", func(ctx context.Context, env migration.Env) error {
			_, err := dms.EnsureParameterGroup(ctx, env, f.cloud.RDS(), dms.ParameterGroupSpec{Major: 16, Extra: map[string]string{"rds.force_ssl": "0"}})
			return err
		}, "cannot be overridden"},
		{"secret recovery window", func(ctx context.Context, env migration.Env) error {
			return dms.DeleteTargetSecret(ctx, env, f.cloud.SecretsManager(), dms.TargetSecretSpec{RecoveryWindowDays: 3})
		}, "recoveryWindowDays"},
		{"source size of the whole stack", stack(func(s *dms.Spec) { s.SourceSizeGB = 0 }), "dms.sourceSizeGb: required"},
		{"source database name of the whole stack", stack(func(s *dms.Spec) { s.Source.DatabaseName = "" }), "dms.source.databaseName: required"},
		{"target database name of the whole stack", stack(func(s *dms.Spec) { s.Target.DatabaseName = "two words" }), `dms.target.databaseName: "two words" is not a PostgreSQL identifier`},
		{"source decoding plugin of the whole stack", stack(func(s *dms.Spec) { s.Source.PluginName = "wal2json" }), "dms.source.pluginName"},
		{"source slot of the whole stack", stack(func(s *dms.Spec) { s.Source.SlotName = "Slot-1" }), "dms.source.slotName"},
		{"existing target of an old major", stack(func(s *dms.Spec) {
			s.Target.Existing = &dms.ExistingTarget{SecretARN: goodSecretARN, Major: 13}
		}), "dms.target.existing.major"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.cloud.ResetCalls()
			err := tt.call(f.ctx, f.env)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, f.cloud.Calls(), "validation happens before any call")
		})
	}
}

// Table patterns: literal names, % wildcards, underscores that stay
// literal.
func TestTableSelection(t *testing.T) {
	ok := []dms.TableSelection{
		{Include: []dms.TableRef{{Schema: "public", Table: "%"}}},
		{Include: []dms.TableRef{{Schema: "%", Table: "%"}}, Exclude: []dms.TableRef{{Schema: "pg_temp%", Table: "%"}}},
		{Include: []dms.TableRef{{Schema: "billing", Table: "invoice_lines"}, {Schema: "public", Table: "tmp_%"}}, Exclude: []dms.TableRef{{Schema: "public", Table: "tmp_cache"}}},
		{Include: []dms.TableRef{{Schema: "_internal", Table: "ledger$2026"}}},
	}
	for _, s := range ok {
		assert.NoError(t, s.Validate(), "%+v", s)
	}
	assert.Equal(t, `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"include-1","object-locator":{"schema-name":"billing","table-name":"invoice[_]lines"},"rule-action":"include","filters":[]},`+
		`{"rule-type":"selection","rule-id":"2","rule-name":"include-2","object-locator":{"schema-name":"public","table-name":"tmp[_]%"},"rule-action":"include","filters":[]},`+
		`{"rule-type":"selection","rule-id":"3","rule-name":"exclude-3","object-locator":{"schema-name":"public","table-name":"tmp[_]cache"},"rule-action":"exclude","filters":[]},`+
		`{"rule-type":"selection","rule-id":"4","rule-name":"exclude-dms-control-tables","object-locator":{"schema-name":"%","table-name":"awsdms[_]%"},"rule-action":"exclude","filters":[]}]}`,
		ok[2].MappingsJSON())
}

// One bad field of the stack's spec is one error under its own path, not
// one per endpoint built from it.
func TestSpecValidateReportsAFieldOnce(t *testing.T) {
	f := newFixture(t)
	spec := f.spec()
	spec.Source.DatabaseName = ""
	err := spec.Validate()
	require.Error(t, err)
	assert.Equal(t, "dms.source.databaseName: required", err.Error())
}
