// Command lambda is the rollback Lambda of the example platform: on a
// CloudWatch alarm (directly, through SNS or EventBridge) it re-evaluates
// the rollback policy and, if it still calls for it, moves traffic back to
// blue. The platform builds it for linux/arm64 with rollback.BuildZip and
// deploys it with rollback.EnsureFunction; its configuration comes from
// the environment (rollback.ConfigEnvVar, encrypted with the env's key).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/rollback"
)

func main() {
	ctx := context.Background()
	cfg, err := rollback.LambdaConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	aws, err := awsx.LoadConfig(ctx, cfg.Region)
	if err != nil {
		log.Fatal(err)
	}
	h, err := wire.Handler(ctx, cfg.Env(), cfg, wire.Clients{
		Route53:    route53.NewFromConfig(aws),
		DynamoDB:   dynamodb.NewFromConfig(aws),
		SNS:        sns.NewFromConfig(aws),
		DMS:        databasemigrationservice.NewFromConfig(aws),
		CloudWatch: cloudwatch.NewFromConfig(aws),
	})
	if err != nil {
		log.Fatal(err)
	}
	rollback.StartLambda(h)
}
