package awsx_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"

	"github.com/cutoverkit/cutover/internal/awsx"
)

func TestTags(t *testing.T) {
	tags := map[string]string{"b": "2", "a": "1"}
	ec2 := awsx.EC2Tags(tags)
	assert.Equal(t, "a", aws.ToString(ec2[0].Key), "sorted")
	assert.Equal(t, tags, awsx.FromEC2Tags(ec2))
	f := awsx.OwnedFilters("cutover:env", "dev", "vpc-dev")
	assert.Equal(t, "tag:cutover:env", aws.ToString(f[0].Name))
	assert.Equal(t, []string{"vpc-dev"}, f[1].Values)
	assert.Len(t, awsx.OwnedFilters("cutover:env", "dev", ""), 1)
	assert.Equal(t, map[string]string{"b": "2", "c": "3"}, awsx.MissingTags(map[string]string{"a": "1", "b": "x", "extra": "kept"}, map[string]string{"a": "1", "b": "2", "c": "3"}))
}

func TestNewRetryerIsAdaptiveWithoutQuota(t *testing.T) {
	r := awsx.NewRetryer()
	assert.Equal(t, awsx.MaxAttempts, r.MaxAttempts())
	// Drain what a quota would hold; with ratelimit.None it never refuses.
	for range 1000 {
		_, err := r.GetRetryToken(t.Context(), sdkError("EC2", "RequestLimitExceeded"))
		assert.NoError(t, err)
	}
	assert.True(t, r.IsErrorRetryable(sdkError("EC2", "RequestLimitExceeded")))
	assert.False(t, r.IsErrorRetryable(sdkError("EC2", "InvalidVpcID.NotFound")))
}
