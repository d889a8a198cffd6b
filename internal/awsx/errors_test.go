package awsx_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// sdkError wraps an API error code the way the SDK returns it.
func sdkError(service, code string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: "Op", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
		},
	}}
}

func TestClassification(t *testing.T) {
	tests := []struct {
		service, code                            string
		notFound, exists, dependency, throttling bool
	}{
		// The real codes of every service the library uses.
		{service: "EC2", code: "InvalidVpcID.NotFound", notFound: true},
		{service: "EC2", code: "InvalidSubnetID.NotFound", notFound: true},
		{service: "EC2", code: "InvalidGroup.NotFound", notFound: true},
		{service: "EC2", code: "InvalidNatGatewayID.NotFound", notFound: true},
		{service: "EC2", code: "InvalidAllocationID.NotFound", notFound: true},
		{service: "EC2", code: "DependencyViolation", dependency: true},
		{service: "EC2", code: "RequestLimitExceeded", throttling: true},
		{service: "EC2", code: "InvalidGroup.Duplicate", exists: true},
		{service: "EC2", code: "InvalidParameterValue"},
		{service: "KMS", code: "NotFoundException", notFound: true},
		{service: "KMS", code: "AlreadyExistsException", exists: true},
		{service: "IAM", code: "NoSuchEntity", notFound: true},
		{service: "IAM", code: "EntityAlreadyExists", exists: true},
		{service: "IAM", code: "DeleteConflict", dependency: true},
		{service: "IAM", code: "Throttling", throttling: true},
		{service: "Database Migration Service", code: "ResourceNotFoundFault", notFound: true},
		{service: "Database Migration Service", code: "ResourceAlreadyExistsFault", exists: true},
		{service: "Database Migration Service", code: "InvalidResourceStateFault", dependency: true},
		{service: "RDS", code: "DBInstanceNotFound", notFound: true},
		{service: "RDS", code: "DBInstanceAlreadyExists", exists: true},
		{service: "Route 53", code: "NoSuchHostedZone", notFound: true},
		{service: "Route 53", code: "HostedZoneAlreadyExists", exists: true},
		{service: "Route 53", code: "HostedZoneNotEmpty", dependency: true},
		{service: "Route 53", code: "PriorRequestNotComplete", throttling: true},
		{service: "DynamoDB", code: "ResourceNotFoundException", notFound: true},
		{service: "DynamoDB", code: "ProvisionedThroughputExceededException", throttling: true},
		{service: "DynamoDB", code: "ConditionalCheckFailedException"},
		{service: "SNS", code: "NotFound", notFound: true},
		{service: "CloudWatch Logs", code: "ResourceAlreadyExistsException", exists: true},
		{service: "CloudWatch", code: "ResourceNotFound", notFound: true},
		{service: "Lambda", code: "ResourceConflictException", exists: true},
		{service: "Lambda", code: "TooManyRequestsException", throttling: true},
		{service: "S3", code: "NoSuchBucket", notFound: true},
		{service: "S3", code: "BucketAlreadyOwnedByYou", exists: true},
		{service: "S3", code: "BucketAlreadyExists"}, // someone else's bucket: not ours to adopt
		{service: "SSM", code: "InvalidDocument", notFound: true},
		{service: "SSM", code: "DuplicateDocumentContent", exists: true},
		{service: "Secrets Manager", code: "ResourceExistsException", exists: true},
	}
	for _, tt := range tests {
		t.Run(tt.service+" "+tt.code, func(t *testing.T) {
			err := fmt.Errorf("ensure x: %w", sdkError(tt.service, tt.code))
			assert.Equal(t, tt.code, awsx.Code(err))
			assert.Equal(t, tt.notFound, awsx.IsNotFound(err), "IsNotFound")
			assert.Equal(t, tt.exists, awsx.IsAlreadyExists(err), "IsAlreadyExists")
			assert.Equal(t, tt.dependency, awsx.IsDependencyViolation(err), "IsDependencyViolation")
			assert.Equal(t, tt.throttling, awsx.IsThrottle(err), "IsThrottle")
		})
	}
	for _, err := range []error{nil, errors.New("plain")} {
		assert.False(t, awsx.IsNotFound(err) || awsx.IsAlreadyExists(err) || awsx.IsDependencyViolation(err) || awsx.IsThrottle(err))
		assert.Empty(t, awsx.Code(err))
	}
	assert.True(t, awsx.HasCode(sdkError("EC2", "A"), "B", "A"))
	assert.False(t, awsx.HasCode(sdkError("EC2", "A")))
}
