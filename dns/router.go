package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutoverkit/cutover/migration"
)

// Router moves traffic between blue and green for every service name of a
// RecordsSpec at once. It is safe for concurrent use; concurrent shifts
// never leave a mix (see Shift).
//
// The rollback package declares its interface over Shift and Weights
// using migration types only.
type Router struct {
	env           migration.Env
	api           RouterAPI
	zoneID        string
	spec          RecordsSpec
	allowBothZero bool
	timeout       time.Duration
}

// RouterOption configures NewRouter.
type RouterOption func(*Router)

// AllowBothZero lets Shift set both weights to zero. Route 53 then
// answers with blue and green equally (weight/sum is undefined, so it
// treats every record alike): a 50/50 split that looks like "off". It is
// refused by default because it is far more often a bug than an intent.
func AllowBothZero() RouterOption { return func(r *Router) { r.allowBothZero = true } }

// WithSyncTimeout bounds how long Shift waits for its change to be INSYNC
// (default five minutes).
func WithSyncTimeout(d time.Duration) RouterOption {
	return func(r *Router) {
		if d > 0 {
			r.timeout = d
		}
	}
}

// NewRouter returns the Router of the records spec in the zone zoneID
// (bare or "/hostedzone/" form; it overrides spec.ZoneID, which may be
// empty but must not name another zone). It validates env and spec and
// makes no call.
func NewRouter(env migration.Env, api RouterAPI, zoneID string, spec RecordsSpec, opts ...RouterOption) (*Router, error) {
	if spec.ZoneID != "" && bareZoneID(spec.ZoneID) != bareZoneID(zoneID) {
		return nil, fmt.Errorf("new router: zone %s differs from records.zoneId %s", zoneID, spec.ZoneID)
	}
	spec.ZoneID = zoneID
	if err := migration.Validate(env, spec); err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	r := &Router{env: env, api: api, zoneID: bareZoneID(zoneID), spec: spec, timeout: syncTimeout}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Shift sets the weights of the blue and green records of every service
// name to the split and, once the change is INSYNC (waiting on the env
// clock, with the acceptor of the SDK's ResourceRecordSetsChanged
// waiter), returns the split applied and the Route 53 change ID. A change
// applied but not INSYNC within the timeout is returned with its ID and
// an error.
//
// The split is validated first (weights 0..255; both zero only with
// AllowBothZero) and nothing is called when it is refused.
//
// All records of all service names go in ONE change batch of UPSERTs,
// which Route 53 applies atomically: no name ever has only one of its two
// records, no service moves without the others, and when several shifts
// race the last batch wins whole, so every name ends on the same, one of
// the requested splits. The UPSERTs carry the full records of the spec,
// so run EnsureRecords first (it creates the ownership markers).
//
// Route 53 answers PriorRequestNotComplete while it still processes an
// earlier change for the zone; the SDK's retryer treats that code as
// throttling and retries it with backoff (awsx.NewRetryer), so Shift does
// not retry it again. In a dry run Shift validates and reports only and
// returns a pending ID.
func (r *Router) Shift(ctx context.Context, to migration.Split) (migration.Shifted, error) {
	if err := to.Validate(r.allowBothZero); err != nil {
		return migration.Shifted{}, fmt.Errorf("shift to %s: %w", to, err)
	}
	report := migration.Change{Kind: KindWeights, Name: normName(r.spec.ZoneName), Action: migration.ActionUpdate, Diff: []migration.FieldDiff{{Field: "weights", To: to.String()}}, Note: r.shiftNote(to)}
	if r.env.DryRun {
		report.ID = migration.Pending("shift")
		r.env.Report(report)
		return migration.Shifted{Split: to, ChangeID: report.ID}, nil
	}
	if migration.IsPending(r.zoneID) {
		return migration.Shifted{}, fmt.Errorf("shift to %s: zone id %s is pending outside a dry run", to, r.zoneID)
	}
	var changes []types.Change
	for _, svc := range r.spec.Services {
		blue, green := r.spec.record(svc, Blue, to.Blue), r.spec.record(svc, Green, to.Green)
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &blue}, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &green})
	}
	out, err := r.api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(r.zoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes, Comment: aws.String("cutover env " + r.env.Suffix + ": shift to " + to.String())},
	})
	if err != nil {
		return migration.Shifted{}, fmt.Errorf("shift to %s: %w", to, err)
	}
	applied := migration.Shifted{Split: to, ChangeID: bareChangeID(aws.ToString(out.ChangeInfo.Id))}
	if err := waitInsync(ctx, r.env, r.api, applied.ChangeID, r.timeout); err != nil {
		return applied, fmt.Errorf("shift to %s: applied as change %s, not yet INSYNC: %w", to, applied.ChangeID, err)
	}
	report.ID = applied.ChangeID
	r.env.Report(report)
	return applied, nil
}

// shiftNote warns about what Route 53 does beyond the weights at this
// split.
func (r *Router) shiftNote(to migration.Split) string {
	var notes []string
	if to.Blue == 0 && to.Green == 0 {
		notes = append(notes, "both weights zero: Route 53 answers with blue and green equally")
	}
	for _, svc := range r.spec.Services {
		switch {
		case to.Blue == 0 && to.Green > 0 && svc.Green.health():
			notes = append(notes, fmt.Sprintf("WARNING %s: green is health-checked, so while it is unhealthy Route 53 answers with blue despite weight 0", normName(svc.Name)))
		case to.Green == 0 && to.Blue > 0 && svc.Blue.health():
			notes = append(notes, fmt.Sprintf("WARNING %s: blue is health-checked, so while it is unhealthy Route 53 answers with green despite weight 0", normName(svc.Name)))
		}
	}
	return strings.Join(notes, "; ")
}

// Weights reads the current split from Route 53: the weights of the blue
// and green records of every service name, matched exactly by name, type
// and SetIdentifier (ListResourceRecordSets only sets a start point). It
// is an error when a record is missing or when the service names do not
// all have the same split (which Shift never leaves; someone changed a
// record by hand, and a Shift repairs it).
func (r *Router) Weights(ctx context.Context) (migration.Split, error) {
	var (
		split    migration.Split
		splits   []string
		disagree bool
	)
	for i, svc := range r.spec.Services {
		s, err := r.weights(ctx, svc)
		if err != nil {
			return migration.Split{}, fmt.Errorf("read weights: %w", err)
		}
		if i == 0 {
			split = s
		}
		disagree = disagree || s != split
		splits = append(splits, fmt.Sprintf("%s: %s", strings.TrimSuffix(r.spec.fqdn(svc), "."), s))
	}
	if disagree {
		return migration.Split{}, fmt.Errorf("read weights: the service names disagree (%s); a Shift sets them all", strings.Join(splits, ", "))
	}
	return split, nil
}

func (r *Router) weights(ctx context.Context, svc Service) (migration.Split, error) {
	name, typ := r.spec.fqdn(svc), svc.Blue.rrType()
	var blue, green *int64
	p := route53.NewListResourceRecordSetsPaginator(r.api, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(r.zoneID), StartRecordName: aws.String(name), StartRecordType: typ, MaxItems: aws.Int32(100)})
list:
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return migration.Split{}, fmt.Errorf("list records at %s: %w", name, err)
		}
		for _, rr := range out.ResourceRecordSets {
			if fqdn(aws.ToString(rr.Name)) != name || rr.Type != typ {
				break list
			}
			switch aws.ToString(rr.SetIdentifier) {
			case Blue:
				blue = rr.Weight
			case Green:
				green = rr.Weight
			}
		}
	}
	switch {
	case blue == nil && green == nil:
		return migration.Split{}, fmt.Errorf("%s has no weighted %s records blue and green: run EnsureRecords", name, typ)
	case blue == nil:
		return migration.Split{}, fmt.Errorf("%s has no weighted %s record blue", name, typ)
	case green == nil:
		return migration.Split{}, fmt.Errorf("%s has no weighted %s record green", name, typ)
	}
	return migration.Split{Blue: int(*blue), Green: int(*green)}, nil
}
