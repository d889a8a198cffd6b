package fakecloud_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// rdsCloud is a cloud with two subnets, a DB subnet group and a postgres16
// parameter group.
func rdsCloud(t *testing.T) (*fakecloud.Cloud, string) {
	t.Helper()
	ctx := context.Background()
	cloud := fakecloud.New()
	cloud.DMS().AddSubnet("subnet-a", "vpc-1", "us-east-1a")
	cloud.DMS().AddSubnet("subnet-b", "vpc-1", "us-east-1b")
	cloud.DMS().AddSubnet("subnet-a2", "vpc-1", "us-east-1a")
	_, err := cloud.RDS().CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("sg"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-a", "subnet-b"}})
	require.NoError(t, err)
	_, err = cloud.RDS().CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("pg16"), DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String("d")})
	require.NoError(t, err)
	return cloud, newKey(t, cloud)
}

func createDB(cloud *fakecloud.Cloud, key string, edit func(*rds.CreateDBInstanceInput)) (*rds.CreateDBInstanceOutput, error) {
	in := &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.r6g.large"), Engine: aws.String("postgres"),
		EngineVersion: aws.String("16"), AllocatedStorage: aws.Int32(100), StorageType: aws.String("gp3"), StorageEncrypted: aws.Bool(true), KmsKeyId: aws.String(key),
		MultiAZ: aws.Bool(true), DBSubnetGroupName: aws.String("sg"), DBParameterGroupName: aws.String("pg16"), MasterUsername: aws.String("admin1"),
		ManageMasterUserPassword: aws.Bool(true), MasterUserSecretKmsKeyId: aws.String(key), CopyTagsToSnapshot: aws.Bool(true),
		Tags: []rdstypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}}
	if edit != nil {
		edit(in)
	}
	return cloud.RDS().CreateDBInstance(context.Background(), in)
}

func TestRDSCreateDBInstance(t *testing.T) {
	ctx := context.Background()
	cloud, key := rdsCloud(t)
	bad := []struct {
		edit func(*rds.CreateDBInstanceInput)
		code string
	}{
		{func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String("x") }, "InvalidParameterCombination"},
		{func(in *rds.CreateDBInstanceInput) { in.ManageMasterUserPassword = nil }, "InvalidParameterValue"},
		{func(in *rds.CreateDBInstanceInput) { in.DBSubnetGroupName = aws.String("nope") }, "DBSubnetGroupNotFoundFault"},
		{func(in *rds.CreateDBInstanceInput) { in.EngineVersion = aws.String("17") }, "InvalidParameterCombination"}, // family postgres16
		{func(in *rds.CreateDBInstanceInput) { in.AvailabilityZone = aws.String("us-east-1a") }, "InvalidParameterCombination"},
		{func(in *rds.CreateDBInstanceInput) { in.DBInstanceIdentifier = aws.String("db--1") }, "InvalidParameterValue"},
		{func(in *rds.CreateDBInstanceInput) { in.KmsKeyId = aws.String("alias/none") }, "KMSKeyNotAccessibleFault"},
	}
	for _, b := range bad {
		_, err := createDB(cloud, key, b.edit)
		assert.Equal(t, b.code, awsx.Code(err))
	}
	out, err := createDB(cloud, key, nil)
	require.NoError(t, err)
	assert.Nil(t, out.DBInstance.Endpoint, "no endpoint while creating")
	assert.Equal(t, "creating", aws.ToString(out.DBInstance.DBInstanceStatus))
	_, err = createDB(cloud, key, nil)
	assert.Equal(t, "DBInstanceAlreadyExists", awsx.Code(err))

	cloud.Clock().Advance(15 * time.Minute)
	d, err := cloud.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	require.NoError(t, err)
	db := d.DBInstances[0]
	assert.Equal(t, "available", aws.ToString(db.DBInstanceStatus))
	assert.Equal(t, "16.6", aws.ToString(db.EngineVersion), "a major selects its default minor")
	require.NotNil(t, db.Endpoint)
	// The RDS-managed secret: username and password, no host or port.
	v, ok := cloud.SecretsManager().SecretValue(aws.ToString(db.MasterUserSecret.SecretArn))
	require.True(t, ok)
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(v), &m))
	assert.Equal(t, "admin1", m["username"])
	assert.Len(t, m["password"], 32)
	assert.NotContains(t, m, "host")
	_, err = cloud.SecretsManager().PutSecretValue(ctx, putValue(aws.ToString(db.MasterUserSecret.SecretArn)))
	assert.Equal(t, "InvalidRequestException", awsx.Code(err), "RDS owns the secret")

	_, err = cloud.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db2")})
	assert.Equal(t, "DBInstanceNotFound", awsx.Code(err))
}

func TestRDSModifyAndParameters(t *testing.T) {
	ctx := context.Background()
	cloud, key := rdsCloud(t)
	_, err := createDB(cloud, key, nil)
	require.NoError(t, err)
	_, err = cloud.RDS().ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.r6g.xlarge")})
	assert.Equal(t, "InvalidDBInstanceState", awsx.Code(err), "not while creating")
	cloud.Clock().Advance(time.Hour)

	// Deferred to the maintenance window, then applied by it.
	_, err = cloud.RDS().ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.r6g.xlarge")})
	require.NoError(t, err)
	d, _ := cloud.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	assert.Equal(t, "db.r6g.large", aws.ToString(d.DBInstances[0].DBInstanceClass))
	assert.Equal(t, "db.r6g.xlarge", aws.ToString(d.DBInstances[0].PendingModifiedValues.DBInstanceClass))
	assert.True(t, cloud.RDS().ApplyPendingMaintenance("db1"))
	_, err = cloud.RDS().ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), AllocatedStorage: aws.Int32(50)})
	assert.Equal(t, "InvalidParameterCombination", awsx.Code(err), "storage only grows")

	// Static parameters need pending-reboot and leave the instance waiting
	// for a reboot.
	set := func(name, value string, m rdstypes.ApplyMethod) error {
		_, err := cloud.RDS().ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("pg16"),
			Parameters: []rdstypes.Parameter{{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: m}}})
		return err
	}
	assert.Equal(t, "InvalidParameterCombination", awsx.Code(set("rds.logical_replication", "1", rdstypes.ApplyMethodImmediate)))
	assert.Equal(t, "InvalidParameterValue", awsx.Code(set("no_such_param", "1", rdstypes.ApplyMethodImmediate)))
	require.NoError(t, set("rds.force_ssl", "1", rdstypes.ApplyMethodImmediate))
	d, _ = cloud.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	assert.Equal(t, "in-sync", aws.ToString(d.DBInstances[0].DBParameterGroups[0].ParameterApplyStatus))
	require.NoError(t, set("rds.logical_replication", "1", rdstypes.ApplyMethodPendingReboot))
	d, _ = cloud.RDS().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	assert.Equal(t, "pending-reboot", aws.ToString(d.DBInstances[0].DBParameterGroups[0].ParameterApplyStatus))
	_, err = cloud.RDS().RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("db1")})
	require.NoError(t, err)
	assert.Equal(t, "rebooting", cloud.RDS().DBInstanceStatus("db1"))

	ps, err := cloud.RDS().DescribeDBParameters(ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String("pg16"), Source: aws.String("user")})
	require.NoError(t, err)
	assert.Len(t, ps.Parameters, 2)
	assert.Equal(t, map[string]string{"rds.force_ssl": "1", "rds.logical_replication": "1"}, cloud.RDS().ParameterGroupParams("pg16"))
}

func TestRDSDeleteRules(t *testing.T) {
	ctx := context.Background()
	cloud, key := rdsCloud(t)
	_, err := createDB(cloud, key, func(in *rds.CreateDBInstanceInput) { in.DeletionProtection = aws.Bool(true) })
	require.NoError(t, err)
	cloud.Clock().Advance(time.Hour)
	del := func(in *rds.DeleteDBInstanceInput) error {
		in.DBInstanceIdentifier = aws.String("db1")
		_, err := cloud.RDS().DeleteDBInstance(ctx, in)
		return err
	}
	assert.Equal(t, "InvalidParameterCombination", awsx.Code(del(&rds.DeleteDBInstanceInput{SkipFinalSnapshot: aws.Bool(true)})), "deletion protection")
	_, err = cloud.RDS().ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DeletionProtection: aws.Bool(false)})
	require.NoError(t, err)
	assert.Equal(t, "InvalidParameterCombination", awsx.Code(del(&rds.DeleteDBInstanceInput{})), "neither a final snapshot nor an explicit skip")
	assert.Equal(t, "InvalidParameterCombination", awsx.Code(del(&rds.DeleteDBInstanceInput{SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("s")})))

	// Groups in use cannot go.
	_, err = cloud.RDS().DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("sg")})
	assert.Equal(t, "InvalidDBSubnetGroupStateFault", awsx.Code(err))
	_, err = cloud.RDS().DeleteDBParameterGroup(ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String("pg16")})
	assert.Equal(t, "InvalidDBParameterGroupState", awsx.Code(err))

	require.NoError(t, del(&rds.DeleteDBInstanceInput{FinalDBSnapshotIdentifier: aws.String("final-1")}))
	assert.Equal(t, "deleting", cloud.RDS().DBInstanceStatus("db1"))
	assert.Empty(t, cloud.SecretsManager().Secrets(), "the managed secret goes with the instance")
	cloud.Clock().Advance(10 * time.Minute)
	assert.Empty(t, cloud.RDS().DBInstances())
	s, err := cloud.RDS().DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("final-1")})
	require.NoError(t, err)
	assert.Equal(t, "available", aws.ToString(s.DBSnapshots[0].Status))
	assert.Equal(t, "dev", aws.ToString(s.DBSnapshots[0].TagList[0].Value), "CopyTagsToSnapshot")
	_, err = cloud.RDS().DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("sg")})
	require.NoError(t, err)

	// A subnet group must cover two zones.
	_, err = cloud.RDS().CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("one"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-a", "subnet-a2"}})
	assert.Equal(t, "DBSubnetGroupDoesNotCoverEnoughAZs", awsx.Code(err))
	_, err = cloud.RDS().CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("unknown"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-x", "subnet-b"}})
	assert.Equal(t, "InvalidSubnet", awsx.Code(err))
}
