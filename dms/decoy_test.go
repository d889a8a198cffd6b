package dms_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// A resource with the env's name but without its ownership tag — another
// team's, or left by an older tool — is never adopted by Ensure and never
// deleted by Delete.
func TestDecoysAreNeitherAdoptedNorDeleted(t *testing.T) {
	tests := []struct {
		name   string
		plant  func(f *fixture)
		ensure func(f *fixture) error
		delete func(f *fixture) error
		exists func(f *fixture) bool
	}{
		{
			name: "endpoint",
			plant: func(f *fixture) {
				cert, role := f.endpointDeps()
				f.cloud.Clock().Advance(time.Minute)
				_, err := f.cloud.DMS().CreateEndpoint(f.ctx, &awsdms.CreateEndpointInput{EndpointIdentifier: aws.String("dms-source-dev"), EndpointType: dmstypes.ReplicationEndpointTypeValueSource,
					EngineName: aws.String("postgres"), SslMode: dmstypes.DmsSslModeValueVerifyFull, CertificateArn: aws.String(cert.ARN),
					PostgreSQLSettings: &dmstypes.PostgreSQLSettings{SecretsManagerSecretId: aws.String(f.source), SecretsManagerAccessRoleArn: aws.String(role.ARN)}})
				require.NoError(f.t, err)
			},
			ensure: func(f *fixture) error {
				cert, role := f.endpointDeps()
				_, err := dms.EnsureEndpoint(f.ctx, f.env, f.cloud.DMS(), f.sourceEndpoint(cert, role))
				return err
			},
			delete: func(f *fixture) error {
				return dms.DeleteEndpoint(f.ctx, f.env, f.cloud.DMS(), dms.EndpointSpec{Name: dms.EndpointSource})
			},
			exists: func(f *fixture) bool { return len(f.cloud.DMS().Resources()["endpoint"]) == 1 },
		},
		{
			name: "parameter group",
			plant: func(f *fixture) {
				_, err := f.cloud.RDS().CreateDBParameterGroup(f.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("rds-params-dev"),
					DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String("theirs")})
				require.NoError(f.t, err)
			},
			ensure: func(f *fixture) error {
				_, err := dms.EnsureParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{Major: 16})
				return err
			},
			delete: func(f *fixture) error {
				return dms.DeleteParameterGroup(f.ctx, f.env, f.cloud.RDS(), dms.ParameterGroupSpec{})
			},
			exists: func(f *fixture) bool { return f.cloud.RDS().ParameterGroupParams("rds-params-dev") != nil },
		},
		{
			name: "DB subnet group",
			plant: func(f *fixture) {
				_, err := f.cloud.RDS().CreateDBSubnetGroup(f.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("rds-subnet-group-dev"),
					DBSubnetGroupDescription: aws.String("theirs"), SubnetIds: f.subnets})
				require.NoError(f.t, err)
			},
			ensure: func(f *fixture) error {
				_, err := dms.EnsureDBSubnetGroup(f.ctx, f.env, f.cloud.RDS(), dms.DBSubnetGroupSpec{SubnetIDs: f.subnets})
				return err
			},
			delete: func(f *fixture) error {
				return dms.DeleteDBSubnetGroup(f.ctx, f.env, f.cloud.RDS(), dms.DBSubnetGroupSpec{})
			},
			exists: func(f *fixture) bool {
				out, err := f.cloud.RDS().DescribeDBSubnetGroups(f.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("rds-subnet-group-dev")})
				return err == nil && len(out.DBSubnetGroups) == 1
			},
		},
		{
			name: "DB instance",
			plant: func(f *fixture) {
				g, p := f.rdsDeps()
				_, err := f.cloud.RDS().CreateDBInstance(f.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("rds-target-dev"), DBInstanceClass: aws.String("db.t4g.micro"),
					Engine: aws.String("postgres"), EngineVersion: aws.String("16"), AllocatedStorage: aws.Int32(20), DBSubnetGroupName: aws.String(g.Name),
					DBParameterGroupName: aws.String(p.Name), MasterUsername: aws.String("theirs"), ManageMasterUserPassword: aws.Bool(true)})
				require.NoError(f.t, err)
				f.cloud.Clock().Advance(time.Hour)
			},
			ensure: func(f *fixture) error {
				_, err := dms.EnsureTargetDB(f.ctx, f.env, f.cloud.RDS(), f.targetSpec(f.rdsDeps()))
				return err
			},
			delete: func(f *fixture) error { return dms.DeleteTargetDB(f.ctx, f.env, f.cloud.RDS(), dms.TargetDBSpec{}) },
			exists: func(f *fixture) bool { return f.cloud.RDS().DBInstanceStatus("rds-target-dev") == "available" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.plant(f)
			err := tt.ensure(f)
			require.ErrorContains(t, err, "refusing to adopt")
			f.reset()
			require.NoError(t, tt.delete(f))
			assert.Empty(t, f.cloud.Writes(), "a decoy is not deleted")
			assert.Contains(t, f.report.Changes()[0].Note, "not owned by this env")
			assert.Equal(t, migration.ActionNoop, f.report.Changes()[0].Action)
			assert.True(t, tt.exists(f))
		})
	}
}
