package awsx

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// SGRule is one atomic security group rule: one protocol and port range
// to or from one peer — a group (sg-...), an IPv4 or IPv6 block, or a
// prefix list (pl-...). Desc is its description, which is not part of
// its identity (Key).
type SGRule struct {
	Egress   bool
	Proto    string // tcp, udp, -1 (all)
	From, To int32
	Peer     string
	Desc     string
}

// Key identifies the rule: everything but Desc.
func (r SGRule) Key() string {
	return fmt.Sprintf("%t|%s|%d|%d|%s", r.Egress, r.Proto, r.From, r.To, r.Peer)
}

// String renders the rule as a plan shows it: "in tcp/5432 sg-...".
func (r SGRule) String() string {
	dir := "in"
	if r.Egress {
		dir = "out"
	}
	port := fmt.Sprintf("%s/%d", r.Proto, r.From)
	switch {
	case r.Proto == "-1":
		port = "all"
	case r.From != r.To:
		port = fmt.Sprintf("%s/%d-%d", r.Proto, r.From, r.To)
	}
	return dir + " " + port + " " + r.Peer
}

// SortSGRules sorts rules by Key, so plans and calls are deterministic.
func SortSGRules(rs []SGRule) {
	slices.SortFunc(rs, func(a, b SGRule) int { return cmp.Compare(a.Key(), b.Key()) })
}

// SplitPermissions splits a group's EC2 permissions (IpPermissions, or
// IpPermissionsEgress with egress) into atomic rules, one per peer.
func SplitPermissions(perms []ec2types.IpPermission, egress bool) []SGRule {
	var out []SGRule
	for _, p := range perms {
		base := SGRule{Egress: egress, Proto: strings.ToLower(aws.ToString(p.IpProtocol))}
		if base.Proto != "-1" {
			base.From, base.To = aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
		}
		add := func(peer string) { r := base; r.Peer = peer; out = append(out, r) }
		for _, r := range p.IpRanges {
			add(aws.ToString(r.CidrIp))
		}
		for _, g := range p.UserIdGroupPairs {
			add(aws.ToString(g.GroupId))
		}
		for _, r := range p.Ipv6Ranges {
			add(aws.ToString(r.CidrIpv6))
		}
		for _, r := range p.PrefixListIds {
			add(aws.ToString(r.PrefixListId))
		}
	}
	return out
}

// SGPermissions turns atomic rules into EC2 permissions, one per rule,
// with their descriptions.
func SGPermissions(rs []SGRule) []ec2types.IpPermission {
	var out []ec2types.IpPermission
	for _, r := range rs {
		p := ec2types.IpPermission{IpProtocol: aws.String(r.Proto)}
		if r.Proto != "-1" {
			p.FromPort, p.ToPort = aws.Int32(r.From), aws.Int32(r.To)
		}
		var d *string
		if r.Desc != "" {
			d = aws.String(r.Desc)
		}
		switch {
		case strings.HasPrefix(r.Peer, "sg-"):
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.Peer), Description: d}}
		case strings.HasPrefix(r.Peer, "pl-"):
			p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(r.Peer), Description: d}}
		case strings.Contains(r.Peer, ":"):
			p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.Peer), Description: d}}
		default:
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.Peer), Description: d}}
		}
		out = append(out, p)
	}
	return out
}

// SGRulesAPI is the part of the EC2 client ApplySGRules uses.
type SGRulesAPI interface {
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(context.Context, *ec2.AuthorizeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
}

// ApplySGRules authorizes add and revokes revoke on a group, one
// direction at a time, each in one call. EC2 applies a batch all or
// nothing: when a batch fails because one rule is already there (a lost
// response, someone else) or already gone, its rules are applied one by
// one and those are skipped. retry (migration.Env.Retry) retries a call
// while a group just created is not visible yet.
func ApplySGRules(ctx context.Context, retry func(context.Context, []string, func(context.Context) error) error, api SGRulesAPI, groupID string, add, revoke []SGRule) error {
	split := func(rs []SGRule) (in, out []SGRule) {
		for _, r := range rs {
			if r.Egress {
				out = append(out, r)
			} else {
				in = append(in, r)
			}
		}
		return in, out
	}
	notYet := []string{"InvalidGroup.NotFound"}
	gid := aws.String(groupID)
	addIn, addOut := split(add)
	revIn, revOut := split(revoke)
	calls := []struct {
		what  string
		rules []SGRule
		call  func(context.Context, []ec2types.IpPermission) error
		ok    string
	}{
		{"authorize ingress", addIn, func(ctx context.Context, p []ec2types.IpPermission) error {
			_, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: gid, IpPermissions: p})
			return err
		}, "InvalidPermission.Duplicate"},
		{"authorize egress", addOut, func(ctx context.Context, p []ec2types.IpPermission) error {
			_, err := api.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: gid, IpPermissions: p})
			return err
		}, "InvalidPermission.Duplicate"},
		{"revoke ingress", revIn, func(ctx context.Context, p []ec2types.IpPermission) error {
			_, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: gid, IpPermissions: p})
			return err
		}, "InvalidPermission.NotFound"},
		{"revoke egress", revOut, func(ctx context.Context, p []ec2types.IpPermission) error {
			_, err := api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: gid, IpPermissions: p})
			return err
		}, "InvalidPermission.NotFound"},
	}
	for _, c := range calls {
		if len(c.rules) == 0 {
			continue
		}
		err := retry(ctx, notYet, func(ctx context.Context) error { return c.call(ctx, SGPermissions(c.rules)) })
		if HasCode(err, c.ok) {
			for _, r := range c.rules {
				if err := retry(ctx, notYet, func(ctx context.Context) error { return c.call(ctx, SGPermissions([]SGRule{r})) }); err != nil && !HasCode(err, c.ok) {
					return fmt.Errorf("%s %s on %s: %w", c.what, r, groupID, err)
				}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s on %s: %w", c.what, groupID, err)
		}
	}
	return nil
}
