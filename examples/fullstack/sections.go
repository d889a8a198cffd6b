package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
	"github.com/cutoverkit/cutover/rollback"
	"github.com/cutoverkit/cutover/tracking"
	"github.com/cutoverkit/cutover/validate"
)

// This file maps each section of the spec file onto the specs of the
// package that provisions it, given the IDs earlier steps produced, and
// rewrites the packages' error paths into the spec file's.

// ---- network

var networkPaths = []pathRewrite{
	{"network.securityGroups.onPremCidr", "network.onPremCidr"},
	{"network.vpn.onPremCidr", "network.onPremCidr"},
	{"network.resolver.onPremCidr", "network.onPremCidr"},
	{"network.bgp.onPremPrefixes", "network.onPremCidr"},
	{"network.bgp.onPremPrefixes[0]", "network.onPremCidr"},
	{"network.vpn.vpcCidr", "network.vpc.cidr"},
	{"network.subnets.vpcCidr", "network.vpc.cidr"},
	{"network.directConnect.vpcCidr", "network.vpc.cidr"},
	{"network.bgp.vpcCidr", "network.vpc.cidr"},
	{"network.vpn.amazonSideAsn", "network.vpnGateway.amazonSideAsn"},
	{"network.bgp.dxAllowedPrefixes", "network.directConnect.allowedPrefixes"},
	{"network.securityGroups.dnsServers", "dms.instance.dnsNameServers"},
}

func (s Spec) subnetsSpec(vpcID string) network.SubnetsSpec {
	n := s.Network
	return network.SubnetsSpec{VPCID: vpcID, VPCCIDR: n.VPC.CIDR, AZCount: n.Subnets.AZCount, PublicPrefix: n.Subnets.PublicPrefix, PrivatePrefix: n.Subnets.PrivatePrefix}
}

func (s Spec) securityGroupsSpec(vpcID string) network.SecurityGroupsSpec {
	g := s.Network.SecurityGroups
	spec := network.SecurityGroupsSpec{VPCID: vpcID, OnPremCIDR: s.Network.OnPremCIDR, WebPort: g.WebPort, AppPort: g.AppPort, DBPort: g.DBPort, OnPremDBPort: g.OnPremDBPort, PublicWebCIDRs: g.PublicWebCIDRs,
		// The replication instance asks the on-premises DNS servers for
		// the source's host name: its group lets it reach them.
		DNSServers: s.DMS.Instance.DNSNameServers}
	if s.efsTarget() {
		spec.FileShareCIDR = s.Network.VPC.CIDR // the mount targets are in the private subnets
	}
	return spec
}

func (s Spec) flowLogsSpec(vpcID, keyARN string) network.FlowLogsSpec {
	return network.FlowLogsSpec{VPCID: vpcID, KMSKeyARN: keyARN, RetentionDays: s.Network.FlowLogs.RetentionDays}
}

func (s Spec) natSpec(public []network.Subnet) network.NATGatewaysSpec {
	return network.NATGatewaysSpec{Mode: network.NATMode(s.Network.NATGateways.Mode), PublicSubnets: public}
}

func (s Spec) routeTablesSpec(vpcID, igwID string, sn network.Subnets, nat map[string]string) network.RouteTablesSpec {
	return network.RouteTablesSpec{VPCID: vpcID, InternetGatewayID: igwID, PublicSubnets: sn.Public, PrivateSubnets: sn.Private, NATGatewayIDs: nat}
}

func (s Spec) vpnGatewaySpec(vpcID string, routeTables []string) network.VPNGatewaySpec {
	return network.VPNGatewaySpec{VPCID: vpcID, AmazonSideASN: s.Network.VPNGateway.AmazonSideASN, RouteTableIDs: routeTables}
}

func (s Spec) vpnConnectionSpec(vgwID, keyARN string) network.VPNConnectionSpec {
	n := s.Network
	spec := network.VPNConnectionSpec{
		VPNGatewayID: vgwID, AmazonSideASN: n.VPNGateway.AmazonSideASN, CustomerGatewayIP: n.VPN.CustomerGatewayIP, CustomerASN: n.VPN.CustomerASN,
		OnPremCIDR: n.OnPremCIDR, VPCCIDR: n.VPC.CIDR, KMSKeyARN: keyARN, LogRetentionDays: n.VPN.LogRetentionDays,
	}
	for i, t := range n.VPN.Tunnels {
		if i < len(spec.Tunnels) {
			spec.Tunnels[i] = network.TunnelSpec{InsideCIDR: t.InsideCIDR, PreSharedKeySecretARN: t.PreSharedKeySecretARN}
		}
	}
	return spec
}

func (s Spec) directConnectSpec(vgwID string) network.DirectConnectSpec {
	d := s.Network.DirectConnect
	return network.DirectConnectSpec{AmazonSideASN: d.AmazonSideASN, VPNGatewayID: vgwID, VPCCIDR: s.Network.VPC.CIDR, AllowedPrefixes: d.AllowedPrefixes,
		ConnectionID: d.ConnectionID, VLAN: d.VLAN, CustomerASN: d.CustomerASN, AuthKeySecretARN: d.AuthKeySecretARN}
}

func (s Spec) resolverSpec(vpcID string, private []network.Subnet) network.ResolverEndpointSpec {
	return network.ResolverEndpointSpec{VPCID: vpcID, OnPremCIDR: s.Network.OnPremCIDR, Subnets: private}
}

func (s Spec) bgpSpec() network.BGPPlanSpec {
	n := s.Network
	return network.BGPPlanSpec{OnPremPrefixes: []string{n.OnPremCIDR}, VPCCIDR: n.VPC.CIDR, DXAllowedPrefixes: n.DirectConnect.AllowedPrefixes,
		Primary: network.Path(n.BGP.Primary), VPNAmazonASN: n.VPNGateway.AmazonSideASN, DXAmazonASN: n.DirectConnect.AmazonSideASN, CustomerASN: n.VPN.CustomerASN}
}

// placeholderSubnets plans the subnets with pending IDs, so the specs that
// take subnets can be validated before any exist.
func (s Spec) placeholderSubnets() network.Subnets {
	n := s.Network
	var azs []string
	for i := range max(n.Subnets.AZCount, 0) {
		azs = append(azs, s.Env.Region+string(rune('a'+i)))
	}
	planned, err := network.PlanSubnets(n.VPC.CIDR, azs, n.Subnets.PublicPrefix, n.Subnets.PrivatePrefix)
	out := network.Subnets{AZs: azs}
	if err != nil {
		return out // the subnets spec reports the error
	}
	for i, sn := range planned {
		sn.ID = migration.Pending(fmt.Sprintf("subnet-%d", i))
		if sn.Public {
			out.Public = append(out.Public, sn)
		} else {
			out.Private = append(out.Private, sn)
		}
	}
	return out
}

func (s Spec) networkChecks(p ids) []error {
	sn := s.placeholderSubnets()
	nat := map[string]string{}
	for _, az := range sn.AZs {
		nat[az] = migration.Pending("nat-" + az)
	}
	var errs []error
	if len(s.Network.VPN.Tunnels) != 2 {
		errs = append(errs, fmt.Errorf("vpn.tunnels: a Site-to-Site VPN has exactly 2 tunnels, the spec lists %d", len(s.Network.VPN.Tunnels)))
	}
	for _, v := range []interface{ Validate() error }{
		s.vpcSpec(), s.subnetsSpec(p.vpc), s.securityGroupsSpec(p.vpc), s.flowLogsSpec(p.vpc, p.key), s.natSpec(sn.Public),
		s.routeTablesSpec(p.vpc, migration.Pending("igw"), sn, nat), s.vpnGatewaySpec(p.vpc, []string{migration.Pending("rtb")}),
		s.vpnConnectionSpec(migration.Pending("vgw"), p.key), s.directConnectSpec(migration.Pending("vgw")),
	} {
		errs = append(errs, v.Validate())
	}
	if s.Network.Resolver.Enabled {
		errs = append(errs, s.resolverSpec(p.vpc, sn.Private).Validate())
	}
	if _, err := network.PlanBGP(s.bgpSpec()); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// ---- dms

var dmsPaths = []pathRewrite{
	{"dms.source.secretArn", "dms.source.secretName"},
	{"instance.sourceSizeGb", "dms.sourceSizeGb"},
	{"instance.engineVersion", "dms.engineVersion"},
	{"instance.", "dms.instance."},
	{"targetDb.sourceSizeGb", "dms.sourceSizeGb"},
	{"targetDb.", "dms.target."},
	{"targetSecret.databaseName", "dms.target.databaseName"},
	{"targetSecret.", "dms (target secret): "},
	{"tables.", "dms.tables."},
	{"parameterGroup.major", "dms.target.engineVersion"},
	{"parameterGroup.", "dms (target parameter group): "},
	{"task.lob.", "dms.lob."},
	{"task.", "dms (task): "},
	{"endpoint.", "dms (endpoint): "},
	{"subnetGroup.", "dms (subnet group): "},
	{"dbSubnetGroup.", "dms (target subnet group): "},
}

// dmsSpec maps the dms section. sourceSecretARN is the resolved ARN of
// the operator's secret; the certificates are read from their files.
func (s Spec) dmsSpec(keyARN, sourceSecretARN string, private []string, dmsSG, dbSG string) (dms.Spec, error) {
	d := s.DMS
	var errs []error
	src, err := s.readFile(d.Source.CACertificateFile)
	if err != nil {
		errs = append(errs, fmt.Errorf("dms.source.caCertificateFile: %w", err))
	}
	tgt, err := s.readFile(d.Target.CACertificateFile)
	if err != nil {
		errs = append(errs, fmt.Errorf("dms.target.caCertificateFile: %w", err))
	}
	spec := dms.Spec{
		SourceSizeGB: d.SourceSizeGB, EngineVersion: d.EngineVersion, PrivateSubnetIDs: private, SecurityGroupIDs: []string{dmsSG}, KMSKeyARN: keyARN,
		Instance: dms.InstanceOptions{Class: d.Instance.Class, AllocatedStorageGB: d.Instance.AllocatedStorageGB, DNSNameServers: d.Instance.DNSNameServers},
		Source:   dms.SourceSpec{SecretARN: sourceSecretARN, DatabaseName: d.Source.DatabaseName, CACertificatePEM: src},
		Target: dms.TargetSpec{DatabaseName: d.Target.DatabaseName, CACertificatePEM: tgt, EngineVersion: d.Target.EngineVersion, Class: d.Target.Class,
			AllocatedStorageGB: d.Target.AllocatedStorageGB, SecurityGroupIDs: []string{dbSG}, SkipFinalSnapshot: d.Target.SkipFinalSnapshot},
		LOB: dms.LOBSettings{Mode: dms.LOBMode(d.LOB.Mode), MaxSizeKB: d.LOB.MaxSizeKB},
	}
	for _, t := range d.Tables.Include {
		spec.Tables.Include = append(spec.Tables.Include, dms.TableRef{Schema: t.Schema, Table: t.Table})
	}
	for _, t := range d.Tables.Exclude {
		spec.Tables.Exclude = append(spec.Tables.Exclude, dms.TableRef{Schema: t.Schema, Table: t.Table})
	}
	return spec, errors.Join(errs...)
}

// sourceSecretARN returns the spec's source secret as an ARN when it is
// one, or a well-formed stand-in for a name (resolved at run time).
func (s Spec) placeholderSecretARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:aws:secretsmanager:" + s.Env.Region + ":000000000000:secret:" + name + "-AbCdEf"
}

// dmsValidate checks the dms section. The DMS package names a bad
// certificate "certificate.pem" whichever side it is, so the two CA files
// are checked here, each under its own path, and the package's check of
// the whole stack sees a valid stand-in for both.
func (s Spec) dmsValidate(p ids) error {
	sn := s.placeholderSubnets()
	var private []string
	for _, x := range sn.Private {
		private = append(private, x.ID)
	}
	spec, err := s.dmsSpec(p.key, s.placeholderSecretARN(s.DMS.Source.SecretName), private, p.sg, p.sg)
	errs := []error{err} // the CA files that cannot be read
	if s.DMS.Source.SecretName == "" {
		errs = append(errs, errors.New("dms.source.secretName: required (the secret with the migration user's credentials)"))
	}
	caFiles := map[string]struct{ path, file string }{
		dms.CertSource: {"dms.source.caCertificateFile", s.DMS.Source.CACertificateFile},
		dms.CertTarget: {"dms.target.caCertificateFile", s.DMS.Target.CACertificateFile},
	}
	for _, c := range spec.CertificateSpecs() {
		ca := caFiles[c.Name]
		if _, rerr := s.readFile(ca.file); rerr != nil {
			continue // unreadable: reported by dmsSpec
		}
		if cerr := c.Validate(); cerr != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", ca.path, ca.file, cerr))
		}
	}
	standIn, serr := defaults.ReadFile("certs/rds-ca.pem")
	if serr != nil {
		return errors.Join(append(errs, serr)...)
	}
	spec.Source.CACertificatePEM, spec.Target.CACertificatePEM = string(standIn), string(standIn)
	return errors.Join(append(errs, spec.Validate())...)
}

// ---- dns

var dnsPaths = []pathRewrite{
	{"zone.name", "dns.zone"},
	{"records.zoneName", "dns.zone"},
	{"records.ttl", "dns.ttl"},
	{"records.services", "dns.services"},
	{"records.", "dns."},
	{"zone.", "dns (zone): "},
}

func (s Spec) zoneSpec(vpcID string) dns.ZoneSpec {
	return dns.ZoneSpec{Name: s.DNS.Zone, VPCID: vpcID}
}

func (s Spec) recordsSpec(zoneID string) dns.RecordsSpec {
	spec := dns.RecordsSpec{ZoneID: zoneID, ZoneName: s.DNS.Zone, TTL: s.DNS.TTL}
	for _, svc := range s.DNS.Services {
		spec.Services = append(spec.Services, dns.Service{Name: svc.Name, Blue: svc.Blue.target(), Green: svc.Green.target()})
	}
	return spec
}

func (t DNSTarget) target() dns.Target {
	out := dns.Target{IPs: t.IPs, Host: t.Host, HealthCheckID: t.HealthCheckID}
	if t.Alias != nil {
		out.Alias = &dns.Alias{DNSName: t.Alias.DNSName, HostedZoneID: t.Alias.HostedZoneID}
	}
	return out
}

func (s Spec) dnsValidate(p ids) error {
	return errors.Join(s.zoneSpec(p.vpc).Validate(), s.recordsSpec(p.zone).Validate(), s.databaseValidate(p))
}

// databaseRecordsSpec is the database's name as records of its own: one
// weighted CNAME pair, blue the on-premises host, green the AWS database
// (greenHost, the RDS target's endpoint address). Its Router is the
// database switch's alone: the traffic Router and the rollback Lambda
// never see this name.
func (s Spec) databaseRecordsSpec(zoneID, greenHost string) dns.RecordsSpec {
	d := s.DNS.Database
	return dns.RecordsSpec{ZoneID: zoneID, ZoneName: s.DNS.Zone, TTL: s.DNS.TTL, Services: []dns.Service{
		{Name: d.Name, Blue: dns.Target{Host: d.Blue.Host}, Green: dns.Target{Host: greenHost}},
	}}
}

// databaseName is the database record's name, without the trailing dot.
func (s Spec) databaseName() string {
	return normalName(s.DNS.Database.Name) + "." + normalName(s.DNS.Zone)
}

// normalName is a DNS name as Route 53 compares them: lower case, without
// surrounding space or a trailing dot.
func normalName(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// greenHostStandIn is a well-formed RDS endpoint address that stands in
// for the target's while the spec is validated.
const greenHostStandIn = "rds-target.abcdefghijkl.us-east-1.rds.amazonaws.com"

// databasePaths rewrites the database records' paths into the spec's.
var databasePaths = []pathRewrite{{"records.services[0]", "dns.database"}}

// databaseValidate checks dns.database: a name and an on-premises host,
// both legal DNS names, the name none of the traffic services' (whose
// Router would then move the database), and the host not the name itself.
// A missing field is reported once and stands in as a valid one for the
// dns package's checks.
func (s Spec) databaseValidate(p ids) error {
	d := s.DNS.Database
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("dns.database.name: required: the name, relative to dns.zone, the applications reach the database by (such as db)"))
		d.Name = "db"
	}
	if strings.TrimSpace(d.Blue.Host) == "" {
		errs = append(errs, errors.New("dns.database.blue.host: required: the on-premises database's host name"))
		d.Blue.Host = "db.onprem.invalid"
	}
	for i, svc := range s.DNS.Services {
		if normalName(svc.Name) == normalName(d.Name) {
			errs = append(errs, fmt.Errorf("dns.database.name: %q is also dns.services[%d].name: the traffic steps would move the database, and a split database name is two writers", d.Name, i))
		}
	}
	if normalName(d.Blue.Host) == normalName(d.Name)+"."+normalName(s.DNS.Zone) {
		errs = append(errs, fmt.Errorf("dns.database.blue.host: %q is the database name itself: give the on-premises database's own host name", d.Blue.Host))
	}
	spec := s
	spec.DNS.Database = d
	if err := spec.databaseRecordsSpec(p.zone, greenHostStandIn).Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, errors.New(rewrite(line, databasePaths)))
		}
	}
	return errors.Join(errs...)
}

// ---- tracking

var trackingPaths = []pathRewrite{
	{"table.", "tracking."},
	{"topic.subscriptions", "tracking.subscriptions"},
	{"topic.", "tracking (topic): "},
}

func (s Spec) tableSpec(keyARN string) tracking.TableSpec {
	return tracking.TableSpec{KMSKeyARN: keyARN, RecoveryDays: s.Tracking.RecoveryDays}
}

func (s Spec) topicSpec(keyARN string) tracking.TopicSpec {
	spec := tracking.TopicSpec{KMSKeyARN: keyARN}
	for _, sub := range s.Tracking.Subscriptions {
		spec.Subscriptions = append(spec.Subscriptions, tracking.Subscription{Protocol: sub.Protocol, Endpoint: sub.Endpoint})
	}
	return spec
}

func (s Spec) trackingValidate(p ids) error {
	return errors.Join(s.tableSpec(p.key).Validate(), s.topicSpec(p.key).Validate())
}

// ---- servers

var serverPaths = []pathRewrite{
	{"replicationTemplate.instanceType", "servers.replication.instanceType"},
	{"replicationTemplate.bandwidthMbps", "servers.replication.bandwidthMbps"},
	{"replicationTemplate.", "servers (replication template): "},
	{"wave.concurrency", "servers.waveConcurrency"},
	{"wave.servers", "servers.hosts"},
	{"wave: servers", "servers.hosts"},
	{"wave.", "servers (wave): "},
}

func (s Spec) replicationTemplateSpec(stagingSubnet, sg, keyARN string) migration.ReplicationTemplateSpec {
	r := s.Servers.Replication
	return migration.ReplicationTemplateSpec{StagingSubnetID: stagingSubnet, SecurityGroupIDs: []string{sg}, KMSKeyARN: keyARN, InstanceType: r.InstanceType, BandwidthMbps: r.BandwidthMbps}
}

// wave is every application server of the spec, moving together.
func (s Spec) wave() migration.Wave {
	w := migration.Wave{Name: "wave-1", Concurrency: s.Servers.WaveConcurrency}
	for _, h := range s.Servers.Hosts {
		w.Servers = append(w.Servers, migration.SourceServerRef{Name: serverName(h), Hostname: h})
	}
	return w
}

// serverName is the short name of a host ("app-01" for
// "app-01.dc1.corp.example").
func serverName(host string) string {
	name, _, _ := strings.Cut(host, ".")
	return name
}

func (s Spec) serversValidate(p ids) error {
	var errs []error
	if len(s.Servers.Hosts) == 0 {
		errs = append(errs, errors.New("servers.hosts: at least one application server"))
	}
	seen := map[string]int{}
	for i, h := range s.Servers.Hosts {
		if h == "" {
			errs = append(errs, fmt.Errorf("servers.hosts[%d]: empty host name", i))
			continue
		}
		if j, dup := seen[serverName(h)]; dup {
			errs = append(errs, fmt.Errorf("servers.hosts[%d]: %q has the same short name as servers.hosts[%d]", i, h, j))
		}
		seen[serverName(h)] = i
	}
	// An empty host is reported above, not again as the wave's server
	// without a name: it stands in as a valid one, keeping the indices.
	w := s.wave()
	for i, r := range w.Servers {
		if r.Hostname == "" {
			w.Servers[i] = migration.SourceServerRef{Name: fmt.Sprintf("empty-%d", i), Hostname: fmt.Sprintf("empty-%d.invalid", i)}
		}
	}
	return errors.Join(append(errs, s.replicationTemplateSpec(p.subnetA, p.sg, p.key).Validate(), w.Validate())...)
}

// ---- files

var filesPaths = []pathRewrite{
	{"transfer.source.agentArns", "files.source.agents"},
	{"transfer.source.", "files.source."},
	{"transfer.bytesPerSecond", "files.bytesPerSecond"},
	{"transfer.target", "files.target"},
	{"transfer.efs.", "files (efs): "},
	{"transfer.", "files (transfer): "},
}

// fileTransferSpec maps the files section. An EFS target needs the VPC,
// the private subnets (a mount target in each) and the application
// servers' group (its only clients).
func (s Spec) fileTransferSpec(keyARN string, agentARNs []string, vpcID string, private []string, appSG string) migration.FileTransferSpec {
	f := s.Files
	spec := migration.FileTransferSpec{
		Source:    migration.FileShareSpec{Protocol: f.Source.Protocol, ServerHostname: f.Source.ServerHostname, Subdirectory: f.Source.Subdirectory, AgentARNs: agentARNs},
		KMSKeyARN: keyARN, BytesPerSecond: f.BytesPerSecond,
	}
	if s.efsTarget() {
		spec.Target = migration.FileTargetEFS
		spec.EFS = migration.FileSystemSpec{VPCID: vpcID, SubnetIDs: private, ClientSecurityGroupIDs: []string{appSG}, ForceDeleteData: f.ForceDeleteObjects}
	} else {
		spec.ForceDeleteObjects = f.ForceDeleteObjects
	}
	return spec
}

func (s Spec) efsTarget() bool {
	return strings.EqualFold(s.Files.Target, string(migration.FileTargetEFS))
}

func (s Spec) filesValidate(p ids) error {
	var agents []string
	for i := range s.Files.Source.Agents {
		agents = append(agents, fmt.Sprintf("arn:aws:datasync:%s:000000000000:agent/agent-0%016x", s.Env.Region, i))
	}
	var errs []error
	for i, a := range s.Files.Source.Agents {
		if a == "" {
			errs = append(errs, fmt.Errorf("files.source.agents[%d]: empty agent name", i))
		}
	}
	if t := s.Files.Target; t != "" && !strings.EqualFold(t, string(migration.FileTargetS3)) && !s.efsTarget() {
		errs = append(errs, fmt.Errorf("files.target: %q is not s3 or efs", t))
	}
	sn := s.placeholderSubnets()
	var private []string
	for _, x := range sn.Private {
		private = append(private, x.ID)
	}
	return errors.Join(append(errs, s.fileTransferSpec(p.key, agents, p.vpc, private, p.sg).Validate())...)
}

// ---- validation

var validationPaths = []pathRewrite{
	{"applicationHealth.", "validation.application."},
	{"databaseConnectivity.rootCertFile", "validation.database.rootCertFile"},
	{"databaseConnectivity.query", "validation.database.query"},
	{"databaseConnectivity.database", "dms.target.databaseName"},
	{"databaseConnectivity.", "validation.database (from dms): "},
	{"serviceAvailability.", "validation.services."},
	{"fileStorage.", "validation.files."},
	{"validate.targets", "validation.targets"},
	{"validate.schedule", "validation.schedule"},
	{"validate.", "validation."},
}

// validateSpec maps the validation section; the database check connects
// to the target the dms steps made, with the secret they made.
func (s Spec) validateSpec(keyARN, dbHost, dbSecretARN string, expect []string) validate.Spec {
	v := s.Validation
	spec := validate.Spec{KMSKeyARN: keyARN, Targets: v.Targets, Expect: expect, Schedule: v.Schedule,
		Application: &validate.ApplicationHealth{Port: v.Application.Port, Path: v.Application.Path, TLS: v.Application.TLS, ServerName: v.Application.ServerName, ExpectStatus: v.Application.ExpectStatus},
		Database:    &validate.DatabaseConnectivity{Host: dbHost, Database: s.DMS.Target.DatabaseName, SecretARN: dbSecretARN, RootCertFile: v.Database.RootCertFile, Query: v.Database.Query},
	}
	if len(v.Services.Units)+len(v.Services.Ports) > 0 {
		spec.Services = &validate.ServiceAvailability{Units: v.Services.Units, Ports: v.Services.Ports}
	}
	if v.Files.MountPoint != "" {
		spec.Files = &validate.FileStorage{MountPoint: v.Files.MountPoint}
	}
	return spec
}

func (s Spec) validationValidate(p ids) error {
	host := "rds-target-" + s.Env.Suffix + ".abcdefghijkl." + s.Env.Region + ".rds.amazonaws.com"
	return s.validateSpec(p.key, host, s.placeholderSecretARN("dms-target-endpoint-"+s.Env.Suffix), nil).Validate()
}

// ---- cutover

var cutoverPaths = []pathRewrite{
	{"rules.loadBalancer", "cutover.greenLoadBalancer"},
	{"rules.", "cutover (rules): "},
	{"policy.dataLossBudget", "cutover.dataLossBudget"},
	{"policy.", "cutover (policy): "},
	{"schedule.steps", "cutover.steps"},
	{"gates.maxForwardLag", "cutover.maxForwardLag"},
	{"gates.", "cutover (gates): "},
}

// rulesSpec names what the default rollback rules watch.
func (s Spec) rulesSpec(dmsInstance, forwardTaskARN, vpnID string) rollback.DefaultRulesSpec {
	c := s.Cutover
	return rollback.DefaultRulesSpec{
		LoadBalancer: c.GreenLoadBalancer, DMSInstance: dmsInstance, ForwardTaskID: taskID(forwardTaskARN), VPNID: vpnID,
		MaxErrorRate: c.MaxErrorRate, MaxP99Latency: c.MaxP99Latency.D(), MaxCDCLatency: c.MaxCDCLatency.D(), DataLossBudget: c.DataLossBudget.D(),
	}
}

// taskID is a DMS task ARN's resource ID, the ReplicationTaskIdentifier
// dimension of its metrics.
func taskID(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

func (s Spec) schedule() rollback.Schedule {
	var sched rollback.Schedule
	for _, st := range s.Cutover.Steps {
		sched.Steps = append(sched.Steps, rollback.Step{Green: st.Green, Bake: st.Bake.D()})
	}
	return sched
}

// gates are the data-safety checks before every step: forward lag, the
// validations of the suite, and the records' TTL.
func (s Spec) gates(validations []string) rollback.Gates {
	return rollback.Gates{MaxForwardLag: s.Cutover.MaxForwardLag.D(), Validations: validations, RecordTTL: s.recordTTL()}
}

func (s Spec) recordTTL() time.Duration {
	ttl := s.DNS.TTL
	if ttl == 0 {
		ttl = dns.DefaultTTL
	}
	return time.Duration(ttl) * time.Second
}

// cutoverValidate checks the cutover section, every field at once: the
// thresholds with their own paths, then the rules, policy, schedule and
// gates built from them. A threshold or load balancer already reported is
// replaced by its default for the later checks, so a bad one does not
// hide a bad step.
func (s Spec) cutoverValidate(p ids) error {
	c := s.Cutover
	var errs []error
	if c.MaxErrorRate < 0 || c.MaxErrorRate > 100 {
		errs = append(errs, fmt.Errorf("cutover.maxErrorRate: %v outside 0..100 (percent of green's requests; 0 means 1)", c.MaxErrorRate))
	}
	for _, d := range []struct {
		path string
		v    Duration
	}{{"maxP99Latency", c.MaxP99Latency}, {"maxCdcLatency", c.MaxCDCLatency}, {"dataLossBudget", c.DataLossBudget}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("cutover.%s: %v is negative (0 means the default)", d.path, d.v.D()))
		}
	}
	if c.RollbackWindow.D() <= 0 {
		errs = append(errs, errors.New("cutover.rollbackWindow: required: how long after completion a rollback is still allowed"))
	}
	env := s.env("000000000000")
	rules := s.rulesSpec(env.Name("dms-instance"), "arn:aws:dms:"+s.Env.Region+":000000000000:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ", "vpn-0123456789abcdef0")
	if len(errs) > 0 {
		rules.MaxErrorRate, rules.MaxP99Latency, rules.MaxCDCLatency, rules.DataLossBudget = 0, 0, 0, 0
	}
	if err := rules.Validate(); err != nil {
		errs = append(errs, err)
		rules.LoadBalancer = "app/placeholder/0123456789abcdef"
	}
	policy, err := rollback.DefaultPolicy(env, rules)
	if err != nil {
		// The env (reported by its own section) names the policy's
		// resources; nothing more to check here.
		return errors.Join(append(errs, err)...)
	}
	gates := s.gates(nil)
	gates.RecordTTL = max(gates.RecordTTL, 0) // a negative dns.ttl is the dns section's error
	errs = append(errs, policy.Validate(), s.schedule().Validate(policy), gates.Validate())
	return errors.Join(errs...)
}
