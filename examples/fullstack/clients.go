package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// ec2API is every EC2 operation the platform uses, across packages.
type ec2API interface {
	network.VPCAPI
}

// clients are the AWS clients the platform composes, real or simulated.
type clients struct {
	account string
	region  string
	clock   migration.Clock
	ec2     ec2API
	kms     migration.KMSAPI
	// cloud is the simulated cloud in -sim mode, nil against real AWS.
	cloud *fakecloud.Cloud
}

// simClients returns clients on a simulated cloud.
func simClients(cloud *fakecloud.Cloud) *clients {
	return &clients{
		account: cloud.Account(), region: cloud.Region(), clock: cloud.Clock(), cloud: cloud,
		ec2: cloud.EC2(), kms: cloud.KMS(),
	}
}

// awsClients returns clients for real AWS (or an AWS-compatible endpoint
// through AWS_ENDPOINT_URL), with the SDK's default credential chain and
// the account of the caller.
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
		ec2: ec2.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg),
	}, nil
}
