package migration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// LogsAPI is the part of the CloudWatch Logs client EnsureLogGroup and
// DeleteLogGroup use.
type LogsAPI interface {
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	AssociateKmsKey(context.Context, *cloudwatchlogs.AssociateKmsKeyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.AssociateKmsKeyOutput, error)
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatchlogs.TagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error)
	DeleteLogGroup(context.Context, *cloudwatchlogs.DeleteLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
}

// KindLogGroup is the Change kind of a log group.
const KindLogGroup = "log-group"

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// LogGroupSpec describes a log group of the env.
type LogGroupSpec struct {
	// Name of the group; env.LogGroup(what) for every group of the env,
	// which the env key's policy lets CloudWatch Logs encrypt.
	Name string
	// RetentionDays is one of LogRetentionDays. Logs are never kept
	// forever by default: a migration's logs are evidence for an audit
	// window, not an archive.
	RetentionDays int
	// KMSKeyARN is the env key (migration.Key.ARN). Required: every data
	// store of the library is encrypted with a customer managed key.
	KMSKeyARN string
}

// Validate checks the spec.
func (s LogGroupSpec) Validate() error {
	var errs []error
	if err := RuleLogGroup.Check(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("logGroup.name: %w", err))
	}
	if !slices.Contains(LogRetentionDays, s.RetentionDays) {
		errs = append(errs, fmt.Errorf("logGroup.retentionDays: %d is not one of %v", s.RetentionDays, LogRetentionDays))
	}
	if !IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		errs = append(errs, fmt.Errorf("logGroup.kmsKeyArn: %q is not a KMS key ARN (required)", s.KMSKeyARN))
	}
	return errors.Join(errs...)
}

// LogGroup is an ensured log group. ARN has no ":*" suffix.
type LogGroup struct {
	Name string
	ARN  string
}

// LogGroupARN returns the ARN of a log group of env's account and Region.
func LogGroupARN(env Env, name string) string {
	return "arn:aws:logs:" + env.Region + ":" + env.Account + ":log-group:" + name
}

// EnsureLogGroup makes a log group exist and converge: encrypted with the
// spec's key, the spec's retention and the env's tags. It refuses to adopt
// a group of that name without the env's ownership tag. A pending key
// (dry run) makes it report a create without calling AWS. Idempotent.
func EnsureLogGroup(ctx context.Context, env Env, api LogsAPI, spec LogGroupSpec) (LogGroup, error) {
	if err := Validate(env, spec); err != nil {
		return LogGroup{}, fmt.Errorf("ensure log group %q: %w", spec.Name, err)
	}
	g, err := ensureLogGroup(ctx, env, api, spec)
	if err != nil {
		return LogGroup{}, fmt.Errorf("ensure log group %q: %w", spec.Name, err)
	}
	return g, nil
}

func ensureLogGroup(ctx context.Context, env Env, api LogsAPI, spec LogGroupSpec) (LogGroup, error) {
	arn := LogGroupARN(env, spec.Name)
	group := LogGroup{Name: spec.Name, ARN: arn}
	found, err := findLogGroup(ctx, api, spec.Name)
	if err != nil {
		return LogGroup{}, err
	}
	tags := env.NameTags(spec.Name)
	if found == nil {
		if env.DryRun || IsPending(spec.KMSKeyARN) {
			env.Report(Change{Kind: KindLogGroup, Name: spec.Name, ID: Pending(spec.Name), Action: ActionCreate})
			return group, nil
		}
		_, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(spec.Name), KmsKeyId: aws.String(spec.KMSKeyARN), Tags: tags})
		if err != nil && !awsx.IsAlreadyExists(err) {
			return LogGroup{}, fmt.Errorf("create: %w", err)
		}
		if err := env.Retry(ctx, []string{"ResourceNotFoundException"}, func(ctx context.Context) error {
			_, err := api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(spec.Name), RetentionInDays: aws.Int32(int32(spec.RetentionDays))})
			return err
		}); err != nil {
			return LogGroup{}, fmt.Errorf("set retention: %w", err)
		}
		env.Report(Change{Kind: KindLogGroup, Name: spec.Name, ID: arn, Action: ActionCreate})
		return group, nil
	}

	have, err := api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return LogGroup{}, fmt.Errorf("list tags: %w", err)
	}
	if !env.Owns(have.Tags) {
		return LogGroup{}, fmt.Errorf("log group exists without the ownership tag %s=%s; refusing to adopt it", OwnerTag, env.Suffix)
	}
	var c Converge
	if k := aws.ToString(found.KmsKeyId); k != spec.KMSKeyARN && !IsPending(spec.KMSKeyARN) {
		c.Fix("kmsKeyId", k, spec.KMSKeyARN, func() error {
			_, err := api.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: aws.String(spec.Name), KmsKeyId: aws.String(spec.KMSKeyARN)})
			return err
		})
	}
	if r := int(aws.ToInt32(found.RetentionInDays)); r != spec.RetentionDays {
		c.Fix("retentionDays", fmt.Sprint(r), fmt.Sprint(spec.RetentionDays), func() error {
			_, err := api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(spec.Name), RetentionInDays: aws.Int32(int32(spec.RetentionDays))})
			return err
		})
	}
	c.Tags(have.Tags, tags, func(missing map[string]string) error {
		_, err := api.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: missing})
		return err
	})
	if err := c.Apply(env, Change{Kind: KindLogGroup, Name: spec.Name, ID: arn}); err != nil {
		return LogGroup{}, fmt.Errorf("update: %w", err)
	}
	return group, nil
}

// findLogGroup returns the group of exactly that name, or nil.
func findLogGroup(ctx context.Context, api LogsAPI, name string) (*logstypes.LogGroup, error) {
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(api, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe: %w", err)
		}
		for _, g := range page.LogGroups {
			if aws.ToString(g.LogGroupName) == name { // a prefix matches longer names too
				return &g, nil
			}
		}
	}
	return nil, nil
}

// DeleteLogGroup deletes a log group of the env and the logs in it. It
// leaves a group without the env's ownership tag in place and is a no-op
// when the group is gone.
func DeleteLogGroup(ctx context.Context, env Env, api LogsAPI, spec LogGroupSpec) error {
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete log group %q: %w", spec.Name, err)
	}
	found, err := findLogGroup(ctx, api, spec.Name)
	if err != nil {
		return fmt.Errorf("delete log group %q: %w", spec.Name, err)
	}
	if found == nil {
		env.ReportGone(KindLogGroup, spec.Name)
		return nil
	}
	arn := LogGroupARN(env, spec.Name)
	have, err := api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("delete log group %q: list tags: %w", spec.Name, err)
	}
	if !env.Owns(have.Tags) {
		env.ReportNotOwned(KindLogGroup, spec.Name, arn)
		return nil
	}
	if !env.DryRun {
		if _, err := api.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(spec.Name)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete log group %q: %w", spec.Name, err)
		}
	}
	env.Report(Change{Kind: KindLogGroup, Name: spec.Name, ID: arn, Action: ActionDelete})
	return nil
}
