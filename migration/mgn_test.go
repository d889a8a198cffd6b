package migration_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	mgntypes "github.com/aws/aws-sdk-go-v2/service/mgn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestEnsureMGNService(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name        string
		initialized bool
		dryRun      bool
		want        migration.Action
		wantWrites  []string
	}{
		{name: "uninitialized Region is initialized", want: migration.ActionCreate, wantWrites: []string{"InitializeService"}},
		{name: "initialized Region costs one read", initialized: true, want: migration.ActionNoop},
		{name: "dry run reports the initialization", dryRun: true, want: migration.ActionCreate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			if tt.initialized {
				_, err := cloud.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
				require.NoError(t, err)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			require.NoError(t, migration.EnsureMGNService(ctx, env, cloud.MGN()))
			assert.Equal(t, tt.want, report.Changes()[0].Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			assert.Equal(t, !tt.dryRun, cloud.MGN().Initialized())
		})
	}
}

func TestMGNSetupOrder(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	_, err := migration.EnsureMGNRoles(ctx, env, cloud.IAM())
	require.NoError(t, err)
	require.NoError(t, migration.EnsureMGNService(ctx, env, cloud.MGN()))
	tmpl, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
	require.NoError(t, err)
	assert.Equal(t, []string{tmpl.ID}, cloud.MGN().Templates())
	// InitializeService found the roles: the instance profiles exist once.
	prof, err := cloud.IAM().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(migration.MGNReplicationServerRole)})
	require.NoError(t, err)
	assert.Len(t, prof.InstanceProfile.Roles, 1)
}

// A crash at any write of the MGN setup (roles, service, template) —
// done or not, its answer lost — is repaired by a re-run without a
// duplicate: the roles are found by name, the template by its tags.
func TestMGNSetupCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	setup := func(env migration.Env, cloud *fakecloud.Cloud, key string) error {
		if _, err := migration.EnsureMGNRoles(ctx, env, cloud.IAM()); err != nil {
			return err
		}
		if err := migration.EnsureMGNService(ctx, env, cloud.MGN()); err != nil {
			return err
		}
		_, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
		return err
	}
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	cloud.ResetCalls()
	require.NoError(t, setup(env, cloud, key))
	writes := len(cloud.Writes())
	require.Greater(t, writes, 20)
	for k := 1; k <= writes; k++ {
		for _, after := range []bool{true, false} {
			env, cloud, _ := cloudEnv(t)
			key := envKey(t, env, cloud)
			cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
			require.Error(t, setup(env, cloud, key), "write %d", k)
			cloud.Restart()
			require.NoError(t, setup(env, cloud, key), "write %d (crash after: %v)", k, after)
			assert.Len(t, cloud.MGN().Templates(), 1, "write %d (crash after: %v)", k, after)
			for _, spec := range migration.MGNRoles(env) {
				assert.ElementsMatch(t, spec.ManagedPolicies, cloud.IAM().RoleAttached(spec.Name), "write %d: %s", k, spec.Name)
			}
			cloud.ResetCalls()
			require.NoError(t, setup(env, cloud, key))
			assert.Empty(t, cloud.Writes(), "write %d (crash after: %v)", k, after)
		}
	}
}

func templateSpec(key string) migration.ReplicationTemplateSpec {
	return migration.ReplicationTemplateSpec{StagingSubnetID: "subnet-0a1b2c3d4e5f60718", SecurityGroupIDs: []string{"sg-0123456789abcdef0"}, KMSKeyARN: key, BandwidthMbps: 200}
}

func TestEnsureReplicationTemplate(t *testing.T) {
	ctx := context.Background()
	initialize := func(t *testing.T, cloud *fakecloud.Cloud) {
		_, err := cloud.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
		require.NoError(t, err)
	}
	ensure := func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) {
		initialize(t, cloud)
		_, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
		require.NoError(t, err)
	}
	// plantConsoleTemplate creates the template the MGN console makes at
	// initialization: public routing, default encryption, no tags.
	plantConsoleTemplate := func(t *testing.T, cloud *fakecloud.Cloud) string {
		out, err := cloud.MGN().CreateReplicationConfigurationTemplate(ctx, &mgn.CreateReplicationConfigurationTemplateInput{
			StagingAreaSubnetId: aws.String("subnet-0fedcba9876543210"), ReplicationServersSecurityGroupsIDs: []string{}, AssociateDefaultSecurityGroup: aws.Bool(true),
			ReplicationServerInstanceType: aws.String("t3.small"), UseDedicatedReplicationServer: aws.Bool(false), DefaultLargeStagingDiskType: mgntypes.ReplicationConfigurationDefaultLargeStagingDiskTypeGp2,
			EbsEncryption: mgntypes.ReplicationConfigurationEbsEncryptionDefault, DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPublicIp,
			CreatePublicIP: aws.Bool(true), StagingAreaTags: map[string]string{},
		})
		require.NoError(t, err)
		return aws.ToString(out.ReplicationConfigurationTemplateID)
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) string
		edit       func(s *migration.ReplicationTemplateSpec, setupID string)
		dryRun     bool
		wantAction migration.Action
		wantWrites []string
		wantDiff   []string
		wantErr    string
	}{
		{
			name: "missing is created",
			setup: func(t *testing.T, _ migration.Env, cloud *fakecloud.Cloud, _ string) string {
				initialize(t, cloud)
				return ""
			},
			wantAction: migration.ActionCreate, wantWrites: []string{"CreateReplicationConfigurationTemplate"},
		},
		{
			name: "converged makes no write",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) string {
				ensure(t, env, cloud, key)
				return ""
			},
			wantAction: migration.ActionNoop,
		},
		{
			name: "drift made in the console converges",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) string {
				ensure(t, env, cloud, key)
				id := cloud.MGN().Templates()[0]
				_, err := cloud.MGN().UpdateReplicationConfigurationTemplate(ctx, &mgn.UpdateReplicationConfigurationTemplateInput{ReplicationConfigurationTemplateID: aws.String(id),
					DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPublicIp, CreatePublicIP: aws.Bool(true), BandwidthThrottling: 1000})
				require.NoError(t, err)
				return ""
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateReplicationConfigurationTemplate"}, wantDiff: []string{"bandwidthThrottling", "dataPlaneRouting", "createPublicIP"},
		},
		{
			name: "a bigger replication server and another subnet converge",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) string {
				ensure(t, env, cloud, key)
				return ""
			},
			edit: func(s *migration.ReplicationTemplateSpec, _ string) {
				s.InstanceType, s.StagingSubnetID = "m5.large", "subnet-0b1b2c3d4e5f60718"
			},
			wantAction: migration.ActionUpdate, wantWrites: []string{"UpdateReplicationConfigurationTemplate"}, wantDiff: []string{"stagingAreaSubnetId", "replicationServerInstanceType"},
		},
		{
			name: "removing the throttle is refused: the API cannot set it to 0",
			setup: func(t *testing.T, env migration.Env, cloud *fakecloud.Cloud, key string) string {
				ensure(t, env, cloud, key)
				return ""
			},
			edit:    func(s *migration.ReplicationTemplateSpec, _ string) { s.BandwidthMbps = 0 },
			wantErr: "cannot set it back to 0",
		},
		{
			name: "dry run writes nothing",
			setup: func(t *testing.T, _ migration.Env, cloud *fakecloud.Cloud, _ string) string {
				initialize(t, cloud)
				return ""
			},
			dryRun:     true,
			wantAction: migration.ActionCreate,
		},
		{name: "dry run before initialization reports create", dryRun: true, wantAction: migration.ActionCreate},
		{name: "apply before initialization is an error", wantErr: "apply EnsureMGNService first"},
		{
			name: "a pending subnet reports create without calling AWS",
			edit: func(s *migration.ReplicationTemplateSpec, _ string) {
				s.StagingSubnetID = migration.Pending("subnet-private-us-east-1a-dev")
			},
			dryRun:     true,
			wantAction: migration.ActionCreate,
		},
		{
			name: "a template the env does not own blocks a second one",
			setup: func(t *testing.T, _ migration.Env, cloud *fakecloud.Cloud, _ string) string {
				initialize(t, cloud)
				return plantConsoleTemplate(t, cloud)
			},
			wantErr: "that this env does not own",
		},
		{
			name: "the console's template is adopted when asked: tagged, then converged",
			setup: func(t *testing.T, _ migration.Env, cloud *fakecloud.Cloud, _ string) string {
				initialize(t, cloud)
				return plantConsoleTemplate(t, cloud)
			},
			edit:       func(s *migration.ReplicationTemplateSpec, id string) { s.AdoptTemplateID = id },
			wantAction: migration.ActionUpdate, wantWrites: []string{"TagResource", "UpdateReplicationConfigurationTemplate"},
			wantDiff: []string{"stagingAreaSubnetId", "securityGroupIds", "associateDefaultSecurityGroup", "defaultLargeStagingDiskType", "ebsEncryption",
				"ebsEncryptionKeyArn", "bandwidthThrottling", "dataPlaneRouting", "createPublicIP", "stagingAreaTags", "tags"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, cloud, _ := cloudEnv(t)
			key := envKey(t, env, cloud)
			setupID := ""
			if tt.setup != nil {
				setupID = tt.setup(t, env, cloud, key)
			}
			spec := templateSpec(key)
			if tt.edit != nil {
				tt.edit(&spec, setupID)
			}
			cloud.ResetCalls()
			report := &migration.Report{}
			env.Reporter, env.DryRun = report, tt.dryRun
			tmpl, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), `ensure mgn replication template "mgn-replication-template-dev"`)
				assert.Empty(t, cloud.Writes())
				return
			}
			require.NoError(t, err)
			require.Len(t, report.Changes(), 1)
			c := report.Changes()[0]
			assert.Equal(t, tt.wantAction, c.Action)
			assert.Equal(t, tt.wantWrites, writeOps(cloud))
			var fields []string
			for _, d := range c.Diff {
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.wantDiff, fields)
			if strings.Contains(tt.name, "pending") {
				assert.Empty(t, cloud.Calls())
			}
			if tt.dryRun {
				assert.True(t, migration.IsPending(tmpl.ID))
				return
			}
			out, err := cloud.MGN().DescribeReplicationConfigurationTemplates(ctx, &mgn.DescribeReplicationConfigurationTemplatesInput{ReplicationConfigurationTemplateIDs: []string{tmpl.ID}})
			require.NoError(t, err)
			require.Len(t, out.Items, 1)
			got := out.Items[0]
			assert.Equal(t, spec.StagingSubnetID, aws.ToString(got.StagingAreaSubnetId))
			assert.Equal(t, spec.SecurityGroupIDs, got.ReplicationServersSecurityGroupsIDs)
			assert.False(t, aws.ToBool(got.AssociateDefaultSecurityGroup))
			assert.Equal(t, mgntypes.ReplicationConfigurationEbsEncryptionCustom, got.EbsEncryption)
			assert.Equal(t, key, aws.ToString(got.EbsEncryptionKeyArn))
			assert.Equal(t, mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp, got.DataPlaneRouting)
			assert.False(t, aws.ToBool(got.CreatePublicIP))
			assert.Equal(t, spec.BandwidthMbps, got.BandwidthThrottling)
			assert.Equal(t, mgntypes.ReplicationConfigurationDefaultLargeStagingDiskTypeGp3, got.DefaultLargeStagingDiskType)
			assert.Equal(t, "dev", got.Tags[migration.OwnerTag])
			assert.Equal(t, "dev", got.StagingAreaTags["Environment"])
			assert.NotContains(t, got.StagingAreaTags, migration.OwnerTag, "replication servers are MGN's, never the env's to delete")
		})
	}
}

func TestDeleteReplicationTemplate(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	// Uninitialized: nothing to delete.
	require.NoError(t, migration.DeleteReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key)))
	_, err := cloud.MGN().InitializeService(ctx, &mgn.InitializeServiceInput{})
	require.NoError(t, err)
	tmpl, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
	require.NoError(t, err)
	decoy, err := cloud.MGN().CreateReplicationConfigurationTemplate(ctx, &mgn.CreateReplicationConfigurationTemplateInput{
		StagingAreaSubnetId: aws.String("subnet-0fedcba9876543210"), ReplicationServersSecurityGroupsIDs: []string{}, AssociateDefaultSecurityGroup: aws.Bool(true),
		ReplicationServerInstanceType: aws.String("t3.small"), UseDedicatedReplicationServer: aws.Bool(false), DefaultLargeStagingDiskType: mgntypes.ReplicationConfigurationDefaultLargeStagingDiskTypeGp2,
		EbsEncryption: mgntypes.ReplicationConfigurationEbsEncryptionDefault, DataPlaneRouting: mgntypes.ReplicationConfigurationDataPlaneRoutingPrivateIp,
		CreatePublicIP: aws.Bool(false), StagingAreaTags: map[string]string{}, Tags: map[string]string{"Name": "mgn-replication-template-dev"},
	})
	require.NoError(t, err)

	env.DryRun = true
	cloud.ResetCalls()
	require.NoError(t, migration.DeleteReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key)))
	assert.Empty(t, cloud.Writes())
	env.DryRun = false

	report := &migration.Report{}
	env.Reporter = report
	require.NoError(t, migration.DeleteReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key)))
	assert.Equal(t, []string{aws.ToString(decoy.ReplicationConfigurationTemplateID)}, cloud.MGN().Templates(), "the look-alike stays")
	assert.Equal(t, tmpl.ID, report.Changes()[0].ID)
	cloud.ResetCalls()
	require.NoError(t, migration.DeleteReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key)))
	assert.Empty(t, cloud.Writes())
}

func TestReplicationTemplateSpecValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	key := "arn:aws:kms:us-east-1:123456789012:key/x"
	for _, tt := range []struct {
		edit func(*migration.ReplicationTemplateSpec)
		want string
	}{
		{func(s *migration.ReplicationTemplateSpec) { s.StagingSubnetID = "" }, "replicationTemplate.stagingSubnetId"},
		{func(s *migration.ReplicationTemplateSpec) { s.SecurityGroupIDs = nil }, "replicationTemplate.securityGroupIds: 1 to 32"},
		{func(s *migration.ReplicationTemplateSpec) { s.SecurityGroupIDs = []string{"default"} }, "replicationTemplate.securityGroupIds[0]"},
		{func(s *migration.ReplicationTemplateSpec) { s.KMSKeyARN = "" }, "replicationTemplate.kmsKeyArn"},
		{func(s *migration.ReplicationTemplateSpec) { s.InstanceType = "large" }, "replicationTemplate.instanceType"},
		{func(s *migration.ReplicationTemplateSpec) { s.BandwidthMbps = -1 }, "replicationTemplate.bandwidthMbps"},
		{func(s *migration.ReplicationTemplateSpec) { s.StagingDiskType = "IO2" }, "replicationTemplate.stagingDiskType"},
		{func(s *migration.ReplicationTemplateSpec) { s.AdoptTemplateID = "default" }, "replicationTemplate.adoptTemplateId"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			spec := templateSpec(key)
			tt.edit(&spec)
			_, err := migration.EnsureReplicationTemplate(context.Background(), env, cloud.MGN(), spec)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, migration.DeleteReplicationTemplate(context.Background(), env, cloud.MGN(), spec), tt.want)
			assert.Empty(t, cloud.Calls())
		})
	}
}

// appServers registers n source servers app-01.. with the initial syncs
// given (the last one repeats), initializes MGN, and returns the refs.
func appServers(t *testing.T, cloud *fakecloud.Cloud, n int, syncs ...time.Duration) ([]migration.SourceServerRef, map[string]string) {
	t.Helper()
	_, err := cloud.MGN().InitializeService(context.Background(), &mgn.InitializeServiceInput{})
	require.NoError(t, err)
	var refs []migration.SourceServerRef
	ids := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("app-%02d", i+1)
		id := cloud.MGN().AddSourceServer(name, map[string]string{"Role": "app"})
		sync := syncs[min(i, len(syncs)-1)]
		cloud.MGN().SetInitialSync(id, 200<<30, sync)
		refs = append(refs, migration.SourceServerRef{Name: name, Hostname: name})
		ids[name] = id
	}
	return refs, ids
}

func TestReadServers(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	// app-01 syncs in an hour, the others in four.
	refs, ids := appServers(t, cloud, 12, time.Hour, 4*time.Hour)
	// The agent of app-12 was reinstalled: its old record is archived.
	old := cloud.MGN().AddSourceServer("app-12", nil)
	cloud.MGN().ArchiveServer(old)
	refs = append(refs,
		migration.SourceServerRef{Name: "db-proxy", Hostname: "db-proxy"},           // no agent yet
		migration.SourceServerRef{Name: "batch", TagKey: "Role", TagValue: "batch"}, // matched by tag
	)
	batch := cloud.MGN().AddSourceServer("batch-host-17", map[string]string{"Role": "batch"})
	cloud.Clock().Advance(2*time.Hour + 5*time.Minute) // 5 min initiating + 2 h of a 4 h sync
	cloud.MGN().StallReplication(ids["app-01"])
	cloud.Clock().Advance(20 * time.Minute)
	cloud.ResetCalls()

	rec := &recorder{}
	statuses, err := migration.ReadServers(ctx, env, cloud.MGN(), refs, rec)
	require.NoError(t, err)
	require.Len(t, statuses, 14)
	assert.GreaterOrEqual(t, cloud.Count("mgn", "DescribeSourceServers"), 2, "every page is read")
	assert.Empty(t, cloud.Writes())
	byName := map[string]migration.ServerStatus{}
	for _, s := range statuses {
		byName[s.Name] = s
	}
	app01 := byName["app-01"]
	assert.Equal(t, ids["app-01"], app01.ID)
	assert.Equal(t, "READY_FOR_TEST", app01.State)
	assert.Equal(t, "STALLED", app01.Replication)
	assert.Equal(t, 20*time.Minute, app01.Lag)
	assert.InDelta(t, 100, app01.Percent, 0.01)
	app05 := byName["app-05"]
	assert.Equal(t, "NOT_READY", app05.State)
	assert.Equal(t, "INITIAL_SYNC", app05.Replication)
	assert.InDelta(t, 58.3, app05.Percent, 0.5, "2 h 20 min of a 4 h sync")
	assert.Zero(t, app05.Lag, "no lag before the initial sync ends")
	assert.Equal(t, ids["app-12"], byName["app-12"].ID, "the archived record is ignored")
	assert.Equal(t, migration.ServerStateNoSourceServer, byName["db-proxy"].State)
	assert.Equal(t, batch, byName["batch"].ID)
	assert.Equal(t, cloud.Clock().Now(), app01.At)
	assert.ElementsMatch(t, statuses, rec.servers, "every server is recorded")

	// Two live records for one server is an error naming it; the rest
	// is still read and recorded.
	cloud.MGN().AddSourceServer("app-03", nil)
	rec = &recorder{}
	statuses, err = migration.ReadServers(ctx, env, cloud.MGN(), refs, rec)
	require.ErrorContains(t, err, `server "app-03": 2 source servers match`)
	assert.Len(t, statuses, 14)
	assert.Len(t, rec.servers, 13)
}

func TestReadServersValidation(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	for _, tt := range []struct {
		refs []migration.SourceServerRef
		want string
	}{
		{nil, "at least one server"},
		{[]migration.SourceServerRef{{Hostname: "a"}}, "servers[0].name: required"},
		{[]migration.SourceServerRef{{Name: "a", Hostname: "a"}, {Name: "a", Hostname: "b"}}, `servers[1].name: "a" twice`},
		{[]migration.SourceServerRef{{Name: "a"}}, "set exactly one of hostname and tagKey"},
		{[]migration.SourceServerRef{{Name: "a", Hostname: "a", TagKey: "Role"}}, "set exactly one of hostname and tagKey"},
		{[]migration.SourceServerRef{{Name: "a", Hostname: "bad host"}}, "servers[0].hostname"},
	} {
		_, err := migration.ReadServers(context.Background(), env, cloud.MGN(), tt.refs, nil)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}

// gatedMGN holds every StartTest until limit calls are in flight at
// once (or all have started), and records the most seen in flight.
type gatedMGN struct {
	migration.MGNServersAPI
	limit, total int

	mu                     sync.Mutex
	cond                   *sync.Cond
	inFlight, max, started int
	timedOut               bool
}

func newGatedMGN(api migration.MGNServersAPI, limit, total int) *gatedMGN {
	g := &gatedMGN{MGNServersAPI: api, limit: limit, total: total}
	g.cond = sync.NewCond(&g.mu)
	// A deadlock guard only: an implementation that never reaches the
	// limit would otherwise hang the test.
	time.AfterFunc(10*time.Second, func() {
		g.mu.Lock()
		g.timedOut = true
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	return g
}

func (g *gatedMGN) StartTest(ctx context.Context, in *mgn.StartTestInput, o ...func(*mgn.Options)) (*mgn.StartTestOutput, error) {
	g.mu.Lock()
	g.inFlight++
	g.started++
	g.max = max(g.max, g.inFlight)
	g.cond.Broadcast()
	for g.inFlight < g.limit && g.started < g.total && !g.timedOut {
		g.cond.Wait()
	}
	g.mu.Unlock()
	out, err := g.MGNServersAPI.StartTest(ctx, in, o...)
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
	return out, err
}

func TestWaveOfTwelveWithOneFailingLaunch(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	refs, ids := appServers(t, cloud, 12, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	cloud.MGN().FailNextLaunch(ids["app-07"])
	gate := newGatedMGN(cloud.MGN(), 4, 12)
	rec := &recorder{}
	report := &migration.Report{}
	env.Reporter = report

	wave := migration.Wave{Name: "wave-1", Servers: refs, Concurrency: 4}
	res, err := migration.LaunchTestInstances(ctx, env, gate, wave, rec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `wave "wave-1": server "app-07" (`+ids["app-07"]+`): StartTest: launch job`)
	assert.Contains(t, err.Error(), "FAILED")
	assert.Equal(t, []string{"app-07"}, res.Failed())
	assert.False(t, gate.timedOut)
	assert.Equal(t, 4, gate.max, "at most wave.Concurrency launches at once, and that many")
	assert.Equal(t, 12, cloud.Count("mgn", "StartTest"))
	require.Len(t, res.Servers, 12)
	for _, o := range res.Servers {
		assert.Equal(t, "TESTING", o.State, o.Name)
		assert.NotEmpty(t, o.JobID, o.Name)
		if o.Name != "app-07" {
			assert.NoError(t, o.Err)
			assert.True(t, strings.HasPrefix(o.InstanceID, "i-"), o.Name)
		}
	}
	assert.Len(t, rec.servers, 12, "every server is recorded, the failed one too")
	assert.Equal(t, 11, report.Counts()[migration.ActionCreate])
	first := map[string]migration.ServerOutcome{}
	for _, o := range res.Servers {
		first[o.Name] = o
	}
	assert.Empty(t, first["app-07"].InstanceID, "a failed launch names no instance")

	// Re-run: the eleven launched are skipped; the failed one is launched
	// again and now succeeds.
	cloud.ResetCalls()
	res, err = migration.LaunchTestInstances(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, cloud.Count("mgn", "StartTest"))
	skipped := 0
	for _, o := range res.Servers {
		if o.Skipped {
			skipped++
			// A skipped server still names its test instance and job:
			// the caller validates those.
			assert.Equal(t, first[o.Name].InstanceID, o.InstanceID, o.Name)
			assert.Equal(t, first[o.Name].JobID, o.JobID, o.Name)
		} else {
			assert.Equal(t, "app-07", o.Name)
			assert.True(t, strings.HasPrefix(o.InstanceID, "i-"))
			assert.NotEqual(t, first["app-07"].JobID, o.JobID, "a new launch job")
		}
	}
	assert.Equal(t, 11, skipped)
}

// A re-run after a crash that lost StartTest's (or StartCutover's)
// answer waits for the launch under way instead of launching again.
func TestWaveLaunchCrashIsNotLaunchedTwice(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	refs, ids := appServers(t, cloud, 3, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	wave := migration.Wave{Name: "wave-1", Servers: refs, Concurrency: 1}
	jobs := func(op string) int { return cloud.Count("mgn", op) }

	// The first StartTest takes effect; the process dies before it hears.
	cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
	_, err := migration.LaunchTestInstances(ctx, env, cloud.MGN(), wave, nil)
	require.Error(t, err)
	cloud.Restart()
	cloud.ResetCalls()
	plan := env
	plan.DryRun = true
	report := &migration.Report{}
	plan.Reporter = report
	_, err = migration.LaunchTestInstances(ctx, plan, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	notes := map[string]string{}
	for _, c := range report.Changes() {
		notes[c.Name] = c.Note
	}
	assert.Contains(t, notes["app-01"], "waits for launch job", "the plan says it waits for the launch under way")

	cloud.ResetCalls()
	res, err := migration.LaunchTestInstances(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, jobs("StartTest"), "app-01's launch under way is waited for; only the other two launch")
	for _, o := range res.Servers {
		assert.Equal(t, "TESTING", o.State, o.Name)
		assert.True(t, strings.HasPrefix(o.InstanceID, "i-"), o.Name)
	}

	// The same for the cutover launch.
	_, err = migration.MarkReadyForCutover(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{CrashAtWrite: 1, CrashAfter: true})
	_, err = migration.StartWaveCutover(ctx, env, cloud.MGN(), wave, nil)
	require.Error(t, err)
	cloud.Restart()
	cloud.ResetCalls()
	res, err = migration.StartWaveCutover(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, jobs("StartCutover"))
	for _, o := range res.Servers {
		assert.Equal(t, "CUTTING_OVER", o.State, o.Name)
	}
	_, err = migration.FinalizeWaveCutover(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	assert.Equal(t, "CUTOVER", cloud.MGN().ServerLifecycle(ids["app-01"]))
}

// jobWithoutServer answers DescribeJobs with the job's participating
// servers removed, as a job that never took the server in would.
type jobWithoutServer struct {
	migration.MGNServersAPI
}

func (j jobWithoutServer) DescribeJobs(ctx context.Context, in *mgn.DescribeJobsInput, o ...func(*mgn.Options)) (*mgn.DescribeJobsOutput, error) {
	out, err := j.MGNServersAPI.DescribeJobs(ctx, in, o...)
	if err == nil {
		for i := range out.Items {
			out.Items[i].ParticipatingServers = nil
		}
	}
	return out, err
}

func TestLaunchJobWithoutTheServerIsAFailure(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	refs, ids := appServers(t, cloud, 1, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	res, err := migration.LaunchTestInstances(ctx, env, jobWithoutServer{cloud.MGN()}, migration.Wave{Name: "wave-1", Servers: refs}, nil)
	require.ErrorContains(t, err, "completed without source server "+ids["app-01"])
	assert.Equal(t, []string{"app-01"}, res.Failed())
	assert.Empty(t, res.Servers[0].InstanceID)
}

func TestWaveRefusesServersInTheWrongState(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	// app-01..03 synced; app-04..06 still in their initial sync.
	refs, _ := appServers(t, cloud, 6, time.Hour, time.Hour, time.Hour, 8*time.Hour)
	refs = append(refs, migration.SourceServerRef{Name: "app-99", Hostname: "app-99"})
	cloud.Clock().Advance(2 * time.Hour)
	res, err := migration.LaunchTestInstances(ctx, env, cloud.MGN(), migration.Wave{Name: "wave-2", Servers: refs}, nil)
	require.Error(t, err)
	assert.Equal(t, []string{"app-04", "app-05", "app-06", "app-99"}, res.Failed())
	for _, name := range []string{"app-04", "app-05", "app-06"} {
		assert.Contains(t, err.Error(), `server "`+name+`"`)
	}
	assert.Contains(t, err.Error(), "lifecycle state NOT_READY (replication INITIAL_SYNC")
	assert.Contains(t, err.Error(), "StartTest needs READY_FOR_TEST")
	assert.Contains(t, err.Error(), `server "app-99": StartTest: no MGN source server matches`)
	assert.Equal(t, 3, cloud.Count("mgn", "StartTest"), "the ready servers still launch")

	// Cutover straight from testing is refused: mark them ready first.
	_, err = migration.StartWaveCutover(ctx, env, cloud.MGN(), migration.Wave{Name: "wave-2", Servers: refs[:3]}, nil)
	require.ErrorContains(t, err, "lifecycle state TESTING")
	assert.Contains(t, err.Error(), "StartCutover needs READY_FOR_CUTOVER")
	// Finalizing a server that never cut over is refused too.
	_, err = migration.FinalizeWaveCutover(ctx, env, cloud.MGN(), migration.Wave{Name: "wave-2", Servers: refs[:1]}, nil)
	require.ErrorContains(t, err, "FinalizeCutover needs CUTTING_OVER")
}

func TestWaveLifecycle(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	refs, ids := appServers(t, cloud, 3, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	wave := migration.Wave{Name: "wave-1", Servers: refs, Concurrency: 2}
	rec := &recorder{}

	// A plan reads and checks, and writes nothing.
	plan := env
	plan.DryRun = true
	cloud.ResetCalls()
	_, err := migration.LaunchTestInstances(ctx, plan, cloud.MGN(), wave, rec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())

	steps := []struct {
		name string
		run  func(context.Context, migration.Env, migration.MGNServersAPI, migration.Wave, migration.ProgressRecorder) (migration.WaveResult, error)
		want string
	}{
		{"test", migration.LaunchTestInstances, "TESTING"},
		{"ready", migration.MarkReadyForCutover, "READY_FOR_CUTOVER"},
		{"cutover", migration.StartWaveCutover, "CUTTING_OVER"},
		{"finalize", migration.FinalizeWaveCutover, "CUTOVER"},
	}
	for _, s := range steps {
		res, err := s.run(ctx, env, cloud.MGN(), wave, rec)
		require.NoError(t, err, s.name)
		for _, o := range res.Servers {
			assert.Equal(t, s.want, o.State, "%s %s", s.name, o.Name)
			assert.Equal(t, s.want, cloud.MGN().ServerLifecycle(ids[o.Name]))
		}
		// Every step is idempotent: a re-run skips every server, writes nothing.
		cloud.ResetCalls()
		res, err = s.run(ctx, env, cloud.MGN(), wave, rec)
		require.NoError(t, err, s.name)
		assert.Empty(t, cloud.Writes(), s.name)
		for _, o := range res.Servers {
			assert.True(t, o.Skipped, "%s %s", s.name, o.Name)
		}
	}
	// Every earlier step finds the servers past it: skipped, no write
	// (a cutover retried after a rollback runs them again).
	for _, s := range steps[:3] {
		cloud.ResetCalls()
		res, err := s.run(ctx, env, cloud.MGN(), wave, rec)
		require.NoError(t, err, s.name)
		assert.Empty(t, cloud.Writes(), s.name)
		for _, o := range res.Servers {
			assert.True(t, o.Skipped, "%s %s", s.name, o.Name)
		}
	}
	last := rec.servers[len(rec.servers)-1]
	assert.Equal(t, "CUTOVER", last.State)
	assert.Equal(t, "DISCONNECTED", last.Replication, "finalized: replication stopped")
}

func TestStartWaveCutoverRefusesALaggingServer(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	refs, ids := appServers(t, cloud, 2, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	wave := migration.Wave{Name: "wave-1", Servers: refs}
	_, err := migration.LaunchTestInstances(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	_, err = migration.MarkReadyForCutover(ctx, env, cloud.MGN(), wave, nil)
	require.NoError(t, err)
	cloud.MGN().StallReplication(ids["app-02"])
	cloud.Clock().Advance(time.Hour)
	res, err := migration.StartWaveCutover(ctx, env, cloud.MGN(), wave, nil)
	require.ErrorContains(t, err, `server "app-02"`)
	assert.Contains(t, err.Error(), "data replication is STALLED (lag 1h0m0s)")
	assert.Equal(t, []string{"app-02"}, res.Failed())
	assert.Equal(t, "CUTTING_OVER", cloud.MGN().ServerLifecycle(ids["app-01"]))
	assert.Equal(t, "READY_FOR_CUTOVER", cloud.MGN().ServerLifecycle(ids["app-02"]))
}

func TestWaveValidate(t *testing.T) {
	env, cloud, _ := cloudEnv(t)
	refs := []migration.SourceServerRef{{Name: "app-01", Hostname: "app-01"}}
	for _, tt := range []struct {
		wave migration.Wave
		want string
	}{
		{migration.Wave{Servers: refs}, "wave.name: required"},
		{migration.Wave{Name: "w", Servers: refs, Concurrency: 21}, "wave.concurrency"},
		{migration.Wave{Name: "w", Servers: refs, LaunchTimeout: -time.Second}, "must not be negative"},
		{migration.Wave{Name: "w"}, "at least one server"},
	} {
		_, err := migration.LaunchTestInstances(context.Background(), env, cloud.MGN(), tt.wave, nil)
		require.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, cloud.Calls())
}

func TestParseISODuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"PT0S", 0, false},
		{"PT5S", 5 * time.Second, false},
		{"PT1M30S", 90 * time.Second, false},
		{"PT2H", 2 * time.Hour, false},
		{"P1DT2H3M4.5S", 26*time.Hour + 3*time.Minute + 4500*time.Millisecond, false},
		{"P2D", 48 * time.Hour, false},
		{"", 0, true},
		{"P", 0, true},
		{"PT", 0, true},
		{"5s", 0, true},
	} {
		got, err := migration.ParseISODuration(tt.in)
		if tt.err {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func ExampleLaunchTestInstances() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	_, _ = migration.EnsureMGNRoles(ctx, env, cloud.IAM())
	_ = migration.EnsureMGNService(ctx, env, cloud.MGN())
	var servers []migration.SourceServerRef
	for _, host := range []string{"app-01", "app-02", "app-03"} {
		cloud.MGN().AddSourceServer(host, nil) // the replication agent was installed
		servers = append(servers, migration.SourceServerRef{Name: host, Hostname: host})
	}
	cloud.Clock().Advance(3 * time.Hour) // initial sync
	res, err := migration.LaunchTestInstances(ctx, env, cloud.MGN(), migration.Wave{Name: "wave-1", Servers: servers}, nil)
	for _, s := range res.Servers {
		fmt.Println(s.Name, s.State)
	}
	fmt.Println(err)
	// Output:
	// app-01 TESTING
	// app-02 TESTING
	// app-03 TESTING
	// <nil>
}

func TestMGNConvergesUnderThrottling(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := cloudEnv(t)
	key := envKey(t, env, cloud)
	refs, _ := appServers(t, cloud, 12, time.Hour)
	cloud.Clock().Advance(2 * time.Hour)
	cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.4, Services: []string{"mgn"}})
	require.NoError(t, migration.EnsureMGNService(ctx, env, cloud.MGN()))
	_, err := migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
	require.NoError(t, err)
	statuses, err := migration.ReadServers(ctx, env, cloud.MGN(), refs, nil)
	require.NoError(t, err)
	assert.Len(t, statuses, 12)
	_, err = migration.LaunchTestInstances(ctx, env, cloud.MGN(), migration.Wave{Name: "wave-1", Servers: refs, Concurrency: 6}, nil)
	require.NoError(t, err)
	cloud.SetFaults(fakecloud.Faults{})
	throttled := 0
	for _, c := range cloud.Calls() {
		if c.Code == "ThrottlingException" {
			throttled++
		}
	}
	assert.Positive(t, throttled, "the fault must have fired")
	assert.Len(t, cloud.MGN().Templates(), 1)
	assert.Equal(t, 12, cloud.Count("mgn", "StartTest")-countFailed(cloud, "StartTest"), "one launch per server, however often throttled")
	cloud.ResetCalls()
	_, err = migration.EnsureReplicationTemplate(ctx, env, cloud.MGN(), templateSpec(key))
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
}

// countFailed counts the calls of op that failed (throttled attempts).
func countFailed(cloud *fakecloud.Cloud, op string) int {
	n := 0
	for _, c := range cloud.Calls() {
		if c.Op == op && c.Code != "" {
			n++
		}
	}
	return n
}
