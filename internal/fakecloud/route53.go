package fakecloud

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
)

// Route53 is the fake Route 53 client. Get it with Cloud.Route53.
//
// It models what a reconciler of hosted zones and weighted records meets:
//
//   - CreateHostedZone: a CallerReference can be used once, ever (reuse,
//     even after the zone is deleted, is HostedZoneAlreadyExists, HTTP
//     409); a private zone needs an existing VPC of the cloud's Region
//     (InvalidVPCId) and is refused when a zone of the same name is
//     already associated with that VPC (ConflictingDomainExists). A new
//     zone holds its SOA and NS records.
//   - DeleteHostedZone refuses a zone holding anything but its apex SOA
//     and NS records (HostedZoneNotEmpty).
//   - ChangeResourceRecordSets validates a batch the way Route 53 does and
//     applies it whole or not at all: CREATE of an existing record and a
//     DELETE that is missing or does not match exactly are
//     InvalidChangeBatch; UPSERT replaces by name, type and SetIdentifier;
//     the records of one name and type are either one simple record or
//     weighted records that all carry a SetIdentifier, a Weight of 0..255
//     and (when not aliases) one TTL; a CNAME shares its name with nothing.
//     Its change is PENDING and becomes INSYNC changeSyncAfter later on
//     the fake clock (GetChange).
//   - ListResourceRecordSets sorts as Route 53 does (name with labels
//     reversed, then type, then SetIdentifier) and pages with
//     StartRecordName/Type/Identifier and MaxItems (at most 300).
//   - IDs carry their "/hostedzone/" and "/change/" prefixes in responses;
//     inputs accept both forms where the SDK strips the prefix, and only
//     the bare form for the tagging operations, as the SDK sends them.
//
// Health check IDs on records are checked for shape only; the fake keeps
// no health checks.
type Route53 struct{ c *Cloud }

// Route53 returns the Route 53 client of the cloud.
func (c *Cloud) Route53() *Route53 { return &Route53{c: c} }

func init() { register("route53", func() any { return &route53State{} }) }

// changeSyncAfter is how long a change stays PENDING before GetChange
// reports INSYNC. AWS says changes generally propagate within 60 seconds.
const changeSyncAfter = 40 * time.Second

type route53State struct {
	Zones map[string]*fakeZone `json:"zones"`
	// CallerRefs holds every CallerReference ever used, with the zone it
	// created: Route 53 never accepts one twice, even after a delete.
	CallerRefs map[string]string      `json:"callerRefs"`
	Changes    map[string]*fakeChange `json:"changes"`
	// FailChanges is how many ChangeResourceRecordSets attempts from now
	// fail with PriorRequestNotComplete (see FailNextChanges).
	FailChanges int `json:"failChanges,omitempty"`
}

type fakeZone struct {
	ID        string            `json:"id"` // bare: Z...
	Name      string            `json:"name"`
	CallerRef string            `json:"callerRef"`
	Comment   string            `json:"comment,omitempty"`
	Private   bool              `json:"private"`
	VPCs      []fakeZoneVPC     `json:"vpcs,omitempty"`
	Tags      map[string]string `json:"tags"`
	Records   []fakeRecord      `json:"records"`
	Created   time.Time         `json:"created"`
}

type fakeZoneVPC struct {
	ID     string `json:"id"`
	Region string `json:"region"`
}

type fakeRecord struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	SetID         string     `json:"setId,omitempty"`
	Weight        *int64     `json:"weight,omitempty"`
	TTL           *int64     `json:"ttl,omitempty"`
	Values        []string   `json:"values,omitempty"`
	Alias         *fakeAlias `json:"alias,omitempty"`
	HealthCheckID string     `json:"healthCheckId,omitempty"`
}

type fakeAlias struct {
	DNSName  string `json:"dnsName"`
	ZoneID   string `json:"zoneId"`
	Evaluate bool   `json:"evaluate"`
}

type fakeChange struct {
	ID        string    `json:"id"` // bare: C...
	Submitted time.Time `json:"submitted"`
	Comment   string    `json:"comment,omitempty"`
}

func (f *Route53) st() *route53State {
	s := state[route53State](f.c, "route53")
	if s.Zones == nil {
		s.Zones = map[string]*fakeZone{}
		s.CallerRefs = map[string]string{}
		s.Changes = map[string]*fakeChange{}
	}
	return s
}

// r53ID returns a fresh Route 53 style ID: prefix followed by upper-case
// alphanumerics. Call with mu held.
func (f *Route53) r53ID(prefix string) string {
	f.c.seq++
	return fmt.Sprintf("%s0%016X", prefix, mix(f.c.seq))
}

// FailNextChanges makes the next n ChangeResourceRecordSets attempts fail
// with PriorRequestNotComplete, as Route 53 answers while it still
// processes an earlier request for the zone. The client's retryer treats
// the code as throttling, so fewer than awsx.MaxAttempts failures are
// absorbed by the retry of a single call.
func (f *Route53) FailNextChanges(n int) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().FailChanges = n
}

// Zones returns the IDs (bare, "Z...") of the hosted zones, for assertions.
func (f *Route53) Zones() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Zones)
}

// ZoneTags returns a copy of a zone's tags, or nil when it does not exist.
func (f *Route53) ZoneTags(id string) map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	z, ok := f.st().Zones[r53ZoneID(id)]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(z.Tags))
	for k, v := range z.Tags {
		out[k] = v
	}
	return out
}

// Records returns a zone's records in Route 53's list order, or nil when
// the zone does not exist, for assertions.
func (f *Route53) Records(zoneID string) []types.ResourceRecordSet {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	z, ok := f.st().Zones[r53ZoneID(zoneID)]
	if !ok {
		return nil
	}
	out := make([]types.ResourceRecordSet, 0, len(z.Records))
	for _, r := range r53Sorted(z.Records) {
		out = append(out, r.out())
	}
	return out
}

// --- names and IDs ---

func r53ZoneID(id string) string   { return strings.TrimPrefix(id, "/hostedzone/") }
func r53ChangeID(id string) string { return strings.TrimPrefix(id, "/change/") }

// r53Name lower-cases a DNS name and adds the trailing dot, as Route 53
// stores and returns names.
func r53Name(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// r53NameKey is the key Route 53 sorts names by: the labels reversed, with
// the trailing dot ("www.example.com." sorts as "com.example.www.").
func r53NameKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(r53Name(name), "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "."
}

// r53ValidName reports whether name (with or without its trailing dot) is
// a DNS name Route 53 accepts: labels of 1..63 letters, digits, hyphens
// and underscores, 255 characters in all; "*" only as the first label.
func r53ValidName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 254 {
		return false
	}
	for i, l := range strings.Split(name, ".") {
		if l == "*" && i == 0 {
			continue
		}
		if l == "" || len(l) > 63 {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// r53InZone reports whether name is the zone apex or below it.
func r53InZone(name, zone string) bool { return name == zone || strings.HasSuffix(name, "."+zone) }

// --- zones ---

func (z *fakeZone) out() *types.HostedZone {
	return &types.HostedZone{
		Id:                     aws.String("/hostedzone/" + z.ID),
		Name:                   aws.String(z.Name),
		CallerReference:        aws.String(z.CallerRef),
		Config:                 &types.HostedZoneConfig{PrivateZone: z.Private, Comment: r53Opt(z.Comment)},
		ResourceRecordSetCount: aws.Int64(int64(len(z.Records))),
	}
}

func (z *fakeZone) vpcs() []types.VPC {
	var out []types.VPC
	for _, v := range z.VPCs {
		out = append(out, types.VPC{VPCId: aws.String(v.ID), VPCRegion: types.VPCRegion(v.Region)})
	}
	return out
}

func r53Opt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// zone returns the zone with the given ID (bare or prefixed), or
// NoSuchHostedZone, also while a new zone is hidden (eventual
// consistency). Call with mu held.
func (f *Route53) zone(id string) (*fakeZone, error) {
	bare := r53ZoneID(id)
	z, ok := f.st().Zones[bare]
	if !ok || f.c.hidden(bare) {
		return nil, notFound("NoSuchHostedZone", "No hosted zone found with ID: %s", bare)
	}
	return z, nil
}

// newChange records a change submitted now and returns its ChangeInfo.
// Call with mu held.
func (f *Route53) newChange(comment string) *types.ChangeInfo {
	ch := &fakeChange{ID: f.r53ID("C"), Submitted: f.c.now(), Comment: comment}
	f.st().Changes[ch.ID] = ch
	return ch.info(f.c.now())
}

func (ch *fakeChange) info(now time.Time) *types.ChangeInfo {
	status := types.ChangeStatusPending
	if now.Sub(ch.Submitted) >= changeSyncAfter {
		status = types.ChangeStatusInsync
	}
	return &types.ChangeInfo{Id: aws.String("/change/" + ch.ID), Status: status, SubmittedAt: aws.Time(ch.Submitted), Comment: r53Opt(ch.Comment)}
}

// CreateHostedZone creates a hosted zone with its SOA and NS records. See
// the type documentation for the rules it enforces.
func (f *Route53) CreateHostedZone(ctx context.Context, in *route53.CreateHostedZoneInput, _ ...func(*route53.Options)) (*route53.CreateHostedZoneOutput, error) {
	var out *route53.CreateHostedZoneOutput
	err := f.c.call(ctx, route53.ServiceID, "CreateHostedZone", true, func() error {
		ref := aws.ToString(in.CallerReference)
		if ref == "" || len(ref) > 128 {
			return apiError("InvalidInput", "Invalid request: CallerReference must be 1 to 128 characters")
		}
		if in.Name == nil || !r53ValidName(*in.Name) {
			return apiError("InvalidDomainName", "%s is not a valid domain name", aws.ToString(in.Name))
		}
		name := r53Name(*in.Name)
		s := f.st()
		if _, used := s.CallerRefs[ref]; used {
			return &apiErr{code: "HostedZoneAlreadyExists", msg: fmt.Sprintf("A hosted zone has already been created with the specified caller reference %q.", ref), status: http.StatusConflict, fault: smithy.FaultClient}
		}
		private := in.HostedZoneConfig != nil && in.HostedZoneConfig.PrivateZone
		if private && in.VPC == nil {
			return apiError("InvalidInput", "Invalid request: a private hosted zone requires a VPC")
		}
		z := &fakeZone{Name: name, CallerRef: ref, Private: private || in.VPC != nil, Tags: map[string]string{}, Created: f.c.now()}
		if in.HostedZoneConfig != nil {
			z.Comment = aws.ToString(in.HostedZoneConfig.Comment)
		}
		if in.VPC != nil {
			vpcID, region := aws.ToString(in.VPC.VPCId), string(in.VPC.VPCRegion)
			if _, ok := f.c.EC2().st().VPCs[vpcID]; !ok || region != f.c.region {
				return apiError("InvalidVPCId", "The VPC ID '%s' in region '%s' is invalid or not authorized.", vpcID, region)
			}
			for _, other := range s.Zones {
				if other.Name == name && slices.ContainsFunc(other.VPCs, func(v fakeZoneVPC) bool { return v.ID == vpcID }) {
					return apiError("ConflictingDomainExists", "A conflicting domain %s exists for this VPC %s (hosted zone %s).", strings.TrimSuffix(name, "."), vpcID, other.ID)
				}
			}
			z.VPCs = []fakeZoneVPC{{ID: vpcID, Region: region}}
		}
		z.ID = f.r53ID("Z")
		z.Records = []fakeRecord{
			{Name: name, Type: "NS", TTL: aws.Int64(172800), Values: []string{"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."}},
			{Name: name, Type: "SOA", TTL: aws.Int64(900), Values: []string{"ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		}
		s.Zones[z.ID] = z
		s.CallerRefs[ref] = z.ID
		f.c.created(z.ID)
		out = &route53.CreateHostedZoneOutput{
			HostedZone: z.out(),
			ChangeInfo: f.newChange(""),
			Location:   aws.String("https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID),
		}
		if in.VPC != nil {
			out.VPC = &z.vpcs()[0]
		} else {
			out.DelegationSet = &types.DelegationSet{NameServers: z.Records[0].Values}
		}
		return nil
	})
	return out, err
}

// GetHostedZone returns a zone and, for a private zone, its VPCs.
func (f *Route53) GetHostedZone(ctx context.Context, in *route53.GetHostedZoneInput, _ ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	var out *route53.GetHostedZoneOutput
	err := f.c.call(ctx, route53.ServiceID, "GetHostedZone", false, func() error {
		z, err := f.zone(aws.ToString(in.Id))
		if err != nil {
			return err
		}
		out = &route53.GetHostedZoneOutput{HostedZone: z.out(), VPCs: z.vpcs()}
		if !z.Private {
			out.DelegationSet = &types.DelegationSet{NameServers: z.Records[0].Values}
		}
		return nil
	})
	return out, err
}

// ListHostedZonesByName lists the account's zones sorted by name with the
// labels reversed and then by ID, starting at DNSName (and HostedZoneId
// among zones of that name), MaxItems (default and maximum 100) at a time.
func (f *Route53) ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput, _ ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	var out *route53.ListHostedZonesByNameOutput
	err := f.c.call(ctx, route53.ServiceID, "ListHostedZonesByName", false, func() error {
		if in.HostedZoneId != nil && in.DNSName == nil {
			return apiError("InvalidInput", "Invalid request: hostedzoneid requires dnsname")
		}
		if in.DNSName != nil && !r53ValidName(*in.DNSName) {
			return apiError("InvalidDomainName", "%s is not a valid domain name", *in.DNSName)
		}
		size := 100
		if in.MaxItems != nil && *in.MaxItems > 0 && *in.MaxItems < 100 {
			size = int(*in.MaxItems)
		}
		zones := make([]*fakeZone, 0, len(f.st().Zones))
		for _, z := range f.st().Zones {
			zones = append(zones, z)
		}
		slices.SortFunc(zones, func(a, b *fakeZone) int {
			return cmp.Or(strings.Compare(r53NameKey(a.Name), r53NameKey(b.Name)), strings.Compare(a.ID, b.ID))
		})
		startKey, startID := "", r53ZoneID(aws.ToString(in.HostedZoneId))
		if in.DNSName != nil {
			startKey = r53NameKey(*in.DNSName)
		}
		out = &route53.ListHostedZonesByNameOutput{DNSName: in.DNSName, HostedZoneId: in.HostedZoneId, MaxItems: aws.Int32(int32(size))}
		for _, z := range zones {
			if c := strings.Compare(r53NameKey(z.Name), startKey); c < 0 || c == 0 && z.ID < startID {
				continue
			}
			if len(out.HostedZones) == size {
				out.IsTruncated = true
				out.NextDNSName = aws.String(z.Name)
				out.NextHostedZoneId = aws.String(z.ID)
				break
			}
			if f.c.hidden(z.ID) {
				continue
			}
			out.HostedZones = append(out.HostedZones, *z.out())
		}
		return nil
	})
	return out, err
}

// DeleteHostedZone deletes a zone that holds only its apex SOA and NS
// records; otherwise it fails with HostedZoneNotEmpty.
func (f *Route53) DeleteHostedZone(ctx context.Context, in *route53.DeleteHostedZoneInput, _ ...func(*route53.Options)) (*route53.DeleteHostedZoneOutput, error) {
	var out *route53.DeleteHostedZoneOutput
	err := f.c.call(ctx, route53.ServiceID, "DeleteHostedZone", true, func() error {
		z, err := f.zone(aws.ToString(in.Id))
		if err != nil {
			return err
		}
		for _, r := range z.Records {
			if !r.required(z.Name) {
				return apiError("HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		delete(f.st().Zones, z.ID)
		out = &route53.DeleteHostedZoneOutput{ChangeInfo: f.newChange("")}
		return nil
	})
	return out, err
}

// required reports whether r is one of the records a zone must hold: the
// SOA and NS at its apex.
func (r fakeRecord) required(zone string) bool {
	return r.Name == zone && (r.Type == "SOA" || r.Type == "NS") && r.SetID == ""
}

// tagZone resolves the zone of a tagging call, which takes the bare ID
// only. Call with mu held.
func (f *Route53) tagZone(rt types.TagResourceType, id string) (*fakeZone, error) {
	switch {
	case rt == types.TagResourceTypeHealthcheck:
		return nil, notFound("NoSuchHealthCheck", "No health check found with ID %s (the fake keeps no health checks)", id)
	case rt != types.TagResourceTypeHostedzone:
		return nil, apiError("InvalidInput", "Invalid request: ResourceType must be hostedzone or healthcheck")
	case id == "" || strings.Contains(id, "/"):
		return nil, apiError("InvalidInput", "Invalid request: %q is not a hosted zone ID", id)
	}
	return f.zone(id)
}

// ChangeTagsForResource adds (at most 10 per call) and removes (at most 10
// keys per call) tags of a hosted zone; a zone holds at most 50 tags.
func (f *Route53) ChangeTagsForResource(ctx context.Context, in *route53.ChangeTagsForResourceInput, _ ...func(*route53.Options)) (*route53.ChangeTagsForResourceOutput, error) {
	err := f.c.call(ctx, route53.ServiceID, "ChangeTagsForResource", true, func() error {
		if len(in.AddTags) > 10 || len(in.RemoveTagKeys) > 10 {
			return apiError("InvalidInput", "Invalid request: at most 10 tags may be added and 10 removed per request")
		}
		z, err := f.tagZone(in.ResourceType, aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		next := make(map[string]string, len(z.Tags))
		for k, v := range z.Tags {
			next[k] = v
		}
		for _, k := range in.RemoveTagKeys {
			delete(next, k)
		}
		for _, t := range in.AddTags {
			k, v := aws.ToString(t.Key), aws.ToString(t.Value)
			if k == "" || len(k) > 128 || len(v) > 256 {
				return apiError("InvalidInput", "Invalid request: tag keys are 1..128 and values 0..256 characters")
			}
			next[k] = v
		}
		if len(next) > 50 {
			return apiError("InvalidInput", "Invalid request: a hosted zone can have at most 50 tags")
		}
		z.Tags = next
		return nil
	})
	return &route53.ChangeTagsForResourceOutput{}, err
}

// ListTagsForResource lists the tags of a hosted zone.
func (f *Route53) ListTagsForResource(ctx context.Context, in *route53.ListTagsForResourceInput, _ ...func(*route53.Options)) (*route53.ListTagsForResourceOutput, error) {
	var out *route53.ListTagsForResourceOutput
	err := f.c.call(ctx, route53.ServiceID, "ListTagsForResource", false, func() error {
		z, err := f.tagZone(in.ResourceType, aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		set := &types.ResourceTagSet{ResourceId: aws.String(z.ID), ResourceType: types.TagResourceTypeHostedzone}
		for _, k := range sortedKeys(z.Tags) {
			set.Tags = append(set.Tags, types.Tag{Key: aws.String(k), Value: aws.String(z.Tags[k])})
		}
		out = &route53.ListTagsForResourceOutput{ResourceTagSet: set}
		return nil
	})
	return out, err
}

// GetChange reports a change PENDING until changeSyncAfter has passed on
// the fake clock, then INSYNC.
func (f *Route53) GetChange(ctx context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	var out *route53.GetChangeOutput
	err := f.c.call(ctx, route53.ServiceID, "GetChange", false, func() error {
		id := r53ChangeID(aws.ToString(in.Id))
		ch, ok := f.st().Changes[id]
		if !ok {
			return notFound("NoSuchChange", "A change with the specified change ID %s does not exist.", id)
		}
		out = &route53.GetChangeOutput{ChangeInfo: ch.info(f.c.now())}
		return nil
	})
	return out, err
}

// --- records ---

func (r fakeRecord) out() types.ResourceRecordSet {
	o := types.ResourceRecordSet{Name: aws.String(r.Name), Type: types.RRType(r.Type), SetIdentifier: r53Opt(r.SetID), HealthCheckId: r53Opt(r.HealthCheckID)}
	if r.Weight != nil {
		o.Weight = aws.Int64(*r.Weight)
	}
	if r.TTL != nil {
		o.TTL = aws.Int64(*r.TTL)
	}
	for _, v := range r.Values {
		o.ResourceRecords = append(o.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	if r.Alias != nil {
		o.AliasTarget = &types.AliasTarget{DNSName: aws.String(r.Alias.DNSName), HostedZoneId: aws.String(r.Alias.ZoneID), EvaluateTargetHealth: r.Alias.Evaluate}
	}
	return o
}

// same reports whether r and o are the same record (name, type,
// SetIdentifier).
func (r fakeRecord) same(o fakeRecord) bool {
	return r.Name == o.Name && r.Type == o.Type && r.SetID == o.SetID
}

// equal reports whether r and o match in every value, as a DELETE needs.
func (r fakeRecord) equal(o fakeRecord) bool {
	eqInt := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	av, bv := slices.Clone(r.Values), slices.Clone(o.Values)
	slices.Sort(av)
	slices.Sort(bv)
	aliasEq := r.Alias == nil && o.Alias == nil || r.Alias != nil && o.Alias != nil && *r.Alias == *o.Alias
	return r.same(o) && eqInt(r.Weight, o.Weight) && eqInt(r.TTL, o.TTL) && slices.Equal(av, bv) && aliasEq && r.HealthCheckID == o.HealthCheckID
}

func (r fakeRecord) ident() string {
	s := fmt.Sprintf("name='%s', type='%s'", r.Name, r.Type)
	if r.SetID != "" {
		s += fmt.Sprintf(", set-identifier='%s'", r.SetID)
	}
	return s
}

func r53Sorted(recs []fakeRecord) []fakeRecord {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b fakeRecord) int {
		return cmp.Or(strings.Compare(r53NameKey(a.Name), r53NameKey(b.Name)), strings.Compare(a.Type, b.Type), strings.Compare(a.SetID, b.SetID))
	})
	return out
}

var r53Types = []string{"A", "AAAA", "CAA", "CNAME", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "TXT"}

// r53ParseRecord validates one change's record set on its own (Route 53's
// InvalidInput and value checks) and converts it. Call with mu held.
func r53ParseRecord(z *fakeZone, action types.ChangeAction, in *types.ResourceRecordSet) (fakeRecord, error) {
	if in == nil || in.Name == nil || in.Type == "" {
		return fakeRecord{}, apiError("InvalidInput", "Invalid request: every change needs a ResourceRecordSet with a Name and a Type")
	}
	r := fakeRecord{Name: r53Name(*in.Name), Type: string(in.Type), SetID: aws.ToString(in.SetIdentifier), HealthCheckID: aws.ToString(in.HealthCheckId)}
	where := fmt.Sprintf("in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, r.Name, r.Type, r53Null(r.SetID))
	if !r53ValidName(r.Name) {
		return r, apiError("InvalidChangeBatch", "[%s is not a valid domain name]", r.Name)
	}
	if !slices.Contains(r53Types, r.Type) {
		return r, apiError("InvalidInput", "Invalid request: unknown record type %q %s", r.Type, where)
	}
	if in.Region != "" || in.Failover != "" || in.GeoLocation != nil || in.GeoProximityLocation != nil || in.CidrRoutingConfig != nil || in.MultiValueAnswer != nil || in.TrafficPolicyInstanceId != nil {
		return r, apiError("InvalidInput", "Invalid request: the fake supports simple and weighted routing only %s", where)
	}
	hasRecords := in.TTL != nil && len(in.ResourceRecords) > 0
	switch {
	case in.AliasTarget != nil && (in.TTL != nil || len(in.ResourceRecords) > 0):
		return r, apiError("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one %s", where)
	case in.AliasTarget == nil && !hasRecords:
		return r, apiError("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none %s", where)
	}
	if in.Weight != nil {
		if r.SetID == "" {
			return r, apiError("InvalidInput", "Invalid request: Missing field 'SetIdentifier' %s", where)
		}
		if *in.Weight < 0 || *in.Weight > 255 {
			return r, apiError("InvalidInput", "Invalid request: Weight %d %s must be between 0 and 255", *in.Weight, where)
		}
		r.Weight = aws.Int64(*in.Weight)
	} else if r.SetID != "" {
		return r, apiError("InvalidInput", "Invalid request: Missing field 'Weight' %s", where)
	}
	if len(r.SetID) > 128 {
		return r, apiError("InvalidInput", "Invalid request: SetIdentifier longer than 128 characters %s", where)
	}
	if len(r.HealthCheckID) > 64 {
		return r, apiError("InvalidInput", "Invalid request: HealthCheckId longer than 64 characters %s", where)
	}
	if !r53InZone(r.Name, z.Name) {
		return r, apiError("InvalidChangeBatch", "[RRSet with DNS name %s is not permitted in zone %s]", r.Name, z.Name)
	}
	if r.Name == z.Name && (r.Type == "SOA" || r.Type == "NS") && action != types.ChangeActionUpsert {
		return r, apiError("InvalidChangeBatch", "[A HostedZone must contain exactly one SOA record and at least one NS record at its apex; %s of %s is not allowed]", action, r.ident())
	}
	if in.AliasTarget != nil {
		a := in.AliasTarget
		if a.DNSName == nil || !r53ValidName(*a.DNSName) || aws.ToString(a.HostedZoneId) == "" {
			return r, apiError("InvalidInput", "Invalid request: an AliasTarget needs a valid DNSName and a HostedZoneId %s", where)
		}
		if r.Type != "A" && r.Type != "AAAA" && !(r.Type == "CNAME" && r53ZoneID(*a.HostedZoneId) == z.ID) {
			return r, apiError("InvalidChangeBatch", "[Tried to create an alias that targets %s, type %s, but the alias target type does not match]", *a.DNSName, r.Type)
		}
		r.Alias = &fakeAlias{DNSName: r53Name(*a.DNSName), ZoneID: r53ZoneID(*a.HostedZoneId), Evaluate: a.EvaluateTargetHealth}
		return r, nil
	}
	if *in.TTL < 0 || *in.TTL > 2147483647 {
		return r, apiError("InvalidInput", "Invalid request: TTL %d %s must be between 0 and 2147483647", *in.TTL, where)
	}
	r.TTL = aws.Int64(*in.TTL)
	for _, rr := range in.ResourceRecords {
		v := aws.ToString(rr.Value)
		if err := r53CheckValue(r.Type, v); err != nil {
			return r, err
		}
		r.Values = append(r.Values, v)
	}
	if r.Type == "CNAME" && len(r.Values) > 1 {
		return r, apiError("InvalidChangeBatch", "[RRSet of type CNAME with DNS name %s is not permitted because it contains more than one resource record]", r.Name)
	}
	return r, nil
}

func r53Null(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// r53CheckValue checks one record value as Route 53's RDATA parser does, for
// the types the library writes.
func r53CheckValue(typ, v string) error {
	bad := func(problem, detail string) error {
		return apiError("InvalidChangeBatch", "[Invalid Resource Record: 'FATAL problem: %s (%s) encountered with '%s'']", problem, detail, v)
	}
	switch typ {
	case "A":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return bad("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address")
		}
	case "AAAA":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Is4In6() {
			return bad("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address")
		}
	case "CNAME":
		if !r53ValidName(v) {
			return bad("DomainLabelEmpty", "Value is not a valid domain name")
		}
	case "TXT", "SPF":
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return bad("InvalidCharacterString", "Value should be enclosed in quotation marks")
		}
	}
	return nil
}

// ChangeResourceRecordSets applies a change batch whole or not at all;
// see the type documentation for the rules.
func (f *Route53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	var out *route53.ChangeResourceRecordSetsOutput
	err := f.c.call(ctx, route53.ServiceID, "ChangeResourceRecordSets", true, func() error {
		s := f.st()
		if s.FailChanges > 0 {
			s.FailChanges--
			return apiError("PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")
		}
		z, err := f.zone(aws.ToString(in.HostedZoneId))
		if err != nil {
			return err
		}
		if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
			return apiError("InvalidInput", "Invalid request: a change batch needs at least one change")
		}
		if len(in.ChangeBatch.Changes) > 1000 {
			return apiError("InvalidChangeBatch", "[Number of records limit of 1000 exceeded.]")
		}
		// Pass 1: every change on its own.
		parsed := make([]fakeRecord, len(in.ChangeBatch.Changes))
		for i, ch := range in.ChangeBatch.Changes {
			switch ch.Action {
			case types.ChangeActionCreate, types.ChangeActionDelete, types.ChangeActionUpsert:
			default:
				return apiError("InvalidInput", "Invalid request: unknown change action %q", ch.Action)
			}
			r, err := r53ParseRecord(z, ch.Action, ch.ResourceRecordSet)
			if err != nil {
				return err
			}
			parsed[i] = r
		}
		// Pass 2: apply to a copy, in order.
		recs := slices.Clone(z.Records)
		var msgs []string
		touched := map[string]fakeRecord{}
		for i, ch := range in.ChangeBatch.Changes {
			r := parsed[i]
			touched[r.Name+"|"+r.Type+"|"+r.SetID] = r
			idx := slices.IndexFunc(recs, r.same)
			switch ch.Action {
			case types.ChangeActionCreate:
				if idx >= 0 {
					msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [%s] but it already exists", r.ident()))
					continue
				}
				recs = append(recs, r)
			case types.ChangeActionDelete:
				switch {
				case idx < 0:
					msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [%s] but it was not found", r.ident()))
				case !recs[idx].equal(r):
					msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [%s] but the values provided do not match the current values", r.ident()))
				default:
					recs = slices.Delete(recs, idx, idx+1)
				}
			case types.ChangeActionUpsert:
				if idx >= 0 {
					recs[idx] = r
				} else {
					recs = append(recs, r)
				}
			}
		}
		// Pass 3: the rules over the records a name holds after the batch.
		for _, k := range sortedKeys(touched) {
			msgs = append(msgs, r53GroupProblems(z, recs, touched[k])...)
		}
		if len(msgs) > 0 {
			return apiError("InvalidChangeBatch", "[%s]", strings.Join(slices.Compact(msgs), ", "))
		}
		z.Records = recs
		out = &route53.ChangeResourceRecordSetsOutput{ChangeInfo: f.newChange(aws.ToString(in.ChangeBatch.Comment))}
		return nil
	})
	return out, err
}

// r53GroupProblems returns what Route 53 objects to about the records named
// like changed after a batch: CNAME sharing its name, simple and weighted
// records mixed in one name and type, weighted records with different
// TTLs, more than 100 weighted records.
func r53GroupProblems(z *fakeZone, recs []fakeRecord, changed fakeRecord) []string {
	var atName, group []fakeRecord
	for _, r := range recs {
		if r.Name == changed.Name {
			atName = append(atName, r)
			if r.Type == changed.Type {
				group = append(group, r)
			}
		}
	}
	var msgs []string
	hasCNAME := slices.ContainsFunc(atName, func(r fakeRecord) bool { return r.Type == "CNAME" })
	if hasCNAME && changed.Name == z.Name {
		msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", changed.Name, z.Name))
	}
	if hasCNAME && slices.ContainsFunc(atName, func(r fakeRecord) bool { return r.Type != "CNAME" }) {
		msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", changed.Name, z.Name))
	}
	if len(group) == 0 {
		return msgs
	}
	simple := 0
	for _, r := range group {
		if r.SetID == "" {
			simple++
		}
	}
	if simple > 0 && len(group) > 1 {
		msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created as other RRSets exist with the same name and type", changed.Name, changed.Type))
		return msgs
	}
	if simple > 0 {
		return msgs
	}
	if len(group) > 100 {
		msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s: at most 100 weighted records may share a name and type", changed.Name, changed.Type))
	}
	var ttl *int64
	for _, r := range group {
		if r.TTL == nil {
			continue
		}
		if ttl != nil && *ttl != *r.TTL {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s and type %s, SetIdentifier %s cannot be created as weighted sets must contain the same TTL", changed.Name, changed.Type, changed.SetID))
			break
		}
		ttl = r.TTL
	}
	return msgs
}

// ListResourceRecordSets lists a zone's records in Route 53's order from
// the start point, MaxItems (default and maximum 300) at a time.
func (f *Route53) ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	var out *route53.ListResourceRecordSetsOutput
	err := f.c.call(ctx, route53.ServiceID, "ListResourceRecordSets", false, func() error {
		z, err := f.zone(aws.ToString(in.HostedZoneId))
		if err != nil {
			return err
		}
		if in.StartRecordType != "" && in.StartRecordName == nil {
			return apiError("InvalidInput", "Invalid request: StartRecordType requires StartRecordName")
		}
		if in.StartRecordIdentifier != nil && in.StartRecordType == "" {
			return apiError("InvalidInput", "Invalid request: StartRecordIdentifier requires StartRecordType")
		}
		size := 300
		if in.MaxItems != nil && *in.MaxItems > 0 && *in.MaxItems < 300 {
			size = int(*in.MaxItems)
		}
		startKey := ""
		if in.StartRecordName != nil {
			startKey = r53NameKey(*in.StartRecordName)
		}
		startType, startID := string(in.StartRecordType), aws.ToString(in.StartRecordIdentifier)
		out = &route53.ListResourceRecordSetsOutput{MaxItems: aws.Int32(int32(size)), ResourceRecordSets: []types.ResourceRecordSet{}}
		for _, r := range r53Sorted(z.Records) {
			if cmp.Or(strings.Compare(r53NameKey(r.Name), startKey), strings.Compare(r.Type, startType), strings.Compare(r.SetID, startID)) < 0 {
				continue
			}
			if len(out.ResourceRecordSets) == size {
				out.IsTruncated = true
				out.NextRecordName = aws.String(r.Name)
				out.NextRecordType = types.RRType(r.Type)
				out.NextRecordIdentifier = r53Opt(r.SetID)
				break
			}
			out.ResourceRecordSets = append(out.ResourceRecordSets, r.out())
		}
		return nil
	})
	return out, err
}
