package network

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// clientToken returns the idempotency token for creating the named
// resource of env: a hash of the account, Region, env and name, plus parts
// that tell generations apart (the Elastic IP a NAT gateway is made with).
// The same inputs always give the same token, so a create retried after a
// crash or a lost response returns the resource the first attempt made
// instead of a duplicate. EC2 accepts up to 64 ASCII characters.
func clientToken(env migration.Env, name string, parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{"cutover", env.Account, env.Region, env.Suffix, name}, parts...) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// ec2Tagger is the EC2 call that tags a resource.
type ec2Tagger interface {
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// tagEC2 returns the write that adds missing tags to the EC2 resource id,
// for migration.Converge.Tags.
func tagEC2(ctx context.Context, api ec2Tagger, id string) func(missing map[string]string) error {
	return func(missing map[string]string) error {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: awsx.EC2Tags(missing)}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
		return nil
	}
}

// report sends one Change.
func report(env migration.Env, kind, name, id string, a migration.Action, diff []migration.FieldDiff, note string) {
	env.Report(migration.Change{Kind: kind, Name: name, ID: id, Action: a, Diff: diff, Note: note})
}

// checkID validates an AWS ID field of a spec: empty is allowed here
// (Ensure functions require their parents separately, Delete functions
// find by tags), a dry-run Pending ID is allowed, anything else must carry
// one of the prefixes.
func checkID(field, id string, prefixes ...string) error {
	if id == "" || migration.IsPending(id) {
		return nil
	}
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) && len(id) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("%s: %q is not an ID of the form %s<id>", field, id, strings.Join(prefixes, "<id> or "))
}

// required returns an error naming every empty field: Ensure functions
// need their parents' IDs.
func required(fields ...string) error {
	var missing []string
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			missing = append(missing, fields[i]+": required")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(missing, "; "))
}

// realIDs refuses dry-run Pending IDs outside a dry run: a spec built from
// a plan must not be applied as is.
func realIDs(env migration.Env, fields ...string) error {
	if env.DryRun {
		return nil
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if migration.IsPending(fields[i+1]) {
			return fmt.Errorf("%s: %q is a dry-run placeholder; apply its parent first", fields[i], fields[i+1])
		}
	}
	return nil
}

// parseCIDR parses an IPv4 network address for a spec field.
func parseCIDR(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return netip.Prefix{}, fmt.Errorf("%s: %q is not a CIDR block", field, s)
	case !p.Addr().Is4():
		return netip.Prefix{}, fmt.Errorf("%s: %q is not IPv4", field, s)
	case p.Masked() != p:
		return netip.Prefix{}, fmt.Errorf("%s: %q has host bits set; did you mean %s?", field, s, p.Masked())
	}
	return p, nil
}

// Subnet is one ensured subnet, as the specs of the other Ensure
// functions take it.
type Subnet struct {
	ID   string
	Name string
	AZ   string
	CIDR string
	// Public subnets route to the internet gateway; private ones to a NAT
	// gateway.
	Public bool
}

// checkSubnets validates a list of subnets of a spec: IDs well formed and
// every AZ named.
func checkSubnets(field string, subnets []Subnet) error {
	for i, s := range subnets {
		if s.ID == "" {
			return fmt.Errorf("%s[%d].id: required", field, i)
		}
		if err := checkID(fmt.Sprintf("%s[%d].id", field, i), s.ID, "subnet-"); err != nil {
			return err
		}
		if s.AZ == "" {
			return fmt.Errorf("%s[%d].az: required", field, i)
		}
	}
	return nil
}

// subnetIDs returns the IDs of subnets.
func subnetIDs(subnets []Subnet) []string {
	out := make([]string, len(subnets))
	for i, s := range subnets {
		out[i] = s.ID
	}
	return out
}
