package network_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// Secret ARNs and values the tests use. The values must never show in a
// Change, a log or an error.
const (
	psk1ARN  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:vpn-psk-1-AbCdEf"
	psk2ARN  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:vpn-psk-2-AbCdEf"
	bgpARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dx-bgp-AbCdEf"
	psk1     = "tunnel_one.key_31415"
	psk2     = "tunnel_two.key_27182"
	bgpKey   = "bgp-md5-key-16180"
	onPrem   = "192.168.0.0/16"
	vpcBlock = "10.0.0.0/16"
)

// mapSecrets is a SecretReader over a map, counting reads.
type mapSecrets struct {
	values map[string]string
	reads  int
}

func (m *mapSecrets) SecretValue(_ context.Context, arn string) (string, error) {
	m.reads++
	v, ok := m.values[arn]
	if !ok {
		return "", errors.New("ResourceNotFoundException: secret " + arn + " not found")
	}
	return v, nil
}

// fx is a fake cloud with the env's network built up to what a test
// needs. Its with* methods ensure a prerequisite (and everything it
// depends on) once.
type fx struct {
	t       *testing.T
	ctx     context.Context
	env     migration.Env
	cloud   *fakecloud.Cloud
	report  *migration.Report
	secrets *mapSecrets

	key     migration.Key
	vpc     network.VPC
	subnets network.Subnets
	igw     network.InternetGateway
	nats    network.NATGateways
	rts     network.RouteTables
	sgs     network.SecurityGroups
	vgw     network.VPNGateway
	dxConn  string // the Direct Connect connection a test added
	done    map[string]bool
}

func newFx(t *testing.T) *fx {
	t.Helper()
	cloud := fakecloud.New()
	r := &migration.Report{}
	return &fx{
		t: t, ctx: context.Background(), cloud: cloud, report: r, done: map[string]bool{},
		env:     migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: r},
		secrets: &mapSecrets{values: map[string]string{psk1ARN: psk1, psk2ARN: psk2, bgpARN: bgpKey}},
	}
}

// once runs fn the first time name is asked for.
func (f *fx) once(name string, fn func() error) {
	f.t.Helper()
	if f.done[name] {
		return
	}
	require.NoError(f.t, fn(), name)
	f.done[name] = true
}

func (f *fx) withKey() *fx {
	f.once("key", func() (err error) {
		f.key, err = migration.EnsureKey(f.ctx, f.env, f.cloud.KMS(), migration.KeySpec{})
		return
	})
	return f
}

func (f *fx) withVPC() *fx {
	f.once("vpc", func() (err error) {
		f.vpc, err = network.EnsureVPC(f.ctx, f.env, f.cloud.EC2(), network.VPCSpec{CIDR: vpcBlock})
		return
	})
	return f
}

func (f *fx) subnetsSpec() network.SubnetsSpec {
	return network.SubnetsSpec{VPCID: f.vpc.ID, VPCCIDR: vpcBlock, AZCount: 3, PublicPrefix: 24, PrivatePrefix: 20}
}

func (f *fx) withSubnets() *fx {
	f.withVPC()
	f.once("subnets", func() (err error) {
		f.subnets, err = network.EnsureSubnets(f.ctx, f.env, f.cloud.EC2(), f.subnetsSpec())
		return
	})
	return f
}

func (f *fx) igwSpec() network.InternetGatewaySpec {
	return network.InternetGatewaySpec{VPCID: f.vpc.ID}
}

func (f *fx) withIGW() *fx {
	f.withVPC()
	f.once("igw", func() (err error) {
		f.igw, err = network.EnsureInternetGateway(f.ctx, f.env, f.cloud.EC2(), f.igwSpec())
		return
	})
	return f
}

func (f *fx) natSpec() network.NATGatewaysSpec {
	return network.NATGatewaysSpec{Mode: network.NATPerAZ, PublicSubnets: f.subnets.Public}
}

func (f *fx) withNATs() *fx {
	f.withSubnets().withIGW()
	f.once("nats", func() (err error) {
		f.nats, err = network.EnsureNATGateways(f.ctx, f.env, f.cloud.EC2(), f.natSpec())
		return
	})
	return f
}

func (f *fx) routesSpec() network.RouteTablesSpec {
	return network.RouteTablesSpec{VPCID: f.vpc.ID, InternetGatewayID: f.igw.ID, PublicSubnets: f.subnets.Public, PrivateSubnets: f.subnets.Private, NATGatewayIDs: f.nats.ByAZ}
}

func (f *fx) withRoutes() *fx {
	f.withNATs()
	f.once("routes", func() (err error) {
		f.rts, err = network.EnsureRouteTables(f.ctx, f.env, f.cloud.EC2(), f.routesSpec())
		return
	})
	return f
}

func (f *fx) sgSpec() network.SecurityGroupsSpec {
	return network.SecurityGroupsSpec{VPCID: f.vpc.ID, OnPremCIDR: onPrem, WebPort: 443, AppPort: 8080, DBPort: 5432, OnPremDBPort: 5432}
}

func (f *fx) flowSpec() network.FlowLogsSpec {
	return network.FlowLogsSpec{VPCID: f.vpc.ID, KMSKeyARN: f.key.ARN, RetentionDays: 90}
}

func (f *fx) flowClients() network.FlowLogsClients {
	return network.FlowLogsClients{EC2: f.cloud.EC2(), Logs: f.cloud.Logs(), IAM: f.cloud.IAM()}
}

func (f *fx) vgwSpec() network.VPNGatewaySpec {
	return network.VPNGatewaySpec{VPCID: f.vpc.ID, AmazonSideASN: 64512, RouteTableIDs: f.rts.PrivateIDs}
}

func (f *fx) withVGW() *fx {
	f.withRoutes()
	f.once("vgw", func() (err error) {
		f.vgw, err = network.EnsureVPNGateway(f.ctx, f.env, f.cloud.EC2(), f.vgwSpec())
		return
	})
	return f
}

func (f *fx) vpnSpec() network.VPNConnectionSpec {
	return network.VPNConnectionSpec{
		VPNGatewayID: f.vgw.ID, AmazonSideASN: 64512, CustomerGatewayIP: "203.0.113.10", CustomerASN: 65010,
		OnPremCIDR: onPrem, VPCCIDR: vpcBlock, KMSKeyARN: f.key.ARN, LogRetentionDays: 90,
		Tunnels: [2]network.TunnelSpec{
			{InsideCIDR: "169.254.10.0/30", PreSharedKeySecretARN: psk1ARN},
			{InsideCIDR: "169.254.11.0/30", PreSharedKeySecretARN: psk2ARN},
		},
	}
}

func (f *fx) vpnClients() network.VPNConnectionClients {
	return network.VPNConnectionClients{EC2: f.cloud.EC2(), Logs: f.cloud.Logs(), Secrets: f.secrets}
}

func (f *fx) dxSpec() network.DirectConnectSpec {
	return network.DirectConnectSpec{AmazonSideASN: 64513, VPNGatewayID: f.vgw.ID, VPCCIDR: vpcBlock}
}

func (f *fx) dxClients() network.DirectConnectClients {
	return network.DirectConnectClients{DX: f.cloud.DirectConnect(), Secrets: f.secrets}
}

func (f *fx) resolverSpec() network.ResolverEndpointSpec {
	return network.ResolverEndpointSpec{VPCID: f.vpc.ID, OnPremCIDR: onPrem, Subnets: f.subnets.Private[:2]}
}

func (f *fx) resolverClients() network.ResolverClients {
	return network.ResolverClients{EC2: f.cloud.EC2(), Resolver: f.cloud.Resolver()}
}

// reset empties the call log and the report, and sets the run mode.
func (f *fx) reset(dryRun bool) {
	f.cloud.ResetCalls()
	f.report = &migration.Report{}
	f.env.Reporter = f.report
	f.env.DryRun = dryRun
}

// writeCounts counts the write calls of the log by operation.
func writeCounts(cloud *fakecloud.Cloud) map[string]int {
	out := map[string]int{}
	for _, c := range cloud.Writes() {
		out[c.Op]++
	}
	return out
}

// writeOps lists the write calls of the log, in order.
func writeOps(cloud *fakecloud.Cloud) []string {
	var ops []string
	for _, c := range cloud.Writes() {
		ops = append(ops, c.Op)
	}
	return ops
}

// byKind collects the report's actions per kind, in report order.
func byKind(r *migration.Report) map[string][]migration.Action {
	out := map[string][]migration.Action{}
	for _, c := range r.Changes() {
		out[c.Kind] = append(out[c.Kind], c.Action)
	}
	return out
}

// n repeats an action.
func n(count int, a migration.Action) []migration.Action {
	out := make([]migration.Action, count)
	for i := range out {
		out[i] = a
	}
	return out
}

const (
	create = migration.ActionCreate
	update = migration.ActionUpdate
	noop   = migration.ActionNoop
	del    = migration.ActionDelete
)

// ensureCase is one row of an Ensure table: setup runs on a fixture with
// the prerequisites (before the call log is reset); mod edits the spec.
type ensureCase[S any] struct {
	name       string
	setup      func(t *testing.T, f *fx, spec S)
	dryRun     bool
	mod        func(f *fx, s *S)
	want       map[string][]migration.Action
	wantWrites map[string]int
	wantErr    string
	check      func(t *testing.T, f *fx)
}

// runEnsure runs an Ensure table: prepare builds the prerequisites and
// returns the spec, run calls the Ensure. Every case asserts the report
// and the writes; an error case asserts that nothing was written; a dry
// run that nothing was written.
func runEnsure[S any](t *testing.T, prepare func(f *fx) S, run func(f *fx, spec S) error, cases []ensureCase[S]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			spec := prepare(f)
			if tt.setup != nil {
				tt.setup(t, f, spec)
			}
			if tt.mod != nil {
				tt.mod(f, &spec)
			}
			f.reset(tt.dryRun)
			err := run(f, spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assertNoSecrets(t, err.Error())
				assert.Empty(t, f.cloud.Writes(), "a refused change writes nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, byKind(f.report))
			want := tt.wantWrites
			if want == nil {
				want = map[string]int{}
			}
			assert.Equal(t, want, writeCounts(f.cloud), "writes")
			if tt.dryRun {
				assert.Empty(t, f.cloud.Writes(), "a dry run writes nothing")
			}
			for _, c := range f.report.Changes() {
				assertNoSecrets(t, c.String())
			}
			if tt.check != nil {
				tt.check(t, f)
			}
			if !tt.dryRun {
				// Converged: the same call again makes no write.
				f.reset(false)
				require.NoError(t, run(f, spec))
				assert.Empty(t, writeOps(f.cloud), "second run writes nothing")
				for kind, actions := range byKind(f.report) {
					assert.Equal(t, n(len(actions), noop), actions, "second run of %s", kind)
				}
			}
		})
	}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{psk1, psk2, bgpKey} {
		assert.NotContains(t, s, secret, "a secret value leaked")
	}
}
