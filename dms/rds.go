package dms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// DefaultTargetMajor is the PostgreSQL major version of the RDS target
// when the spec names none: 17, which DefaultEngineVersion supports.
// RDS for PostgreSQL 13 left standard support on 2026-02-28 (AWS-FACTS
// §1), so the target is never 13; 16 and 17 are accepted.
const DefaultTargetMajor = 17

// targetMajors are the PostgreSQL major versions accepted for the target.
var targetMajors = []int{16, 17}

// --- DB subnet group ---

// DBSubnetGroupSpec describes the target's DB subnet group
// "rds-subnet-group-<suffix>" over the private subnets.
type DBSubnetGroupSpec struct {
	// SubnetIDs are the private subnets, in at least two zones.
	SubnetIDs []string
}

// Validate checks the subnets.
func (s DBSubnetGroupSpec) Validate() error {
	return checkSubnets("dbSubnetGroup.subnetIds", s.SubnetIDs)
}

// DBSubnetGroup is an ensured DB subnet group.
type DBSubnetGroup struct {
	Name string // a pending ID in a dry run that would create it
	ARN  string
}

// EnsureDBSubnetGroup makes the target's DB subnet group exist and
// converge (exactly the spec's subnets, the env's tags). It refuses to
// adopt a group without the ownership tag; a pending subnet makes it
// report a create without calling AWS. Idempotent.
func EnsureDBSubnetGroup(ctx context.Context, env migration.Env, api RDSAPI, spec DBSubnetGroupSpec) (DBSubnetGroup, error) {
	name := env.Name("rds-subnet-group")
	if err := migration.Validate(env, spec); err != nil {
		return DBSubnetGroup{}, fmt.Errorf("ensure rds subnet group %q: %w", name, err)
	}
	g, err := ensureDBSubnetGroup(ctx, env, api, spec, name)
	if err != nil {
		return DBSubnetGroup{}, fmt.Errorf("ensure rds subnet group %q: %w", name, err)
	}
	return g, nil
}

func ensureDBSubnetGroup(ctx context.Context, env migration.Env, api RDSAPI, spec DBSubnetGroupSpec, name string) (DBSubnetGroup, error) {
	want := slices.Sorted(slices.Values(spec.SubnetIDs))
	createDiff := []migration.FieldDiff{{Field: "subnets", To: strings.Join(want, ",")}}
	pending := DBSubnetGroup{Name: migration.Pending(name)}
	if migration.AnyPending(want...) {
		env.Report(migration.Change{Kind: KindDBSubnetGroup, Name: name, ID: pending.Name, Action: migration.ActionCreate, Diff: createDiff})
		return pending, nil
	}
	out, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	if err != nil && !awsx.IsNotFound(err) {
		return DBSubnetGroup{}, fmt.Errorf("describe: %w", err)
	}
	if err != nil || len(out.DBSubnetGroups) == 0 {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindDBSubnetGroup, Name: name, ID: pending.Name, Action: migration.ActionCreate, Diff: createDiff})
			return pending, nil
		}
		c, err := api.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
			DBSubnetGroupName: aws.String(name), DBSubnetGroupDescription: aws.String("Private subnets of the RDS target of env " + env.Suffix),
			SubnetIds: want, Tags: rdsTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "DB subnet group "+name, func(ctx context.Context) (bool, error) {
				_, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
				return rdsFound(err)
			}); err != nil {
				return DBSubnetGroup{}, err
			}
			return ensureDBSubnetGroup(ctx, env, api, spec, name)
		}
		if err != nil {
			return DBSubnetGroup{}, fmt.Errorf("create: %w", err)
		}
		arn := aws.ToString(c.DBSubnetGroup.DBSubnetGroupArn)
		env.Report(migration.Change{Kind: KindDBSubnetGroup, Name: name, ID: arn, Action: migration.ActionCreate, Diff: createDiff})
		return DBSubnetGroup{Name: name, ARN: arn}, nil
	}
	g := out.DBSubnetGroups[0]
	arn := aws.ToString(g.DBSubnetGroupArn)
	tags, err := rdsTagsOf(ctx, api, arn)
	if err != nil {
		return DBSubnetGroup{}, err
	}
	if !env.Owns(tags) {
		return DBSubnetGroup{}, notOwned(env, "DB subnet group", name)
	}
	var have []string
	for _, s := range g.Subnets {
		have = append(have, aws.ToString(s.SubnetIdentifier))
	}
	slices.Sort(have)
	var c migration.Converge
	if !slices.Equal(have, want) {
		c.Fix("subnets", strings.Join(have, ","), strings.Join(want, ","), func() error {
			_, err := api.ModifyDBSubnetGroup(ctx, &rds.ModifyDBSubnetGroupInput{DBSubnetGroupName: aws.String(name), SubnetIds: want})
			return err
		})
	}
	c.Tags(tags, env.NameTags(name), tagRDS(ctx, api, arn))
	if err := c.Apply(env, migration.Change{Kind: KindDBSubnetGroup, Name: name, ID: arn}); err != nil {
		return DBSubnetGroup{}, fmt.Errorf("update: %w", err)
	}
	return DBSubnetGroup{Name: name, ARN: arn}, nil
}

func rdsTagsOf(ctx context.Context, api RDSAPI, arn string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", arn, err)
	}
	return fromRDSTags(out.TagList), nil
}

// tagRDS returns the write that adds missing tags to the RDS resource arn.
func tagRDS(ctx context.Context, api RDSAPI, arn string) func(missing map[string]string) error {
	return func(missing map[string]string) error {
		if _, err := api.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: rdsTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	}
}

// DeleteDBSubnetGroup deletes the env's DB subnet group once no instance
// uses it (an instance still deleting is waited out); a no-op when gone,
// and a group without the ownership tag is left in place.
func DeleteDBSubnetGroup(ctx context.Context, env migration.Env, api RDSAPI, spec DBSubnetGroupSpec) error {
	name := env.Name("rds-subnet-group")
	if err := env.Validate(); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete rds subnet group %q: %w", name, err)
	}
	out, err := api.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	if awsx.IsNotFound(err) || err == nil && len(out.DBSubnetGroups) == 0 {
		env.ReportGone(KindDBSubnetGroup, name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete rds subnet group %q: describe: %w", name, err)
	}
	arn := aws.ToString(out.DBSubnetGroups[0].DBSubnetGroupArn)
	tags, err := rdsTagsOf(ctx, api, arn)
	if err != nil {
		return fmt.Errorf("delete rds subnet group %q: %w", name, err)
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindDBSubnetGroup, name, arn)
		return nil
	}
	if !env.DryRun {
		if err := deleteWhenFree(ctx, env, "rds subnet group "+name, func(ctx context.Context) error {
			_, err := api.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String(name)})
			return err
		}); err != nil {
			return fmt.Errorf("delete rds subnet group %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindDBSubnetGroup, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}

// --- parameter group ---

// ParameterGroupSpec describes the target's parameter group
// "rds-params-<suffix>". It always sets rds.force_ssl=1 (TLS only) and
// rds.logical_replication=1 (the reverse task reads the target's WAL);
// Extra adds parameters.
type ParameterGroupSpec struct {
	// Major is the PostgreSQL major version (16 or 17); the family
	// "postgres<Major>" cannot change.
	Major int
	// Extra are more parameters, name to value (for example
	// max_slot_wal_keep_size). They cannot override the two above.
	Extra map[string]string
}

var paramNameRe = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,127}$`)

// dynamicParams apply without a reboot; every other parameter is set with
// ApplyMethod pending-reboot (valid for any parameter).
var dynamicParams = map[string]bool{
	"rds.force_ssl": true, "wal_sender_timeout": true, "max_slot_wal_keep_size": true, "log_min_duration_statement": true,
	"log_connections": true, "log_disconnections": true, "idle_in_transaction_session_timeout": true, "ssl_min_protocol_version": true,
}

// Validate checks the version and the parameter names.
func (s ParameterGroupSpec) Validate() error {
	var errs []error
	if !slices.Contains(targetMajors, s.Major) {
		errs = append(errs, fmt.Errorf("parameterGroup.major: PostgreSQL %d; the target must be one of %v", s.Major, targetMajors))
	}
	for k, v := range s.Extra {
		switch {
		case !paramNameRe.MatchString(k):
			errs = append(errs, fmt.Errorf("parameterGroup.extra: %q is not a parameter name", k))
		case k == "rds.force_ssl" || k == "rds.logical_replication":
			errs = append(errs, fmt.Errorf("parameterGroup.extra: %s is set by the library to 1 and cannot be overridden", k))
		case v == "":
			errs = append(errs, fmt.Errorf("parameterGroup.extra[%s]: empty value", k))
		}
	}
	return errors.Join(errs...)
}

func (s ParameterGroupSpec) params() map[string]string {
	p := map[string]string{"rds.force_ssl": "1", "rds.logical_replication": "1"}
	maps.Copy(p, s.Extra)
	return p
}

// ParameterGroup is an ensured parameter group.
type ParameterGroup struct {
	Name string // a pending ID in a dry run that would create it
	ARN  string
}

// EnsureParameterGroup makes the target's parameter group exist and hold
// the spec's parameters (it leaves parameters it does not manage alone).
// Static parameters are set pending-reboot: an instance already using the
// group shows "pending-reboot" until an operator reboots it in a window —
// the library never reboots a database by itself. The family is
// immutable. Idempotent; a converged group costs reads only.
func EnsureParameterGroup(ctx context.Context, env migration.Env, api RDSAPI, spec ParameterGroupSpec) (ParameterGroup, error) {
	name := env.Name("rds-params")
	if err := migration.Validate(env, spec); err != nil {
		return ParameterGroup{}, fmt.Errorf("ensure rds parameter group %q: %w", name, err)
	}
	g, err := ensureParameterGroup(ctx, env, api, spec, name)
	if err != nil {
		return ParameterGroup{}, fmt.Errorf("ensure rds parameter group %q: %w", name, err)
	}
	return g, nil
}

func ensureParameterGroup(ctx context.Context, env migration.Env, api RDSAPI, spec ParameterGroupSpec, name string) (ParameterGroup, error) {
	family := "postgres" + strconv.Itoa(spec.Major)
	want := spec.params()
	out, err := api.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	if err != nil && !awsx.IsNotFound(err) {
		return ParameterGroup{}, fmt.Errorf("describe: %w", err)
	}
	var diff []migration.FieldDiff
	for _, k := range slices.Sorted(maps.Keys(want)) {
		diff = append(diff, migration.FieldDiff{Field: k, To: want[k]})
	}
	if err != nil || len(out.DBParameterGroups) == 0 {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindDBParameterGroup, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Diff: diff})
			return ParameterGroup{Name: migration.Pending(name)}, nil
		}
		c, err := api.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{
			DBParameterGroupName: aws.String(name), DBParameterGroupFamily: aws.String(family),
			Description: aws.String("RDS target of env " + env.Suffix + ": TLS only, logical replication for the reverse task"), Tags: rdsTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "parameter group "+name, func(ctx context.Context) (bool, error) {
				_, err := api.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
				return rdsFound(err)
			}); err != nil {
				return ParameterGroup{}, err
			}
			return ensureParameterGroup(ctx, env, api, spec, name)
		}
		if err != nil {
			return ParameterGroup{}, fmt.Errorf("create: %w", err)
		}
		if err := setParams(ctx, env, api, name, want, true); err != nil {
			return ParameterGroup{}, err
		}
		arn := aws.ToString(c.DBParameterGroup.DBParameterGroupArn)
		env.Report(migration.Change{Kind: KindDBParameterGroup, Name: name, ID: arn, Action: migration.ActionCreate, Diff: diff})
		return ParameterGroup{Name: name, ARN: arn}, nil
	}
	g := out.DBParameterGroups[0]
	arn := aws.ToString(g.DBParameterGroupArn)
	tags, err := rdsTagsOf(ctx, api, arn)
	if err != nil {
		return ParameterGroup{}, err
	}
	if !env.Owns(tags) {
		return ParameterGroup{}, notOwned(env, "DB parameter group", name)
	}
	if f := aws.ToString(g.DBParameterGroupFamily); f != family {
		return ParameterGroup{}, fmt.Errorf("family is immutable: %s is %s, the spec wants %s (a major version change is a migration of its own)", name, f, family)
	}
	have := map[string]string{}
	p := rds.NewDescribeDBParametersPaginator(api, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(name), Source: aws.String("user")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ParameterGroup{}, fmt.Errorf("describe parameters: %w", err)
		}
		for _, prm := range page.Parameters {
			have[aws.ToString(prm.ParameterName)] = aws.ToString(prm.ParameterValue)
		}
	}
	diff = nil
	fix := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[k]; !ok || h != want[k] {
			from := h
			if !ok {
				from = "(default)"
			}
			diff = append(diff, migration.FieldDiff{Field: k, From: from, To: want[k]})
			fix[k] = want[k]
		}
	}
	var c migration.Converge
	c.FixAll(diff, func() error { return setParams(ctx, env, api, name, fix, false) })
	c.Tags(tags, env.NameTags(name), tagRDS(ctx, api, arn))
	note := ""
	for k := range fix {
		if !dynamicParams[k] {
			note = "static parameters apply after the next reboot of the instances using the group"
		}
	}
	if err := c.Apply(env, migration.Change{Kind: KindDBParameterGroup, Name: name, ID: arn, Note: note}); err != nil {
		return ParameterGroup{}, err
	}
	return ParameterGroup{Name: name, ARN: arn}, nil
}

// setParams writes parameters, 20 per call (the RDS limit). A group just
// created may not be visible yet: its NotFound is retried.
func setParams(ctx context.Context, env migration.Env, api RDSAPI, name string, params map[string]string, fresh bool) error {
	keys := slices.Sorted(maps.Keys(params))
	for len(keys) > 0 {
		n := min(len(keys), 20)
		var batch []rdstypes.Parameter
		for _, k := range keys[:n] {
			method := rdstypes.ApplyMethodPendingReboot
			if dynamicParams[k] {
				method = rdstypes.ApplyMethodImmediate
			}
			batch = append(batch, rdstypes.Parameter{ParameterName: aws.String(k), ParameterValue: aws.String(params[k]), ApplyMethod: method})
		}
		keys = keys[n:]
		codes := []string{}
		if fresh {
			codes = []string{"DBParameterGroupNotFound"}
		}
		if err := env.Retry(ctx, codes, func(ctx context.Context) error {
			_, err := api.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(name), Parameters: batch})
			return err
		}); err != nil {
			return fmt.Errorf("set parameters: %w", err)
		}
	}
	return nil
}

// DeleteParameterGroup deletes the env's parameter group once no instance
// uses it; a no-op when gone, and a group without the ownership tag is
// left in place.
func DeleteParameterGroup(ctx context.Context, env migration.Env, api RDSAPI, spec ParameterGroupSpec) error {
	name := env.Name("rds-params")
	if err := env.Validate(); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete rds parameter group %q: %w", name, err)
	}
	out, err := api.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	if awsx.IsNotFound(err) || err == nil && len(out.DBParameterGroups) == 0 {
		env.ReportGone(KindDBParameterGroup, name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete rds parameter group %q: describe: %w", name, err)
	}
	arn := aws.ToString(out.DBParameterGroups[0].DBParameterGroupArn)
	tags, err := rdsTagsOf(ctx, api, arn)
	if err != nil {
		return fmt.Errorf("delete rds parameter group %q: %w", name, err)
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindDBParameterGroup, name, arn)
		return nil
	}
	if !env.DryRun {
		if err := deleteWhenFree(ctx, env, "rds parameter group "+name, func(ctx context.Context) error {
			_, err := api.DeleteDBParameterGroup(ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String(name)})
			return err
		}); err != nil {
			return fmt.Errorf("delete rds parameter group %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindDBParameterGroup, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}

// --- DB instance ---

// DefaultDBClass is the target's default instance class for a source of
// sizeGB: memory-optimised Graviton, db.r6g.large up to 100 GB,
// db.r6g.xlarge up to 1 TB (the 500 GB reference: 32 GiB keeps the hot
// set of an OLTP monolith in shared buffers and page cache), db.r6g.2xlarge
// beyond. Size it from the source's CPU and memory use, not its disk.
func DefaultDBClass(sizeGB int) string {
	switch {
	case sizeGB <= 100:
		return "db.r6g.large"
	case sizeGB <= 1000:
		return "db.r6g.xlarge"
	default:
		return "db.r6g.2xlarge"
	}
}

// DefaultDBStorageGB returns the target's gp3 storage for a source of
// sizeGB: 150 % of the source rounded up to 10 GB, at least 100 GB (750 GB
// for the 500 GB reference). The headroom covers what the copy adds on
// top of the data — indexes rebuilt by the schema load, WAL that the
// reverse task's replication slot retains while it runs, temporary files
// of index builds and validation, and growth during the migration window.
// gp3 at 400 GB or more stripes over four volumes (12,000 IOPS and
// 500 MiB/s baseline for PostgreSQL). MaxAllocatedStorage (autoscaling)
// is set to twice this.
func DefaultDBStorageGB(sizeGB int) int {
	return max(100, (sizeGB*3/2+9)/10*10)
}

// TargetDBSpec describes the RDS for PostgreSQL target "rds-target-<suffix>":
// Multi-AZ, encrypted with the env key, gp3, not publicly accessible, the
// master password managed by RDS in Secrets Manager (encrypted with the
// env key), CloudWatch log exports on, tags copied to snapshots, deletion
// protection off so the env stays destroyable — and a final snapshot on
// delete unless SkipFinalSnapshot.
type TargetDBSpec struct {
	// EngineVersion is "16", "17" or a full "16.x"/"17.x"; a major alone
	// lets RDS pick its default minor. Minor upgrades converge; the major
	// version is immutable here.
	EngineVersion string
	// SourceSizeGB sizes the defaults of Class and AllocatedStorageGB.
	SourceSizeGB int
	// Class overrides DefaultDBClass(SourceSizeGB).
	Class string
	// AllocatedStorageGB overrides DefaultDBStorageGB(SourceSizeGB); it can
	// only grow.
	AllocatedStorageGB int
	// SubnetGroup is the DB subnet group name (DBSubnetGroup.Name).
	SubnetGroup string
	// ParameterGroup is the parameter group name (ParameterGroup.Name).
	ParameterGroup string
	// SecurityGroupIDs allow PostgreSQL from the replication instance and
	// the application tier.
	SecurityGroupIDs []string
	// KMSKeyARN is the env key. Immutable (RDS cannot re-encrypt in place).
	KMSKeyARN string
	// DatabaseName is the database created on the instance. Immutable.
	DatabaseName string
	// MasterUsername is the master user; "migration_admin" when empty.
	// Immutable.
	MasterUsername string
	// BackupRetentionDays is 1..35; 0 means 7.
	BackupRetentionDays int
	// ApplyImmediately applies class, storage and Multi-AZ changes now
	// instead of in the maintenance window.
	ApplyImmediately bool
	// SkipFinalSnapshot makes DeleteTargetDB delete without a final
	// snapshot. Only set it when the data is expendable: without it,
	// destroy keeps "rds-target-final-<suffix>-<time>".
	SkipFinalSnapshot bool
}

var (
	pgVersionRe = regexp.MustCompile(`^(1[0-9])(?:\.([0-9]+))?$`)
	dbClassRe   = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	pgUserRe    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)
)

// Major returns the PostgreSQL major version of EngineVersion, or 0.
func (s TargetDBSpec) Major() int {
	m := pgVersionRe.FindStringSubmatch(s.EngineVersion)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Validate checks the spec before any call.
func (s TargetDBSpec) Validate() error {
	var errs []error
	if !slices.Contains(targetMajors, s.Major()) {
		errs = append(errs, fmt.Errorf("targetDb.engineVersion: %q; the target must be PostgreSQL 16 or 17 (13 left RDS standard support on 2026-02-28)", s.EngineVersion))
	}
	if s.SourceSizeGB < 0 || s.SourceSizeGB > 65536 {
		errs = append(errs, fmt.Errorf("targetDb.sourceSizeGb: %d outside 0..65536", s.SourceSizeGB))
	}
	if s.SourceSizeGB == 0 && (s.Class == "" || s.AllocatedStorageGB == 0) {
		errs = append(errs, errors.New("targetDb.sourceSizeGb: required to size the class and storage defaults"))
	}
	if s.Class != "" && !dbClassRe.MatchString(s.Class) {
		errs = append(errs, fmt.Errorf("targetDb.class: %q is not a DB instance class such as db.r6g.xlarge", s.Class))
	}
	if s.AllocatedStorageGB != 0 && (s.AllocatedStorageGB < 20 || s.AllocatedStorageGB > 65536) {
		errs = append(errs, fmt.Errorf("targetDb.allocatedStorageGb: %d outside the 20..65536 GB gp3 allows", s.AllocatedStorageGB))
	}
	if s.AllocatedStorageGB != 0 && s.SourceSizeGB != 0 && s.AllocatedStorageGB < s.SourceSizeGB {
		errs = append(errs, fmt.Errorf("targetDb.allocatedStorageGb: %d GB is smaller than the %d GB source", s.AllocatedStorageGB, s.SourceSizeGB))
	}
	for field, v := range map[string]string{"subnetGroup": s.SubnetGroup, "parameterGroup": s.ParameterGroup} {
		if v == "" {
			errs = append(errs, fmt.Errorf("targetDb.%s: required", field))
		} else if !migration.IsPending(v) {
			if err := migration.RuleRDSGroup.Check(v); err != nil {
				errs = append(errs, fmt.Errorf("targetDb.%s: %w", field, err))
			}
		}
	}
	if len(s.SecurityGroupIDs) == 0 {
		errs = append(errs, errors.New("targetDb.securityGroupIds: at least one security group required"))
	}
	for _, sg := range s.SecurityGroupIDs {
		if !strings.HasPrefix(sg, "sg-") && !migration.IsPending(sg) {
			errs = append(errs, fmt.Errorf("targetDb.securityGroupIds: %q is not a security group ID", sg))
		}
	}
	if err := checkKeyARN(s.KMSKeyARN); err != nil {
		errs = append(errs, fmt.Errorf("targetDb.kmsKeyArn: %w", err))
	}
	if err := checkIdentifier(s.DatabaseName); err != nil {
		errs = append(errs, fmt.Errorf("targetDb.databaseName: %w", err))
	}
	if u := s.masterUsername(); !pgUserRe.MatchString(u) || slices.Contains([]string{"postgres", "rdsadmin", "admin", "root"}, strings.ToLower(u)) {
		errs = append(errs, fmt.Errorf("targetDb.masterUsername: %q must be a letter then letters, digits or _, at most 63, and not a reserved name", u))
	}
	if s.BackupRetentionDays < 0 || s.BackupRetentionDays > 35 {
		errs = append(errs, fmt.Errorf("targetDb.backupRetentionDays: %d outside 1..35", s.BackupRetentionDays))
	}
	return errors.Join(errs...)
}

func (s TargetDBSpec) class() string {
	if s.Class != "" {
		return s.Class
	}
	return DefaultDBClass(s.SourceSizeGB)
}

func (s TargetDBSpec) storage() int {
	if s.AllocatedStorageGB != 0 {
		return s.AllocatedStorageGB
	}
	return DefaultDBStorageGB(s.SourceSizeGB)
}

func (s TargetDBSpec) masterUsername() string {
	if s.MasterUsername == "" {
		return "migration_admin"
	}
	return s.MasterUsername
}

// logExports are the CloudWatch Logs exports of the target.
var logExports = []string{"postgresql", "upgrade"}

// TargetDB is an ensured target database.
type TargetDB struct {
	// ID is the instance identifier ("rds-target-<suffix>"), or a pending
	// ID in a dry run that would create it.
	ID      string
	ARN     string
	Address string
	Port    int32
	// MasterSecretARN is the RDS-managed secret of the master user
	// (username and password only; EnsureTargetSecret adds host and port).
	MasterSecretARN string
}

// Timeouts of the DB instance waits.
const (
	dbAvailableTimeout = 90 * time.Minute
	dbDeletedTimeout   = 60 * time.Minute
)

// EnsureTargetDB makes the target DB instance exist and converge.
//
// A missing instance is created (ManageMasterUserPassword: the password
// is generated and kept by RDS, never seen by the library) and waited for
// until available. On an existing instance it converges class, storage
// (grow only), Multi-AZ, minor version, parameter group, security groups,
// log exports, backup retention, tag copying to snapshots, public access
// (off) and deletion protection (off) — class, storage, Multi-AZ and
// version immediately only with ApplyImmediately. It refuses to change the
// KMS key, the database name, the master user or the major version, and
// to adopt an instance without the ownership tag. A parameter group
// waiting for a reboot is reported in the Change's note, never rebooted.
// A pending parent makes it report a create without calling AWS.
func EnsureTargetDB(ctx context.Context, env migration.Env, api RDSAPI, spec TargetDBSpec) (TargetDB, error) {
	name := env.Name("rds-target")
	if err := migration.Validate(env, spec); err != nil {
		return TargetDB{}, fmt.Errorf("ensure rds instance %q: %w", name, err)
	}
	db, err := ensureTargetDB(ctx, env, api, spec, name)
	if err != nil {
		return TargetDB{}, fmt.Errorf("ensure rds instance %q: %w", name, err)
	}
	return db, nil
}

func ensureTargetDB(ctx context.Context, env migration.Env, api RDSAPI, spec TargetDBSpec, name string) (TargetDB, error) {
	class, storage := spec.class(), spec.storage()
	createDiff := []migration.FieldDiff{{Field: "engine", To: "postgres " + spec.EngineVersion}, {Field: "class", To: class}, {Field: "storage", To: fmt.Sprintf("%d GB gp3", storage)}, {Field: "multiAz", To: "true"}}
	pending := TargetDB{ID: migration.Pending(name)}
	if migration.AnyPending(append([]string{spec.SubnetGroup, spec.ParameterGroup, spec.KMSKeyARN}, spec.SecurityGroupIDs...)...) {
		env.Report(migration.Change{Kind: KindDBInstance, Name: name, ID: pending.ID, Action: migration.ActionCreate, Diff: createDiff})
		return pending, nil
	}
	found, err := findDB(ctx, api, name)
	if err != nil {
		return TargetDB{}, err
	}
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindDBInstance, Name: name, ID: pending.ID, Action: migration.ActionCreate, Diff: createDiff})
			return pending, nil
		}
		_, err := api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(name), DBInstanceClass: aws.String(class), Engine: aws.String("postgres"),
			EngineVersion: aws.String(spec.EngineVersion), AllocatedStorage: aws.Int32(int32(storage)), MaxAllocatedStorage: aws.Int32(int32(min(2*storage, 65536))),
			StorageType: aws.String("gp3"), StorageEncrypted: aws.Bool(true), KmsKeyId: aws.String(spec.KMSKeyARN),
			MultiAZ: aws.Bool(true), PubliclyAccessible: aws.Bool(false), DBSubnetGroupName: aws.String(spec.SubnetGroup),
			VpcSecurityGroupIds: slices.Sorted(slices.Values(spec.SecurityGroupIDs)), DBParameterGroupName: aws.String(spec.ParameterGroup),
			DBName: aws.String(spec.DatabaseName), MasterUsername: aws.String(spec.masterUsername()),
			ManageMasterUserPassword: aws.Bool(true), MasterUserSecretKmsKeyId: aws.String(spec.KMSKeyARN),
			EnableCloudwatchLogsExports: logExports, DeletionProtection: aws.Bool(false), CopyTagsToSnapshot: aws.Bool(true),
			BackupRetentionPeriod: aws.Int32(int32(cmp.Or(spec.BackupRetentionDays, 7))), AutoMinorVersionUpgrade: aws.Bool(false),
			Tags: rdsTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "DB instance "+name, func(ctx context.Context) (bool, error) { db, err := findDB(ctx, api, name); return db != nil, err }); err != nil {
				return TargetDB{}, err
			}
			return ensureTargetDB(ctx, env, api, spec, name)
		}
		if err != nil {
			return TargetDB{}, fmt.Errorf("create: %w", err)
		}
		inst, err := waitDB(ctx, env, api, name)
		if err != nil {
			return TargetDB{}, err
		}
		db := targetOf(inst)
		env.Report(migration.Change{Kind: KindDBInstance, Name: name, ID: db.ARN, Action: migration.ActionCreate, Diff: createDiff})
		return db, nil
	}

	arn := aws.ToString(found.DBInstanceArn)
	tags := fromRDSTags(found.TagList)
	if !env.Owns(tags) {
		return TargetDB{}, notOwned(env, "DB instance", name)
	}
	status := aws.ToString(found.DBInstanceStatus)
	if transientDB[status] && !env.DryRun {
		// Still creating (a previous run stopped after its create) or
		// busy: the endpoint secret needs its address, and RDS modifies
		// only an available instance.
		inst, err := waitDB(ctx, env, api, name)
		if err != nil {
			return TargetDB{}, err
		}
		found, status = &inst, aws.ToString(inst.DBInstanceStatus)
	}
	switch {
	case status == "deleting":
		return TargetDB{}, fmt.Errorf("%s is being deleted; wait for it to go and apply again", arn)
	case !aws.ToBool(found.StorageEncrypted) || !sameKey(aws.ToString(found.KmsKeyId), spec.KMSKeyARN):
		return TargetDB{}, fmt.Errorf("kms key is immutable: %s is encrypted with %q, the spec wants %s; restore a snapshot copy re-encrypted with the key instead", arn, aws.ToString(found.KmsKeyId), spec.KMSKeyARN)
	case aws.ToString(found.DBName) != spec.DatabaseName:
		return TargetDB{}, fmt.Errorf("database name is immutable: %s has %q, the spec wants %q", arn, aws.ToString(found.DBName), spec.DatabaseName)
	case aws.ToString(found.MasterUsername) != spec.masterUsername():
		return TargetDB{}, fmt.Errorf("master username is immutable: %s has %q, the spec wants %q", arn, aws.ToString(found.MasterUsername), spec.masterUsername())
	case found.MasterUserSecret == nil:
		return TargetDB{}, fmt.Errorf("%s does not keep its master password in Secrets Manager (ManageMasterUserPassword); the library will not manage a password itself", arn)
	}
	haveVersion := aws.ToString(found.EngineVersion)
	pend := found.PendingModifiedValues
	if pend == nil {
		pend = &rdstypes.PendingModifiedValues{}
	}
	if pend.EngineVersion != nil {
		haveVersion = *pend.EngineVersion
	}
	if major, _, _ := strings.Cut(haveVersion, "."); major != strconv.Itoa(spec.Major()) {
		return TargetDB{}, fmt.Errorf("major version is immutable here: %s runs PostgreSQL %s, the spec wants %s (a major upgrade is a migration of its own)", arn, haveVersion, spec.EngineVersion)
	}
	mod := &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(name), ApplyImmediately: aws.Bool(spec.ApplyImmediately)}
	var diff []migration.FieldDiff
	deferred := false
	if strings.Contains(spec.EngineVersion, ".") && haveVersion != spec.EngineVersion {
		if compareVersions(spec.EngineVersion, haveVersion) < 0 {
			return TargetDB{}, fmt.Errorf("engine version can only move up: %s runs %s, the spec pins %s", arn, haveVersion, spec.EngineVersion)
		}
		diff = append(diff, migration.FieldDiff{Field: "engineVersion", From: haveVersion, To: spec.EngineVersion})
		mod.EngineVersion, deferred = aws.String(spec.EngineVersion), true
	}
	effClass := aws.ToString(found.DBInstanceClass)
	if pend.DBInstanceClass != nil {
		effClass = *pend.DBInstanceClass
	}
	if effClass != class {
		diff = append(diff, migration.FieldDiff{Field: "class", From: effClass, To: class})
		mod.DBInstanceClass, deferred = aws.String(class), true
	}
	effStorage := int(aws.ToInt32(found.AllocatedStorage))
	if pend.AllocatedStorage != nil {
		effStorage = int(*pend.AllocatedStorage)
	}
	switch {
	case storage < effStorage && spec.AllocatedStorageGB != 0:
		return TargetDB{}, fmt.Errorf("storage can only grow: %s has %d GB, the spec wants %d GB", arn, effStorage, storage)
	case storage > effStorage:
		diff = append(diff, migration.FieldDiff{Field: "storage", From: fmt.Sprintf("%d GB", effStorage), To: fmt.Sprintf("%d GB", storage)})
		mod.AllocatedStorage, deferred = aws.Int32(int32(storage)), true
	}
	effMultiAZ := aws.ToBool(found.MultiAZ)
	if pend.MultiAZ != nil {
		effMultiAZ = *pend.MultiAZ
	}
	if !effMultiAZ {
		diff = append(diff, migration.FieldDiff{Field: "multiAz", From: "false", To: "true"})
		mod.MultiAZ, deferred = aws.Bool(true), true
	}
	paramNote := ""
	if len(found.DBParameterGroups) > 0 {
		pg := found.DBParameterGroups[0]
		if aws.ToString(pg.DBParameterGroupName) != spec.ParameterGroup {
			diff = append(diff, migration.FieldDiff{Field: "parameterGroup", From: aws.ToString(pg.DBParameterGroupName), To: spec.ParameterGroup})
			mod.DBParameterGroupName = aws.String(spec.ParameterGroup)
			paramNote = "the new parameter group applies after a reboot"
		} else if aws.ToString(pg.ParameterApplyStatus) == "pending-reboot" {
			paramNote = "parameter group changes wait for a reboot (rds.logical_replication needs one before the reverse task can start)"
		}
	}
	var haveSGs []string
	for _, m := range found.VpcSecurityGroups {
		haveSGs = append(haveSGs, aws.ToString(m.VpcSecurityGroupId))
	}
	slices.Sort(haveSGs)
	wantSGs := slices.Sorted(slices.Values(spec.SecurityGroupIDs))
	if !slices.Equal(haveSGs, wantSGs) {
		diff = append(diff, migration.FieldDiff{Field: "securityGroups", From: strings.Join(haveSGs, ","), To: strings.Join(wantSGs, ",")})
		mod.VpcSecurityGroupIds = wantSGs
	}
	var enable []string
	for _, e := range logExports {
		if !slices.Contains(found.EnabledCloudwatchLogsExports, e) {
			enable = append(enable, e)
		}
	}
	if len(enable) > 0 {
		diff = append(diff, migration.FieldDiff{Field: "logExports", From: strings.Join(found.EnabledCloudwatchLogsExports, ","), To: strings.Join(logExports, ",")})
		mod.CloudwatchLogsExportConfiguration = &rdstypes.CloudwatchLogsExportConfiguration{EnableLogTypes: enable}
	}
	if aws.ToBool(found.DeletionProtection) {
		diff = append(diff, migration.FieldDiff{Field: "deletionProtection", From: "true", To: "false"})
		mod.DeletionProtection = aws.Bool(false)
	}
	if aws.ToBool(found.PubliclyAccessible) {
		diff = append(diff, migration.FieldDiff{Field: "publiclyAccessible", From: "true", To: "false"})
		mod.PubliclyAccessible = aws.Bool(false)
	}
	if !aws.ToBool(found.CopyTagsToSnapshot) {
		diff = append(diff, migration.FieldDiff{Field: "copyTagsToSnapshot", From: "false", To: "true"})
		mod.CopyTagsToSnapshot = aws.Bool(true)
	}
	if days := int32(cmp.Or(spec.BackupRetentionDays, 7)); aws.ToInt32(found.BackupRetentionPeriod) != days {
		diff = append(diff, migration.FieldDiff{Field: "backupRetention", From: fmt.Sprint(aws.ToInt32(found.BackupRetentionPeriod)), To: fmt.Sprint(days)})
		mod.BackupRetentionPeriod = aws.Int32(days)
	}
	db := targetOf(*found)
	var c migration.Converge
	c.FixAll(diff, func() error {
		if _, err := api.ModifyDBInstance(ctx, mod); err != nil {
			return fmt.Errorf("modify: %w", err)
		}
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagRDS(ctx, api, arn))
	if len(diff) > 0 {
		c.Then(func() error {
			inst, err := waitDB(ctx, env, api, name)
			if err != nil {
				return err
			}
			db = targetOf(inst)
			return nil
		})
	}
	var notes []string
	if deferred && !spec.ApplyImmediately {
		notes = append(notes, "class, storage, Multi-AZ and version changes apply in the maintenance window")
	}
	if paramNote != "" {
		notes = append(notes, paramNote)
	}
	if err := c.Apply(env, migration.Change{Kind: KindDBInstance, Name: name, ID: arn, Note: strings.Join(notes, "; ")}); err != nil {
		return TargetDB{}, err
	}
	return db, nil
}

// transientDB are the DB instance states that end by themselves; an
// Ensure waits them out (storage-full, failed and the like it does not).
var transientDB = map[string]bool{
	"creating": true, "modifying": true, "backing-up": true, "rebooting": true, "upgrading": true, "maintenance": true,
	"configuring-enhanced-monitoring": true, "configuring-log-exports": true, "renaming": true, "resetting-master-credentials": true, "starting": true,
}

func targetOf(inst rdstypes.DBInstance) TargetDB {
	db := TargetDB{ID: aws.ToString(inst.DBInstanceIdentifier), ARN: aws.ToString(inst.DBInstanceArn)}
	if inst.Endpoint != nil {
		db.Address, db.Port = aws.ToString(inst.Endpoint.Address), aws.ToInt32(inst.Endpoint.Port)
	}
	if inst.MasterUserSecret != nil {
		db.MasterSecretARN = aws.ToString(inst.MasterUserSecret.SecretArn)
	}
	return db
}

func findDB(ctx context.Context, api RDSAPI, name string) (*rdstypes.DBInstance, error) {
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(name)})
	if awsx.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if len(out.DBInstances) == 0 {
		return nil, nil
	}
	return &out.DBInstances[0], nil
}

func waitDB(ctx context.Context, env migration.Env, api RDSAPI, name string) (rdstypes.DBInstance, error) {
	var accept awsx.Acceptor[rds.DescribeDBInstancesInput, rds.DescribeDBInstancesOutput]
	rds.NewDBInstanceAvailableWaiter(api, func(o *rds.DBInstanceAvailableWaiterOptions) { accept = o.Retryable })
	out, err := migration.Wait(ctx, env, "rds instance "+name+" to be available", api.DescribeDBInstances,
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(name)}, accept, dbAvailableTimeout, "DBInstanceNotFound", "DBInstanceNotFoundFault")
	if err != nil {
		return rdstypes.DBInstance{}, err
	}
	if len(out.DBInstances) != 1 {
		return rdstypes.DBInstance{}, fmt.Errorf("describe %s: %d instances", name, len(out.DBInstances))
	}
	return out.DBInstances[0], nil
}

// FinalSnapshotID returns the identifier of the final snapshot a delete
// at t takes: "rds-target-final-<suffix>-<UTC yyyymmddhhmmss>".
func FinalSnapshotID(env migration.Env, t time.Time) string {
	return env.Name("rds-target-final") + "-" + t.UTC().Format("20060102150405")
}

// DeleteTargetDB deletes the target DB instance and waits until it is
// gone. Unless the spec says SkipFinalSnapshot, RDS first takes a final
// snapshot, FinalSnapshotID(env, now), which destroy keeps (it is named
// in the Change's note): destroying never silently loses migrated data.
// Deletion protection turned on by hand is not turned off: the delete
// fails with RDS's error. It touches only an instance carrying the env's
// ownership tag and is a no-op when the instance is gone.
func DeleteTargetDB(ctx context.Context, env migration.Env, api RDSAPI, spec TargetDBSpec) error {
	name := env.Name("rds-target")
	if err := env.Validate(); err != nil { // the name and SkipFinalSnapshot are all a delete needs
		return fmt.Errorf("delete rds instance %q: %w", name, err)
	}
	if err := deleteTargetDB(ctx, env, api, spec, name); err != nil {
		return fmt.Errorf("delete rds instance %q: %w", name, err)
	}
	return nil
}

func deleteTargetDB(ctx context.Context, env migration.Env, api RDSAPI, spec TargetDBSpec, name string) error {
	found, err := findDB(ctx, api, name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindDBInstance, name)
		return nil
	}
	arn := aws.ToString(found.DBInstanceArn)
	if !env.Owns(fromRDSTags(found.TagList)) {
		env.ReportNotOwned(KindDBInstance, name, arn)
		return nil
	}
	note := "no final snapshot (SkipFinalSnapshot)"
	if aws.ToString(found.DBInstanceStatus) != "deleting" {
		in := &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(name), DeleteAutomatedBackups: aws.Bool(false)}
		if spec.SkipFinalSnapshot {
			in.SkipFinalSnapshot = aws.Bool(true)
		} else {
			id := FinalSnapshotID(env, env.Now())
			in.FinalDBSnapshotIdentifier, in.SkipFinalSnapshot = aws.String(id), aws.Bool(false)
			note = "final snapshot " + id + " kept"
		}
		if env.DryRun {
			env.Report(migration.Change{Kind: KindDBInstance, Name: name, ID: arn, Action: migration.ActionDelete, Note: note})
			return nil
		}
		if st := aws.ToString(found.DBInstanceStatus); st != "available" && st != "stopped" && st != "storage-full" && st != "failed" && st != "incompatible-parameters" {
			// RDS takes a final snapshot only of a settled instance.
			if _, err := waitDB(ctx, env, api, name); err != nil {
				return err
			}
		}
		if _, err := api.DeleteDBInstance(ctx, in); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete: %w", err)
		}
	} else {
		note = "deletion already in progress"
	}
	var accept awsx.Acceptor[rds.DescribeDBInstancesInput, rds.DescribeDBInstancesOutput]
	rds.NewDBInstanceDeletedWaiter(api, func(o *rds.DBInstanceDeletedWaiterOptions) { accept = o.Retryable })
	if _, err := migration.Wait(ctx, env, "rds instance "+name+" to be deleted", api.DescribeDBInstances,
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(name)}, accept, dbDeletedTimeout); err != nil {
		return err
	}
	env.Report(migration.Change{Kind: KindDBInstance, Name: name, ID: arn, Action: migration.ActionDelete, Note: note})
	return nil
}

// rdsFound turns a describe-by-name error into "found".
func rdsFound(err error) (bool, error) {
	if awsx.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
