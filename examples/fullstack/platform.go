package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
	"github.com/cutoverkit/cutover/validate"
)

// outputs carries the IDs one step produces for the steps that depend on
// it. Each field is written by exactly one step and read only by steps
// that depend on that step, so the Runbook's ordering makes it race-free.
type outputs struct {
	key       migration.Key
	vpc       network.VPC
	subnets   network.Subnets
	igw       network.InternetGateway
	sgs       network.SecurityGroups
	nat       network.NATGateways
	routes    network.RouteTables
	vgw       network.VPNGateway
	vpn       network.VPNConnection
	dx        network.DirectConnect
	resolver  network.ResolverEndpoint
	sourceARN string
	dms       dms.Outputs
	zone      dns.Zone
	records   dns.Records
	database  dns.Records
	table     tracking.Table
	topic     tracking.Topic
	alarms    rollback.PolicyAlarms
	function  rollback.Function
	template  migration.ReplicationTemplate
	agentARNs []string
	files     migration.FileTransfer
	suite     validate.Suite
}

// Step names the commands refer to.
const (
	stepKey      = "kms-key"
	stepVPC      = "vpc"
	stepSubnets  = "subnets"
	stepIGW      = "internet-gateway"
	stepSGs      = "security-groups"
	stepNAT      = "nat-gateways"
	stepRoutes   = "route-tables"
	stepVGW      = "vpn-gateway"
	stepVPN      = "vpn-connection"
	stepSecret   = "source-db-secret"
	stepZone     = "dns-zone"
	stepRecords  = "dns-records"
	stepDBRecord = "dns-database-record"
	stepTable    = "tracking-table"
	stepTopic    = "notifications"
	stepAlarms   = "rollback-alarms"
	stepFunction = "rollback-lambda"
	stepRule     = "rollback-alarm-rule"
	stepMGN      = "mgn-service"
	stepAgents   = "datasync-agents"
)

// platform is the composed migration: the runbook and what its steps
// produce. lambdaZip supplies the rollback Lambda's deployment package.
type platform struct {
	spec      Spec
	c         *clients
	out       *outputs
	lambdaZip func(ctx context.Context) ([]byte, error)
}

func newPlatform(spec Spec, c *clients, lambdaZip func(context.Context) ([]byte, error)) *platform {
	return &platform{spec: spec, c: c, out: &outputs{}, lambdaZip: lambdaZip}
}

// runbook composes every package's Ensure and Delete as steps of one DAG:
// independent parts (the network, the key, the tracking table, MGN, DNS)
// provision in parallel, each waiting only for what it uses. A Delete
// takes the same spec as its Ensure: before a destroy, discover fills the
// outputs with what exists (pending IDs for what does not).
func (p *platform) runbook(opts migration.Options) (*migration.Runbook, error) {
	return migration.NewRunbook(opts, p.steps(opts)...)
}

// steps are the runbook's steps, each depending only on the steps whose
// outputs it reads.
func (p *platform) steps(opts migration.Options) []migration.Step {
	s, c, out := p.spec, p.c, p.out
	steps := []migration.Step{
		{
			Name: stepKey,
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.key, err = migration.EnsureKey(ctx, env, c.kms, s.keySpec())
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return migration.DeleteKey(ctx, env, c.kms, s.keySpec())
			},
		},
		{
			Name: stepVPC,
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.vpc, err = network.EnsureVPC(ctx, env, c.ec2, s.vpcSpec())
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteVPC(ctx, env, c.ec2, s.vpcSpec())
			},
		},
		{
			Name: stepSubnets, DependsOn: []string{stepVPC},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.subnets, err = network.EnsureSubnets(ctx, env, c.ec2, s.subnetsSpec(out.vpc.ID))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteSubnets(ctx, env, c.ec2, s.subnetsSpec(out.vpc.ID))
			},
		},
		{
			Name: stepIGW, DependsOn: []string{stepVPC},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.igw, err = network.EnsureInternetGateway(ctx, env, c.ec2, network.InternetGatewaySpec{VPCID: out.vpc.ID})
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteInternetGateway(ctx, env, c.ec2, network.InternetGatewaySpec{VPCID: out.vpc.ID})
			},
		},
		{
			Name: stepSGs, DependsOn: []string{stepVPC},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.sgs, err = network.EnsureSecurityGroups(ctx, env, c.ec2, s.securityGroupsSpec(out.vpc.ID))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteSecurityGroups(ctx, env, c.ec2, s.securityGroupsSpec(out.vpc.ID))
			},
		},
		{
			Name: "flow-logs", DependsOn: []string{stepVPC, stepKey},
			Apply: func(ctx context.Context, env migration.Env) error {
				_, err := network.EnsureFlowLogs(ctx, env, p.flowClients(), s.flowLogsSpec(out.vpc.ID, out.key.ARN))
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteFlowLogs(ctx, env, p.flowClients(), s.flowLogsSpec(out.vpc.ID, out.key.ARN))
			},
		},
		{
			Name: stepNAT, DependsOn: []string{stepSubnets, stepIGW},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.nat, err = network.EnsureNATGateways(ctx, env, c.ec2, s.natSpec(out.subnets.Public))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteNATGateways(ctx, env, c.ec2, s.natSpec(out.subnets.Public))
			},
		},
		{
			Name: stepRoutes, DependsOn: []string{stepSubnets, stepIGW, stepNAT},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.routes, err = network.EnsureRouteTables(ctx, env, c.ec2, s.routeTablesSpec(out.vpc.ID, out.igw.ID, out.subnets, out.nat.ByAZ))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteRouteTables(ctx, env, c.ec2, s.routeTablesSpec(out.vpc.ID, out.igw.ID, out.subnets, out.nat.ByAZ))
			},
		},
		{
			Name: stepVGW, DependsOn: []string{stepRoutes},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.vgw, err = network.EnsureVPNGateway(ctx, env, c.ec2, s.vpnGatewaySpec(out.vpc.ID, out.routes.PrivateIDs))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteVPNGateway(ctx, env, c.ec2, s.vpnGatewaySpec(out.vpc.ID, out.routes.PrivateIDs))
			},
		},
		{
			Name: stepVPN, DependsOn: []string{stepVGW, stepKey},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.vpn, err = network.EnsureVPNConnection(ctx, env, p.vpnClients(), s.vpnConnectionSpec(out.vgw.ID, out.key.ARN))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteVPNConnection(ctx, env, p.vpnClients(), s.vpnConnectionSpec(out.vgw.ID, out.key.ARN))
			},
		},
		{
			Name: "direct-connect", DependsOn: []string{stepVGW},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.dx, err = network.EnsureDirectConnect(ctx, env, p.dxClients(), s.directConnectSpec(out.vgw.ID))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteDirectConnect(ctx, env, p.dxClients(), s.directConnectSpec(out.vgw.ID))
			},
		},
		{
			// The operator's secret with the source database credentials:
			// looked up, never created or deleted by the platform.
			Name: stepSecret,
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.sourceARN, err = p.resolveSecret(ctx, s.DMS.Source.SecretName)
				return
			},
		},
		{
			Name: stepZone, DependsOn: []string{stepVPC},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.zone, err = dns.EnsureZone(ctx, env, c.route53, s.zoneSpec(out.vpc.ID))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return dns.DeleteZone(ctx, env, c.route53, s.zoneSpec(out.vpc.ID))
			},
		},
		{
			Name: stepRecords, DependsOn: []string{stepZone},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.records, err = dns.EnsureRecords(ctx, env, c.route53, s.recordsSpec(out.zone.ID))
				return
			},
			// No Delete: DeleteZone removes the env's records with the zone.
		},
		{
			// The database's name, apart from the traffic records: only
			// the database switch moves it (see wire.Replication).
			Name: stepDBRecord, DependsOn: []string{stepZone, dms.StepTargetDB},
			Apply: func(ctx context.Context, env migration.Env) error {
				spec, err := p.databaseRecordsSpec(env)
				if err != nil {
					return err
				}
				out.database, err = dns.EnsureRecords(ctx, env, c.route53, spec)
				return err
			},
			// No Delete: DeleteZone removes the env's records with the zone.
		},
		{
			Name: stepTable, DependsOn: []string{stepKey},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.table, err = tracking.EnsureTable(ctx, env, c.dynamodb, s.tableSpec(out.key.ARN))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return tracking.DeleteTable(ctx, env, c.dynamodb, s.tableSpec(out.key.ARN))
			},
		},
		{
			Name: stepTopic, DependsOn: []string{stepKey},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.topic, err = tracking.EnsureTopic(ctx, env, c.sns, s.topicSpec(out.key.ARN))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return tracking.DeleteTopic(ctx, env, c.sns, s.topicSpec(out.key.ARN))
			},
		},
		{
			Name: stepMGN,
			Apply: func(ctx context.Context, env migration.Env) error {
				if _, err := migration.EnsureMGNRoles(ctx, env, c.iam); err != nil {
					return err
				}
				return migration.EnsureMGNService(ctx, env, c.mgn)
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return errors.Join(migration.DeleteMGNService(ctx, env, c.mgn), migration.DeleteMGNRoles(ctx, env, c.iam))
			},
		},
		{
			// The staging subnet must be private as routed, not only as
			// named. Not waiting for the route tables (the NAT gateways
			// take minutes): before its association the subnet follows the
			// VPC's main table, which the check reads then, and every
			// later apply checks the private table it is associated with.
			Name: "replication-template", DependsOn: []string{stepMGN, stepSubnets, stepSGs, stepKey},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				staging := firstID(out.subnets.Private)
				if err := migration.VerifyPrivateSubnet(ctx, c.ec2, staging); err != nil {
					return fmt.Errorf("mgn staging subnet: %w", err)
				}
				out.template, err = migration.EnsureReplicationTemplate(ctx, env, c.mgn, s.replicationTemplateSpec(staging, out.sgs.Replication, out.key.ARN))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return migration.DeleteReplicationTemplate(ctx, env, c.mgn, s.replicationTemplateSpec(firstID(out.subnets.Private), out.sgs.Replication, out.key.ARN))
			},
		},
		{
			// The DataSync agents run on-premises and are activated by hand
			// (an activation key lives 30 minutes): looked up by name.
			Name: stepAgents,
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.agentARNs, err = p.resolveAgents(ctx, s.Files.Source.Agents)
				return
			},
		},
		{
			// An EFS target's mount targets live in the private subnets and
			// admit the application servers' group: it is destroyed before them.
			Name: "file-transfer", DependsOn: []string{stepKey, stepAgents, stepSubnets, stepSGs},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.files, err = migration.EnsureFileTransfer(ctx, env, p.fileClients(), p.fileTransferSpec())
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return migration.DeleteFileTransfer(ctx, env, p.fileClients(), p.fileTransferSpec())
			},
		},
	}
	if s.Network.Resolver.Enabled {
		steps = append(steps, migration.Step{
			Name: "resolver-endpoint", DependsOn: []string{stepSubnets},
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.resolver, err = network.EnsureResolverEndpoint(ctx, env, p.resolverClients(), s.resolverSpec(out.vpc.ID, out.subnets.Private))
				return
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteResolverEndpoint(ctx, env, p.resolverClients(), s.resolverSpec(out.vpc.ID, out.subnets.Private))
			},
		})
	}
	steps = append(steps, dms.Steps(dms.Clients{DMS: c.dms, RDS: c.rds, Secrets: c.secrets, IAM: c.iam}, p.dmsSpec, &out.dms, stepKey, stepSubnets, stepSGs, stepSecret)...)
	steps = append(steps, validate.Steps(c.ssm, c.logs, p.validateSpec, &out.suite, stepKey, dms.StepTargetSecret)...)
	steps = append(steps,
		migration.Step{
			Name: stepAlarms, DependsOn: []string{stepTopic, dms.StepTasks, stepVPN},
			Apply: func(ctx context.Context, env migration.Env) error {
				policy, err := p.policy(env)
				if err != nil {
					return err
				}
				out.alarms, err = rollback.EnsurePolicyAlarms(ctx, env, c.cloudwatch, policy, []string{out.topic.ARN}, []string{rollback.FunctionARN(env)})
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				policy, err := p.policy(env)
				if err != nil {
					return err
				}
				return rollback.DeletePolicyAlarms(ctx, env, c.cloudwatch, policy)
			},
		},
		migration.Step{
			Name: stepFunction, DependsOn: []string{stepAlarms, stepTable, stepRecords, dms.StepTasks},
			Apply: func(ctx context.Context, env migration.Env) error {
				spec, err := p.functionSpec(ctx, env)
				if err != nil {
					return err
				}
				out.function, err = rollback.EnsureFunction(ctx, env, p.functionClients(), spec)
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				spec, err := p.functionSpec(ctx, env)
				if err != nil {
					return err
				}
				return rollback.DeleteFunction(ctx, env, p.functionClients(), spec)
			},
		},
		// The second path from the composite alarm to the Lambda: an
		// EventBridge rule. The function already allows it (its
		// RuleARNs hold the rule's ARN, known before the rule exists), so
		// the rule comes after the function and a second apply writes
		// nothing.
		migration.Step{
			Name: stepRule, DependsOn: []string{stepAlarms, stepFunction},
			Apply: func(ctx context.Context, env migration.Env) error {
				_, err := rollback.EnsureAlarmRule(ctx, env, c.events, p.alarmRuleSpec(env))
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return rollback.DeleteAlarmRule(ctx, env, c.events, p.alarmRuleSpec(env))
			},
		},
		migration.Step{
			Name: "dashboard", DependsOn: []string{stepAlarms, dms.StepTasks, stepVPN},
			Apply: func(ctx context.Context, env migration.Env) error {
				_, err := tracking.EnsureDashboard(ctx, env, c.cloudwatch, p.dashboardSpec(opts))
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return tracking.DeleteDashboard(ctx, env, c.cloudwatch, p.dashboardSpec(opts))
			},
		},
	)
	return steps
}

func firstID(subnets []network.Subnet) string {
	if len(subnets) == 0 {
		return ""
	}
	return subnets[0].ID
}

func (p *platform) flowClients() network.FlowLogsClients {
	return network.FlowLogsClients{EC2: p.c.ec2, Logs: p.c.logs, IAM: p.c.iam}
}

func (p *platform) vpnClients() network.VPNConnectionClients {
	return network.VPNConnectionClients{EC2: p.c.ec2, Logs: p.c.logs, Secrets: network.SecretsManagerReader{API: p.c.secrets}}
}

func (p *platform) dxClients() network.DirectConnectClients {
	return network.DirectConnectClients{DX: p.c.dx, Secrets: network.SecretsManagerReader{API: p.c.secrets}}
}

func (p *platform) resolverClients() network.ResolverClients {
	return network.ResolverClients{EC2: p.c.ec2, Resolver: p.c.resolver}
}

func (p *platform) fileClients() migration.FileTransferClients {
	return migration.FileTransferClients{S3: p.c.s3, DataSync: p.c.datasync, IAM: p.c.iam, Logs: p.c.logs, Secrets: p.c.secrets, EFS: p.c.efs, EC2: p.c.ec2}
}

func (p *platform) fileTransferSpec() migration.FileTransferSpec {
	o := p.out
	return p.spec.fileTransferSpec(o.key.ARN, o.agentARNs, o.vpc.ID, o.subnets.PrivateIDs(), o.sgs.App)
}

func (p *platform) functionClients() rollback.FunctionClients {
	return rollback.FunctionClients{Lambda: p.c.lambda, IAM: p.c.iam, Logs: p.c.logs}
}

// dmsSpec is the DMS side with the IDs the network, key and secret steps
// produced.
func (p *platform) dmsSpec() dms.Spec {
	o := p.out
	spec, err := p.spec.dmsSpec(o.key.ARN, o.sourceARN, o.subnets.PrivateIDs(), o.sgs.DMS, o.sgs.DB)
	if err != nil {
		// Validate read the certificate files before anything ran; a file
		// that went away since is reported by the endpoint's own check.
		return spec
	}
	return spec
}

// databaseGreen is the database record's AWS side: the RDS target's
// endpoint address, "" before the target exists.
func (p *platform) databaseGreen() string {
	if a := p.out.dms.TargetDB.Address; !migration.IsPending(a) {
		return a
	}
	return ""
}

// databaseRecordsSpec is the database record over the zone and target the
// apply made. A dry run that would create the target shows a stand-in
// address; outside one, a target without an address is an error.
func (p *platform) databaseRecordsSpec(env migration.Env) (dns.RecordsSpec, error) {
	green := p.databaseGreen()
	if green == "" {
		if !env.DryRun {
			return dns.RecordsSpec{}, fmt.Errorf("dns.database: the target database %s has no endpoint address yet", env.Name("rds-target"))
		}
		green = env.Name("rds-target") + ".address-pending.invalid"
	}
	return p.spec.databaseRecordsSpec(p.out.zone.ID, green), nil
}

func (p *platform) validateSpec() validate.Spec {
	o := p.out
	host, secret := o.dms.TargetDB.Address, o.dms.TargetSecret.ARN
	if host == "" { // a target planned, not made yet
		host = migration.Pending("rds-target-address")
	}
	if secret == "" {
		secret = migration.Pending("dms-target-secret")
	}
	return p.spec.validateSpec(o.key.ARN, host, secret, nil)
}

// policy is the rollback policy over the resources the apply made.
func (p *platform) policy(env migration.Env) (rollback.Policy, error) {
	return rollback.DefaultPolicy(env, p.spec.rulesSpec(env.Name("dms-instance"), p.out.dms.Forward.ARN, p.out.vpn.ID))
}

func (p *platform) lambdaConfig(env migration.Env, policy rollback.Policy) rollback.LambdaConfig {
	o := p.out
	var names []string
	for _, svc := range p.spec.DNS.Services {
		names = append(names, svc.Name)
	}
	return rollback.LambdaConfig{
		Suffix: env.Suffix, Region: env.Region, Account: env.Account, Policy: policy,
		HostedZoneID: o.zone.ID, ZoneName: p.spec.DNS.Zone, RecordNames: names,
		TableName: tracking.TableName(env), TopicARN: o.topic.ARN,
		ReverseTaskARN: o.dms.Reverse.ARN, ForwardTaskARN: o.dms.Forward.ARN,
	}
}

func (p *platform) functionSpec(ctx context.Context, env migration.Env) (rollback.FunctionSpec, error) {
	policy, err := p.policy(env)
	if err != nil {
		return rollback.FunctionSpec{}, err
	}
	spec := rollback.FunctionSpec{
		KMSKeyARN: p.out.key.ARN, TableARN: p.out.table.ARN, Config: p.lambdaConfig(env, policy),
		AlarmARNs: []string{p.out.alarms.Composite.ARN}, RuleARNs: []string{rollback.AlarmRuleARN(env)},
	}
	spec.Zip, err = p.lambdaZip(ctx)
	return spec, err
}

// alarmRuleSpec is the EventBridge rule from the composite alarm to the
// function. The ARNs are the ones the alarms and function steps made, or
// the ones they will have (a destroy after a partial apply).
func (p *platform) alarmRuleSpec(env migration.Env) rollback.AlarmRuleSpec {
	return rollback.AlarmRuleSpec{
		AlarmARNs:   []string{cmp.Or(p.out.alarms.Composite.ARN, rollback.AlarmARN(env, rollback.CompositeAlarmName(env)))},
		FunctionARN: cmp.Or(p.out.function.ARN, rollback.FunctionARN(env)),
	}
}

func (p *platform) dashboardSpec(opts migration.Options) tracking.DashboardSpec {
	o := p.out
	spec := tracking.DashboardSpec{
		DMSInstanceID:   o.dms.Instance.ID,
		DMSTasks:        []tracking.DMSTask{{Label: "forward", ARN: o.dms.Forward.ARN}, {Label: "reverse", ARN: o.dms.Reverse.ARN}},
		VPNConnectionID: o.vpn.ID, DXConnectionID: p.spec.Network.DirectConnect.ConnectionID,
		AlarmARNs: alarmARNs(o.alarms), RunbookSteps: dashboardSteps,
	}
	for _, t := range o.vpn.Tunnels {
		spec.VPNTunnelIPs = append(spec.VPNTunnelIPs, t.OutsideIP)
	}
	return spec
}

// alarmARNs are every rollback alarm's ARN: the rules' by rule name,
// then the composite's. A rule alarm says which rule fired; the composite
// only that one did.
func alarmARNs(a rollback.PolicyAlarms) []string {
	var arns []string
	for _, name := range slices.Sorted(maps.Keys(a.Rules)) {
		arns = append(arns, a.Rules[name].ARN)
	}
	return append(arns, a.Composite.ARN)
}

// dashboardSteps is the operator's runbook the dashboard shows.
var dashboardSteps = []string{"plan", "apply", "replicate", "validate", "cutover", "rollback (automatic or by hand)", "destroy"}

// resolveSecret returns the ARN of the operator's secret named by the spec
// (a name or an ARN). It only reads.
func (p *platform) resolveSecret(ctx context.Context, name string) (string, error) {
	out, err := p.c.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if awsx.IsNotFound(err) {
		return "", fmt.Errorf("dms.source.secretName: secret %q not found: create it (JSON with username, password, host, port, encrypted with a customer managed key) before apply", name)
	}
	if err != nil {
		return "", fmt.Errorf("dms.source.secretName: describe %q: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// resolveAgents returns the ARNs of the activated DataSync agents named by
// the spec. It only reads.
func (p *platform) resolveAgents(ctx context.Context, names []string) ([]string, error) {
	found := map[string]string{}
	pg := datasync.NewListAgentsPaginator(p.c.datasync, &datasync.ListAgentsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("files.source.agents: list agents: %w", err)
		}
		for _, a := range page.Agents {
			found[aws.ToString(a.Name)] = aws.ToString(a.AgentArn)
		}
	}
	var arns, missing []string
	for _, n := range names {
		if strings.HasPrefix(n, "arn:") {
			arns = append(arns, n)
		} else if arn, ok := found[n]; ok {
			arns = append(arns, arn)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("files.source.agents: no activated DataSync agent named %s in %s: deploy and activate it on-premises first", strings.Join(missing, ", "), p.c.region)
	}
	return arns, nil
}
