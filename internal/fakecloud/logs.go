package fakecloud

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Logs is the fake CloudWatch Logs client. Get it with Cloud.Logs.
type Logs struct{ c *Cloud }

// Logs returns the CloudWatch Logs client of the cloud.
func (c *Cloud) Logs() *Logs { return &Logs{c: c} }

func init() { register("logs", func() any { return &logsState{} }) }

type logsState struct {
	Groups   map[string]*fakeLogGroup `json:"groups"`
	Policies map[string]string        `json:"policies"` // resource policies by name
}

type fakeLogGroup struct {
	Name      string            `json:"name"`
	KMSKeyARN string            `json:"kmsKeyArn,omitempty"`
	Retention int32             `json:"retention,omitempty"`
	Tags      map[string]string `json:"tags"`
	Created   int64             `json:"created"`
}

// RetentionDays are the retention values CloudWatch Logs accepts.
var RetentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var logGroupNameRe = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

func (f *Logs) st() *logsState {
	s := state[logsState](f.c, "logs")
	if s.Groups == nil {
		s.Groups = map[string]*fakeLogGroup{}
		s.Policies = map[string]string{}
	}
	return s
}

func (f *Logs) arn(name string) string { return f.c.arn("logs", "log-group:"+name) }

func (f *Logs) group(name string) (*fakeLogGroup, error) {
	g, ok := f.st().Groups[name]
	if !ok || f.c.hidden("log-group:"+name) {
		return nil, notFound("ResourceNotFoundException", "The specified log group does not exist.")
	}
	return g, nil
}

// groupByARN resolves a log group ARN, with or without the trailing ":*".
func (f *Logs) groupByARN(arn string) (*fakeLogGroup, error) {
	arn = strings.TrimSuffix(arn, ":*")
	prefix := f.c.arn("logs", "log-group:")
	if !strings.HasPrefix(arn, prefix) {
		return nil, apiError("InvalidParameterException", "invalid log group ARN %q", arn)
	}
	return f.group(strings.TrimPrefix(arn, prefix))
}

// checkKey checks that a KMS key ARN names a usable key of this cloud,
// the way CloudWatch Logs refuses a key it cannot use.
func (f *Logs) checkKey(arn string) error {
	k, err := f.c.KMS().key(arn)
	if err != nil || k.State != string(kmstypes.KeyStateEnabled) {
		return apiError("InvalidParameterException", "The specified KMS key does not exist or is not allowed to be used with Arn '%s'", arn)
	}
	return nil
}

// CreateLogGroup creates a log group, optionally encrypted and tagged.
func (f *Logs) CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "CreateLogGroup", true, func() error {
		name := aws.ToString(in.LogGroupName)
		if !logGroupNameRe.MatchString(name) {
			return apiError("InvalidParameterException", "1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint", name)
		}
		s := f.st()
		if _, ok := s.Groups[name]; ok {
			return apiError("ResourceAlreadyExistsException", "The specified log group already exists")
		}
		if in.KmsKeyId != nil {
			if err := f.checkKey(*in.KmsKeyId); err != nil {
				return err
			}
		}
		g := &fakeLogGroup{Name: name, KMSKeyARN: aws.ToString(in.KmsKeyId), Tags: map[string]string{}, Created: f.c.now().UnixMilli()}
		for k, v := range in.Tags {
			g.Tags[k] = v
		}
		s.Groups[name] = g
		f.c.created("log-group:" + name)
		return nil
	})
	return &cloudwatchlogs.CreateLogGroupOutput{}, err
}

// DescribeLogGroups lists log groups by name prefix, paginated.
func (f *Logs) DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	var out *cloudwatchlogs.DescribeLogGroupsOutput
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "DescribeLogGroups", false, func() error {
		s := f.st()
		var all []types.LogGroup
		for _, name := range sortedKeys(s.Groups) {
			if in.LogGroupNamePrefix != nil && !strings.HasPrefix(name, *in.LogGroupNamePrefix) {
				continue
			}
			if len(in.LogGroupIdentifiers) > 0 && !slices.Contains(in.LogGroupIdentifiers, name) && !slices.Contains(in.LogGroupIdentifiers, f.arn(name)) {
				continue
			}
			if f.c.hidden("log-group:" + name) {
				continue
			}
			g := s.Groups[name]
			lg := types.LogGroup{LogGroupName: aws.String(name), Arn: aws.String(f.arn(name) + ":*"), LogGroupArn: aws.String(f.arn(name)), CreationTime: aws.Int64(g.Created), LogGroupClass: types.LogGroupClassStandard}
			if g.KMSKeyARN != "" {
				lg.KmsKeyId = aws.String(g.KMSKeyARN)
			}
			if g.Retention > 0 {
				lg.RetentionInDays = aws.Int32(g.Retention)
			}
			all = append(all, lg)
		}
		size := 50
		if in.Limit != nil {
			size = int(*in.Limit)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: items, NextToken: next}
		return nil
	})
	return out, err
}

// PutRetentionPolicy sets a group's retention to one of RetentionDays.
func (f *Logs) PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "PutRetentionPolicy", true, func() error {
		g, err := f.group(aws.ToString(in.LogGroupName))
		if err != nil {
			return err
		}
		days := aws.ToInt32(in.RetentionInDays)
		if !slices.Contains(RetentionDays, days) {
			return apiError("InvalidParameterException", "1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint", days)
		}
		g.Retention = days
		return nil
	})
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, err
}

// AssociateKmsKey encrypts a group's new data with a key.
func (f *Logs) AssociateKmsKey(ctx context.Context, in *cloudwatchlogs.AssociateKmsKeyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.AssociateKmsKeyOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "AssociateKmsKey", true, func() error {
		g, err := f.group(aws.ToString(in.LogGroupName))
		if err != nil {
			return err
		}
		if err := f.checkKey(aws.ToString(in.KmsKeyId)); err != nil {
			return err
		}
		g.KMSKeyARN = aws.ToString(in.KmsKeyId)
		return nil
	})
	return &cloudwatchlogs.AssociateKmsKeyOutput{}, err
}

// ListTagsForResource lists a log group's tags by ARN.
func (f *Logs) ListTagsForResource(ctx context.Context, in *cloudwatchlogs.ListTagsForResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	var out *cloudwatchlogs.ListTagsForResourceOutput
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "ListTagsForResource", false, func() error {
		g, err := f.groupByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		out = &cloudwatchlogs.ListTagsForResourceOutput{Tags: map[string]string{}}
		for k, v := range g.Tags {
			out.Tags[k] = v
		}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites a log group's tags by ARN.
func (f *Logs) TagResource(ctx context.Context, in *cloudwatchlogs.TagResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "TagResource", true, func() error {
		g, err := f.groupByARN(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for k, v := range in.Tags {
			g.Tags[k] = v
		}
		return nil
	})
	return &cloudwatchlogs.TagResourceOutput{}, err
}

// DeleteLogGroup deletes a group and its data.
func (f *Logs) DeleteLogGroup(ctx context.Context, in *cloudwatchlogs.DeleteLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "DeleteLogGroup", true, func() error {
		g, err := f.group(aws.ToString(in.LogGroupName))
		if err != nil {
			return err
		}
		delete(f.st().Groups, g.Name)
		return nil
	})
	return &cloudwatchlogs.DeleteLogGroupOutput{}, err
}

// PutResourcePolicy writes a resource policy (services that deliver logs
// into a group, such as DataSync, need one).
func (f *Logs) PutResourcePolicy(ctx context.Context, in *cloudwatchlogs.PutResourcePolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutResourcePolicyOutput, error) {
	var out *cloudwatchlogs.PutResourcePolicyOutput
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "PutResourcePolicy", true, func() error {
		if err := checkPolicyJSON("InvalidParameterException", aws.ToString(in.PolicyDocument)); err != nil {
			return err
		}
		name := aws.ToString(in.PolicyName)
		f.st().Policies[name] = aws.ToString(in.PolicyDocument)
		out = &cloudwatchlogs.PutResourcePolicyOutput{ResourcePolicy: &types.ResourcePolicy{PolicyName: aws.String(name), PolicyDocument: in.PolicyDocument}}
		return nil
	})
	return out, err
}

// DescribeResourcePolicies lists resource policies.
func (f *Logs) DescribeResourcePolicies(ctx context.Context, in *cloudwatchlogs.DescribeResourcePoliciesInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeResourcePoliciesOutput, error) {
	var out *cloudwatchlogs.DescribeResourcePoliciesOutput
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "DescribeResourcePolicies", false, func() error {
		out = &cloudwatchlogs.DescribeResourcePoliciesOutput{}
		s := f.st()
		for _, name := range sortedKeys(s.Policies) {
			out.ResourcePolicies = append(out.ResourcePolicies, types.ResourcePolicy{PolicyName: aws.String(name), PolicyDocument: aws.String(s.Policies[name])})
		}
		return nil
	})
	return out, err
}

// DeleteResourcePolicy deletes a resource policy.
func (f *Logs) DeleteResourcePolicy(ctx context.Context, in *cloudwatchlogs.DeleteResourcePolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteResourcePolicyOutput, error) {
	err := f.c.call(ctx, cloudwatchlogs.ServiceID, "DeleteResourcePolicy", true, func() error {
		name := aws.ToString(in.PolicyName)
		if _, ok := f.st().Policies[name]; !ok {
			return notFound("ResourceNotFoundException", "Policy with name [%s] does not exist", name)
		}
		delete(f.st().Policies, name)
		return nil
	})
	return &cloudwatchlogs.DeleteResourcePolicyOutput{}, err
}

// LogGroups returns the names of every log group, for assertions.
func (f *Logs) LogGroups() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Groups)
}

// LogGroupKey returns the KMS key ARN and retention of a group, for
// assertions.
func (f *Logs) LogGroupKey(name string) (kmsKeyARN string, retentionDays int32, ok bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	g, ok := f.st().Groups[name]
	if !ok {
		return "", 0, false
	}
	return g.KMSKeyARN, g.Retention, true
}
