package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/directconnect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
	"github.com/cutoverkit/cutover/validate"
)

// Each field's type is every operation the platform calls on that service,
// across packages: the union of the packages' narrow interfaces. The SDK
// clients and the simulated cloud's both satisfy them.
type (
	ec2API interface {
		network.EC2API
		migration.EFSNetworkAPI
		migration.SubnetReader
	}
	iamAPI interface {
		migration.ReplicationIAMAPI
	}
	logsAPI interface {
		migration.DataSyncLogsAPI
	}
	secretsAPI interface {
		dms.SecretsAPI
		network.SecretsManagerAPI
		DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	}
	dmsAPI interface {
		dms.DMSAPI
		wire.DMSAPI
	}
	route53API interface {
		dns.ZoneAPI
		dns.RecordsAPI
		dns.RouterAPI
	}
	dynamoAPI interface {
		tracking.TableAPI
		tracking.StoreAPI
	}
	snsAPI interface {
		tracking.TopicAPI
		tracking.PublishAPI
	}
	cloudwatchAPI interface {
		tracking.DashboardAPI
		tracking.MetricsAPI
		rollback.AlarmsAPI
		rollback.MetricsAPI
	}
	mgnAPI interface {
		migration.MGNAPI
		migration.MGNServersAPI
	}
	datasyncAPI interface {
		migration.DataSyncAPI
		ListAgents(context.Context, *datasync.ListAgentsInput, ...func(*datasync.Options)) (*datasync.ListAgentsOutput, error)
	}
	ssmAPI interface {
		validate.SSMAPI
		validate.CommandAPI
	}
)

// clients are the AWS clients the platform composes, real or simulated.
type clients struct {
	account string
	region  string
	clock   migration.Clock

	ec2        ec2API
	kms        migration.KMSAPI
	iam        iamAPI
	logs       logsAPI
	dx         network.DirectConnectAPI
	resolver   network.ResolverAPI
	dms        dmsAPI
	rds        dms.RDSAPI
	secrets    secretsAPI
	route53    route53API
	dynamodb   dynamoAPI
	sns        snsAPI
	cloudwatch cloudwatchAPI
	lambda     rollback.LambdaAPI
	events     rollback.EventsAPI
	mgn        mgnAPI
	datasync   datasyncAPI
	s3         migration.S3API
	efs        migration.EFSAPI
	ssm        ssmAPI

	// cloud is the simulated cloud in -sim mode, nil against real AWS.
	cloud *fakecloud.Cloud
}

// simClients returns clients on a simulated cloud.
func simClients(cloud *fakecloud.Cloud) *clients {
	return &clients{
		account: cloud.Account(), region: cloud.Region(), clock: cloud.Clock(), cloud: cloud,
		ec2: cloud.EC2(), kms: cloud.KMS(), iam: cloud.IAM(), logs: cloud.Logs(), dx: cloud.DirectConnect(), resolver: cloud.Resolver(),
		dms: cloud.DMS(), rds: cloud.RDS(), secrets: cloud.SecretsManager(), route53: cloud.Route53(), dynamodb: cloud.DynamoDB(),
		sns: cloud.SNS(), cloudwatch: cloud.CloudWatch(), lambda: cloud.Lambda(), events: cloud.EventBridge(), mgn: cloud.MGN(), datasync: cloud.DataSync(),
		s3: cloud.S3(), efs: cloud.EFS(), ssm: cloud.SSM(),
	}
}

// awsClients returns clients for real AWS (or an AWS-compatible endpoint
// through AWS_ENDPOINT_URL): the SDK's default credential chain, adaptive
// retries with a budget per client, and the caller's account.
func awsClients(ctx context.Context, region string) (*clients, error) {
	cfg, err := awsx.LoadConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who am I (sts get-caller-identity): %w", err)
	}
	return &clients{
		account: *id.Account, region: cfg.Region, clock: migration.SystemClock(),
		ec2: ec2.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), logs: cloudwatchlogs.NewFromConfig(cfg),
		dx: directconnect.NewFromConfig(cfg), resolver: route53resolver.NewFromConfig(cfg), dms: databasemigrationservice.NewFromConfig(cfg),
		rds: rds.NewFromConfig(cfg), secrets: secretsmanager.NewFromConfig(cfg), route53: route53.NewFromConfig(cfg),
		dynamodb: dynamodb.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg), cloudwatch: cloudwatch.NewFromConfig(cfg),
		lambda: lambda.NewFromConfig(cfg), events: eventbridge.NewFromConfig(cfg), mgn: mgn.NewFromConfig(cfg), datasync: datasync.NewFromConfig(cfg),
		s3: s3.NewFromConfig(cfg), efs: efs.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg),
	}, nil
}

// wireClients are the clients the rollback handler acts through.
func (c *clients) wireClients() wire.Clients {
	return wire.Clients{Route53: c.route53, DynamoDB: c.dynamodb, SNS: c.sns, DMS: c.dms, CloudWatch: c.cloudwatch}
}
