package dms

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// DefaultEngineVersion is the DMS replication engine version the library
// pins by default. 3.6.1 is the first that supports PostgreSQL 17 as a
// source and a target, so the reverse task (RDS 17 → on-premises 13) works
// as well as the forward one; PostgreSQL 13 as a source needs 3.4.3 or
// later (AWS-FACTS §1).
const DefaultEngineVersion = "3.6.1"

// Minimum engine versions per PostgreSQL major version, as a source or a
// target endpoint (AWS-FACTS §1).
var minEngineForPostgres = map[int]string{13: "3.4.3", 14: "3.4.7", 15: "3.5.1", 16: "3.5.3", 17: "3.6.1"}

// DefaultInstanceClass returns the replication instance class for a
// source of sizeGB gigabytes.
//
// There is no official size-to-class table; the choice follows the DMS
// best practices (AWS-FACTS §1): memory, not CPU, limits a PostgreSQL
// full load + CDC task — DMS holds the changes of tables still loading and
// every open transaction in memory before it spills to disk, and TEXT,
// JSON and JSONB columns are LOBs that it buffers — so the R (memory
// optimised) family is the default; C suits CPU-heavy transformations
// this migration does not do; T is for tests only (burst credits run out
// during a full load). Within R:
//
//   - up to 100 GB: dms.r6i.large (2 vCPU, 16 GiB);
//   - up to 1 TB: dms.r6i.xlarge (4 vCPU, 32 GiB) — the 500 GB reference
//     source: 8 parallel table loads (MaxFullLoadSubTasks) plus CDC with
//     LOBs fit with headroom;
//   - beyond: dms.r6i.2xlarge (8 vCPU, 64 GiB).
//
// Override InstanceSpec.Class after watching CPUUtilization,
// FreeableMemory and SwapUsage of a test load.
func DefaultInstanceClass(sizeGB int) string {
	switch {
	case sizeGB <= 100:
		return "dms.r6i.large"
	case sizeGB <= 1000:
		return "dms.r6i.xlarge"
	default:
		return "dms.r6i.2xlarge"
	}
}

// DefaultStorageGB returns the replication instance storage for a source
// of sizeGB gigabytes: 30 % of the source, rounded up to 50 GB, at least
// 100 GB and at most 6144 GB — 150 GB for the 500 GB reference.
//
// The storage does not hold the dataset: it holds the task logs and the
// changes DMS caches while tables are still loading, plus transactions
// larger than the memory buffers that spill to disk (AWS-FACTS §1). A
// full load of 500 GB runs for hours, during which every change to a
// loading table is cached; 30 % of the source bounds that for a busy OLTP
// source. The storage is gp2 (3 IOPS per GB), so the 100 GB floor also
// buys the 300 IOPS baseline that keeps the cache from becoming the
// bottleneck.
func DefaultStorageGB(sizeGB int) int {
	gb := (sizeGB*3/10 + 49) / 50 * 50
	return min(max(gb, 100), 6144)
}

// InstanceSpec describes the replication instance "dms-instance-<suffix>":
// always Multi-AZ, not publicly accessible, encrypted with the env key,
// automatic minor version upgrades off (the engine version is pinned).
type InstanceSpec struct {
	// SubnetGroup is the replication subnet group identifier
	// (SubnetGroup.ID). Immutable.
	SubnetGroup string
	// SecurityGroupIDs are the VPC security groups of the instance (the
	// network package's sg-dms: egress to the source's and the target's
	// PostgreSQL port).
	SecurityGroupIDs []string
	// KMSKeyARN is the env key's ARN (migration.Key.ARN). DMS needs a key
	// ARN, not an alias, and the key cannot change after creation.
	KMSKeyARN string
	// EngineVersion pins the replication engine, for example "3.6.1"
	// (DefaultEngineVersion). It can only move up; an upgrade applies in
	// the maintenance window unless ApplyImmediately.
	EngineVersion string
	// SourceSizeGB is the size of the source database; it sizes the
	// defaults of Class and AllocatedStorageGB.
	SourceSizeGB int
	// Class overrides DefaultInstanceClass(SourceSizeGB).
	Class string
	// AllocatedStorageGB overrides DefaultStorageGB(SourceSizeGB). It can
	// only grow.
	AllocatedStorageGB int
	// ApplyImmediately applies class, storage and engine changes now (the
	// instance restarts, a running task pauses) instead of in the
	// maintenance window.
	ApplyImmediately bool
	// MaintenanceWindow is the weekly window, "ddd:hh24:mi-ddd:hh24:mi"
	// in UTC; empty leaves AWS's choice.
	MaintenanceWindow string
	// DNSNameServers are up to four on-premises DNS servers (IPv4
	// addresses, in order of preference) the instance resolves names
	// with instead of the VPC's resolver. The source secret's host is an
	// on-premises name — verify-full matches it against the server
	// certificate, so it cannot simply be an address — and the VPC's
	// resolver does not know it unless a Route 53 Resolver outbound rule
	// forwards the on-premises domain. Empty keeps the VPC's resolver.
	// Immutable: DMS takes them only at creation.
	DNSNameServers []string
}

var (
	engineVersionRe = regexp.MustCompile(`^3\.[0-9]+\.[0-9]+$`)
	dmsClassRe      = regexp.MustCompile(`^dms\.[a-z][a-z0-9]*\.[a-z0-9]+$`)
	windowRe        = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Validate checks the spec before any call.
func (s InstanceSpec) Validate() error {
	var errs []error
	if s.SubnetGroup == "" {
		errs = append(errs, errors.New("instance.subnetGroup: required (SubnetGroup.ID)"))
	} else if !migration.IsPending(s.SubnetGroup) {
		if err := migration.RuleDMSLongID.Check(s.SubnetGroup); err != nil {
			errs = append(errs, fmt.Errorf("instance.subnetGroup: %w", err))
		}
	}
	if len(s.SecurityGroupIDs) == 0 {
		errs = append(errs, errors.New("instance.securityGroupIds: at least one security group required"))
	}
	for _, sg := range s.SecurityGroupIDs {
		if !strings.HasPrefix(sg, "sg-") && !migration.IsPending(sg) {
			errs = append(errs, fmt.Errorf("instance.securityGroupIds: %q is not a security group ID", sg))
		}
	}
	if err := checkKeyARN(s.KMSKeyARN); err != nil {
		errs = append(errs, fmt.Errorf("instance.kmsKeyArn: %w", err))
	}
	if err := checkEngineVersion(s.EngineVersion, 13); err != nil {
		errs = append(errs, fmt.Errorf("instance.engineVersion: %w", err))
	}
	if s.SourceSizeGB < 0 || s.SourceSizeGB > 65536 {
		errs = append(errs, fmt.Errorf("instance.sourceSizeGb: %d outside 0..65536", s.SourceSizeGB))
	}
	if s.SourceSizeGB == 0 && (s.Class == "" || s.AllocatedStorageGB == 0) {
		errs = append(errs, errors.New("instance.sourceSizeGb: required to size the class and storage defaults"))
	}
	if s.Class != "" && !dmsClassRe.MatchString(s.Class) {
		errs = append(errs, fmt.Errorf("instance.class: %q is not a replication instance class such as dms.r6i.xlarge", s.Class))
	}
	if s.AllocatedStorageGB != 0 && (s.AllocatedStorageGB < 5 || s.AllocatedStorageGB > 6144) {
		errs = append(errs, fmt.Errorf("instance.allocatedStorageGb: %d outside the 5..6144 GB DMS allows", s.AllocatedStorageGB))
	}
	if s.MaintenanceWindow != "" && !windowRe.MatchString(s.MaintenanceWindow) {
		errs = append(errs, fmt.Errorf("instance.maintenanceWindow: %q is not ddd:hh24:mi-ddd:hh24:mi", s.MaintenanceWindow))
	}
	if len(s.DNSNameServers) > 4 {
		errs = append(errs, fmt.Errorf("instance.dnsNameServers: at most 4 name servers, got %d", len(s.DNSNameServers)))
	}
	for i, ip := range s.DNSNameServers {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			errs = append(errs, fmt.Errorf("instance.dnsNameServers[%d]: %q is not an IPv4 address", i, ip))
		} else if slices.Contains(s.DNSNameServers[:i], ip) {
			errs = append(errs, fmt.Errorf("instance.dnsNameServers[%d]: %s listed twice", i, ip))
		}
	}
	return errors.Join(errs...)
}

// checkEngineVersion checks a DMS engine version's form and that it
// supports PostgreSQL pgMajor.
func checkEngineVersion(v string, pgMajor int) error {
	if !engineVersionRe.MatchString(v) {
		return fmt.Errorf("%q is not a DMS engine version such as %s (pin one)", v, DefaultEngineVersion)
	}
	if min, ok := minEngineForPostgres[pgMajor]; ok && compareVersions(v, min) < 0 {
		return fmt.Errorf("DMS %s does not support PostgreSQL %d; it needs %s or later", v, pgMajor, min)
	}
	return nil
}

// compareVersions compares dotted numeric versions (-1, 0, 1).
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (s InstanceSpec) class() string {
	if s.Class != "" {
		return s.Class
	}
	return DefaultInstanceClass(s.SourceSizeGB)
}

func (s InstanceSpec) storage() int {
	if s.AllocatedStorageGB != 0 {
		return s.AllocatedStorageGB
	}
	return DefaultStorageGB(s.SourceSizeGB)
}

// Instance is an ensured replication instance.
type Instance struct {
	ID  string
	ARN string // a pending ID in a dry run that would create it
	// PrivateIPs are the addresses the instance connects from: the
	// source's pg_hba.conf must allow them on its "host all" and "host
	// replication" lines (AWS-FACTS §1).
	PrivateIPs []string
	Class      string
	StorageGB  int
}

// Timeouts of the instance waits.
const (
	instanceAvailableTimeout = 45 * time.Minute
	instanceDeletedTimeout   = 30 * time.Minute
)

// EnsureInstance makes the env's replication instance exist and converge.
//
// It finds the instance by its identifier and refuses to adopt one
// without the env's ownership tag. A missing instance is created
// (retrying the AccessDeniedFault of a dms-vpc-role that has not
// propagated yet) and waited for until available. On an existing instance
// it converges class, storage, Multi-AZ, engine version (upward only),
// security groups, automatic minor upgrades and the maintenance window
// through ModifyReplicationInstance — class, storage, Multi-AZ and engine
// immediately only when the spec says ApplyImmediately, else in the
// maintenance window (a change already pending is not requested again).
// It refuses what DMS cannot change: the KMS key, the subnet group, the
// DNS name servers, public accessibility, a smaller storage or an older
// engine. A pending
// parent (subnet group, key, security group) makes it report a create
// without calling AWS.
func EnsureInstance(ctx context.Context, env migration.Env, api DMSAPI, spec InstanceSpec) (Instance, error) {
	name := env.Name("dms-instance")
	if err := migration.Validate(env, spec); err != nil {
		return Instance{}, fmt.Errorf("ensure dms instance %q: %w", name, err)
	}
	in, err := ensureInstance(ctx, env, api, spec, name)
	if err != nil {
		return Instance{}, fmt.Errorf("ensure dms instance %q: %w", name, err)
	}
	return in, nil
}

func ensureInstance(ctx context.Context, env migration.Env, api DMSAPI, spec InstanceSpec, name string) (Instance, error) {
	class, storage := spec.class(), spec.storage()
	createDiff := []migration.FieldDiff{{Field: "class", To: class}, {Field: "storage", To: fmt.Sprintf("%d GB", storage)}, {Field: "engine", To: spec.EngineVersion}}
	pending := Instance{ID: name, ARN: migration.Pending(name), Class: class, StorageGB: storage}
	if migration.AnyPending(append([]string{spec.SubnetGroup, spec.KMSKeyARN}, spec.SecurityGroupIDs...)...) {
		env.Report(migration.Change{Kind: KindInstance, Name: name, ID: pending.ARN, Action: migration.ActionCreate, Diff: createDiff})
		return pending, nil
	}
	found, err := findInstance(ctx, api, "replication-instance-id", name)
	if err != nil {
		return Instance{}, err
	}
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindInstance, Name: name, ID: pending.ARN, Action: migration.ActionCreate, Diff: createDiff})
			return pending, nil
		}
		in := &dms.CreateReplicationInstanceInput{
			ReplicationInstanceIdentifier:    aws.String(name),
			ReplicationInstanceClass:         aws.String(class),
			AllocatedStorage:                 aws.Int32(int32(storage)),
			EngineVersion:                    aws.String(spec.EngineVersion),
			KmsKeyId:                         aws.String(spec.KMSKeyARN),
			MultiAZ:                          aws.Bool(true),
			PubliclyAccessible:               aws.Bool(false),
			AutoMinorVersionUpgrade:          aws.Bool(false),
			ReplicationSubnetGroupIdentifier: aws.String(spec.SubnetGroup),
			VpcSecurityGroupIds:              slices.Sorted(slices.Values(spec.SecurityGroupIDs)),
			Tags:                             dmsTags(env.NameTags(name)),
		}
		if spec.MaintenanceWindow != "" {
			in.PreferredMaintenanceWindow = aws.String(spec.MaintenanceWindow)
		}
		if len(spec.DNSNameServers) > 0 {
			in.DnsNameServers = aws.String(strings.Join(spec.DNSNameServers, ","))
		}
		err := vpcRoleRetry(ctx, env, func(ctx context.Context) error {
			_, err := api.CreateReplicationInstance(ctx, in)
			return err
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "instance "+name, func(ctx context.Context) (bool, error) {
				ri, err := findInstance(ctx, api, "replication-instance-id", name)
				return ri != nil, err
			}); err != nil {
				return Instance{}, err
			}
			return ensureInstance(ctx, env, api, spec, name)
		}
		if err != nil {
			return Instance{}, fmt.Errorf("create: %w", err)
		}
		ri, err := waitInstance(ctx, env, api, name)
		if err != nil {
			return Instance{}, err
		}
		inst := instanceOf(ri)
		env.Report(migration.Change{Kind: KindInstance, Name: name, ID: inst.ARN, Action: migration.ActionCreate, Diff: createDiff})
		return inst, nil
	}

	arn := aws.ToString(found.ReplicationInstanceArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return Instance{}, err
	}
	if !env.Owns(tags) {
		return Instance{}, notOwned(env, "replication instance", name)
	}
	if status := aws.ToString(found.ReplicationInstanceStatus); status == "deleting" {
		return Instance{}, fmt.Errorf("instance %s is being deleted; wait for it to go and apply again", arn)
	} else if transientInstance[status] && !env.DryRun {
		// Still creating (a previous run stopped after its create) or
		// modifying: tasks need it available.
		ri, err := waitInstance(ctx, env, api, name)
		if err != nil {
			return Instance{}, err
		}
		found = &ri
	}
	if !sameKey(aws.ToString(found.KmsKeyId), spec.KMSKeyARN) {
		return Instance{}, fmt.Errorf("kms key is immutable: %s is encrypted with %s, the spec wants %s; DMS cannot re-encrypt an instance — destroy it (after the migration) and apply again", arn, aws.ToString(found.KmsKeyId), spec.KMSKeyARN)
	}
	if g := found.ReplicationSubnetGroup; g != nil && !strings.EqualFold(aws.ToString(g.ReplicationSubnetGroupIdentifier), spec.SubnetGroup) {
		return Instance{}, fmt.Errorf("subnet group is immutable: %s is in %s, the spec wants %s", arn, aws.ToString(g.ReplicationSubnetGroupIdentifier), spec.SubnetGroup)
	}
	if have, want := dnsServers(aws.ToString(found.DnsNameServers)), strings.Join(spec.DNSNameServers, ","); have != want {
		return Instance{}, fmt.Errorf("dns name servers are immutable: %s resolves with %q, the spec wants %q; DMS sets them only at creation — delete the tasks and the instance (after the migration) and apply again", arn, have, want)
	}
	if found.PubliclyAccessible {
		return Instance{}, fmt.Errorf("%s is publicly accessible, which cannot be changed; the library never makes a public instance — delete it and apply again", arn)
	}

	pend := found.PendingModifiedValues
	if pend == nil {
		pend = &dmstypes.ReplicationPendingModifiedValues{}
	}
	effClass := aws.ToString(found.ReplicationInstanceClass)
	if pend.ReplicationInstanceClass != nil {
		effClass = *pend.ReplicationInstanceClass
	}
	effStorage := int(found.AllocatedStorage)
	if pend.AllocatedStorage != nil {
		effStorage = int(*pend.AllocatedStorage)
	}
	effMultiAZ := found.MultiAZ
	if pend.MultiAZ != nil {
		effMultiAZ = *pend.MultiAZ
	}
	effEngine := aws.ToString(found.EngineVersion)
	if pend.EngineVersion != nil {
		effEngine = *pend.EngineVersion
	}
	if storage < effStorage {
		return Instance{}, fmt.Errorf("storage can only grow: %s has %d GB, the spec wants %d GB", arn, effStorage, storage)
	}
	if compareVersions(spec.EngineVersion, effEngine) < 0 {
		return Instance{}, fmt.Errorf("engine version can only move up: %s runs %s, the spec pins %s (DMS does not downgrade)", arn, effEngine, spec.EngineVersion)
	}

	mod := &dms.ModifyReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn), ApplyImmediately: spec.ApplyImmediately}
	var diff []migration.FieldDiff
	deferred := false // a change that waits for the maintenance window
	if effClass != class {
		diff = append(diff, migration.FieldDiff{Field: "class", From: effClass, To: class})
		mod.ReplicationInstanceClass, deferred = aws.String(class), true
	}
	if effStorage != storage {
		diff = append(diff, migration.FieldDiff{Field: "storage", From: fmt.Sprintf("%d GB", effStorage), To: fmt.Sprintf("%d GB", storage)})
		mod.AllocatedStorage, deferred = aws.Int32(int32(storage)), true
	}
	if !effMultiAZ {
		diff = append(diff, migration.FieldDiff{Field: "multiAz", From: "false", To: "true"})
		mod.MultiAZ, deferred = aws.Bool(true), true
	}
	if effEngine != spec.EngineVersion {
		diff = append(diff, migration.FieldDiff{Field: "engine", From: effEngine, To: spec.EngineVersion})
		mod.EngineVersion, deferred = aws.String(spec.EngineVersion), true
		mod.AllowMajorVersionUpgrade = majorMinor(effEngine) != majorMinor(spec.EngineVersion)
	}
	if found.AutoMinorVersionUpgrade {
		diff = append(diff, migration.FieldDiff{Field: "autoMinorVersionUpgrade", From: "true", To: "false"})
		mod.AutoMinorVersionUpgrade = aws.Bool(false)
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
	if spec.MaintenanceWindow != "" && !strings.EqualFold(aws.ToString(found.PreferredMaintenanceWindow), spec.MaintenanceWindow) {
		diff = append(diff, migration.FieldDiff{Field: "maintenanceWindow", From: aws.ToString(found.PreferredMaintenanceWindow), To: spec.MaintenanceWindow})
		mod.PreferredMaintenanceWindow = aws.String(spec.MaintenanceWindow)
	}
	inst := instanceOf(*found)
	var c migration.Converge
	c.FixAll(diff, func() error {
		if _, err := api.ModifyReplicationInstance(ctx, mod); err != nil {
			return fmt.Errorf("modify: %w", err)
		}
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagDMS(ctx, api, arn))
	if deferred && spec.ApplyImmediately {
		c.Then(func() error {
			ri, err := waitInstance(ctx, env, api, name)
			if err != nil {
				return err
			}
			inst = instanceOf(ri)
			return nil
		})
	}

	note := ""
	if deferred && !spec.ApplyImmediately {
		note = "class, storage, Multi-AZ and engine changes apply in the maintenance window " + aws.ToString(found.PreferredMaintenanceWindow)
	} else if !c.Changed() && (pend.ReplicationInstanceClass != nil || pend.AllocatedStorage != nil || pend.MultiAZ != nil || pend.EngineVersion != nil) {
		note = "changes pending until the maintenance window " + aws.ToString(found.PreferredMaintenanceWindow)
	}
	if err := c.Apply(env, migration.Change{Kind: KindInstance, Name: name, ID: arn, Note: note}); err != nil {
		return Instance{}, err
	}
	return inst, nil
}

// dnsServers normalises DMS's comma-separated DnsNameServers.
func dnsServers(list string) string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

// transientInstance are the replication instance states that end by
// themselves; an Ensure waits them out.
var transientInstance = map[string]bool{"creating": true, "modifying": true, "upgrading": true, "rebooting": true, "maintenance": true}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// sameKey compares a key reference DMS returns (an ARN, sometimes a key
// ID) with the spec's key ARN.
func sameKey(have, want string) bool {
	if have == want {
		return true
	}
	id := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	return strings.Contains(have, "key/") && id(have) == id(want) || !strings.Contains(have, "/") && have == id(want)
}

func instanceOf(ri dmstypes.ReplicationInstance) Instance {
	return Instance{
		ID: aws.ToString(ri.ReplicationInstanceIdentifier), ARN: aws.ToString(ri.ReplicationInstanceArn),
		PrivateIPs: slices.Clone(ri.ReplicationInstancePrivateIpAddresses),
		Class:      aws.ToString(ri.ReplicationInstanceClass), StorageGB: int(ri.AllocatedStorage),
	}
}

// findInstance returns the instance matching one filter, or nil.
func findInstance(ctx context.Context, api TaskReader, filter, value string) (*dmstypes.ReplicationInstance, error) {
	out, err := ignoreNotFound(api.DescribeReplicationInstances(ctx, &dms.DescribeReplicationInstancesInput{Filters: idFilter(filter, value)}))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if out == nil {
		return nil, nil
	}
	for _, ri := range out.ReplicationInstances {
		if strings.EqualFold(aws.ToString(ri.ReplicationInstanceIdentifier), value) || aws.ToString(ri.ReplicationInstanceArn) == value {
			return &ri, nil
		}
	}
	return nil, nil
}

// waitInstance waits for the instance to be available with the SDK
// waiter's acceptor (it fails fast on deleting or incompatible-* states).
func waitInstance(ctx context.Context, env migration.Env, api DMSAPI, name string) (dmstypes.ReplicationInstance, error) {
	var accept awsx.Acceptor[dms.DescribeReplicationInstancesInput, dms.DescribeReplicationInstancesOutput]
	dms.NewReplicationInstanceAvailableWaiter(api, func(o *dms.ReplicationInstanceAvailableWaiterOptions) { accept = o.Retryable })
	out, err := migration.Wait(ctx, env, "dms instance "+name+" to be available", api.DescribeReplicationInstances,
		&dms.DescribeReplicationInstancesInput{Filters: idFilter("replication-instance-id", name)}, accept, instanceAvailableTimeout, codeNotFound)
	if err != nil {
		return dmstypes.ReplicationInstance{}, err
	}
	if len(out.ReplicationInstances) != 1 {
		return dmstypes.ReplicationInstance{}, fmt.Errorf("describe %s: %d instances", name, len(out.ReplicationInstances))
	}
	return out.ReplicationInstances[0], nil
}

// DeleteInstance deletes the env's replication instance and waits until
// it is gone. It refuses while tasks other than ones being deleted remain
// on it (delete the tasks first; see the package's delete order), touches
// only an instance carrying the env's ownership tag, and is a no-op when
// the instance is gone.
func DeleteInstance(ctx context.Context, env migration.Env, api DMSAPI, spec InstanceSpec) error {
	name := env.Name("dms-instance")
	if err := env.Validate(); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete dms instance %q: %w", name, err)
	}
	if err := deleteInstance(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete dms instance %q: %w", name, err)
	}
	return nil
}

func deleteInstance(ctx context.Context, env migration.Env, api DMSAPI, name string) error {
	found, err := findInstance(ctx, api, "replication-instance-id", name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindInstance, name)
		return nil
	}
	arn := aws.ToString(found.ReplicationInstanceArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindInstance, name, arn)
		return nil
	}
	tasks, err := ignoreNotFound(api.DescribeReplicationTasks(ctx, &dms.DescribeReplicationTasksInput{Filters: idFilter("replication-instance-arn", arn), WithoutSettings: aws.Bool(true)}))
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	if tasks != nil {
		var live []string
		for _, t := range tasks.ReplicationTasks {
			if aws.ToString(t.Status) != "deleting" {
				live = append(live, aws.ToString(t.ReplicationTaskIdentifier))
			}
		}
		if len(live) > 0 {
			return fmt.Errorf("instance %s still runs tasks %v; delete them first", arn, live)
		}
	}
	if env.DryRun {
		env.Report(migration.Change{Kind: KindInstance, Name: name, ID: arn, Action: migration.ActionDelete})
		return nil
	}
	if aws.ToString(found.ReplicationInstanceStatus) != "deleting" {
		if err := deleteWhenFree(ctx, env, "dms instance "+name, func(ctx context.Context) error {
			_, err := api.DeleteReplicationInstance(ctx, &dms.DeleteReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn)})
			return err
		}); err != nil {
			return err
		}
	}
	var accept awsx.Acceptor[dms.DescribeReplicationInstancesInput, dms.DescribeReplicationInstancesOutput]
	dms.NewReplicationInstanceDeletedWaiter(api, func(o *dms.ReplicationInstanceDeletedWaiterOptions) { accept = o.Retryable })
	if _, err := migration.Wait(ctx, env, "dms instance "+name+" to be deleted", api.DescribeReplicationInstances,
		&dms.DescribeReplicationInstancesInput{Filters: idFilter("replication-instance-arn", arn)}, accept, instanceDeletedTimeout); err != nil {
		return err
	}
	env.Report(migration.Change{Kind: KindInstance, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}
