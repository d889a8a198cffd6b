package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// SecurityGroupsAPI is the part of the EC2 client the security group
// Ensure and Delete functions use.
type SecurityGroupsAPI interface {
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(context.Context, *ec2.AuthorizeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// KindSecurityGroup is the Change kind of a security group.
const KindSecurityGroup = "security-group"

// anywhere is the IPv4 "everything" block.
const anywhere = "0.0.0.0/0"

// SecurityGroupsSpec describes the workload's security groups. Rules
// reference other groups wherever the peer is in AWS and open the
// on-premises block only where a flow needs it:
//
//	web: in  WebPort  from OnPremCIDR (and PublicWebCIDRs, if declared)
//	     out AppPort  to   app
//	app: in  AppPort  from web
//	     out DBPort   to   db;  out 443 to 0.0.0.0/0 (AWS APIs through NAT)
//	     out 2049 to FileShareCIDR, when set (the EFS file share)
//	db:  in  DBPort   from app, dms;  no egress
//	dms: out OnPremDBPort to OnPremCIDR (the source database)
//	     out DBPort   to   db;  out 443 to 0.0.0.0/0 (Secrets Manager, DMS)
//	     out tcp+udp 53 to each of DNSServers, when set (the on-premises
//	     DNS servers that resolve the source database's host name)
//	replication: in 1500 from OnPremCIDR (MGN agents stream disk data to the
//	     replication servers); out 443 to 0.0.0.0/0 (MGN and S3 endpoints)
//
// The default allow-all egress rule EC2 adds to a new group is removed.
type SecurityGroupsSpec struct {
	// VPCID is the VPC (VPC.ID); required by Ensure.
	VPCID string
	// OnPremCIDR is the on-premises network, for example 192.168.0.0/16.
	OnPremCIDR string
	// WebPort, AppPort and DBPort are the TCP ports of the load balancer
	// listener, the application servers and the target database.
	WebPort, AppPort, DBPort int
	// OnPremDBPort is the TCP port of the on-premises source database.
	OnPremDBPort int
	// PublicWebCIDRs, when set, is the explicit declaration of a public
	// web listener: the only place 0.0.0.0/0 (or any block outside the
	// on-premises network) may be opened for ingress.
	PublicWebCIDRs []string
	// FileShareCIDR, when set, lets the application servers reach an NFS
	// file share (EFS mount targets) in that block: TCP 2049 out. The
	// share's own group decides who may connect in.
	FileShareCIDR string
	// DNSServers, when set, are the on-premises DNS servers the DMS
	// replication instance asks for the source database's host name
	// (dms.InstanceSpec.DNSNameServers): IPv4 addresses inside OnPremCIDR,
	// opened for DNS (TCP and UDP 53) from the DMS group only.
	DNSServers []string
}

// Validate checks the spec: CIDRs well formed, ports 1..65535, the
// on-premises block not "anywhere", DNS servers on-premises.
func (s SecurityGroupsSpec) Validate() error {
	errs := []error{checkID("securityGroups.vpcId", s.VPCID, "vpc-")}
	if p, err := parseCIDR("securityGroups.onPremCidr", s.OnPremCIDR); err != nil {
		errs = append(errs, err)
	} else if p.Bits() == 0 {
		errs = append(errs, errors.New("securityGroups.onPremCidr: 0.0.0.0/0 is not an on-premises network; ingress from anywhere needs publicWebCidrs"))
	}
	for _, f := range []struct {
		name string
		port int
	}{{"securityGroups.webPort", s.WebPort}, {"securityGroups.appPort", s.AppPort}, {"securityGroups.dbPort", s.DBPort}, {"securityGroups.onPremDbPort", s.OnPremDBPort}} {
		if f.port < 1 || f.port > 65535 {
			errs = append(errs, fmt.Errorf("%s: %d outside 1..65535", f.name, f.port))
		}
	}
	for i, c := range s.PublicWebCIDRs {
		if _, err := parseCIDR(fmt.Sprintf("securityGroups.publicWebCidrs[%d]", i), c); err != nil {
			errs = append(errs, err)
		}
	}
	onPrem, _ := netip.ParsePrefix(s.OnPremCIDR)
	for i, d := range s.DNSServers {
		field := fmt.Sprintf("securityGroups.dnsServers[%d]", i)
		switch ip, err := netip.ParseAddr(d); {
		case err != nil || !ip.Is4():
			errs = append(errs, fmt.Errorf("%s: %q is not an IPv4 address", field, d))
		case onPrem.IsValid() && !onPrem.Contains(ip):
			errs = append(errs, fmt.Errorf("%s: %s is outside the on-premises network %s", field, d, s.OnPremCIDR))
		case slices.Contains(s.DNSServers[:i], d):
			errs = append(errs, fmt.Errorf("%s: %s listed twice", field, d))
		}
	}
	if s.FileShareCIDR != "" {
		if p, err := parseCIDR("securityGroups.fileShareCidr", s.FileShareCIDR); err != nil {
			errs = append(errs, err)
		} else if p.Bits() == 0 {
			errs = append(errs, errors.New("securityGroups.fileShareCidr: 0.0.0.0/0 is not a file share's network"))
		}
	}
	return errors.Join(errs...)
}

// SecurityGroups are the IDs of the ensured groups.
type SecurityGroups struct {
	Web, App, DB, DMS string
	// Replication is the group of MGN's replication servers.
	Replication string
}

// rule is one atomic security group rule; in a groupSpec its Peer is a
// CIDR (it holds a "/") or a group role ("app") until resolved to an ID.
type rule = awsx.SGRule

func tcp(port int, peer string, egress bool, desc string) rule {
	return portRule("tcp", port, peer, egress, desc)
}

func udp(port int, peer string, egress bool, desc string) rule {
	return portRule("udp", port, peer, egress, desc)
}

// portRule is a rule for one port of proto with a peer that is a CIDR
// (it holds a "/") or a group role.
func portRule(proto string, port int, peer string, egress bool, desc string) rule {
	return rule{Egress: egress, Proto: proto, From: int32(port), To: int32(port), Peer: peer, Desc: desc}
}

// groupSpec is one group to converge; rules name peer groups by role.
type groupSpec struct {
	role, name, desc string
	rules            []rule
}

func (s SecurityGroupsSpec) groups(env migration.Env) []groupSpec {
	web := []rule{tcp(s.WebPort, s.OnPremCIDR, false, "web from on-premises"), tcp(s.AppPort, "app", true, "to the application servers")}
	for _, c := range s.PublicWebCIDRs {
		web = append(web, tcp(s.WebPort, c, false, "declared public web listener"))
	}
	app := []rule{tcp(s.AppPort, "web", false, "from the load balancer"), tcp(s.DBPort, "db", true, "to the database"), tcp(443, anywhere, true, "AWS APIs through NAT")}
	if s.FileShareCIDR != "" {
		app = append(app, tcp(nfsPort, s.FileShareCIDR, true, "to the NFS file share"))
	}
	dms := []rule{tcp(s.OnPremDBPort, s.OnPremCIDR, true, "to the on-premises source database"), tcp(s.DBPort, "db", true, "to the target database"), tcp(443, anywhere, true, "Secrets Manager and DMS APIs")}
	for _, d := range s.DNSServers {
		dms = append(dms, udp(dnsPort, d+"/32", true, "on-premises DNS"), tcp(dnsPort, d+"/32", true, "on-premises DNS"))
	}
	return []groupSpec{
		{role: "web", name: env.Name("sg-web"), desc: "cutover web tier load balancer", rules: web},
		{role: "app", name: env.Name("sg-app"), desc: "cutover application servers", rules: app},
		{role: "db", name: env.Name("sg-db"), desc: "cutover target database", rules: []rule{
			tcp(s.DBPort, "app", false, "from the application servers"), tcp(s.DBPort, "dms", false, "from DMS (full load, CDC, reverse CDC)"),
		}},
		{role: "dms", name: env.Name("sg-dms"), desc: "cutover DMS replication instance", rules: dms},
		{role: "replication", name: env.Name("sg-replication"), desc: "cutover MGN replication servers", rules: []rule{
			tcp(mgnReplicationPort, s.OnPremCIDR, false, "MGN agents on the source servers"), tcp(443, anywhere, true, "MGN and S3 endpoints"),
		}},
	}
}

// dnsPort is DNS's port, over UDP and TCP.
const dnsPort = 53

// nfsPort is NFS's TCP port (EFS mount targets).
const nfsPort = 2049

// mgnReplicationPort is the TCP port MGN agents send replicated data to on
// the replication servers.
const mgnReplicationPort = 1500

// EnsureSecurityGroups makes the env's five security groups
// ("sg-web-<suffix>", "sg-app-<suffix>", "sg-db-<suffix>",
// "sg-dms-<suffix>", "sg-replication-<suffix>") exist in the VPC with exactly the rules documented
// on SecurityGroupsSpec.
//
// Groups are found by the ownership tag and Name and created with their
// tags (EC2 takes no client token for groups; the group name, unique in a
// VPC, catches a lost response). Rules converge exactly: missing ones are
// authorized, others (including EC2's default allow-all egress and rules
// added by hand) are revoked. A group in another VPC than the spec's is
// refused. Idempotent; converged groups cost one read.
func EnsureSecurityGroups(ctx context.Context, env migration.Env, api SecurityGroupsAPI, spec SecurityGroupsSpec) (SecurityGroups, error) {
	name := env.Name("sg-*")
	if err := migration.Validate(env, spec); err != nil {
		return SecurityGroups{}, fmt.Errorf("ensure security groups %q: %w", name, err)
	}
	if err := errors.Join(required("securityGroups.vpcId", spec.VPCID), realIDs(env, "securityGroups.vpcId", spec.VPCID)); err != nil {
		return SecurityGroups{}, fmt.Errorf("ensure security groups %q: %w", name, err)
	}
	ids, err := ensureGroups(ctx, env, api, spec.VPCID, spec.groups(env))
	if err != nil {
		return SecurityGroups{}, fmt.Errorf("ensure security groups %q: %w", name, err)
	}
	return SecurityGroups{Web: ids["web"], App: ids["app"], DB: ids["db"], DMS: ids["dms"], Replication: ids["replication"]}, nil
}

// groupName is the EC2 group name of a group whose Name tag is name: EC2
// refuses group names that start with "sg-".
func groupName(name string) string { return "cutover-" + name }

// ensureGroups converges a set of groups that may reference each other
// and returns their IDs by role.
func ensureGroups(ctx context.Context, env migration.Env, api SecurityGroupsAPI, vpcID string, groups []groupSpec) (map[string]string, error) {
	ids := map[string]string{}
	if migration.IsPending(vpcID) {
		for _, g := range groups {
			ids[g.role] = migration.Pending(g.name)
			report(env, KindSecurityGroup, g.name, ids[g.role], migration.ActionCreate, []migration.FieldDiff{{Field: "rules", To: fmt.Sprint(len(g.rules))}}, "")
		}
		return ids, nil
	}
	// Phase 1: every group exists (rules reference each other).
	found := map[string]*types.SecurityGroup{}
	created := map[string]bool{}
	for _, g := range groups {
		sg, err := findGroup(ctx, env, api, g.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		if sg != nil {
			if v := aws.ToString(sg.VpcId); v != vpcID {
				return nil, fmt.Errorf("%s: vpc is immutable: %s is in %s, the spec wants %s", g.name, aws.ToString(sg.GroupId), v, vpcID)
			}
			found[g.role], ids[g.role] = sg, aws.ToString(sg.GroupId)
			continue
		}
		if env.DryRun {
			ids[g.role] = migration.Pending(g.name)
			continue
		}
		out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			VpcId: aws.String(vpcID), GroupName: aws.String(groupName(g.name)), Description: aws.String(g.desc),
			TagSpecifications: awsx.TagSpec(types.ResourceTypeSecurityGroup, env.NameTags(g.name)),
		})
		if awsx.HasCode(err, "InvalidGroup.Duplicate") {
			return nil, fmt.Errorf("%s: a group named %s exists in %s without this env's tags; refusing to adopt it", g.name, groupName(g.name), vpcID)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: create: %w", g.name, err)
		}
		ids[g.role], created[g.role] = aws.ToString(out.GroupId), true
		// EC2's view of a new group: the default allow-all egress rule.
		found[g.role] = &types.SecurityGroup{GroupId: out.GroupId, VpcId: aws.String(vpcID), Tags: awsx.EC2Tags(env.NameTags(g.name)),
			IpPermissionsEgress: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String(anywhere)}}}}}
	}
	// Phase 2: rules, with peers resolved to IDs.
	for _, g := range groups {
		id := ids[g.role]
		sg := found[g.role]
		if sg == nil { // dry run, group missing
			report(env, KindSecurityGroup, g.name, id, migration.ActionCreate, []migration.FieldDiff{{Field: "rules", To: fmt.Sprint(len(g.rules))}}, "")
			continue
		}
		want := map[string]rule{}
		for _, r := range g.rules {
			if !strings.Contains(r.Peer, "/") {
				peer, ok := ids[r.Peer]
				if !ok {
					return nil, fmt.Errorf("%s: rule references unknown group %q", g.name, r.Peer)
				}
				r.Peer = peer
			}
			want[r.Key()] = r
		}
		have := map[string]rule{}
		for _, r := range awsx.SplitPermissions(sg.IpPermissions, false) {
			have[r.Key()] = r
		}
		for _, r := range awsx.SplitPermissions(sg.IpPermissionsEgress, true) {
			have[r.Key()] = r
		}
		var add, revoke []rule
		for k, r := range want {
			if _, ok := have[k]; !ok {
				add = append(add, r)
			}
		}
		for k, r := range have {
			if _, ok := want[k]; !ok {
				revoke = append(revoke, r)
			}
		}
		awsx.SortSGRules(add)
		awsx.SortSGRules(revoke)
		var diff []migration.FieldDiff
		for _, r := range add {
			diff = append(diff, migration.FieldDiff{Field: "rule", To: r.String()})
		}
		for _, r := range revoke {
			diff = append(diff, migration.FieldDiff{Field: "rule", From: r.String()})
		}
		var c migration.Converge
		c.FixAll(diff, func() error { return awsx.ApplySGRules(ctx, env.Retry, api, id, add, revoke) })
		c.Tags(awsx.FromEC2Tags(sg.Tags), env.NameTags(g.name), tagEC2(ctx, api, id))
		if created[g.role] { // its rules, just written: reported as the create
			if err := c.Run(env); err != nil {
				return nil, fmt.Errorf("%s: %w", g.name, err)
			}
			report(env, KindSecurityGroup, g.name, id, migration.ActionCreate, []migration.FieldDiff{{Field: "rules", To: fmt.Sprint(len(g.rules))}}, "")
			continue
		}
		if err := c.Apply(env, migration.Change{Kind: KindSecurityGroup, Name: g.name, ID: id}); err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
	}
	return ids, nil
}

// findGroup returns the env's group of that Name, nil when there is none,
// or an error when more than one carries the ownership tag and the Name.
func findGroup(ctx context.Context, env migration.Env, api SecurityGroupsAPI, name string) (*types.SecurityGroup, error) {
	groups, err := ownedGroups(ctx, env, api, name)
	if err != nil {
		return nil, err
	}
	switch len(groups) {
	case 0:
		return nil, nil
	case 1:
		return &groups[0], nil
	}
	return nil, fmt.Errorf("%d security groups carry %s=%s and Name=%s; expected one: delete the extras", len(groups), migration.OwnerTag, env.Suffix, name)
}

func ownedGroups(ctx context.Context, env migration.Env, api SecurityGroupsAPI, names ...string) ([]types.SecurityGroup, error) {
	var out []types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{awsx.TagFilter(migration.OwnerTag, env.Suffix), awsx.TagFilter("Name", names...)}, MaxResults: aws.Int32(100),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			if env.Owns(awsx.FromEC2Tags(g.Tags)) {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// DeleteSecurityGroups deletes the env's five groups. It first
// revokes every rule of these groups (their rules reference each other,
// which would block the deletes), then deletes each, retrying
// DependencyViolation on the env clock while network interfaces (RDS, DMS)
// still use them. Look-alikes without the ownership tag are left alone;
// nothing found is a no-op.
func DeleteSecurityGroups(ctx context.Context, env migration.Env, api SecurityGroupsAPI, spec SecurityGroupsSpec) error {
	name := env.Name("sg-*")
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete security groups %q: %w", name, err)
	}
	var names []string
	for _, g := range spec.groups(env) {
		names = append(names, g.name)
	}
	if err := deleteGroups(ctx, env, api, name, names); err != nil {
		return fmt.Errorf("delete security groups %q: %w", name, err)
	}
	return nil
}

func deleteGroups(ctx context.Context, env migration.Env, api SecurityGroupsAPI, label string, names []string) error {
	groups, err := ownedGroups(ctx, env, api, names...)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		env.ReportGone(KindSecurityGroup, label)
		return nil
	}
	if !env.DryRun {
		for _, g := range groups {
			id := aws.ToString(g.GroupId)
			if err := awsx.ApplySGRules(ctx, env.Retry, api, id, nil, append(awsx.SplitPermissions(g.IpPermissions, false), awsx.SplitPermissions(g.IpPermissionsEgress, true)...)); err != nil {
				return err
			}
		}
	}
	for _, g := range groups {
		id, gname := aws.ToString(g.GroupId), awsx.FromEC2Tags(g.Tags)["Name"]
		if !env.DryRun {
			err := deleteRetrying(ctx, env, "security group "+id, func(ctx context.Context) error {
				_, err := api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", gname, err)
			}
		}
		report(env, KindSecurityGroup, gname, id, migration.ActionDelete, nil, "")
	}
	return nil
}
