package dms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// SubnetGroupSpec describes the replication subnet group
// "dms-subnet-group-<suffix>".
type SubnetGroupSpec struct {
	// SubnetIDs are the VPC's private subnets (network.Subnets of the
	// private tier), in at least two Availability Zones: a Multi-AZ
	// replication instance puts its standby in another zone. DMS checks
	// the zones (ReplicationSubnetGroupDoesNotCoverEnoughAZs); Validate
	// checks there are at least two distinct subnets.
	SubnetIDs []string
}

// Validate checks the subnet IDs: at least two, distinct, each "subnet-"
// or a pending ID.
func (s SubnetGroupSpec) Validate() error {
	return checkSubnets("subnetGroup.subnetIds", s.SubnetIDs)
}

func checkSubnets(field string, ids []string) error {
	var errs []error
	seen := map[string]bool{}
	for _, id := range ids {
		if !strings.HasPrefix(id, "subnet-") && !migration.IsPending(id) {
			errs = append(errs, fmt.Errorf("%s: %q is not a subnet ID", field, id))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("%s: %q listed twice", field, id))
		}
		seen[id] = true
	}
	if len(seen) < 2 {
		errs = append(errs, fmt.Errorf("%s: at least two private subnets in two Availability Zones required (Multi-AZ), got %d", field, len(seen)))
	}
	return errors.Join(errs...)
}

// SubnetGroup is an ensured replication subnet group.
type SubnetGroup struct {
	// ID is the identifier ("dms-subnet-group-<suffix>"), what
	// InstanceSpec.SubnetGroup takes; a pending ID in a dry run that
	// would create it.
	ID  string
	ARN string
}

func subnetGroupARN(env migration.Env, id string) string {
	return "arn:aws:dms:" + env.Region + ":" + env.Account + ":subgrp:" + id
}

// vpcRoleRetry absorbs the propagation of a new dms-vpc-role: DMS answers
// AccessDeniedFault until it can assume the role.
func vpcRoleRetry(ctx context.Context, env migration.Env, fn func(context.Context) error) error {
	return env.Retry(ctx, []string{codeAccessDenied}, fn)
}

// EnsureSubnetGroup makes the env's replication subnet group exist and
// converge: exactly the spec's subnets, the env's tags. It finds the group
// by its identifier (unique in the account and Region) and refuses to
// adopt one without the env's ownership tag. A pending subnet ID makes it
// report a create without calling AWS. Right after the account's
// dms-vpc-role is created DMS refuses the group (AccessDeniedFault) for a
// few seconds; that is retried. Idempotent.
func EnsureSubnetGroup(ctx context.Context, env migration.Env, api DMSAPI, spec SubnetGroupSpec) (SubnetGroup, error) {
	name := env.Name("dms-subnet-group")
	if err := migration.Validate(env, spec); err != nil {
		return SubnetGroup{}, fmt.Errorf("ensure dms subnet group %q: %w", name, err)
	}
	g, err := ensureSubnetGroup(ctx, env, api, spec, name)
	if err != nil {
		return SubnetGroup{}, fmt.Errorf("ensure dms subnet group %q: %w", name, err)
	}
	return g, nil
}

func ensureSubnetGroup(ctx context.Context, env migration.Env, api DMSAPI, spec SubnetGroupSpec, name string) (SubnetGroup, error) {
	want := slices.Sorted(slices.Values(spec.SubnetIDs))
	createDiff := []migration.FieldDiff{{Field: "subnets", To: strings.Join(want, ",")}}
	if migration.AnyPending(spec.SubnetIDs...) {
		env.Report(migration.Change{Kind: KindSubnetGroup, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Diff: createDiff})
		return SubnetGroup{ID: migration.Pending(name)}, nil
	}
	found, err := findSubnetGroup(ctx, api, name)
	if err != nil {
		return SubnetGroup{}, err
	}
	arn := subnetGroupARN(env, name)
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindSubnetGroup, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Diff: createDiff})
			return SubnetGroup{ID: migration.Pending(name)}, nil
		}
		err := vpcRoleRetry(ctx, env, func(ctx context.Context) error {
			_, err := api.CreateReplicationSubnetGroup(ctx, &dms.CreateReplicationSubnetGroupInput{
				ReplicationSubnetGroupIdentifier:  aws.String(name),
				ReplicationSubnetGroupDescription: aws.String("Private subnets of the DMS replication instance of env " + env.Suffix),
				SubnetIds:                         want,
				Tags:                              dmsTags(env.NameTags(name)),
			})
			return err
		})
		if awsx.IsAlreadyExists(err) { // a lost response: converge what is there
			if err := visible(ctx, env, "subnet group "+name, func(ctx context.Context) (bool, error) {
				g, err := findSubnetGroup(ctx, api, name)
				return g != nil, err
			}); err != nil {
				return SubnetGroup{}, err
			}
			return ensureSubnetGroup(ctx, env, api, spec, name)
		}
		if err != nil {
			return SubnetGroup{}, fmt.Errorf("create: %w", err)
		}
		env.Report(migration.Change{Kind: KindSubnetGroup, Name: name, ID: arn, Action: migration.ActionCreate, Diff: createDiff})
		return SubnetGroup{ID: name, ARN: arn}, nil
	}

	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return SubnetGroup{}, err
	}
	if !env.Owns(tags) {
		return SubnetGroup{}, notOwned(env, "replication subnet group", name)
	}
	var have []string
	for _, s := range found.Subnets {
		have = append(have, aws.ToString(s.SubnetIdentifier))
	}
	slices.Sort(have)
	var c migration.Converge
	if !slices.Equal(have, want) {
		c.Fix("subnets", strings.Join(have, ","), strings.Join(want, ","), func() error {
			_, err := api.ModifyReplicationSubnetGroup(ctx, &dms.ModifyReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String(name), SubnetIds: want})
			return err
		})
	}
	c.Tags(tags, env.NameTags(name), tagDMS(ctx, api, arn))
	if err := c.Apply(env, migration.Change{Kind: KindSubnetGroup, Name: name, ID: arn}); err != nil {
		return SubnetGroup{}, fmt.Errorf("update: %w", err)
	}
	return SubnetGroup{ID: name, ARN: arn}, nil
}

func findSubnetGroup(ctx context.Context, api DMSAPI, name string) (*dmstypes.ReplicationSubnetGroup, error) {
	out, err := ignoreNotFound(api.DescribeReplicationSubnetGroups(ctx, &dms.DescribeReplicationSubnetGroupsInput{Filters: idFilter("replication-subnet-group-id", name)}))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if out == nil {
		return nil, nil
	}
	for _, g := range out.ReplicationSubnetGroups {
		if strings.EqualFold(aws.ToString(g.ReplicationSubnetGroupIdentifier), name) {
			return &g, nil
		}
	}
	return nil, nil
}

// dependentTimeout bounds how long a Delete waits for dependents (a
// replication instance still deleting, a task still deleting) to go.
const dependentTimeout = 20 * time.Minute

// deleteWhenFree calls del until it succeeds, is NotFound, or fails with
// something other than a dependency error, retrying on the env clock while
// dependents go.
func deleteWhenFree(ctx context.Context, env migration.Env, what string, del func(context.Context) error) error {
	var last error
	err := env.Poll(ctx, what+" dependents to go", 15*time.Second, dependentTimeout, func(ctx context.Context) (string, bool, error) {
		err := del(ctx)
		switch {
		case err == nil || awsx.IsNotFound(err):
			return "", true, nil
		case awsx.IsDependencyViolation(err):
			last = err
			return "in use", false, nil
		default:
			return "", false, err
		}
	})
	if err != nil && errors.Is(err, awsx.ErrTimeout) && last != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return err
}

// DeleteSubnetGroup deletes the env's replication subnet group once no
// instance uses it (an instance still deleting is waited out). It touches
// only a group carrying the env's ownership tag and is a no-op when the
// group is gone.
func DeleteSubnetGroup(ctx context.Context, env migration.Env, api DMSAPI, spec SubnetGroupSpec) error {
	name := env.Name("dms-subnet-group")
	if err := env.Validate(); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete dms subnet group %q: %w", name, err)
	}
	found, err := findSubnetGroup(ctx, api, name)
	if err != nil {
		return fmt.Errorf("delete dms subnet group %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindSubnetGroup, name)
		return nil
	}
	arn := subnetGroupARN(env, name)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return fmt.Errorf("delete dms subnet group %q: %w", name, err)
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindSubnetGroup, name, arn)
		return nil
	}
	if !env.DryRun {
		if err := deleteWhenFree(ctx, env, "dms subnet group "+name, func(ctx context.Context) error {
			_, err := api.DeleteReplicationSubnetGroup(ctx, &dms.DeleteReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String(name)})
			return err
		}); err != nil {
			return fmt.Errorf("delete dms subnet group %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindSubnetGroup, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}
