package dms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// TaskReader is the part of the DMS client that reads a task's state: what
// Lag needs.
type TaskReader interface {
	DescribeReplicationTasks(context.Context, *dms.DescribeReplicationTasksInput, ...func(*dms.Options)) (*dms.DescribeReplicationTasksOutput, error)
	DescribeReplicationInstances(context.Context, *dms.DescribeReplicationInstancesInput, ...func(*dms.Options)) (*dms.DescribeReplicationInstancesOutput, error)
	DescribeTableStatistics(context.Context, *dms.DescribeTableStatisticsInput, ...func(*dms.Options)) (*dms.DescribeTableStatisticsOutput, error)
}

// TaskRunner is the part of the DMS client that starts and stops tasks:
// what Start, Stop, Resume, Reload and StartReverse need (the rollback
// executor holds one).
type TaskRunner interface {
	DescribeReplicationTasks(context.Context, *dms.DescribeReplicationTasksInput, ...func(*dms.Options)) (*dms.DescribeReplicationTasksOutput, error)
	StartReplicationTask(context.Context, *dms.StartReplicationTaskInput, ...func(*dms.Options)) (*dms.StartReplicationTaskOutput, error)
	StopReplicationTask(context.Context, *dms.StopReplicationTaskInput, ...func(*dms.Options)) (*dms.StopReplicationTaskOutput, error)
}

// DMSAPI is the part of the DMS client the package uses. The SDK's
// *databasemigrationservice.Client and the fake cloud's DMS satisfy it.
type DMSAPI interface {
	TaskReader
	TaskRunner
	CreateReplicationSubnetGroup(context.Context, *dms.CreateReplicationSubnetGroupInput, ...func(*dms.Options)) (*dms.CreateReplicationSubnetGroupOutput, error)
	DescribeReplicationSubnetGroups(context.Context, *dms.DescribeReplicationSubnetGroupsInput, ...func(*dms.Options)) (*dms.DescribeReplicationSubnetGroupsOutput, error)
	ModifyReplicationSubnetGroup(context.Context, *dms.ModifyReplicationSubnetGroupInput, ...func(*dms.Options)) (*dms.ModifyReplicationSubnetGroupOutput, error)
	DeleteReplicationSubnetGroup(context.Context, *dms.DeleteReplicationSubnetGroupInput, ...func(*dms.Options)) (*dms.DeleteReplicationSubnetGroupOutput, error)
	CreateReplicationInstance(context.Context, *dms.CreateReplicationInstanceInput, ...func(*dms.Options)) (*dms.CreateReplicationInstanceOutput, error)
	ModifyReplicationInstance(context.Context, *dms.ModifyReplicationInstanceInput, ...func(*dms.Options)) (*dms.ModifyReplicationInstanceOutput, error)
	DeleteReplicationInstance(context.Context, *dms.DeleteReplicationInstanceInput, ...func(*dms.Options)) (*dms.DeleteReplicationInstanceOutput, error)
	ImportCertificate(context.Context, *dms.ImportCertificateInput, ...func(*dms.Options)) (*dms.ImportCertificateOutput, error)
	DescribeCertificates(context.Context, *dms.DescribeCertificatesInput, ...func(*dms.Options)) (*dms.DescribeCertificatesOutput, error)
	DeleteCertificate(context.Context, *dms.DeleteCertificateInput, ...func(*dms.Options)) (*dms.DeleteCertificateOutput, error)
	CreateEndpoint(context.Context, *dms.CreateEndpointInput, ...func(*dms.Options)) (*dms.CreateEndpointOutput, error)
	DescribeEndpoints(context.Context, *dms.DescribeEndpointsInput, ...func(*dms.Options)) (*dms.DescribeEndpointsOutput, error)
	ModifyEndpoint(context.Context, *dms.ModifyEndpointInput, ...func(*dms.Options)) (*dms.ModifyEndpointOutput, error)
	DeleteEndpoint(context.Context, *dms.DeleteEndpointInput, ...func(*dms.Options)) (*dms.DeleteEndpointOutput, error)
	TestConnection(context.Context, *dms.TestConnectionInput, ...func(*dms.Options)) (*dms.TestConnectionOutput, error)
	DescribeConnections(context.Context, *dms.DescribeConnectionsInput, ...func(*dms.Options)) (*dms.DescribeConnectionsOutput, error)
	CreateReplicationTask(context.Context, *dms.CreateReplicationTaskInput, ...func(*dms.Options)) (*dms.CreateReplicationTaskOutput, error)
	ModifyReplicationTask(context.Context, *dms.ModifyReplicationTaskInput, ...func(*dms.Options)) (*dms.ModifyReplicationTaskOutput, error)
	DeleteReplicationTask(context.Context, *dms.DeleteReplicationTaskInput, ...func(*dms.Options)) (*dms.DeleteReplicationTaskOutput, error)
	ListTagsForResource(context.Context, *dms.ListTagsForResourceInput, ...func(*dms.Options)) (*dms.ListTagsForResourceOutput, error)
	AddTagsToResource(context.Context, *dms.AddTagsToResourceInput, ...func(*dms.Options)) (*dms.AddTagsToResourceOutput, error)
}

// RDSAPI is the part of the RDS client the target database uses.
type RDSAPI interface {
	CreateDBInstance(context.Context, *rds.CreateDBInstanceInput, ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	ModifyDBInstance(context.Context, *rds.ModifyDBInstanceInput, ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error)
	DeleteDBInstance(context.Context, *rds.DeleteDBInstanceInput, ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
	CreateDBParameterGroup(context.Context, *rds.CreateDBParameterGroupInput, ...func(*rds.Options)) (*rds.CreateDBParameterGroupOutput, error)
	DescribeDBParameterGroups(context.Context, *rds.DescribeDBParameterGroupsInput, ...func(*rds.Options)) (*rds.DescribeDBParameterGroupsOutput, error)
	DescribeDBParameters(context.Context, *rds.DescribeDBParametersInput, ...func(*rds.Options)) (*rds.DescribeDBParametersOutput, error)
	ModifyDBParameterGroup(context.Context, *rds.ModifyDBParameterGroupInput, ...func(*rds.Options)) (*rds.ModifyDBParameterGroupOutput, error)
	DeleteDBParameterGroup(context.Context, *rds.DeleteDBParameterGroupInput, ...func(*rds.Options)) (*rds.DeleteDBParameterGroupOutput, error)
	CreateDBSubnetGroup(context.Context, *rds.CreateDBSubnetGroupInput, ...func(*rds.Options)) (*rds.CreateDBSubnetGroupOutput, error)
	DescribeDBSubnetGroups(context.Context, *rds.DescribeDBSubnetGroupsInput, ...func(*rds.Options)) (*rds.DescribeDBSubnetGroupsOutput, error)
	ModifyDBSubnetGroup(context.Context, *rds.ModifyDBSubnetGroupInput, ...func(*rds.Options)) (*rds.ModifyDBSubnetGroupOutput, error)
	DeleteDBSubnetGroup(context.Context, *rds.DeleteDBSubnetGroupInput, ...func(*rds.Options)) (*rds.DeleteDBSubnetGroupOutput, error)
	ListTagsForResource(context.Context, *rds.ListTagsForResourceInput, ...func(*rds.Options)) (*rds.ListTagsForResourceOutput, error)
	AddTagsToResource(context.Context, *rds.AddTagsToResourceInput, ...func(*rds.Options)) (*rds.AddTagsToResourceOutput, error)
}

// SecretsAPI is the part of the Secrets Manager client the package uses.
type SecretsAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecret(context.Context, *secretsmanager.UpdateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	TagResource(context.Context, *secretsmanager.TagResourceInput, ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	RestoreSecret(context.Context, *secretsmanager.RestoreSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
}

// MetricsAPI is the part of the CloudWatch client Lag uses.
type MetricsAPI interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Change kinds reported by this package.
const (
	KindSubnetGroup      = "dms-subnet-group"
	KindInstance         = "dms-instance"
	KindCertificate      = "dms-certificate"
	KindEndpoint         = "dms-endpoint"
	KindTask             = "dms-task"
	KindSecret           = "secret"
	KindDBSubnetGroup    = "rds-subnet-group"
	KindDBParameterGroup = "rds-parameter-group"
	KindDBInstance       = "rds-instance"
)

// DMS error codes the package handles by name.
const (
	codeNotFound     = "ResourceNotFoundFault"
	codeAccessDenied = "AccessDeniedFault"
	codeInvalidState = "InvalidResourceStateFault"
)

func dmsTags(m map[string]string) []dmstypes.Tag {
	return awsx.Tags(m, func(k, v *string) dmstypes.Tag { return dmstypes.Tag{Key: k, Value: v} })
}

func rdsTags(m map[string]string) []rdstypes.Tag {
	return awsx.Tags(m, func(k, v *string) rdstypes.Tag { return rdstypes.Tag{Key: k, Value: v} })
}

func smTags(m map[string]string) []smtypes.Tag {
	return awsx.Tags(m, func(k, v *string) smtypes.Tag { return smtypes.Tag{Key: k, Value: v} })
}

func fromRDSTags(tags []rdstypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t rdstypes.Tag) (*string, *string) { return t.Key, t.Value })
}

func fromSMTags(tags []smtypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t smtypes.Tag) (*string, *string) { return t.Key, t.Value })
}

// dmsTagsOf reads a DMS resource's tags.
func dmsTagsOf(ctx context.Context, api DMSAPI, arn string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &dms.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", arn, err)
	}
	m := make(map[string]string, len(out.TagList))
	for _, t := range out.TagList {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

// notOwned is the error Ensure returns for a resource of the env's name
// that lacks the env's ownership tag: it is never adopted.
func notOwned(env migration.Env, what, id string) error {
	return fmt.Errorf("%s %s exists without the ownership tag %s=%s; refusing to adopt it (rename or delete it, or tag it if it is this env's)", what, id, migration.OwnerTag, env.Suffix)
}

// resourceID returns the resource-ID suffix of a DMS ARN
// ("arn:aws:dms:us-east-1:123456789012:task:ABC..." -> "ABC..."), which is
// what CloudWatch's ReplicationTaskIdentifier dimension holds.
func resourceID(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

// idFilter returns a one-value DMS filter.
func idFilter(name, value string) []dmstypes.Filter {
	return []dmstypes.Filter{{Name: aws.String(name), Values: []string{value}}}
}

// ignoreNotFound turns a DMS "no match" into (nil, nil).
func ignoreNotFound[T any](v *T, err error) (*T, error) {
	if awsx.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}

// nameOnly validates the one field a Delete needs: the name that
// identifies the resource, which must be one of allowed.
type nameCheck struct {
	name    string
	allowed []string
}

func nameOnly(name string, allowed ...string) nameCheck { return nameCheck{name, allowed} }

// Validate reports a name outside the allowed ones.
func (n nameCheck) Validate() error {
	if !slices.Contains(n.allowed, n.name) {
		return fmt.Errorf("name: %q must be one of %v", n.name, n.allowed)
	}
	return nil
}

// visible waits, on the env clock, until find sees a resource that a
// create just reported as existing (a lost response or a race): a
// describe right after can still miss it. It bounds the retry so an
// Ensure never loops on a resource it cannot see.
func visible(ctx context.Context, env migration.Env, what string, find func(context.Context) (bool, error)) error {
	delay := time.Second
	for attempt := 0; attempt < 8; attempt++ {
		ok, err := find(ctx)
		if err != nil || ok {
			return err
		}
		if err := env.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 30*time.Second)
	}
	return fmt.Errorf("%s exists (the create said so) but stays invisible to describe", what)
}
