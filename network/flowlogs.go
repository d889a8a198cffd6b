package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// FlowLogsEC2API is the part of the EC2 client EnsureFlowLogs and
// DeleteFlowLogs use.
type FlowLogsEC2API interface {
	CreateFlowLogs(context.Context, *ec2.CreateFlowLogsInput, ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error)
	DescribeFlowLogs(context.Context, *ec2.DescribeFlowLogsInput, ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
	DeleteFlowLogs(context.Context, *ec2.DeleteFlowLogsInput, ...func(*ec2.Options)) (*ec2.DeleteFlowLogsOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// FlowLogsClients are the clients EnsureFlowLogs and DeleteFlowLogs use:
// the flow log itself, its encrypted log group and its delivery role.
type FlowLogsClients struct {
	EC2  FlowLogsEC2API
	Logs migration.LogsAPI
	IAM  migration.IAMAPI
}

// KindFlowLog is the Change kind of a flow log.
const KindFlowLog = "flow-log"

// FlowLogsSpec describes the VPC's flow logs: every flow (TrafficType ALL
// by default) to a KMS-encrypted CloudWatch Logs group with retention.
type FlowLogsSpec struct {
	// VPCID is the VPC (VPC.ID); required by Ensure.
	VPCID string
	// KMSKeyARN is the env key (migration.Key.ARN) the log group is
	// encrypted with; required.
	KMSKeyARN string
	// RetentionDays is one of migration.LogRetentionDays.
	RetentionDays int
	// TrafficType is ALL (default when empty), ACCEPT or REJECT.
	TrafficType string
	// MaxAggregationSeconds is 60 or 600 (default when 0).
	MaxAggregationSeconds int
	// RetainLogGroup makes DeleteFlowLogs leave the log group (and the
	// records in it) in place, for an audit window beyond the env.
	RetainLogGroup bool
}

func (s FlowLogsSpec) trafficType() string {
	if s.TrafficType == "" {
		return string(types.TrafficTypeAll)
	}
	return s.TrafficType
}

func (s FlowLogsSpec) maxAggregation() int32 {
	if s.MaxAggregationSeconds == 0 {
		return 600
	}
	return int32(s.MaxAggregationSeconds)
}

func (s FlowLogsSpec) logGroup(env migration.Env) migration.LogGroupSpec {
	return migration.LogGroupSpec{Name: env.LogGroup("vpc-flow-logs"), RetentionDays: s.RetentionDays, KMSKeyARN: s.KMSKeyARN}
}

// Validate checks the spec.
func (s FlowLogsSpec) Validate() error {
	errs := []error{checkID("flowLogs.vpcId", s.VPCID, "vpc-")}
	if !slices.Contains(migration.LogRetentionDays, s.RetentionDays) {
		errs = append(errs, fmt.Errorf("flowLogs.retentionDays: %d is not one of %v", s.RetentionDays, migration.LogRetentionDays))
	}
	if !migration.IsPending(s.KMSKeyARN) && !isARN(s.KMSKeyARN, "kms") {
		errs = append(errs, fmt.Errorf("flowLogs.kmsKeyArn: %q is not a KMS key ARN (required: flow logs are encrypted with the env key)", s.KMSKeyARN))
	}
	if t := s.trafficType(); t != "ALL" && t != "ACCEPT" && t != "REJECT" {
		errs = append(errs, fmt.Errorf("flowLogs.trafficType: %q is not ALL, ACCEPT or REJECT", t))
	}
	if a := s.MaxAggregationSeconds; a != 0 && a != 60 && a != 600 {
		errs = append(errs, fmt.Errorf("flowLogs.maxAggregationSeconds: %d is not 60 or 600", a))
	}
	return errors.Join(errs...)
}

// isARN reports whether s looks like an ARN of the service:
// arn:<partition>:<service>:<region>:<account>:<resource>.
func isARN(s, service string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == service && parts[5] != ""
}

// FlowLogs are the ensured flow log, its group and its role.
type FlowLogs struct {
	ID          string
	LogGroup    string
	LogGroupARN string
	RoleARN     string
}

// flowLogRole is the delivery role: trusted by the VPC Flow Logs service
// for this account's flow logs only, allowed to write to the one group.
func flowLogRole(env migration.Env, groupARN string) migration.RoleSpec {
	return migration.RoleSpec{
		Name:        env.Name("vpc-flow-logs"),
		Description: "VPC Flow Logs delivery to " + env.LogGroup("vpc-flow-logs"),
		Trust: migration.NewPolicy(migration.Statement{
			Effect: "Allow", Principal: migration.ServicePrincipal("vpc-flow-logs.amazonaws.com"), Action: migration.Strings{"sts:AssumeRole"},
			Condition: migration.Condition{
				"StringEquals": {"aws:SourceAccount": {env.Account}},
				"ArnLike":      {"aws:SourceArn": {"arn:aws:ec2:" + env.Region + ":" + env.Account + ":vpc-flow-log/*"}},
			},
		}),
		Inline: map[string]migration.PolicyDocument{"deliver-flow-logs": migration.NewPolicy(
			migration.Allow("WriteFlowLogRecords", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []string{groupARN, groupARN + ":log-stream:*"}),
		)},
	}
}

func flowLogName(env migration.Env) string { return env.Name("vpc-flow-logs") }

// EnsureFlowLogs makes the VPC's flow logs exist and converge: the log
// group env.LogGroup("vpc-flow-logs") encrypted with the spec's key and
// retention (migration.EnsureLogGroup), the delivery role
// "vpc-flow-logs-<suffix>" (migration.EnsureRole: trust limited to this
// account's flow logs by aws:SourceAccount and aws:SourceArn, write access
// to that one group only) and the flow log itself, created with its tags
// and a client token derived from the env and the VPC.
//
// A flow log cannot be modified: one of the env whose VPC, traffic type,
// destination, role or aggregation interval differs from the spec is
// refused with an error naming the difference (delete it with
// DeleteFlowLogs and apply again). Missing tags converge. Reports one
// Change each for the group, the role and the flow log.
func EnsureFlowLogs(ctx context.Context, env migration.Env, c FlowLogsClients, spec FlowLogsSpec) (FlowLogs, error) {
	name := flowLogName(env)
	if err := migration.Validate(env, spec); err != nil {
		return FlowLogs{}, fmt.Errorf("ensure flow logs %q: %w", name, err)
	}
	if err := errors.Join(required("flowLogs.vpcId", spec.VPCID), realIDs(env, "flowLogs.vpcId", spec.VPCID, "flowLogs.kmsKeyArn", spec.KMSKeyARN)); err != nil {
		return FlowLogs{}, fmt.Errorf("ensure flow logs %q: %w", name, err)
	}
	group, err := migration.EnsureLogGroup(ctx, env, c.Logs, spec.logGroup(env))
	if err != nil {
		return FlowLogs{}, fmt.Errorf("ensure flow logs %q: %w", name, err)
	}
	role, err := migration.EnsureRole(ctx, env, c.IAM, flowLogRole(env, group.ARN))
	if err != nil {
		return FlowLogs{}, fmt.Errorf("ensure flow logs %q: %w", name, err)
	}
	out := FlowLogs{LogGroup: group.Name, LogGroupARN: group.ARN, RoleARN: role.ARN}
	out.ID, err = ensureFlowLog(ctx, env, c.EC2, spec, name, group.ARN, role.ARN)
	if err != nil {
		return FlowLogs{}, fmt.Errorf("ensure flow logs %q: %w", name, err)
	}
	return out, nil
}

func ensureFlowLog(ctx context.Context, env migration.Env, api FlowLogsEC2API, spec FlowLogsSpec, name, groupARN, roleARN string) (string, error) {
	createDiff := []migration.FieldDiff{{Field: "vpc", To: spec.VPCID}, {Field: "trafficType", To: spec.trafficType()}}
	if migration.IsPending(spec.VPCID) {
		id := migration.Pending(name)
		report(env, KindFlowLog, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	found, err := findFlowLog(ctx, env, api, name)
	if err != nil {
		return "", err
	}
	if found == nil {
		if env.DryRun {
			id := migration.Pending(name)
			report(env, KindFlowLog, name, id, migration.ActionCreate, createDiff, "")
			return id, nil
		}
		id, err := createFlowLog(ctx, env, api, spec, name, groupARN, roleARN)
		if err != nil {
			return "", err
		}
		report(env, KindFlowLog, name, id, migration.ActionCreate, createDiff, "")
		return id, nil
	}
	id := aws.ToString(found.FlowLogId)
	var conflicts []string
	check := func(field, have, want string) {
		if have != want {
			conflicts = append(conflicts, fmt.Sprintf("%s is %s, the spec wants %s", field, have, want))
		}
	}
	check("resource", aws.ToString(found.ResourceId), spec.VPCID)
	check("trafficType", string(found.TrafficType), spec.trafficType())
	check("destination", aws.ToString(found.LogDestination), groupARN)
	check("deliverLogsPermissionArn", aws.ToString(found.DeliverLogsPermissionArn), roleARN)
	check("maxAggregationInterval", fmt.Sprint(aws.ToInt32(found.MaxAggregationInterval)), fmt.Sprint(spec.maxAggregation()))
	if len(conflicts) > 0 {
		return "", fmt.Errorf("flow logs are immutable: %s: %v; delete it (DeleteFlowLogs) and apply again", id, conflicts)
	}
	var c migration.Converge
	c.Tags(awsx.FromEC2Tags(found.Tags), env.NameTags(name), tagEC2(ctx, api, id))
	if err := c.Apply(env, migration.Change{Kind: KindFlowLog, Name: name, ID: id}); err != nil {
		return "", err
	}
	return id, nil
}

// createFlowLog creates the flow log with a client token derived from
// the env, the name and the VPC, and checks that the flow log it gets
// exists: a token outlives a flow log deleted by hand, and EC2 answers a
// repeated request with the gone one. Then the token is salted with that
// ID (deterministic, so a retry after a crash still returns the first
// attempt's flow log).
func createFlowLog(ctx context.Context, env migration.Env, api FlowLogsEC2API, spec FlowLogsSpec, name, groupARN, roleARN string) (string, error) {
	token := clientToken(env, name, spec.VPCID)
	for attempt := 0; ; attempt++ {
		out, err := api.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
			ResourceIds: []string{spec.VPCID}, ResourceType: types.FlowLogsResourceTypeVpc, TrafficType: types.TrafficType(spec.trafficType()),
			LogDestinationType: types.LogDestinationTypeCloudWatchLogs, LogDestination: aws.String(groupARN), DeliverLogsPermissionArn: aws.String(roleARN),
			MaxAggregationInterval: aws.Int32(spec.maxAggregation()), ClientToken: aws.String(token),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeVpcFlowLog, env.NameTags(name)),
		})
		if err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		if len(out.FlowLogIds) == 0 {
			for _, u := range out.Unsuccessful {
				return "", fmt.Errorf("create: %s: %s: %s", aws.ToString(u.ResourceId), aws.ToString(u.Error.Code), aws.ToString(u.Error.Message))
			}
			return "", errors.New("create: no flow log made and no error given")
		}
		id := out.FlowLogIds[0]
		// A new flow log may not be listed for a moment; a gone one never is.
		seen := false
		err = env.Poll(ctx, "flow log "+id+" to be visible", 5*time.Second, time.Minute, func(ctx context.Context) (string, bool, error) {
			d, err := api.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{FlowLogIds: []string{id}})
			if err != nil {
				return "", false, err
			}
			seen = len(d.FlowLogs) > 0
			return "not listed yet", seen, nil
		})
		switch {
		case seen:
			return id, nil
		case errors.Is(err, awsx.ErrTimeout) && attempt < 3:
			token = clientToken(env, name, spec.VPCID, id)
		default:
			return "", fmt.Errorf("create: flow log %s: %w", id, err)
		}
	}
}

func findFlowLog(ctx context.Context, env migration.Env, api FlowLogsEC2API, name string) (*types.FlowLog, error) {
	out, err := api.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, name)})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	var owned []types.FlowLog
	for _, f := range out.FlowLogs {
		if env.Owns(awsx.FromEC2Tags(f.Tags)) {
			owned = append(owned, f)
		}
	}
	switch len(owned) {
	case 0:
		return nil, nil
	case 1:
		return &owned[0], nil
	}
	return nil, fmt.Errorf("%d flow logs carry %s=%s and Name=%s; expected one: delete the extras", len(owned), migration.OwnerTag, env.Suffix, name)
}

// DeleteFlowLogs deletes the env's flow log, its delivery role and (unless
// RetainLogGroup) its log group with the records in it. Only resources
// carrying the env's ownership tag are touched; missing ones are no-ops.
func DeleteFlowLogs(ctx context.Context, env migration.Env, c FlowLogsClients, spec FlowLogsSpec) error {
	name := flowLogName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete flow logs %q: %w", name, err)
	}
	found, err := findFlowLog(ctx, env, c.EC2, name)
	if err != nil {
		return fmt.Errorf("delete flow logs %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindFlowLog, name)
	} else {
		id := aws.ToString(found.FlowLogId)
		if !env.DryRun {
			out, err := c.EC2.DeleteFlowLogs(ctx, &ec2.DeleteFlowLogsInput{FlowLogIds: []string{id}})
			if err != nil {
				return fmt.Errorf("delete flow logs %q: %w", name, err)
			}
			for _, u := range out.Unsuccessful {
				if code := aws.ToString(u.Error.Code); code != "InvalidFlowLogId.NotFound" {
					return fmt.Errorf("delete flow logs %q: %s: %s", name, code, aws.ToString(u.Error.Message))
				}
			}
		}
		report(env, KindFlowLog, name, id, migration.ActionDelete, nil, "")
	}
	group := spec.logGroup(env)
	if err := migration.DeleteRole(ctx, env, c.IAM, flowLogRole(env, migration.LogGroupARN(env, group.Name))); err != nil {
		return fmt.Errorf("delete flow logs %q: %w", name, err)
	}
	if spec.RetainLogGroup {
		report(env, migration.KindLogGroup, group.Name, migration.LogGroupARN(env, group.Name), migration.ActionNoop, nil, "retained (retainLogGroup)")
		return nil
	}
	if err := migration.DeleteLogGroup(ctx, env, c.Logs, group); err != nil {
		return fmt.Errorf("delete flow logs %q: %w", name, err)
	}
	return nil
}
