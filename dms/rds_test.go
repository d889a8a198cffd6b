package dms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// rdsDeps ensures the target's groups.
func (f *fixture) rdsDeps() (dms.DBSubnetGroup, dms.ParameterGroup) {
	f.t.Helper()
	g, err := dms.EnsureDBSubnetGroup(f.ctx, f.env, f.cloud.RDS(), dms.DBSubnetGroupSpec{SubnetIDs: f.subnets})
	require.NoError(f.t, err)
	p, err := dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{Major: 16})
	require.NoError(f.t, err)
	return g, p
}

func (f *fixture) targetSpec(g dms.DBSubnetGroup, p dms.ParameterGroup) dms.TargetDBSpec {
	return dms.TargetDBSpec{EngineVersion: "16", SourceSizeGB: 500, SubnetGroup: g.Name, ParameterGroup: p.Name,
		SecurityGroupIDs: []string{"sg-0rds"}, KMSKeyARN: f.key, DatabaseName: "monolith"}
}

func (f *fixture) describeDB() rdstypes.DBInstance {
	f.t.Helper()
	out, err := f.cloud.RDS().DescribeDBInstances(f.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("rds-target-dev")})
	require.NoError(f.t, err)
	return out.DBInstances[0]
}

func TestEnsureTargetDB(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fixture, spec dms.TargetDBSpec)
		dryRun     bool
		edit       func(f *fixture, s *dms.TargetDBSpec)
		wantAction migration.Action
		wantWrites []string
		wantNote   string
		wantErr    string
		check      func(t *testing.T, db rdstypes.DBInstance)
	}{
		{
			name:       "missing is created: Multi-AZ, encrypted, gp3 with headroom, private, RDS-managed password, logs, no deletion protection",
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateDBInstance"},
			check: func(t *testing.T, db rdstypes.DBInstance) {
				assert.True(t, aws.ToBool(db.MultiAZ))
				assert.True(t, aws.ToBool(db.StorageEncrypted))
				assert.Equal(t, "gp3", aws.ToString(db.StorageType))
				assert.EqualValues(t, 750, aws.ToInt32(db.AllocatedStorage), "1.5 x the 500 GB source")
				assert.False(t, aws.ToBool(db.PubliclyAccessible))
				assert.False(t, aws.ToBool(db.DeletionProtection))
				assert.True(t, aws.ToBool(db.CopyTagsToSnapshot))
				assert.NotNil(t, db.MasterUserSecret)
				assert.ElementsMatch(t, []string{"postgresql", "upgrade"}, db.EnabledCloudwatchLogsExports)
				assert.Equal(t, "rds-params-dev", aws.ToString(db.DBParameterGroups[0].DBParameterGroupName))
				assert.Equal(t, "available", aws.ToString(db.DBInstanceStatus))
			},
		},
		{name: "converged makes no write", setup: ensureDB, wantAction: migration.ActionNoop},
		{
			name: "drift made by hand converges at once: deletion protection, log exports, retention", setup: func(f *fixture, spec dms.TargetDBSpec) {
				ensureDB(f, spec)
				_, err := f.cloud.RDS().ModifyDBInstance(f.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("rds-target-dev"),
					DeletionProtection: aws.Bool(true), BackupRetentionPeriod: aws.Int32(1),
					CloudwatchLogsExportConfiguration: &rdstypes.CloudwatchLogsExportConfiguration{DisableLogTypes: []string{"upgrade"}}})
				require.NoError(f.t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyDBInstance"},
			check: func(t *testing.T, db rdstypes.DBInstance) {
				assert.False(t, aws.ToBool(db.DeletionProtection))
				assert.EqualValues(t, 7, aws.ToInt32(db.BackupRetentionPeriod))
				assert.Contains(t, db.EnabledCloudwatchLogsExports, "upgrade")
			},
		},
		{
			name: "a class change waits for the maintenance window", setup: ensureDB,
			edit:       func(f *fixture, s *dms.TargetDBSpec) { s.Class = "db.r6g.2xlarge" },
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyDBInstance"}, wantNote: "maintenance window",
			check: func(t *testing.T, db rdstypes.DBInstance) {
				assert.Equal(t, "db.r6g.xlarge", aws.ToString(db.DBInstanceClass))
				assert.Equal(t, "db.r6g.2xlarge", aws.ToString(db.PendingModifiedValues.DBInstanceClass))
			},
		},
		{
			name: "storage grows at once with ApplyImmediately", setup: ensureDB,
			edit:       func(f *fixture, s *dms.TargetDBSpec) { s.AllocatedStorageGB, s.ApplyImmediately = 1000, true },
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyDBInstance"},
			check: func(t *testing.T, db rdstypes.DBInstance) {
				assert.EqualValues(t, 1000, aws.ToInt32(db.AllocatedStorage))
			},
		},
		{name: "a static parameter change is reported as waiting for a reboot, never rebooted", setup: func(f *fixture, spec dms.TargetDBSpec) {
			ensureDB(f, spec)
			_, err := dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{Major: 16, Extra: map[string]string{"max_replication_slots": "30"}})
			require.NoError(f.t, err)
		}, wantAction: migration.ActionNoop, wantNote: "reboot"},
		{name: "a KMS key change is refused", setup: ensureDB, edit: func(f *fixture, s *dms.TargetDBSpec) { s.KMSKeyARN = f.otherKey() }, wantErr: "kms key is immutable"},
		{name: "a major version change is refused", setup: ensureDB, edit: func(f *fixture, s *dms.TargetDBSpec) { s.EngineVersion = "17" }, wantErr: "major version is immutable"},
		{name: "a database name change is refused", setup: ensureDB, edit: func(f *fixture, s *dms.TargetDBSpec) { s.DatabaseName = "other" }, wantErr: "database name is immutable"},
		{name: "shrinking storage is refused", setup: ensureDB, edit: func(f *fixture, s *dms.TargetDBSpec) { s.AllocatedStorageGB = 600 }, wantErr: "storage can only grow"},
		{name: "a look-alike without the ownership tag is not adopted", setup: func(f *fixture, spec dms.TargetDBSpec) {
			ensureDB(f, spec)
			_, err := f.cloud.RDS().RemoveTagsFromResource(f.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:db:rds-target-dev"), TagKeys: []string{migration.OwnerTag}})
			require.NoError(f.t, err)
		}, wantErr: "refusing to adopt"},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{name: "dry run with a pending parameter group reports create without a call", dryRun: true,
			edit: func(f *fixture, s *dms.TargetDBSpec) { s.ParameterGroup = migration.Pending("rds-params-dev") }, wantAction: migration.ActionCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			spec := f.targetSpec(f.rdsDeps())
			if tt.setup != nil {
				tt.setup(f, spec)
			}
			if tt.edit != nil {
				tt.edit(f, &spec)
			}
			f.reset()
			f.env.DryRun = tt.dryRun
			db, err := dms.EnsureTargetDB(f.ctx, f.env, f.cloud.RDS(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure rds instance "rds-target-dev"`)
				assert.Empty(t, f.cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(f.report))
			assert.Equal(t, tt.wantWrites, f.writes())
			if tt.wantNote != "" {
				assert.Contains(t, f.report.Changes()[0].Note, tt.wantNote)
			}
			if tt.dryRun {
				assert.True(t, migration.IsPending(db.ID))
				assert.Empty(t, f.cloud.RDS().DBInstances())
				return
			}
			got := f.describeDB()
			assert.Equal(t, aws.ToString(got.DBInstanceArn), db.ARN)
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func ensureDB(f *fixture, spec dms.TargetDBSpec) {
	f.t.Helper()
	_, err := dms.EnsureTargetDB(f.ctx, f.env, f.cloud.RDS(), spec)
	require.NoError(f.t, err)
}

func TestEnsureParameterGroup(t *testing.T) {
	f := newFixture(t)
	spec := dms.ParameterGroupSpec{Major: 17, Extra: map[string]string{"max_slot_wal_keep_size": "102400"}}
	_, err := dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"CreateDBParameterGroup", "ModifyDBParameterGroup"}, f.writes())
	assert.Equal(t, map[string]string{"rds.force_ssl": "1", "rds.logical_replication": "1", "max_slot_wal_keep_size": "102400"}, f.cloud.RDS().ParameterGroupParams("rds-params-dev"))

	f.reset()
	_, err = dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())

	// Someone turned TLS enforcement off: it comes back on.
	_, err = f.cloud.RDS().ModifyDBParameterGroup(f.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("rds-params-dev"),
		Parameters: []rdstypes.Parameter{{ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("0"), ApplyMethod: rdstypes.ApplyMethodImmediate}}})
	require.NoError(t, err)
	f.reset()
	_, err = dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"ModifyDBParameterGroup"}, f.writes())
	assert.Equal(t, "1", f.cloud.RDS().ParameterGroupParams("rds-params-dev")["rds.force_ssl"])
	assert.Equal(t, []migration.FieldDiff{{Field: "rds.force_ssl", From: "0", To: "1"}}, f.report.Changes()[0].Diff)

	// The family is immutable.
	_, err = dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{Major: 16})
	require.ErrorContains(t, err, "family is immutable")

	// Dry run of drift writes nothing.
	_, err = f.cloud.RDS().ModifyDBParameterGroup(f.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("rds-params-dev"),
		Parameters: []rdstypes.Parameter{{ParameterName: aws.String("rds.logical_replication"), ParameterValue: aws.String("0"), ApplyMethod: rdstypes.ApplyMethodPendingReboot}}})
	require.NoError(t, err)
	f.reset()
	dry := f.env
	dry.DryRun = true
	_, err = dms.EnsureParameterGroup(f.ctx, dry, f.cloud.RDS(), spec)
	require.NoError(t, err)
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []migration.Action{migration.ActionUpdate}, actions(f.report))
}

func TestDeleteTargetDB(t *testing.T) {
	f := newFixture(t)
	g, p := f.rdsDeps()
	spec := f.targetSpec(g, p)
	ensureDB(f, spec)

	// The groups are in use: their deletes wait, then fail with RDS's error.
	err := dms.DeleteParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{})
	require.ErrorContains(t, err, "InvalidDBParameterGroupState")

	// Dry run: reported with the snapshot it would keep, nothing deleted.
	f.reset()
	dry := f.env
	dry.DryRun = true
	require.NoError(t, dms.DeleteTargetDB(f.ctx, dry, f.cloud.RDS(), spec))
	assert.Empty(t, f.cloud.Writes())
	assert.Contains(t, f.report.Changes()[0].Note, "final snapshot rds-target-final-dev-20261102")

	// Delete keeps a final snapshot and waits until the instance is gone;
	// then the groups go.
	f.reset()
	require.NoError(t, dms.DeleteTargetDB(f.ctx, f.env, f.cloud.RDS(), spec))
	require.NoError(t, dms.DeleteParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{}))
	require.NoError(t, dms.DeleteDBSubnetGroup(f.ctx, f.env, f.cloud.RDS(), dms.DBSubnetGroupSpec{}))
	assert.Equal(t, []string{"DeleteDBInstance", "DeleteDBParameterGroup", "DeleteDBSubnetGroup"}, f.writes())
	assert.Empty(t, f.cloud.RDS().DBInstances())
	snaps := f.cloud.RDS().Snapshots()
	require.Len(t, snaps, 1)
	assert.Regexp(t, `^rds-target-final-dev-\d{14}$`, snaps[0])
	out, err := f.cloud.RDS().DescribeDBSnapshots(f.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snaps[0])})
	require.NoError(t, err)
	assert.Equal(t, f.key, aws.ToString(out.DBSnapshots[0].KmsKeyId), "the snapshot stays encrypted with the env key")
	assert.Contains(t, fromTags(out.DBSnapshots[0].TagList), migration.OwnerTag, "tags copied to the snapshot")

	// Gone: no-ops.
	f.reset()
	require.NoError(t, dms.DeleteTargetDB(f.ctx, f.env, f.cloud.RDS(), spec))
	require.NoError(t, dms.DeleteParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{}))
	require.NoError(t, dms.DeleteDBSubnetGroup(f.ctx, f.env, f.cloud.RDS(), dms.DBSubnetGroupSpec{}))
	assert.Empty(t, f.cloud.Writes())

	// SkipFinalSnapshot is explicit, and honoured.
	g, p = f.rdsDeps()
	spec = f.targetSpec(g, p)
	ensureDB(f, spec)
	spec.SkipFinalSnapshot = true
	require.NoError(t, dms.DeleteTargetDB(f.ctx, f.env, f.cloud.RDS(), spec))
	assert.Len(t, f.cloud.RDS().Snapshots(), 1, "no second snapshot")

	// Not owned: left in place.
	ensureDB(f, spec)
	_, err = f.cloud.RDS().RemoveTagsFromResource(f.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:db:rds-target-dev"), TagKeys: []string{migration.OwnerTag}})
	require.NoError(t, err)
	f.reset()
	require.NoError(t, dms.DeleteTargetDB(f.ctx, f.env, f.cloud.RDS(), spec))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []string{"rds-target-dev"}, f.cloud.RDS().DBInstances())
}

func fromTags(tags []rdstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
