package fakecloud

import (
	"context"
	"encoding/json"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
)

// EFS locations of the fake DataSync.
//
// CreateLocationEfs runs DataSync's access test against the fake cloud:
// the file system exists and is not being deleted; the subnet of
// DataSync's network interfaces exists, in the file system's VPC, in an
// Availability Zone where the file system has an available mount target;
// the security groups (one to five) exist in that VPC, and one of them
// may send NFS (TCP 2049) to that mount target, whose groups accept it
// from one of them; an access role exists and needs TLS1_2; and, when the
// file system has a policy, the policy lets DataSync in: no TLS-only Deny
// it breaks, and an Allow of ClientMount and ClientWrite for its role (or
// for "*"). Every failure is InvalidRequestException, as DataSync reports
// a failed access test.
//
// While a task uses an EFS location, its network interfaces hold the
// location's subnet and security groups: EC2 refuses to delete them.

func init() {
	subnetDependents = append(subnetDependents, func(c *Cloud, subnetID string) string {
		return c.DataSync().efsTaskUsing(func(l *dsLocation) bool { return strings.HasSuffix(l.SubnetARN, ":subnet/"+subnetID) })
	})
	sgDependents = append(sgDependents, func(c *Cloud, groupID string) string {
		return c.DataSync().efsTaskUsing(func(l *dsLocation) bool {
			return slices.ContainsFunc(l.SecurityGroupARNs, func(a string) bool { return strings.HasSuffix(a, ":security-group/"+groupID) })
		})
	})
}

// efsTaskUsing names a task whose EFS location matches, or "". Call with
// mu held.
func (f *DataSync) efsTaskUsing(match func(*dsLocation) bool) string {
	s := f.st()
	for _, arn := range sortedKeys(s.Tasks) {
		t := s.Tasks[arn]
		for _, la := range []string{t.Source, t.Dest} {
			if l := s.Locations[la]; l != nil && l.Type == "EFS" && match(l) {
				return "network interfaces of DataSync task " + arn
			}
		}
	}
	return ""
}

var (
	efsARNRe    = regexp.MustCompile(`^arn:aws[a-z-]*:elasticfilesystem:([a-z0-9-]+):([0-9]{12}):file-system/(fs-[0-9a-f]+)$`)
	subnetARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:ec2:([a-z0-9-]+):([0-9]{12}):subnet/(subnet-[0-9a-f]+)$`)
	sgARNRe     = regexp.MustCompile(`^arn:aws[a-z-]*:ec2:([a-z0-9-]+):([0-9]{12}):security-group/(sg-[0-9a-f]+)$`)
)

// nfsAllowed reports whether rule p lets NFS (TCP 2049) through to or from
// a peer that is one of groups or has address ip.
func nfsAllowed(p fakePerm, groups []string, ip string) bool {
	if p.Proto != "-1" && (p.Proto != "tcp" || p.From > 2049 || p.To < 2049) {
		return false
	}
	if p.GroupID != "" {
		return slices.Contains(groups, p.GroupID)
	}
	pre, err := netip.ParsePrefix(p.CIDR)
	addr, aerr := netip.ParseAddr(ip)
	return err == nil && aerr == nil && pre.Contains(addr)
}

// efsPolicyLetsIn checks a file system policy the way DataSync's mount
// would meet it: over TLS or not, as role or anonymously, needing
// ClientMount and ClientWrite.
func efsPolicyLetsIn(doc, role string, tls bool) string {
	var p struct {
		Statement []struct {
			Effect    string                                `json:"Effect"`
			Principal json.RawMessage                       `json:"Principal"`
			Action    json.RawMessage                       `json:"Action"`
			Condition map[string]map[string]json.RawMessage `json:"Condition"`
		} `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return "the file system policy does not parse"
	}
	list := func(raw json.RawMessage) []string {
		var many []string
		if json.Unmarshal(raw, &many) == nil {
			return many
		}
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}
		}
		return nil
	}
	mount, write := false, false
	for _, st := range p.Statement {
		if st.Effect == "Deny" {
			if v := list(st.Condition["Bool"]["aws:SecureTransport"]); slices.Contains(v, "false") && !tls {
				return "the file system policy denies access without TLS and the location does not use TLS1_2"
			}
			continue
		}
		var principals []string
		var star string
		if json.Unmarshal(st.Principal, &star) == nil && star == "*" {
			principals = []string{"*"}
		} else {
			var pr struct {
				AWS json.RawMessage `json:"AWS"`
			}
			if json.Unmarshal(st.Principal, &pr) == nil {
				principals = list(pr.AWS)
			}
		}
		if !slices.Contains(principals, "*") && (role == "" || !slices.Contains(principals, role)) {
			continue
		}
		actions := list(st.Action)
		all := slices.Contains(actions, "*") || slices.Contains(actions, "elasticfilesystem:*")
		mount = mount || all || slices.Contains(actions, "elasticfilesystem:ClientMount")
		write = write || all || slices.Contains(actions, "elasticfilesystem:ClientWrite")
	}
	if !mount || !write {
		return "the file system policy does not allow DataSync ClientMount and ClientWrite"
	}
	return ""
}

// checkEfsAccess runs the access test of an EFS location. Call with mu
// held.
func (f *DataSync) checkEfsAccess(l *dsLocation) error {
	fs, err := f.c.EFS().live(l.FileSystemID)
	if err != nil {
		return dsInvalid("DataSync location access test failed: file system %s is not found or is being deleted.", l.FileSystemID)
	}
	m := subnetARNRe.FindStringSubmatch(l.SubnetARN)
	if m == nil || m[2] != f.c.account {
		return dsInvalid("Ec2Config.SubnetArn %q is not a subnet ARN of this account", l.SubnetARN)
	}
	sn, ok := f.c.EC2().st().Subnets[m[3]]
	if !ok {
		return dsInvalid("Subnet %s is not found.", m[3])
	}
	if len(l.SecurityGroupARNs) == 0 || len(l.SecurityGroupARNs) > 5 {
		return dsInvalid("Ec2Config.SecurityGroupArns takes 1 to 5 security groups")
	}
	var groups []*fakeSG
	var groupIDs []string
	for _, a := range l.SecurityGroupARNs {
		g := sgARNRe.FindStringSubmatch(a)
		if g == nil {
			return dsInvalid("%q is not a security group ARN", a)
		}
		sg, ok := f.c.EC2().st().SGs[g[3]]
		if !ok || sg.VPCID != sn.VPCID {
			return dsInvalid("Security group %s is not found in VPC %s.", g[3], sn.VPCID)
		}
		groups, groupIDs = append(groups, sg), append(groupIDs, sg.ID)
	}
	var mt *efsMountTarget
	for _, x := range f.c.EFS().mountTargetsOf(fs.ID) {
		if x.AZ == sn.AZ && x.VPCID == sn.VPCID && x.state(f.c) == efstypes.LifeCycleStateAvailable {
			mt = x
		}
	}
	if mt == nil {
		return dsInvalid("DataSync location access test failed: file system %s has no available mount target in %s of %s.", fs.ID, sn.AZ, sn.VPCID)
	}
	out := slices.ContainsFunc(groups, func(g *fakeSG) bool {
		return slices.ContainsFunc(g.Egress, func(p fakePerm) bool { return nfsAllowed(p, mt.SGs, mt.IP) })
	})
	in := slices.ContainsFunc(mt.SGs, func(id string) bool {
		g := f.c.EC2().st().SGs[id]
		return g != nil && slices.ContainsFunc(g.Ingress, func(p fakePerm) bool { return nfsAllowed(p, groupIDs, hostIn(sn.CIDR, 50)) })
	})
	if !out || !in {
		return dsInvalid("DataSync location access test failed: mount.nfs: Connection timed out (the security groups do not let NFS (TCP 2049) from %v to mount target %s).", groupIDs, mt.ID)
	}
	if l.AccessRoleARN != "" {
		if l.InTransit != string(types.EfsInTransitEncryptionTls12) {
			return dsInvalid("FileSystemAccessRoleArn requires InTransitEncryption TLS1_2")
		}
		if _, err := f.c.IAM().role(l.AccessRoleARN[strings.LastIndex(l.AccessRoleARN, "/")+1:]); err != nil {
			return dsInvalid("Unable to assume role. Reason: Access denied when calling sts:AssumeRole on %s", l.AccessRoleARN)
		}
	}
	if fs.Policy != "" {
		if why := efsPolicyLetsIn(fs.Policy, l.AccessRoleARN, l.InTransit == string(types.EfsInTransitEncryptionTls12)); why != "" {
			return dsInvalid("DataSync location access test failed: mount.nfs: access denied by server (%s).", why)
		}
	}
	return nil
}

// CreateLocationEfs creates an EFS location after its access test.
func (f *DataSync) CreateLocationEfs(ctx context.Context, in *datasync.CreateLocationEfsInput, _ ...func(*datasync.Options)) (*datasync.CreateLocationEfsOutput, error) {
	var out *datasync.CreateLocationEfsOutput
	err := f.c.call(ctx, datasync.ServiceID, "CreateLocationEfs", true, func() error {
		m := efsARNRe.FindStringSubmatch(aws.ToString(in.EfsFilesystemArn))
		if m == nil || m[1] != f.c.region || m[2] != f.c.account {
			return dsInvalid("EfsFilesystemArn %q is not a file system ARN of this account and Region", aws.ToString(in.EfsFilesystemArn))
		}
		if in.Ec2Config == nil {
			return dsInvalid("Ec2Config is required")
		}
		if in.AccessPointArn != nil {
			return dsInvalid("access points are not modelled by the fake")
		}
		sub := aws.ToString(in.Subdirectory)
		if sub == "" {
			sub = "/"
		}
		if !dsSubdirRe.MatchString(sub) {
			return dsInvalid("Subdirectory must be an absolute path")
		}
		tls := string(in.InTransitEncryption)
		if tls == "" {
			tls = string(types.EfsInTransitEncryptionNone)
		}
		probe := &dsLocation{Type: "EFS", FileSystemID: m[3], SubnetARN: aws.ToString(in.Ec2Config.SubnetArn),
			SecurityGroupARNs: slices.Clone(in.Ec2Config.SecurityGroupArns), AccessRoleARN: aws.ToString(in.FileSystemAccessRoleArn), InTransit: tls}
		if err := f.checkEfsAccess(probe); err != nil {
			return err
		}
		l, err := f.newLocation("EFS", "", in.Tags)
		if err != nil {
			return err
		}
		l.Hostname, l.Subdir = f.c.region+"."+m[3], sub
		l.FileSystemID, l.SubnetARN, l.SecurityGroupARNs, l.AccessRoleARN, l.InTransit = probe.FileSystemID, probe.SubnetARN, probe.SecurityGroupARNs, probe.AccessRoleARN, probe.InTransit
		out = &datasync.CreateLocationEfsOutput{LocationArn: aws.String(l.ARN)}
		return nil
	})
	return out, err
}

// DescribeLocationEfs describes an EFS location.
func (f *DataSync) DescribeLocationEfs(ctx context.Context, in *datasync.DescribeLocationEfsInput, _ ...func(*datasync.Options)) (*datasync.DescribeLocationEfsOutput, error) {
	var out *datasync.DescribeLocationEfsOutput
	err := f.c.call(ctx, datasync.ServiceID, "DescribeLocationEfs", false, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "EFS")
		if err != nil {
			return err
		}
		out = &datasync.DescribeLocationEfsOutput{LocationArn: aws.String(l.ARN), LocationUri: aws.String(l.uri()), CreationTime: aws.Time(l.Created),
			Ec2Config:           &types.Ec2Config{SubnetArn: aws.String(l.SubnetARN), SecurityGroupArns: slices.Clone(l.SecurityGroupARNs)},
			InTransitEncryption: types.EfsInTransitEncryption(l.InTransit)}
		if l.AccessRoleARN != "" {
			out.FileSystemAccessRoleArn = aws.String(l.AccessRoleARN)
		}
		return nil
	})
	return out, err
}

// UpdateLocationEfs changes an EFS location's subdirectory, access role or
// in-transit encryption, after the access test (its file system and
// Ec2Config cannot change).
func (f *DataSync) UpdateLocationEfs(ctx context.Context, in *datasync.UpdateLocationEfsInput, _ ...func(*datasync.Options)) (*datasync.UpdateLocationEfsOutput, error) {
	err := f.c.call(ctx, datasync.ServiceID, "UpdateLocationEfs", true, func() error {
		l, err := f.location(aws.ToString(in.LocationArn), "EFS")
		if err != nil {
			return err
		}
		if in.AccessPointArn != nil {
			return dsInvalid("access points are not modelled by the fake")
		}
		next := *l
		if in.Subdirectory != nil {
			if !dsSubdirRe.MatchString(*in.Subdirectory) {
				return dsInvalid("Subdirectory must be an absolute path")
			}
			next.Subdir = *in.Subdirectory
		}
		if in.FileSystemAccessRoleArn != nil {
			next.AccessRoleARN = *in.FileSystemAccessRoleArn
		}
		if in.InTransitEncryption != "" {
			next.InTransit = string(in.InTransitEncryption)
		}
		if err := f.checkEfsAccess(&next); err != nil {
			return err
		}
		*l = next
		return nil
	})
	return &datasync.UpdateLocationEfsOutput{}, err
}
