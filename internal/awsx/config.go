package awsx

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// MaxAttempts is the number of attempts the SDK retryer makes per call
// against real AWS before it returns a throttling or 5xx error.
const MaxAttempts = 10

// NewRetryer returns the retryer every client uses against real AWS: the
// SDK's adaptive mode (client-side rate limiting that backs off when AWS
// throttles), MaxAttempts attempts, and no retry quota. The quota is off
// because a long migration polls for hours and in adaptive mode a drained
// quota may never refill; the attempt bound keeps retries finite.
func NewRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = MaxAttempts
			so.RateLimiter = ratelimit.None
		})
	})
}

// LoadConfig loads the SDK's default configuration — environment
// variables, shared config and credentials files and profiles, SSO, web
// identity, IMDS — for region (empty keeps the configured one). Endpoint
// resolution is the SDK's, so AWS_ENDPOINT_URL and the per-service
// AWS_ENDPOINT_URL_<SERVICE> variables work, which is how an AWS-compatible
// local emulator is used. Each client built from the result gets its own
// retryer from NewRetryer (config.WithRetryer calls the function per
// client), so one throttled service cannot drain another's budget.
func LoadConfig(ctx context.Context, region string, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryer(NewRetryer)}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, optFns...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("load aws config: no region: set -region, AWS_REGION or a profile region")
	}
	return cfg, nil
}
