package migration

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// NameRule is the naming rule of one AWS service for one kind of
// identifier. Env.Validate checks every name the library derives from a
// suffix against the rule of the service that will receive it.
type NameRule struct {
	// Service names the rule in errors, for example "DMS identifiers".
	Service string
	// Min and Max bound the length.
	Min, Max int
	// Charset matches one allowed character.
	Charset *regexp.Regexp
	// LetterFirst requires the first character to be a letter.
	LetterFirst bool
	// NoDoubleHyphen forbids "--"; NoTrailingHyphen forbids a final "-".
	NoDoubleHyphen, NoTrailingHyphen bool
	// Lowercase forbids upper-case letters.
	Lowercase bool
}

// The rules of the services the library names resources in.
var (
	RuleDMSIdentifier = NameRule{Service: "DMS identifiers", Min: 1, Max: 63, Charset: regexp.MustCompile(`[A-Za-z0-9-]`), LetterFirst: true, NoDoubleHyphen: true, NoTrailingHyphen: true}
	RuleDMSLongID     = NameRule{Service: "DMS endpoint, task and certificate identifiers", Min: 1, Max: 255, Charset: regexp.MustCompile(`[A-Za-z0-9-]`), LetterFirst: true, NoDoubleHyphen: true, NoTrailingHyphen: true}
	RuleRDSIdentifier = NameRule{Service: "RDS DB instance identifiers", Min: 1, Max: 63, Charset: regexp.MustCompile(`[a-z0-9-]`), LetterFirst: true, NoDoubleHyphen: true, NoTrailingHyphen: true, Lowercase: true}
	RuleRDSSnapshot   = NameRule{Service: "RDS snapshot identifiers", Min: 1, Max: 255, Charset: regexp.MustCompile(`[a-z0-9-]`), LetterFirst: true, NoDoubleHyphen: true, NoTrailingHyphen: true, Lowercase: true}
	RuleRDSGroup      = NameRule{Service: "RDS parameter and subnet group names", Min: 1, Max: 255, Charset: regexp.MustCompile(`[a-z0-9-]`), LetterFirst: true, NoDoubleHyphen: true, NoTrailingHyphen: true, Lowercase: true}
	RuleIAMRole       = NameRule{Service: "IAM role names", Min: 1, Max: 64, Charset: regexp.MustCompile(`[\w+=,.@-]`)}
	RuleS3Bucket      = NameRule{Service: "S3 bucket names", Min: 3, Max: 63, Charset: regexp.MustCompile(`[a-z0-9-]`), NoTrailingHyphen: true, Lowercase: true}
	RuleLambda        = NameRule{Service: "Lambda function names", Min: 1, Max: 64, Charset: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	RuleDynamoDBTable = NameRule{Service: "DynamoDB table names", Min: 3, Max: 255, Charset: regexp.MustCompile(`[A-Za-z0-9_.-]`)}
	RuleSNSTopic      = NameRule{Service: "SNS topic names", Min: 1, Max: 256, Charset: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	RuleKMSAlias      = NameRule{Service: "KMS alias names", Min: 1, Max: 250, Charset: regexp.MustCompile(`[A-Za-z0-9/_-]`)}
	RuleDashboard     = NameRule{Service: "CloudWatch dashboard names", Min: 1, Max: 255, Charset: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	RuleAlarm         = NameRule{Service: "CloudWatch alarm names", Min: 1, Max: 255, Charset: regexp.MustCompile(`[ -~]`)}
	RuleSSMName       = NameRule{Service: "SSM document and association names", Min: 3, Max: 128, Charset: regexp.MustCompile(`[A-Za-z0-9_.-]`)}
	RuleLogGroup      = NameRule{Service: "CloudWatch Logs group names", Min: 1, Max: 512, Charset: regexp.MustCompile(`[A-Za-z0-9_./#-]`)}
	RuleSecret        = NameRule{Service: "Secrets Manager secret names", Min: 1, Max: 512, Charset: regexp.MustCompile(`[A-Za-z0-9/_+=.@-]`)}
	RuleResolver      = NameRule{Service: "Route 53 Resolver endpoint names", Min: 1, Max: 64, Charset: regexp.MustCompile(`[A-Za-z0-9 _-]`)}
	RuleEventRule     = NameRule{Service: "EventBridge rule names", Min: 1, Max: 64, Charset: regexp.MustCompile(`[A-Za-z0-9._-]`)}
	RuleDXGateway     = NameRule{Service: "Direct Connect gateway and interface names", Min: 1, Max: 100, Charset: regexp.MustCompile(`[A-Za-z0-9 _.-]`)}
	RuleTagValue      = NameRule{Service: "EC2 Name tags", Min: 1, Max: 256, Charset: regexp.MustCompile(`[\p{L}\p{Z}\p{N}_.:/=+\-@]`)}
	RuleDataSync      = NameRule{Service: "DataSync task and location names", Min: 1, Max: 256, Charset: regexp.MustCompile(`[A-Za-z0-9\s+=._:@/-]`)}
)

// NameKind is one kind of resource name the library derives from an env
// suffix: Prefix + "-" + suffix, plus Reserve more characters the caller
// appends (such as "-<account>" to make a bucket name globally unique).
type NameKind struct {
	Prefix  string
	Rule    NameRule
	Reserve int
}

// Kinds lists every name the library derives, with the rule of the service
// that receives it. Env.Validate checks a suffix against all of them. A
// package that derives a new name adds its kind here.
var Kinds = []NameKind{
	// network
	{Prefix: "vpc", Rule: RuleTagValue},
	{Prefix: "subnet-private-us-east-1a", Rule: RuleTagValue},
	{Prefix: "rt-private-us-east-1a", Rule: RuleTagValue},
	{Prefix: "nat-us-east-1a", Rule: RuleTagValue},
	{Prefix: "eip-nat-us-east-1a", Rule: RuleTagValue},
	{Prefix: "sg-dms", Rule: RuleTagValue},
	{Prefix: "sg-replication", Rule: RuleTagValue},
	{Prefix: "sg-resolver-inbound", Rule: RuleTagValue},
	{Prefix: "vpc-flow-logs", Rule: RuleIAMRole},
	{Prefix: "vpn", Rule: RuleTagValue},
	{Prefix: "vgw", Rule: RuleTagValue},
	{Prefix: "cgw", Rule: RuleTagValue},
	{Prefix: "dxgw", Rule: RuleDXGateway},
	{Prefix: "vif-private", Rule: RuleDXGateway},
	{Prefix: "resolver-inbound", Rule: RuleResolver},
	{Prefix: "phz", Rule: RuleTagValue}, // dns: the private hosted zone
	// kms
	{Prefix: "alias/migration", Rule: RuleKMSAlias},
	// dms
	{Prefix: "dms-instance", Rule: RuleDMSIdentifier},
	{Prefix: "dms-subnet-group", Rule: RuleDMSLongID},
	{Prefix: "dms-source", Rule: RuleDMSLongID},
	{Prefix: "dms-target", Rule: RuleDMSLongID},
	{Prefix: "dms-task-forward", Rule: RuleDMSLongID},
	{Prefix: "dms-task-reverse", Rule: RuleDMSLongID},
	{Prefix: "dms-cert-source", Rule: RuleDMSLongID},
	{Prefix: "dms-cert-target", Rule: RuleDMSLongID},
	{Prefix: "dms-reverse-source", Rule: RuleDMSLongID},
	{Prefix: "dms-reverse-target", Rule: RuleDMSLongID},
	{Prefix: "dms-secrets-role", Rule: RuleIAMRole},
	{Prefix: "dms-target-endpoint", Rule: RuleSecret},
	{Prefix: "rds-target", Rule: RuleRDSIdentifier},
	{Prefix: "rds-target-final", Rule: RuleRDSSnapshot, Reserve: len("-20060102150405")},
	{Prefix: "rds-params", Rule: RuleRDSGroup},
	{Prefix: "rds-subnet-group", Rule: RuleRDSGroup},
	// tracking
	{Prefix: "migration-tracking", Rule: RuleDynamoDBTable},
	{Prefix: "migration-tracking-final", Rule: RuleDynamoDBTable, Reserve: len("-20060102150405")},
	{Prefix: "migration-notifications", Rule: RuleSNSTopic},
	{Prefix: "migration", Rule: RuleDashboard},
	// rollback
	{Prefix: "migration-rollback", Rule: RuleLambda},
	{Prefix: "migration-rollback-role", Rule: RuleIAMRole},
	{Prefix: "migration-rollback-alarms", Rule: RuleEventRule},
	{Prefix: "alarm-green-5xx-rate", Rule: RuleAlarm},
	{Prefix: "alarm-server-replication-stalled", Rule: RuleAlarm},
	// server replication and files
	{Prefix: "cloudendure-replication", Rule: RuleIAMRole},
	{Prefix: "migration-files", Rule: RuleS3Bucket, Reserve: len("-123456789012")},
	{Prefix: "datasync-s3-access", Rule: RuleIAMRole},
	{Prefix: "datasync-efs-access", Rule: RuleIAMRole},
	{Prefix: "datasync-task-files", Rule: RuleDataSync},
	{Prefix: "datasync-source-files", Rule: RuleDataSync},
	{Prefix: "datasync-target-files", Rule: RuleDataSync},
	{Prefix: "datasync-logs", Rule: RuleLogGroup},
	{Prefix: "mgn-replication-template", Rule: RuleTagValue},
	// validate
	{Prefix: "validate-application-health", Rule: RuleSSMName},
	{Prefix: "validate-database", Rule: RuleSSMName},
	{Prefix: "validate-configuration", Rule: RuleSSMName},
	{Prefix: "validate-config-association", Rule: RuleSSMName},
}

// Check returns an error when name breaks r, naming the rule it breaks.
func (r NameRule) Check(name string) error {
	switch {
	case len(name) < r.Min:
		return fmt.Errorf("%q is %d characters; %s need at least %d", name, len(name), r.Service, r.Min)
	case len(name) > r.Max:
		return fmt.Errorf("%q is %d characters; %s allow at most %d", name, len(name), r.Service, r.Max)
	}
	// The whole name in one match; a name that fails it (or may hold upper
	// case where it must not) is walked character by character, to name
	// the character it breaks on.
	if r.Lowercase || !wholeName(r.Charset).MatchString(name) {
		for _, c := range name {
			if r.Lowercase && c >= 'A' && c <= 'Z' {
				return fmt.Errorf("%q contains upper case; %s must be lower case", name, r.Service)
			}
			if !r.Charset.MatchString(string(c)) {
				return fmt.Errorf("%q contains %q; %s allow only %s", name, c, r.Service, strings.Trim(r.Charset.String(), "[]"))
			}
		}
	}
	if r.LetterFirst && !isLetter(name[0]) {
		return fmt.Errorf("%q starts with %q; %s must start with a letter", name, name[0], r.Service)
	}
	if r.NoDoubleHyphen && strings.Contains(name, "--") {
		return fmt.Errorf("%q contains \"--\"; %s must not contain two consecutive hyphens", name, r.Service)
	}
	if r.NoTrailingHyphen && strings.HasSuffix(name, "-") {
		return fmt.Errorf("%q ends with a hyphen; %s must not", name, r.Service)
	}
	return nil
}

// wholeNames caches, per Charset, the regexp a whole name of its
// characters matches.
var wholeNames sync.Map // *regexp.Regexp → *regexp.Regexp

func wholeName(charset *regexp.Regexp) *regexp.Regexp {
	if re, ok := wholeNames.Load(charset); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := wholeNames.LoadOrStore(charset, regexp.MustCompile(`^(?:`+charset.String()+`)*$`))
	return re.(*regexp.Regexp)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
