package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// iamPrefix maps the SDK's service IDs (as the call log names them) to
// IAM action prefixes.
var iamPrefix = map[string]string{
	"EC2": "ec2", "KMS": "kms", "IAM": "iam", "CloudWatch Logs": "logs", "CloudWatch": "cloudwatch",
	"Database Migration Service": "dms", "RDS": "rds", "Secrets Manager": "secretsmanager",
	"Route 53": "route53", "Route53Resolver": "route53resolver", "Direct Connect": "directconnect",
	"DynamoDB": "dynamodb", "SNS": "sns", "Lambda": "lambda", "mgn": "mgn", "DataSync": "datasync",
	"S3": "s3", "SSM": "ssm", "STS": "sts", "EFS": "elasticfilesystem", "EventBridge": "events",
}

// actionOverrides lists the API operations whose IAM action is not
// "<prefix>:<Operation>".
var actionOverrides = map[string][]string{
	"S3:ListObjectsV2":                   {"s3:ListBucket"},
	"S3:ListObjectVersions":              {"s3:ListBucketVersions"},
	"S3:HeadBucket":                      {"s3:ListBucket"},
	"S3:PutBucketEncryption":             {"s3:PutEncryptionConfiguration"},
	"S3:GetBucketEncryption":             {"s3:GetEncryptionConfiguration"},
	"S3:PutPublicAccessBlock":            {"s3:PutBucketPublicAccessBlock"},
	"S3:GetPublicAccessBlock":            {"s3:GetBucketPublicAccessBlock"},
	"S3:DeleteObjects":                   {"s3:DeleteObject", "s3:DeleteObjectVersion"},
	"S3:DeleteBucketPolicy":              {"s3:DeleteBucketPolicy"},
	"Lambda:Invoke":                      {"lambda:InvokeFunction"},
	"DynamoDB:TransactWriteItems":        {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"},
	"Lambda:GetFunctionConfiguration":    {"lambda:GetFunctionConfiguration"},
	"STS:GetCallerIdentity":              nil, // needs no permission
	"CloudWatch Logs:AssociateKmsKey":    {"logs:AssociateKmsKey"},
	"Route 53:ListResourceRecordSets":    {"route53:ListResourceRecordSets"},
	"DynamoDB:DescribeContinuousBackups": {"dynamodb:DescribeContinuousBackups"},
}

// impliedActions are the further actions an operation needs of its
// caller: the calls AWS makes on the caller's behalf, and tagging in a
// create call.
var impliedActions = map[string][]string{
	"EFS:CreateFileSystem":  {"elasticfilesystem:TagResource"},
	"EFS:CreateMountTarget": {"ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface"},
	"EFS:DeleteMountTarget": {"ec2:DeleteNetworkInterface"},
}

// operatorPolicy derives the IAM policy an operator needs from the calls
// the platform made on the simulated cloud: every API operation maps to
// the action that authorizes it, plus iam:PassRole for the roles the env
// hands to AWS services. It is generated, not written by hand, so it never
// lags behind the code. Resources are "*" limited to the env's Region: most
// create calls cannot be scoped to a resource that does not exist yet.
func operatorPolicy(env migration.Env, calls []fakecloud.Call) (migration.PolicyDocument, error) {
	actions := map[string]bool{}
	var unknown []string
	for _, c := range calls {
		key := c.Service + ":" + c.Op
		for _, a := range impliedActions[key] {
			actions[a] = true
		}
		if acts, ok := actionOverrides[key]; ok {
			for _, a := range acts {
				actions[a] = true
			}
			continue
		}
		prefix, ok := iamPrefix[c.Service]
		if !ok {
			unknown = append(unknown, c.Service)
			continue
		}
		actions[prefix+":"+c.Op] = true
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return migration.PolicyDocument{}, fmt.Errorf("no IAM prefix for services %v", slices.Compact(unknown))
	}
	byService := map[string][]string{}
	for a := range actions {
		svc, _, _ := strings.Cut(a, ":")
		byService[svc] = append(byService[svc], a)
	}
	services := make([]string, 0, len(byService))
	for s := range byService {
		services = append(services, s)
	}
	sort.Strings(services)
	var stmts []migration.Statement
	regional := migration.Condition{"StringEquals": {"aws:RequestedRegion": {env.Region}}}
	for _, s := range services {
		acts := byService[s]
		sort.Strings(acts)
		st := migration.Statement{Sid: "Migration" + sidName(s), Effect: "Allow", Action: acts, Resource: migration.Strings{"*"}}
		switch s {
		case "iam", "route53", "directconnect", "s3", "sts":
			// Global services (or global-endpoint calls): no Region condition.
		default:
			st.Condition = regional
		}
		stmts = append(stmts, st)
	}
	stmts = append(stmts, migration.Statement{
		Sid: "PassEnvRolesToServices", Effect: "Allow", Action: migration.Strings{"iam:PassRole"},
		Resource: migration.Strings{"arn:aws:iam::" + env.Account + ":role/*-" + env.Suffix, "arn:aws:iam::" + env.Account + ":role/service-role/*", "arn:aws:iam::" + env.Account + ":role/dms-*-role"},
		Condition: migration.Condition{"StringLike": {"iam:PassedToService": {
			"dms.amazonaws.com", "lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com", "datasync.amazonaws.com", "ec2.amazonaws.com", "mgn.amazonaws.com", "ssm.amazonaws.com",
		}}},
	})
	return migration.NewPolicy(stmts...), nil
}

func sidName(prefix string) string {
	b := []byte(prefix)
	b[0] -= 'a' - 'A'
	return string(b)
}

// cmdIAMPolicy prints the operator's IAM policy, derived from the calls
// of a whole simulated migration.
func cmdIAMPolicy(ctx context.Context, a *app) error {
	if err := a.load(); err != nil {
		return err
	}
	calls, env, err := simulatedCalls(ctx, a)
	if err != nil {
		return err
	}
	p, err := operatorPolicy(env, calls)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// clientServices names the service (as the call log does) of every AWS
// client field of clients.
var clientServices = map[string]string{
	"ec2": "EC2", "kms": "KMS", "iam": "IAM", "logs": "CloudWatch Logs", "dx": "Direct Connect", "resolver": "Route53Resolver",
	"dms": "Database Migration Service", "rds": "RDS", "secrets": "Secrets Manager", "route53": "Route 53", "dynamodb": "DynamoDB",
	"sns": "SNS", "cloudwatch": "CloudWatch", "lambda": "Lambda", "events": "EventBridge", "mgn": "mgn", "datasync": "DataSync",
	"s3": "S3", "efs": "EFS", "ssm": "SSM",
}

// declaredCalls lists every operation the platform's clients can make:
// the methods of each client interface in clients, one call each. The
// simulated migration exercises the paths a migration takes; these add
// the ones only drift, a crash or a failure take (tags put back on a
// rule, a replication instance modified, a template updated), so that an
// apply that repairs is allowed too. It is still exactly what the code
// can call, and no more.
func declaredCalls() ([]fakecloud.Call, error) {
	var calls []fakecloud.Call
	ct := reflect.TypeFor[clients]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if f.Type.Kind() != reflect.Interface || f.Name == "clock" {
			continue
		}
		svc, ok := clientServices[f.Name]
		if !ok {
			return nil, fmt.Errorf("clients.%s: no service for its calls in clientServices", f.Name)
		}
		for j := range f.Type.NumMethod() {
			op := f.Type.Method(j).Name // declared, not made: Write says nothing
			calls = append(calls, fakecloud.Call{Service: svc, Op: op})
		}
	}
	return calls, nil
}

// simulatedCalls runs the demo silently on a fresh simulated cloud and
// returns every call it made, and every call the clients declare.
func simulatedCalls(ctx context.Context, a *app) ([]fakecloud.Call, migration.Env, error) {
	quiet := *a
	quiet.stdout, quiet.output = io.Discard, "json"
	cloud := fakecloud.New(fakecloud.WithClock(fakecloud.NewScaledClock(fakecloud.Epoch, demoScale*10)), fakecloud.WithRegion(a.spec.Env.Region))
	if err := quiet.useSim(ctx, cloud); err != nil {
		return nil, migration.Env{}, err
	}
	defer quiet.world.stop()
	var all []fakecloud.Call
	cloud.ResetCalls()
	if _, err := demo(ctx, &quiet, cloud); err != nil {
		return nil, migration.Env{}, fmt.Errorf("simulated migration: %w", err)
	}
	all = append(all, cloud.Calls()...)
	declared, err := declaredCalls()
	if err != nil {
		return nil, migration.Env{}, err
	}
	return append(all, declared...), quiet.env(nil), nil
}
