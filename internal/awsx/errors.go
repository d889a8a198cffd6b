package awsx

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Code returns the API error code carried by err (for example
// "InvalidVpcID.NotFound"), or "" when err is not an API error.
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// notFoundCodes are the exact codes, per service, that mean "the resource
// you named does not exist". EC2 codes of the form "Invalid<Thing>ID.NotFound"
// and "Invalid<Thing>.NotFound" are matched by suffix in IsNotFound.
var notFoundCodes = map[string]string{
	"NotFoundException":          "kms",
	"ResourceNotFoundException":  "dynamodb, cloudwatchlogs, secretsmanager, lambda, mgn, route53resolver, ssm",
	"ResourceNotFoundFault":      "databasemigrationservice",
	"ResourceNotFound":           "cloudwatch (GetDashboard, DeleteAlarms)",
	"NoSuchEntity":               "iam",
	"NatGatewayNotFound":         "ec2 (DescribeNatGateways, DeleteNatGateway)",
	"NoSuchHostedZone":           "route53",
	"NoSuchHealthCheck":          "route53",
	"NoSuchChange":               "route53",
	"NotFound":                   "sns",
	"DBInstanceNotFound":         "rds",
	"DBInstanceNotFoundFault":    "rds",
	"DBParameterGroupNotFound":   "rds",
	"DBSubnetGroupNotFoundFault": "rds",
	"DBSnapshotNotFound":         "rds",
	"NoSuchBucket":               "s3",
	"NoSuchBucketPolicy":         "s3",
	"InvalidDocument":            "ssm (document does not exist)",
	"AssociationDoesNotExist":    "ssm",
	"InvalidAssociation":         "ssm",
}

// alreadyExistsCodes are the exact codes, per service, that mean "a resource
// with that name or token exists already". Ensure functions treat them as a
// lost race and find the resource again.
var alreadyExistsCodes = map[string]string{
	"AlreadyExistsException":          "kms (alias)",
	"ResourceAlreadyExistsException":  "cloudwatchlogs",
	"ResourceAlreadyExistsFault":      "databasemigrationservice",
	"ResourceInUseException":          "dynamodb (CreateTable on an existing table)",
	"ResourceExistsException":         "secretsmanager, route53resolver",
	"ResourceConflictException":       "lambda",
	"ConflictException":               "mgn",
	"EntityAlreadyExists":             "iam",
	"HostedZoneAlreadyExists":         "route53 (CallerReference reused)",
	"DBInstanceAlreadyExists":         "rds",
	"DBInstanceAlreadyExistsFault":    "rds",
	"DBParameterGroupAlreadyExists":   "rds",
	"DBSubnetGroupAlreadyExists":      "rds",
	"DBSubnetGroupAlreadyExistsFault": "rds",
	"BucketAlreadyOwnedByYou":         "s3",
	"DocumentAlreadyExists":           "ssm",
	"AssociationAlreadyExists":        "ssm",
	"InvalidGroup.Duplicate":          "ec2 (security group name)",
	"InvalidPermission.Duplicate":     "ec2 (security group rule)",
	"RouteAlreadyExists":              "ec2",
	"Resource.AlreadyAssociated":      "ec2",
	"IdempotentParameterMismatch":     "ec2 (client token reused with other parameters)",
	"DuplicateDocumentContent":        "ssm (UpdateDocument with unchanged content)",
}

// dependencyCodes are the exact codes that mean "delete refused: something
// still depends on this resource". Delete functions retry them, bounded,
// while the dependents go away.
var dependencyCodes = map[string]string{
	"DependencyViolation":            "ec2",
	"DeleteConflict":                 "iam",
	"HostedZoneNotEmpty":             "route53",
	"InvalidDBSubnetGroupStateFault": "rds",
	"InvalidDBParameterGroupState":   "rds (parameter group still used by an instance)",
	"InvalidResourceStateFault":      "databasemigrationservice (instance still has tasks or is busy)",
	"ResourceInUse":                  "ec2 (network interface in use)",
	"AssociatedInstances":            "ssm (DeleteDocument while an association still uses the document)",
}

// IsNotFound reports whether err says the named resource does not exist.
// A nil error is not a NotFound.
func IsNotFound(err error) bool {
	code := Code(err)
	if code == "" {
		return false
	}
	if _, ok := notFoundCodes[code]; ok {
		return true
	}
	// EC2: InvalidVpcID.NotFound, InvalidSubnetID.NotFound,
	// InvalidGroup.NotFound, InvalidAllocationID.NotFound, ...
	return strings.HasPrefix(code, "Invalid") && strings.HasSuffix(code, ".NotFound")
}

// IsAlreadyExists reports whether err says a resource of that name (or
// that idempotency token) exists already.
func IsAlreadyExists(err error) bool {
	_, ok := alreadyExistsCodes[Code(err)]
	return ok
}

// IsDependencyViolation reports whether err says a delete was refused
// because other resources still depend on the target.
func IsDependencyViolation(err error) bool {
	_, ok := dependencyCodes[Code(err)]
	return ok
}

// IsThrottle reports whether err is a throttling error. The set of codes is
// the SDK retryer's own (retry.DefaultThrottleErrorCodes), so this predicate
// and the retryer never disagree.
func IsThrottle(err error) bool {
	_, ok := retry.DefaultThrottleErrorCodes[Code(err)]
	return ok
}

// HasCode reports whether err carries one of the given API error codes.
func HasCode(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}
