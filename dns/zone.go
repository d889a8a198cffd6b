package dns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// ZoneAPI is the part of the Route 53 client EnsureZone and DeleteZone
// use. DeleteZone removes the env's records before the zone, so it holds
// the record operations too.
type ZoneAPI interface {
	RecordsAPI
	CreateHostedZone(context.Context, *route53.CreateHostedZoneInput, ...func(*route53.Options)) (*route53.CreateHostedZoneOutput, error)
	ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	ChangeTagsForResource(context.Context, *route53.ChangeTagsForResourceInput, ...func(*route53.Options)) (*route53.ChangeTagsForResourceOutput, error)
	ListTagsForResource(context.Context, *route53.ListTagsForResourceInput, ...func(*route53.Options)) (*route53.ListTagsForResourceOutput, error)
	DeleteHostedZone(context.Context, *route53.DeleteHostedZoneInput, ...func(*route53.Options)) (*route53.DeleteHostedZoneOutput, error)
}

// ZoneSpec describes the private hosted zone of the cutover.
type ZoneSpec struct {
	// Name is the zone's domain, for example "corp.example.internal"
	// (case and a trailing dot do not matter). It identifies the zone:
	// another name is another zone.
	Name string
	// VPCID is the VPC the zone is associated with, from the network
	// package (a Pending ID in a dry run). The VPC needs DNS support and
	// DNS hostnames, which network.EnsureVPC turns on. It cannot change:
	// see EnsureZone.
	VPCID string
	// VPCRegion is the VPC's Region; empty means the env's Region.
	VPCRegion string
}

// Validate checks the spec: a DNS name of at least two labels, a VPC ID
// (or a pending one) and, when set, a Region name.
func (s ZoneSpec) Validate() error {
	var errs []error
	name := normName(s.Name)
	if err := checkName(name); err != nil {
		errs = append(errs, fmt.Errorf("zone.name: %w", err))
	} else if !strings.Contains(name, ".") {
		errs = append(errs, fmt.Errorf("zone.name: %q is a single label; use a domain such as corp.example.internal", name))
	}
	if !migration.IsPending(s.VPCID) && !vpcIDRe.MatchString(s.VPCID) {
		errs = append(errs, fmt.Errorf("zone.vpcId: %q is not a VPC ID such as vpc-0123456789abcdef0", s.VPCID))
	}
	if s.VPCRegion != "" && !regionRe.MatchString(s.VPCRegion) {
		errs = append(errs, fmt.Errorf("zone.vpcRegion: %q is not an AWS Region name such as us-east-1", s.VPCRegion))
	}
	return errors.Join(errs...)
}

func (s ZoneSpec) region(env migration.Env) string {
	if s.VPCRegion != "" {
		return s.VPCRegion
	}
	return env.Region
}

// Zone is an ensured private hosted zone.
type Zone struct {
	// ID is the bare hosted zone ID ("Z..."), or a Pending ID in a dry run.
	ID string
	// Name is the zone's domain, lower case, without the trailing dot.
	Name string
	// VPCID is the VPC the spec associates the zone with.
	VPCID string
}

// maxGenerations bounds how many CallerReferences EnsureZone tries for one
// zone name: one is used up by every create, including those of zones
// deleted since (see EnsureZone).
const maxGenerations = 100

// callerRef returns the CallerReference of generation gen (1, 2, ...) of
// the env's zone name: "cutover/<suffix>/<zone>[/<gen>]", with the zone
// name hashed when the whole would pass Route 53's 128 characters.
func callerRef(env migration.Env, name string, gen int) string {
	base := "cutover/" + env.Suffix + "/" + name
	if len(base) > 120 {
		sum := sha256.Sum256([]byte(name))
		base = "cutover/" + env.Suffix + "/" + hex.EncodeToString(sum[:16])
	}
	if gen > 1 {
		base += "/" + strconv.Itoa(gen)
	}
	return base
}

// isCallerRef reports whether ref is a CallerReference callerRef makes
// for this env and zone name, of any generation.
func isCallerRef(env migration.Env, name, ref string) bool {
	base := callerRef(env, name, 1)
	if ref == base {
		return true
	}
	gen, ok := strings.CutPrefix(ref, base+"/")
	n, err := strconv.Atoi(gen)
	return ok && err == nil && n > 1 && strconv.Itoa(n) == gen
}

// EnsureZone makes the env's private hosted zone exist, associated with
// the spec's VPC, and converge. It is idempotent.
//
// The zone is found by name among the account's private zones and
// adopted only when it carries the env's ownership tag or the env's own
// CallerReference (a zone whose create response was lost, before it could
// be tagged); two such zones are an error. A zone of that name that is
// not the env's is never adopted: when it is associated with the same VPC,
// Route 53 refuses the create (ConflictingDomainExists) and EnsureZone
// says so.
//
// A missing zone is created with a deterministic CallerReference derived
// from the env suffix and the zone name, so a retried create can never
// make a second zone: Route 53 answers HostedZoneAlreadyExists and the
// zone is found again. Route 53 never accepts a CallerReference twice,
// not even after the zone is deleted, so after a destroy the next create
// moves on to the next generation of the reference ("/2", "/3", ... up to
// 100). Route 53 tags zones only after the create; the tags follow at
// once, then EnsureZone waits for the change to be INSYNC on the env clock.
//
// On an existing zone it converges missing tags and refuses a VPC that
// is not among the zone's associations: moving a private zone to another
// VPC would cut every client of the old VPC off the cutover names.
//
// In a dry run, or when the VPC ID is pending (a dry run of the network),
// it reads only and reports what it would do; with a pending VPC it makes
// no call at all.
func EnsureZone(ctx context.Context, env migration.Env, api ZoneAPI, spec ZoneSpec) (Zone, error) {
	name := normName(spec.Name)
	if err := migration.Validate(env, spec); err != nil {
		return Zone{}, fmt.Errorf("ensure zone %q: %w", name, err)
	}
	z, err := ensureZone(ctx, env, api, spec, name)
	if err != nil {
		return Zone{}, fmt.Errorf("ensure zone %q: %w", name, err)
	}
	return z, nil
}

func ensureZone(ctx context.Context, env migration.Env, api ZoneAPI, spec ZoneSpec, name string) (Zone, error) {
	createChange := migration.Change{Kind: KindZone, Name: name, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "vpc", To: spec.VPCID}}}
	if migration.IsPending(spec.VPCID) {
		if !env.DryRun {
			return Zone{}, fmt.Errorf("vpc id %s is pending outside a dry run: ensure the VPC first", spec.VPCID)
		}
		createChange.ID = migration.Pending(name)
		env.Report(createChange)
		return Zone{ID: createChange.ID, Name: name, VPCID: spec.VPCID}, nil
	}
	found, err := findZone(ctx, env, api, name)
	if err != nil {
		return Zone{}, err
	}
	if found != nil {
		return convergeZone(ctx, env, api, spec, name, found)
	}
	if env.DryRun {
		createChange.ID = migration.Pending(name)
		env.Report(createChange)
		return Zone{ID: createChange.ID, Name: name, VPCID: spec.VPCID}, nil
	}

	in := &route53.CreateHostedZoneInput{
		Name:             aws.String(name),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true, Comment: aws.String("cutover env " + env.Suffix + ": blue/green cutover records")},
		VPC:              &types.VPC{VPCId: aws.String(spec.VPCID), VPCRegion: types.VPCRegion(spec.region(env))},
	}
	for gen := 1; gen <= maxGenerations; gen++ {
		in.CallerReference = aws.String(callerRef(env, name, gen))
		out, err := api.CreateHostedZone(ctx, in)
		switch {
		case err == nil:
			id := bareZoneID(aws.ToString(out.HostedZone.Id))
			if err := tagZone(ctx, env, api, id, env.NameTags(env.Name("phz"))); err != nil {
				return Zone{}, err
			}
			if err := waitInsync(ctx, env, api, bareChangeID(aws.ToString(out.ChangeInfo.Id)), syncTimeout); err != nil {
				return Zone{}, err
			}
			createChange.ID = id
			env.Report(createChange)
			return Zone{ID: id, Name: name, VPCID: spec.VPCID}, nil
		case awsx.HasCode(err, "HostedZoneAlreadyExists"):
			if gen > 1 {
				continue // this generation was used by a zone deleted since
			}
			// Either our own create whose response was lost (the zone
			// may take a moment to be listed) or a reference used up by
			// a zone deleted since. Look again before moving on.
			found, err := findZoneEventually(ctx, env, api, name)
			if err != nil {
				return Zone{}, err
			}
			if found != nil {
				return convergeZone(ctx, env, api, spec, name, found)
			}
		case awsx.HasCode(err, "ConflictingDomainExists"):
			return Zone{}, fmt.Errorf("create: a hosted zone named %s that this env does not own (no %s=%s tag) is already associated with %s; the library never adopts it: delete it or choose another zone name: %w", name, migration.OwnerTag, env.Suffix, spec.VPCID, err)
		default:
			return Zone{}, fmt.Errorf("create: %w", err)
		}
	}
	return Zone{}, fmt.Errorf("create: all %d CallerReferences of %s in env %s are used up by earlier zones; choose another zone name or env suffix", maxGenerations, name, env.Suffix)
}

// foundZone is the env's zone as findZone sees it.
type foundZone struct {
	ID   string
	Tags map[string]string
	VPCs []types.VPC
}

// findZone returns the env's private zone of that name, nil when there is
// none, or an error when more than one qualifies.
func findZone(ctx context.Context, env migration.Env, api ZoneAPI, name string) (*foundZone, error) {
	want := fqdn(name)
	var owned []foundZone
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(name)}
	for {
		out, err := api.ListHostedZonesByName(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list zones: %w", err)
		}
		for _, hz := range out.HostedZones {
			if fqdn(aws.ToString(hz.Name)) != want {
				return pickZone(ctx, env, api, name, owned) // sorted by name: past ours
			}
			if hz.Config == nil || !hz.Config.PrivateZone {
				continue
			}
			id := bareZoneID(aws.ToString(hz.Id))
			tags, err := zoneTags(ctx, api, id)
			if awsx.IsNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			if env.Owns(tags) || isCallerRef(env, name, aws.ToString(hz.CallerReference)) {
				owned = append(owned, foundZone{ID: id, Tags: tags})
			}
		}
		if !out.IsTruncated {
			return pickZone(ctx, env, api, name, owned)
		}
		in = &route53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId}
	}
}

func pickZone(ctx context.Context, env migration.Env, api ZoneAPI, name string, owned []foundZone) (*foundZone, error) {
	switch len(owned) {
	case 0:
		return nil, nil
	case 1:
		out, err := api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(owned[0].ID)})
		if err != nil {
			return nil, fmt.Errorf("get zone %s: %w", owned[0].ID, err)
		}
		owned[0].VPCs = out.VPCs
		return &owned[0], nil
	}
	ids := make([]string, len(owned))
	for i, z := range owned {
		ids[i] = z.ID
	}
	return nil, fmt.Errorf("%d private zones named %s belong to env %s (%v); expected one: delete the extras", len(owned), name, env.Suffix, ids)
}

// findZoneEventually is findZone retried a few times on the env clock
// (2, 4 and 8 seconds apart): a zone just created may not be listed yet.
func findZoneEventually(ctx context.Context, env migration.Env, api ZoneAPI, name string) (*foundZone, error) {
	for i := 0; ; i++ {
		found, err := findZone(ctx, env, api, name)
		if err != nil || found != nil || i == 3 {
			return found, err
		}
		if err := env.Sleep(ctx, (2*time.Second)<<i); err != nil {
			return nil, err
		}
	}
}

func zoneTags(ctx context.Context, api ZoneAPI, id string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceId: aws.String(id), ResourceType: types.TagResourceTypeHostedzone})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", id, err)
	}
	tags := map[string]string{}
	if out.ResourceTagSet != nil {
		for _, t := range out.ResourceTagSet.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// tagZone adds tags to a zone, ten per call as Route 53 allows, retrying
// while a new zone is not visible yet.
func tagZone(ctx context.Context, env migration.Env, api ZoneAPI, id string, tags map[string]string) error {
	keys := slices.Sorted(maps.Keys(tags))
	for chunk := range slices.Chunk(keys, 10) {
		in := &route53.ChangeTagsForResourceInput{ResourceId: aws.String(id), ResourceType: types.TagResourceTypeHostedzone}
		for _, k := range chunk {
			in.AddTags = append(in.AddTags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		err := env.Retry(ctx, []string{"NoSuchHostedZone"}, func(ctx context.Context) error {
			_, err := api.ChangeTagsForResource(ctx, in)
			return err
		})
		if err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
	}
	return nil
}

func convergeZone(ctx context.Context, env migration.Env, api ZoneAPI, spec ZoneSpec, name string, z *foundZone) (Zone, error) {
	region := spec.region(env)
	var assoc []string
	ok := false
	for _, v := range z.VPCs {
		assoc = append(assoc, aws.ToString(v.VPCId)+" ("+string(v.VPCRegion)+")")
		ok = ok || aws.ToString(v.VPCId) == spec.VPCID && string(v.VPCRegion) == region
	}
	if !ok {
		return Zone{}, fmt.Errorf("vpc cannot change: zone %s is associated with %v, the spec wants %s (%s); change the spec back, or destroy the zone and apply again", z.ID, assoc, spec.VPCID, region)
	}
	var c migration.Converge
	c.Tags(z.Tags, env.NameTags(env.Name("phz")), func(missing map[string]string) error { return tagZone(ctx, env, api, z.ID, missing) })
	if err := c.Apply(env, migration.Change{Kind: KindZone, Name: name, ID: z.ID}); err != nil {
		return Zone{}, err
	}
	return Zone{ID: z.ID, Name: name, VPCID: spec.VPCID}, nil
}

// DeleteZone deletes the env's private hosted zone: first the record sets
// the env owns in it (the blue and green records of every service name
// whose ownership marker names this env, and the markers), then the zone.
// It never deletes a record it does not own: when the zone holds any,
// it deletes nothing and returns an error listing them, since Route 53
// refuses to delete a zone that is not empty (HostedZoneNotEmpty). It
// touches only a zone the env owns (see EnsureZone), and is a no-op when
// the zone is gone. A dry run reports and writes nothing.
func DeleteZone(ctx context.Context, env migration.Env, api ZoneAPI, spec ZoneSpec) error {
	name := normName(spec.Name)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete zone %q: %w", name, err)
	}
	if err := deleteZone(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete zone %q: %w", name, err)
	}
	return nil
}

func deleteZone(ctx context.Context, env migration.Env, api ZoneAPI, name string) error {
	found, err := findZone(ctx, env, api, name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindZone, name)
		return nil
	}
	id := found.ID
	var owned map[string][]types.ResourceRecordSet
	for attempt := 1; ; attempt++ {
		all, err := listAll(ctx, api, id)
		if err != nil {
			return err
		}
		var foreign []string
		owned, foreign = classify(env, fqdn(name), all)
		if len(foreign) > 0 {
			return fmt.Errorf("zone %s holds records this env does not own: %s; the library never deletes them: remove or move them, then delete again", id, strings.Join(foreign, ", "))
		}
		if env.DryRun || len(owned) == 0 {
			break
		}
		var changes []types.Change
		for _, svc := range slices.Sorted(maps.Keys(owned)) {
			for _, rr := range owned[svc] {
				changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &rr})
			}
		}
		err = deleteInChunks(ctx, api, id, changes, "cutover env "+env.Suffix+": delete zone records")
		if err == nil {
			break
		}
		if !awsx.HasCode(err, "InvalidChangeBatch") || attempt == 3 {
			return fmt.Errorf("delete records: %w", err)
		}
		// The records changed between the list and the delete (a Shift
		// ran): list again.
	}
	for _, svc := range slices.Sorted(maps.Keys(owned)) {
		env.Report(migration.Change{Kind: KindRecords, Name: strings.TrimSuffix(svc, "."), ID: id, Action: migration.ActionDelete})
	}
	if !env.DryRun {
		_, err := api.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
		switch {
		case err == nil || awsx.IsNotFound(err):
		case awsx.HasCode(err, "HostedZoneNotEmpty"):
			return fmt.Errorf("zone %s: records were added while it was being deleted; delete again to see them: %w", id, err)
		default:
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	env.Report(migration.Change{Kind: KindZone, Name: name, ID: id, Action: migration.ActionDelete})
	return nil
}

// deleteInChunks applies DELETE changes in batches Route 53 accepts (at
// most 1000 changes each).
func deleteInChunks(ctx context.Context, api RecordsAPI, zoneID string, changes []types.Change, comment string) error {
	for chunk := range slices.Chunk(changes, 1000) {
		if _, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch:  &types.ChangeBatch{Changes: chunk, Comment: aws.String(comment)},
		}); err != nil {
			return err
		}
	}
	return nil
}

// classify sorts a zone's records into the env's (by service name, from
// the ownership markers) and the foreign ones (described for an error);
// the apex SOA and NS are neither.
func classify(env migration.Env, zone string, all []types.ResourceRecordSet) (owned map[string][]types.ResourceRecordSet, foreign []string) {
	owned = map[string][]types.ResourceRecordSet{}
	for _, rr := range all {
		if name, ok := strings.CutPrefix(fqdn(aws.ToString(rr.Name)), markerPrefix); ok && isMarker(env, rr) {
			owned[name] = append(owned[name], rr)
		}
	}
	for _, rr := range all {
		name := fqdn(aws.ToString(rr.Name))
		switch {
		case name == zone && (rr.Type == types.RRTypeSoa || rr.Type == types.RRTypeNs) && rr.SetIdentifier == nil:
		case strings.HasPrefix(name, markerPrefix) && isMarker(env, rr): // listed in owned already
		case owned[name] != nil && isColor(rr):
			owned[name] = append(owned[name], rr)
		default:
			d := name + " " + string(rr.Type)
			if rr.SetIdentifier != nil {
				d += " (" + aws.ToString(rr.SetIdentifier) + ")"
			}
			foreign = append(foreign, d)
		}
	}
	return owned, foreign
}

func isColor(rr types.ResourceRecordSet) bool {
	id := aws.ToString(rr.SetIdentifier)
	return id == Blue || id == Green
}

// listAll lists every record of a zone with the SDK paginator.
func listAll(ctx context.Context, api RecordsAPI, zoneID string) ([]types.ResourceRecordSet, error) {
	var all []types.ResourceRecordSet
	p := route53.NewListResourceRecordSetsPaginator(api, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list records of %s: %w", zoneID, err)
		}
		all = append(all, out.ResourceRecordSets...)
	}
	return all, nil
}
