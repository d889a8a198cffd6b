package dms_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// subnetGroup ensures the service roles and the subnet group.
func (f *fixture) subnetGroup() dms.SubnetGroup {
	f.t.Helper()
	_, err := dms.EnsureServiceRoles(f.ctx, f.env, f.cloud.IAM())
	require.NoError(f.t, err)
	g, err := dms.EnsureSubnetGroup(f.ctx, f.env, f.cloud.DMS(), dms.SubnetGroupSpec{SubnetIDs: f.subnets})
	require.NoError(f.t, err)
	return g
}

func (f *fixture) instanceSpec(group string) dms.InstanceSpec {
	return dms.InstanceSpec{SubnetGroup: group, SecurityGroupIDs: []string{"sg-0dms"}, KMSKeyARN: f.key, EngineVersion: "3.5.4", SourceSizeGB: 500}
}

func (f *fixture) describeInstance(id string) dmstypes.ReplicationInstance {
	f.t.Helper()
	out, err := f.cloud.DMS().DescribeReplicationInstances(f.ctx, &awsdms.DescribeReplicationInstancesInput{
		Filters: []dmstypes.Filter{{Name: aws.String("replication-instance-id"), Values: []string{id}}}})
	require.NoError(f.t, err)
	require.Len(f.t, out.ReplicationInstances, 1)
	return out.ReplicationInstances[0]
}

// plantInstance creates a replication instance of the env's name without
// the ownership tag.
func (f *fixture) plantInstance(group string) {
	f.t.Helper()
	_, err := f.cloud.DMS().CreateReplicationInstance(f.ctx, &awsdms.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String("dms-instance-dev"), ReplicationInstanceClass: aws.String("dms.t3.medium"),
		ReplicationSubnetGroupIdentifier: aws.String(group), Tags: []dmstypes.Tag{{Key: aws.String("Name"), Value: aws.String("dms-instance-dev")}},
	})
	require.NoError(f.t, err)
	f.cloud.Clock().Advance(time.Hour)
}

func TestEnsureInstance(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fixture, group string) // before the call log is reset
		dryRun     bool
		edit       func(*dms.InstanceSpec)
		wantAction migration.Action
		wantWrites []string
		wantNote   string
		wantErr    string
		check      func(t *testing.T, ri dmstypes.ReplicationInstance)
	}{
		{
			name: "missing is created Multi-AZ, private, encrypted, pinned, sized for 500 GB", wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateReplicationInstance"},
			check: func(t *testing.T, ri dmstypes.ReplicationInstance) {
				assert.True(t, ri.MultiAZ)
				assert.False(t, ri.PubliclyAccessible)
				assert.False(t, ri.AutoMinorVersionUpgrade)
				assert.Equal(t, "dms.r6i.xlarge", aws.ToString(ri.ReplicationInstanceClass))
				assert.EqualValues(t, 150, ri.AllocatedStorage)
				assert.Equal(t, "3.5.4", aws.ToString(ri.EngineVersion))
				assert.Equal(t, "available", aws.ToString(ri.ReplicationInstanceStatus))
			},
		},
		{name: "converged makes no write", setup: ensureInstance, wantAction: migration.ActionNoop},
		{
			name: "on-premises DNS servers are set at creation, in order", edit: withDNS, wantAction: migration.ActionCreate,
			wantWrites: []string{"CreateReplicationInstance"},
			check: func(t *testing.T, ri dmstypes.ReplicationInstance) {
				assert.Equal(t, "192.168.0.10,192.168.0.2", aws.ToString(ri.DnsNameServers))
			},
		},
		{name: "converged with DNS servers makes no write", setup: func(f *fixture, group string) {
			s := f.instanceSpec(group)
			withDNS(&s)
			_, err := dms.EnsureInstance(f.ctx, f.env, f.cloud.DMS(), s)
			require.NoError(f.t, err)
		}, edit: withDNS, wantAction: migration.ActionNoop},
		{name: "a DNS server change is refused", setup: ensureInstance, edit: withDNS, wantErr: "dns name servers are immutable"},
		{
			name: "a class change waits for the maintenance window unless told otherwise", setup: ensureInstance,
			edit: func(s *dms.InstanceSpec) { s.Class = "dms.r6i.2xlarge" }, wantAction: migration.ActionUpdate,
			wantWrites: []string{"ModifyReplicationInstance"}, wantNote: "maintenance window",
			check: func(t *testing.T, ri dmstypes.ReplicationInstance) {
				assert.Equal(t, "dms.r6i.xlarge", aws.ToString(ri.ReplicationInstanceClass))
				require.NotNil(t, ri.PendingModifiedValues)
				assert.Equal(t, "dms.r6i.2xlarge", aws.ToString(ri.PendingModifiedValues.ReplicationInstanceClass))
			},
		},
		{
			name: "a pending change is not requested again", setup: func(f *fixture, group string) {
				ensureInstance(f, group)
				s := f.instanceSpec(group)
				s.Class = "dms.r6i.2xlarge"
				_, err := dms.EnsureInstance(f.ctx, f.env, f.cloud.DMS(), s)
				require.NoError(f.t, err)
			},
			edit: func(s *dms.InstanceSpec) { s.Class = "dms.r6i.2xlarge" }, wantAction: migration.ActionNoop, wantNote: "pending",
		},
		{
			name: "storage grows and the engine upgrades at once with ApplyImmediately", setup: ensureInstance,
			edit: func(s *dms.InstanceSpec) {
				s.AllocatedStorageGB, s.EngineVersion, s.ApplyImmediately = 300, "3.6.1", true
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationInstance"},
			check: func(t *testing.T, ri dmstypes.ReplicationInstance) {
				assert.EqualValues(t, 300, ri.AllocatedStorage)
				assert.Equal(t, "3.6.1", aws.ToString(ri.EngineVersion))
				assert.Equal(t, "available", aws.ToString(ri.ReplicationInstanceStatus), "waited out the modification")
			},
		},
		{
			name: "drifted security groups, minor upgrades and a removed tag converge", setup: func(f *fixture, group string) {
				ensureInstance(f, group)
				arn := aws.ToString(f.describeInstance("dms-instance-dev").ReplicationInstanceArn)
				_, err := f.cloud.DMS().ModifyReplicationInstance(f.ctx, &awsdms.ModifyReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn),
					AutoMinorVersionUpgrade: aws.Bool(true), VpcSecurityGroupIds: []string{"sg-0other"}})
				require.NoError(f.t, err)
				_, err = f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"Environment"}})
				require.NoError(f.t, err)
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationInstance", "AddTagsToResource"},
			check: func(t *testing.T, ri dmstypes.ReplicationInstance) {
				assert.False(t, ri.AutoMinorVersionUpgrade)
				assert.Equal(t, "sg-0dms", aws.ToString(ri.VpcSecurityGroups[0].VpcSecurityGroupId))
			},
		},
		{name: "a KMS key change is refused", setup: ensureInstance, edit: func(s *dms.InstanceSpec) {
			s.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
		}, wantErr: "kms key is immutable"},
		{name: "shrinking storage is refused", setup: ensureInstance, edit: func(s *dms.InstanceSpec) { s.AllocatedStorageGB = 100 }, wantErr: "storage can only grow"},
		{name: "an engine downgrade is refused", setup: ensureInstance, edit: func(s *dms.InstanceSpec) { s.EngineVersion = "3.5.3" }, wantErr: "can only move up"},
		{name: "a look-alike without the ownership tag is not adopted", setup: func(f *fixture, group string) { f.plantInstance(group) }, wantErr: "refusing to adopt"},
		{name: "dry run on a missing instance reports create and writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{name: "dry run reports drift and writes nothing", setup: ensureInstance, dryRun: true,
			edit: func(s *dms.InstanceSpec) { s.AllocatedStorageGB = 400 }, wantAction: migration.ActionUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			g := f.subnetGroup()
			if tt.setup != nil {
				tt.setup(f, g.ID)
			}
			spec := f.instanceSpec(g.ID)
			if tt.edit != nil {
				tt.edit(&spec)
			}
			f.reset()
			f.env.DryRun = tt.dryRun
			in, err := dms.EnsureInstance(f.ctx, f.env, f.cloud.DMS(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure dms instance "dms-instance-dev"`)
				assert.Empty(t, f.cloud.Writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(f.report))
			assert.Equal(t, tt.wantWrites, f.writes())
			if tt.wantNote != "" {
				assert.Contains(t, f.report.Changes()[0].Note, tt.wantNote)
			}
			if tt.dryRun {
				if tt.wantAction == migration.ActionCreate {
					assert.True(t, migration.IsPending(in.ARN))
					assert.Empty(t, f.cloud.DMS().Resources()["instance"])
				}
				return
			}
			ri := f.describeInstance("dms-instance-dev")
			assert.Equal(t, aws.ToString(ri.ReplicationInstanceArn), in.ARN)
			if tt.check != nil {
				tt.check(t, ri)
			}
		})
	}
}

// withDNS points the instance at two on-premises DNS servers.
func withDNS(s *dms.InstanceSpec) { s.DNSNameServers = []string{"192.168.0.10", "192.168.0.2"} }

func ensureInstance(f *fixture, group string) {
	f.t.Helper()
	_, err := dms.EnsureInstance(f.ctx, f.env, f.cloud.DMS(), f.instanceSpec(group))
	require.NoError(f.t, err)
}

func TestEnsureInstancePendingParent(t *testing.T) {
	f := newFixture(t)
	f.env.DryRun = true
	spec := f.instanceSpec(migration.Pending("dms-subnet-group-dev"))
	in, err := dms.EnsureInstance(f.ctx, f.env, f.cloud.DMS(), spec)
	require.NoError(t, err)
	assert.True(t, migration.IsPending(in.ARN))
	assert.Empty(t, f.cloud.Calls(), "a pending parent: no call at all")
	assert.Equal(t, []migration.Action{migration.ActionCreate}, actions(f.report))
}

// Right after dms-vpc-role is created DMS refuses the subnet group
// (AccessDeniedFault) until the role propagates; EnsureSubnetGroup
// retries exactly that on the env clock.
func TestSubnetGroupWaitsForVPCRole(t *testing.T) {
	f := newFixture(t)
	_, err := dms.EnsureServiceRoles(f.ctx, f.env, f.cloud.IAM())
	require.NoError(t, err)
	start := f.cloud.Clock().Now()
	f.reset()
	g, err := dms.EnsureSubnetGroup(f.ctx, f.env, f.cloud.DMS(), dms.SubnetGroupSpec{SubnetIDs: f.subnets})
	require.NoError(t, err)
	assert.Equal(t, "dms-subnet-group-dev", g.ID)
	assert.Contains(t, f.codes(), "AccessDeniedFault")
	assert.Greater(t, f.cloud.Clock().Now().Sub(start), 5*time.Second, "waited on the fake clock")

	// Without the role at all the retries run out with DMS's error.
	f2 := newFixture(t)
	_, err = dms.EnsureSubnetGroup(f2.ctx, f2.env, f2.cloud.DMS(), dms.SubnetGroupSpec{SubnetIDs: f2.subnets})
	require.ErrorContains(t, err, "dms-vpc-role is not configured properly")
}

func TestEnsureSubnetGroup(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fixture)
		dryRun     bool
		subnets    func(f *fixture) []string
		wantAction migration.Action
		wantWrites []string
		wantErr    string
	}{
		{name: "missing is created", wantAction: migration.ActionCreate, wantWrites: []string{"CreateReplicationSubnetGroup"}},
		{name: "converged makes no write", setup: func(f *fixture) { f.subnetGroup() }, wantAction: migration.ActionNoop},
		{name: "a subnet change converges", setup: func(f *fixture) { f.subnetGroup() },
			subnets: func(f *fixture) []string { return f.subnets[:2] }, wantAction: migration.ActionUpdate, wantWrites: []string{"ModifyReplicationSubnetGroup"}},
		{name: "a removed tag converges", setup: func(f *fixture) {
			f.subnetGroup()
			_, err := f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String("arn:aws:dms:us-east-1:123456789012:subgrp:dms-subnet-group-dev"), TagKeys: []string{"Name"}})
			require.NoError(f.t, err)
		}, wantAction: migration.ActionUpdate, wantWrites: []string{"AddTagsToResource"}},
		{name: "subnets in one zone are refused by DMS", subnets: func(f *fixture) []string {
			f.cloud.DMS().AddSubnet("subnet-0samezone", "vpc-0migration", "us-east-1a")
			return []string{f.subnets[0], "subnet-0samezone"}
		}, wantErr: "ReplicationSubnetGroupDoesNotCoverEnoughAZs"},
		{name: "a look-alike without the ownership tag is not adopted", setup: func(f *fixture) {
			f.cloud.Clock().Advance(time.Minute)
			_, err := f.cloud.DMS().CreateReplicationSubnetGroup(f.ctx, &awsdms.CreateReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("dms-subnet-group-dev"),
				ReplicationSubnetGroupDescription: aws.String("someone else's"), SubnetIds: f.subnets})
			require.NoError(f.t, err)
		}, wantErr: "refusing to adopt"},
		{name: "dry run writes nothing", dryRun: true, wantAction: migration.ActionCreate},
		{name: "a pending subnet reports create without a call", dryRun: true, subnets: func(f *fixture) []string {
			return []string{migration.Pending("subnet-private-a"), migration.Pending("subnet-private-b")}
		}, wantAction: migration.ActionCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := dms.EnsureServiceRoles(f.ctx, f.env, f.cloud.IAM())
			require.NoError(t, err)
			f.cloud.Clock().Advance(time.Minute) // the role has propagated
			if tt.setup != nil {
				tt.setup(f)
			}
			subnets := f.subnets
			if tt.subnets != nil {
				subnets = tt.subnets(f)
			}
			f.reset()
			f.env.DryRun = tt.dryRun
			g, err := dms.EnsureSubnetGroup(f.ctx, f.env, f.cloud.DMS(), dms.SubnetGroupSpec{SubnetIDs: subnets})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, f.writes())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []migration.Action{tt.wantAction}, actions(f.report))
			assert.Equal(t, tt.wantWrites, f.writes())
			if tt.dryRun {
				assert.True(t, migration.IsPending(g.ID))
				assert.Empty(t, f.cloud.Writes())
				return
			}
			out, err := f.cloud.DMS().DescribeReplicationSubnetGroups(f.ctx, &awsdms.DescribeReplicationSubnetGroupsInput{})
			require.NoError(t, err)
			require.Len(t, out.ReplicationSubnetGroups, 1)
			assert.Len(t, out.ReplicationSubnetGroups[0].Subnets, len(subnets))
		})
	}
}

func TestDeleteInstanceAndSubnetGroup(t *testing.T) {
	f := newFixture(t)
	out := f.apply(f.spec())
	api := f.cloud.DMS()

	// An instance with tasks is refused, naming them; its subnet group
	// cannot go either (DMS refuses; the wait times out with its error).
	err := dms.DeleteInstance(f.ctx, f.env, api, dms.InstanceSpec{})
	require.ErrorContains(t, err, "still runs tasks")
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, api, dms.TaskSpec{Direction: dms.Forward}))
	require.NoError(t, dms.DeleteTask(f.ctx, f.env, api, dms.TaskSpec{Direction: dms.Reverse}))

	// Dry run.
	f.reset()
	dry := f.env
	dry.DryRun = true
	require.NoError(t, dms.DeleteInstance(f.ctx, dry, api, dms.InstanceSpec{}))
	require.NoError(t, dms.DeleteSubnetGroup(f.ctx, dry, api, dms.SubnetGroupSpec{}))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []migration.Action{migration.ActionDelete, migration.ActionDelete}, actions(f.report))

	// The instance goes (waited until gone), then the group.
	f.reset()
	require.NoError(t, dms.DeleteInstance(f.ctx, f.env, api, dms.InstanceSpec{}))
	assert.Empty(t, f.cloud.DMS().InstanceStatus("dms-instance-dev"), "waited until gone")
	require.NoError(t, dms.DeleteSubnetGroup(f.ctx, f.env, api, dms.SubnetGroupSpec{}))
	assert.Equal(t, []string{"DeleteReplicationInstance", "DeleteReplicationSubnetGroup"}, f.writes())
	assert.Equal(t, out.Instance.ARN, change(t, f.report, dms.KindInstance, "dms-instance-dev").ID)

	// Gone: no-ops.
	f.reset()
	require.NoError(t, dms.DeleteInstance(f.ctx, f.env, api, dms.InstanceSpec{}))
	require.NoError(t, dms.DeleteSubnetGroup(f.ctx, f.env, api, dms.SubnetGroupSpec{}))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, []migration.Action{migration.ActionNoop, migration.ActionNoop}, actions(f.report))

	// A look-alike without the ownership tag is left in place.
	g := f.subnetGroup()
	_, err = f.cloud.DMS().RemoveTagsFromResource(f.ctx, &awsdms.RemoveTagsFromResourceInput{ResourceArn: aws.String("arn:aws:dms:us-east-1:123456789012:subgrp:" + g.ID), TagKeys: []string{migration.OwnerTag}})
	require.NoError(t, err)
	f.plantInstance(g.ID)
	f.reset()
	require.NoError(t, dms.DeleteInstance(f.ctx, f.env, api, dms.InstanceSpec{}))
	require.NoError(t, dms.DeleteSubnetGroup(f.ctx, f.env, api, dms.SubnetGroupSpec{}))
	assert.Empty(t, f.cloud.Writes())
	assert.Equal(t, "available", f.cloud.DMS().InstanceStatus("dms-instance-dev"))
	assert.Equal(t, []string{"dms-subnet-group-dev"}, f.cloud.DMS().Resources()["subnet-group"])
}

// keyARN creates another KMS key (an immutable-field conflict).
func (f *fixture) otherKey() string {
	out, err := f.cloud.KMS().CreateKey(f.ctx, &kms.CreateKeyInput{})
	require.NoError(f.t, err)
	return aws.ToString(out.KeyMetadata.Arn)
}
