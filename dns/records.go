package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// RouterAPI is the part of the Route 53 client a Router uses.
type RouterAPI interface {
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	GetChange(context.Context, *route53.GetChangeInput, ...func(*route53.Options)) (*route53.GetChangeOutput, error)
}

// RecordsAPI is the part of the Route 53 client EnsureRecords and
// DeleteRecords use.
type RecordsAPI interface {
	RouterAPI
	GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
}

// TTL bounds of the weighted records, in seconds.
const (
	// DefaultTTL is the TTL when the spec leaves it zero: short, so a
	// shift (and a rollback) reaches clients within a minute, and equal to
	// the TTL Route 53 gives alias records to load balancers.
	DefaultTTL = 60
	// MaxTTL is the longest TTL the spec accepts. Clients keep an answer
	// for its TTL, so a rollback reaches the last of them only a TTL later.
	MaxTTL = 3600
)

// maxServices bounds the service names of one spec, so that every change
// batch stays within Route 53's 1000 changes.
const maxServices = 100

// markerPrefix names the ownership marker of a service name: a TXT record
// at "_cutover.<name>" whose value is "cutover:env=<suffix>". Route 53
// records carry no tags, so the marker is how the library knows which
// weighted records are its own (the way external-dns marks its records).
const markerPrefix = "_cutover."

func markerValue(env migration.Env) string {
	return `"` + migration.OwnerTag + "=" + env.Suffix + `"`
}

// isMarker reports whether rr is the env's ownership marker.
func isMarker(env migration.Env, rr types.ResourceRecordSet) bool {
	return rr.Type == types.RRTypeTxt && rr.SetIdentifier == nil && len(rr.ResourceRecords) == 1 && aws.ToString(rr.ResourceRecords[0].Value) == markerValue(env)
}

// RecordsSpec describes the weighted blue/green records of the cutover:
// for every service name, a blue record (SetIdentifier "blue", the
// on-premises side) and a green record ("green", the AWS side), of one
// name and one type, sharing one TTL.
type RecordsSpec struct {
	// ZoneID is the hosted zone, as EnsureZone returns it (a Pending ID
	// in a dry run). The zone need not be the env's: records are owned
	// through their marker, not through the zone.
	ZoneID string
	// ZoneName is the zone's domain, for example "corp.example.internal".
	// EnsureRecords checks it against the zone.
	ZoneName string
	// TTL is the TTL of every non-alias record, 1..MaxTTL seconds; zero
	// means DefaultTTL. Keep it short during a cutover: clients hold an
	// answer for a TTL, so a shift's effect (and a rollback's) is only
	// complete a TTL later, and the bake time of a step must be longer
	// than the TTL for its evaluation to see the new split.
	TTL int64
	// Initial is the split of newly created records; nil means
	// migration.AllBlue. EnsureRecords never resets the weights of
	// existing records (Router.Shift owns them), so a changed Initial
	// affects only records created from now on.
	Initial *migration.Split
	// Services are the service names, for example "web" and "api".
	Services []Service
}

// Service is one service name of the cutover and its two targets.
type Service struct {
	// Name is the service's name relative to the zone: "web" makes
	// "web.<zone>".
	Name string
	// Blue is the on-premises target: IPs or a host name.
	Blue Target
	// Green is the AWS target: an alias to a load balancer, IPs or a
	// host name. It must make the same record type as Blue (A for IPs
	// and aliases, CNAME for a host name): Route 53's weighted records of
	// one name share one type.
	Green Target
}

// Target is what one weighted record answers with: exactly one of IPs,
// Host or Alias, and optionally a health check.
type Target struct {
	// IPs are IPv4 addresses (an A record).
	IPs []string
	// Host is a DNS name (a CNAME record).
	Host string
	// Alias points the record at an AWS load balancer (an A alias).
	Alias *Alias
	// HealthCheckID is an optional Route 53 health check. Read the
	// package documentation first: with Route 53's fail-open rules a
	// health check can move traffic between blue and green on its own.
	HealthCheckID string
}

// Alias is an alias target: a load balancer's DNS name and canonical
// hosted zone ID (from DescribeLoadBalancers).
type Alias struct {
	DNSName      string
	HostedZoneID string
	// EvaluateTargetHealth makes the record's health follow the load
	// balancer's targets; it acts as a health check on the record.
	EvaluateTargetHealth bool
}

func (t Target) rrType() types.RRType {
	if t.Host != "" {
		return types.RRTypeCname
	}
	return types.RRTypeA
}

func (t Target) health() bool {
	return t.HealthCheckID != "" || t.Alias != nil && t.Alias.EvaluateTargetHealth
}

func (t Target) check(field string, blue bool) []error {
	var errs []error
	n := 0
	for _, set := range []bool{len(t.IPs) > 0, t.Host != "", t.Alias != nil} {
		if set {
			n++
		}
	}
	switch {
	case blue && t.Alias != nil:
		errs = append(errs, fmt.Errorf("%s.alias: blue is the on-premises side; give its ips or host", field))
	case n != 1 && blue:
		errs = append(errs, fmt.Errorf("%s: give exactly one of ips or host", field))
	case n != 1:
		errs = append(errs, fmt.Errorf("%s: give exactly one of ips, host or alias", field))
	}
	seen := map[netip.Addr]bool{}
	for i, ip := range t.IPs {
		a, err := netip.ParseAddr(ip)
		switch {
		case err != nil || !a.Is4():
			errs = append(errs, fmt.Errorf("%s.ips[%d]: %q is not an IPv4 address", field, i, ip))
		case seen[a]:
			errs = append(errs, fmt.Errorf("%s.ips[%d]: %s is listed twice", field, i, ip))
		}
		seen[a] = true
	}
	if t.Host != "" {
		if err := checkName(normName(t.Host)); err != nil {
			errs = append(errs, fmt.Errorf("%s.host: %w", field, err))
		}
	}
	if a := t.Alias; a != nil {
		if err := checkName(normName(a.DNSName)); err != nil {
			errs = append(errs, fmt.Errorf("%s.alias.dnsName: %w", field, err))
		}
		if !zoneIDRe.MatchString(a.HostedZoneID) {
			errs = append(errs, fmt.Errorf("%s.alias.hostedZoneId: %q is not a hosted zone ID (the load balancer's canonical hosted zone ID)", field, a.HostedZoneID))
		}
	}
	if t.HealthCheckID != "" && !healthCheckRe.MatchString(t.HealthCheckID) {
		errs = append(errs, fmt.Errorf("%s.healthCheckId: %q is not a Route 53 health check ID (a lower-case UUID)", field, t.HealthCheckID))
	}
	return errs
}

// Validate checks the spec before any call: a zone ID and name; a TTL of
// 0..MaxTTL; an initial split of weights 0..255, not both zero; 1..100
// distinct service names that make legal DNS names (with their marker);
// for every service a blue target of IPs or a host, a green target of
// IPs, a host or an alias, of one record type; IPv4 addresses, DNS names,
// hosted zone IDs and health check IDs of the right shape. Every problem
// is reported, each naming its field.
func (s RecordsSpec) Validate() error {
	var errs []error
	if s.ZoneID == "" {
		errs = append(errs, errors.New("records.zoneId: required (the ID EnsureZone returns)"))
	} else if err := checkZoneID(s.ZoneID); err != nil {
		errs = append(errs, fmt.Errorf("records.zoneId: %w", err))
	}
	zone := normName(s.ZoneName)
	if err := checkName(zone); err != nil {
		errs = append(errs, fmt.Errorf("records.zoneName: %w", err))
	}
	if s.TTL < 0 || s.TTL > MaxTTL {
		errs = append(errs, fmt.Errorf("records.ttl: %d outside 1..%d seconds (0 means %d); a client keeps an answer for its TTL, so a rollback reaches it only that much later", s.TTL, MaxTTL, DefaultTTL))
	}
	if s.Initial != nil {
		if err := s.Initial.Validate(false); err != nil {
			errs = append(errs, fmt.Errorf("records.initial: %w", err))
		}
	}
	switch {
	case len(s.Services) == 0:
		errs = append(errs, errors.New("records.services: at least one service name is required"))
	case len(s.Services) > maxServices:
		errs = append(errs, fmt.Errorf("records.services: %d service names; at most %d fit one Route 53 change batch", len(s.Services), maxServices))
	}
	seen := map[string]int{}
	for i, svc := range s.Services {
		field := fmt.Sprintf("records.services[%d]", i)
		name := normName(svc.Name)
		if err := checkName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name: %w", field, err))
		} else if j, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is also services[%d]", field, name, j))
		} else if n := len(markerPrefix + name + "." + zone); n > 253 {
			errs = append(errs, fmt.Errorf("%s.name: %q makes the %d-character marker name %s%s.%s; DNS names have at most 253", field, name, n, markerPrefix, name, zone))
		}
		seen[name] = i
		blueErrs, greenErrs := svc.Blue.check(field+".blue", true), svc.Green.check(field+".green", false)
		errs = append(errs, blueErrs...)
		errs = append(errs, greenErrs...)
		if len(blueErrs)+len(greenErrs) == 0 && svc.Blue.rrType() != svc.Green.rrType() {
			errs = append(errs, fmt.Errorf("%s: blue makes a %s record and green a %s record; the weighted records of one name share one type: give both ips or an alias (A), or both a host (CNAME)", field, svc.Blue.rrType(), svc.Green.rrType()))
		}
	}
	return errors.Join(errs...)
}

func (s RecordsSpec) ttl() int64 {
	if s.TTL == 0 {
		return DefaultTTL
	}
	return s.TTL
}

func (s RecordsSpec) initial() migration.Split {
	if s.Initial == nil {
		return migration.AllBlue
	}
	return *s.Initial
}

// fqdn returns a service's record name in Route 53's form.
func (s RecordsSpec) fqdn(svc Service) string {
	return fqdn(normName(svc.Name) + "." + normName(s.ZoneName))
}

// record returns the record of one color of svc with the given weight.
func (s RecordsSpec) record(svc Service, color string, weight int) types.ResourceRecordSet {
	t := svc.Blue
	if color == Green {
		t = svc.Green
	}
	rr := types.ResourceRecordSet{
		Name:          aws.String(s.fqdn(svc)),
		Type:          t.rrType(),
		SetIdentifier: aws.String(color),
		Weight:        aws.Int64(int64(weight)),
	}
	if t.HealthCheckID != "" {
		rr.HealthCheckId = aws.String(t.HealthCheckID)
	}
	switch {
	case t.Alias != nil:
		rr.AliasTarget = &types.AliasTarget{DNSName: aws.String(fqdn(t.Alias.DNSName)), HostedZoneId: aws.String(t.Alias.HostedZoneID), EvaluateTargetHealth: t.Alias.EvaluateTargetHealth}
	case t.Host != "":
		rr.TTL = aws.Int64(s.ttl())
		rr.ResourceRecords = []types.ResourceRecord{{Value: aws.String(fqdn(t.Host))}}
	default:
		rr.TTL = aws.Int64(s.ttl())
		ips := slices.Clone(t.IPs)
		slices.Sort(ips)
		for _, ip := range ips {
			rr.ResourceRecords = append(rr.ResourceRecords, types.ResourceRecord{Value: aws.String(ip)})
		}
	}
	return rr
}

// describe renders a record without its weight, canonically: two records
// answer alike exactly when their descriptions are equal.
func describe(rr types.ResourceRecordSet) string {
	var b strings.Builder
	b.WriteString(string(rr.Type))
	if a := rr.AliasTarget; a != nil {
		fmt.Fprintf(&b, " alias %s (zone %s, evaluate target health %t)", fqdn(aws.ToString(a.DNSName)), bareZoneID(aws.ToString(a.HostedZoneId)), a.EvaluateTargetHealth)
	} else {
		var vals []string
		for _, r := range rr.ResourceRecords {
			v := aws.ToString(r.Value)
			if rr.Type == types.RRTypeCname {
				v = fqdn(v)
			}
			vals = append(vals, v)
		}
		slices.Sort(vals)
		fmt.Fprintf(&b, " %s ttl %d", strings.Join(vals, ","), aws.ToInt64(rr.TTL))
	}
	if hc := aws.ToString(rr.HealthCheckId); hc != "" {
		fmt.Fprintf(&b, " health check %s", hc)
	}
	return b.String()
}

// healthNotes returns the warnings an operator must read about svc's
// health checks under Route 53's fail-open rules.
func healthNotes(svc Service) []string {
	var notes []string
	if svc.Green.health() {
		notes = append(notes, "WARNING green is health-checked: while it is unhealthy Route 53 answers with blue even at weight 0 (a zero-weight record answers when every weighted record is unhealthy), so a green outage after cutover sends clients back on-premises unasked")
	}
	if svc.Blue.health() {
		notes = append(notes, "WARNING blue is health-checked: while it is unhealthy Route 53 answers with green even at weight 0, before the data is cut over")
	}
	if svc.Green.health() && svc.Blue.health() {
		notes = append(notes, "when both are unhealthy Route 53 treats both as healthy (fail open) and answers by weight")
	}
	if svc.Green.Alias != nil && svc.Blue.Alias == nil {
		notes = append(notes, "green is an alias: its answers carry the load balancer's TTL (60 s); AWS recommends a TTL of 60 for blue so the weights hold")
	}
	return notes
}

// Records is the result of EnsureRecords.
type Records struct {
	// ZoneID is the hosted zone (bare ID, or pending in a dry run).
	ZoneID string
	// Names are the service record names, without the trailing dot, in
	// spec order.
	Names []string
	// ChangeID is the Route 53 change that converged them, "" when
	// nothing changed.
	ChangeID string
}

// serviceRecords is what a zone holds at one service name.
type serviceRecords struct {
	name        string // fqdn
	blue, green *types.ResourceRecordSet
	marker      *types.ResourceRecordSet
	others      []types.ResourceRecordSet // everything else at the name
}

// readService lists the records at a service name and its marker: from
// the name on (ListResourceRecordSets only sets a start point) until the
// listing leaves the name's subtree, which holds the marker; everything is
// matched exactly by name, type and SetIdentifier.
func readService(ctx context.Context, api RouterAPI, zoneID, name string) (serviceRecords, error) {
	st := serviceRecords{name: name}
	marker := markerPrefix + name
	p := route53.NewListResourceRecordSetsPaginator(api, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(name), MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return st, fmt.Errorf("list records at %s: %w", name, err)
		}
		for _, rr := range out.ResourceRecordSets {
			n := fqdn(aws.ToString(rr.Name))
			id := aws.ToString(rr.SetIdentifier)
			switch {
			case n == name && (rr.Type == types.RRTypeA || rr.Type == types.RRTypeCname) && id == Blue && st.blue == nil:
				st.blue = &rr
			case n == name && (rr.Type == types.RRTypeA || rr.Type == types.RRTypeCname) && id == Green && st.green == nil:
				st.green = &rr
			case n == name:
				st.others = append(st.others, rr)
			case n == marker && rr.Type == types.RRTypeTxt && rr.SetIdentifier == nil:
				st.marker = &rr
			case strings.HasSuffix(n, "."+name):
				// elsewhere in the name's subtree
			default:
				return st, nil // past the subtree
			}
		}
	}
	return st, nil
}

// servicePlan is what EnsureRecords or DeleteRecords will do at one name.
type servicePlan struct {
	changes []types.Change
	report  migration.Change
}

// plan decides the changes at one service name, or refuses.
func (s RecordsSpec) plan(env migration.Env, zoneID string, svc Service, st serviceRecords) (servicePlan, error) {
	name := st.name
	typ := svc.Blue.rrType()
	report := migration.Change{Kind: KindRecords, Name: strings.TrimSuffix(name, "."), ID: zoneID}
	ours := st.marker != nil && isMarker(env, *st.marker)
	if st.marker != nil && !ours {
		return servicePlan{}, fmt.Errorf("%s belongs to another owner: its marker %s%s holds %s, not %s", name, markerPrefix, name, describe(*st.marker), markerValue(env))
	}
	var conflicts []string
	for _, rr := range st.others {
		if rr.Type == typ || typ == types.RRTypeCname || rr.Type == types.RRTypeCname {
			d := string(rr.Type)
			if id := aws.ToString(rr.SetIdentifier); id != "" {
				d += " " + id
			} else {
				d += " (simple)"
			}
			conflicts = append(conflicts, d)
		}
	}
	if len(conflicts) > 0 {
		return servicePlan{}, fmt.Errorf("%s holds records this env does not manage that Route 53 cannot combine with weighted %s records blue and green: %s; the library never changes them: remove them or choose another service name", name, typ, strings.Join(conflicts, ", "))
	}
	notes := healthNotes(svc)
	create := func(note string) servicePlan {
		split := s.initial()
		blue, green := s.record(svc, Blue, split.Blue), s.record(svc, Green, split.Green)
		report.Action = migration.ActionCreate
		report.Diff = []migration.FieldDiff{{Field: Blue, To: describe(blue)}, {Field: Green, To: describe(green)}, {Field: "weights", To: split.String()}}
		report.Note = strings.Join(append([]string{note}, notes...), "; ")
		return servicePlan{report: report, changes: []types.Change{
			{Action: types.ChangeActionCreate, ResourceRecordSet: &blue},
			{Action: types.ChangeActionCreate, ResourceRecordSet: &green},
		}}
	}
	if !ours {
		if st.blue != nil || st.green != nil {
			return servicePlan{}, fmt.Errorf("%s has blue/green records but no ownership marker %s%s of env %s; the library never adopts them: delete them, then apply again", name, markerPrefix, name, env.Suffix)
		}
		p := create("with ownership marker " + markerPrefix + name)
		marker := types.ResourceRecordSet{Name: aws.String(markerPrefix + name), Type: types.RRTypeTxt, TTL: aws.Int64(300), ResourceRecords: []types.ResourceRecord{{Value: aws.String(markerValue(env))}}}
		p.changes = append(p.changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &marker})
		return p, nil
	}
	for _, rr := range []*types.ResourceRecordSet{st.blue, st.green} {
		if rr != nil && rr.Type != typ {
			return servicePlan{}, fmt.Errorf("%s: the record type cannot change: the %s record is %s, the spec makes %s; change the spec back, or delete the records (DeleteRecords) and apply again", name, aws.ToString(rr.SetIdentifier), rr.Type, typ)
		}
		if rr != nil && rr.Weight == nil {
			return servicePlan{}, fmt.Errorf("%s: the %s record has no weight", name, aws.ToString(rr.SetIdentifier))
		}
	}
	switch {
	case st.blue == nil && st.green == nil:
		return create("recreated: the records were deleted outside the library"), nil
	case st.blue == nil || st.green == nil:
		missing, present := Blue, Green
		if st.blue != nil {
			missing, present = Green, Blue
		}
		return servicePlan{}, fmt.Errorf("%s: the %s record is missing (deleted outside the library?) while %s exists; the split cannot be inferred: restore both with Router.Shift", name, missing, present)
	}
	p := servicePlan{}
	current := migration.Split{Blue: int(aws.ToInt64(st.blue.Weight)), Green: int(aws.ToInt64(st.green.Weight))}
	for _, have := range []*types.ResourceRecordSet{st.blue, st.green} {
		color := aws.ToString(have.SetIdentifier)
		want := s.record(svc, color, int(aws.ToInt64(have.Weight)))
		if from, to := describe(*have), describe(want); from != to {
			report.Diff = append(report.Diff, migration.FieldDiff{Field: color, From: from, To: to})
			// DELETE of the record as read, then CREATE: Route 53 applies
			// the pair only if the record still matches what was read, so
			// a Shift that ran meanwhile is never undone.
			p.changes = append(p.changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: have}, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &want})
		}
	}
	report.Action = migration.ActionNoop
	if len(report.Diff) > 0 {
		report.Action = migration.ActionUpdate
	}
	report.Note = strings.Join(append([]string{"weights " + current.String() + " kept: Router.Shift owns them"}, notes...), "; ")
	p.report = report
	return p, nil
}

// casAttempts bounds how often EnsureRecords and DeleteRecords read and
// write again when the records changed between their read and their write.
const casAttempts = 3

// EnsureRecords makes the weighted blue and green records of every
// service name exist and converge, in one change batch, and waits until
// it is INSYNC. It is idempotent: converged records cost no write.
//
// A new service name gets its blue and green records with the spec's
// initial split (all blue by default) and a TXT ownership marker
// "_cutover.<name>" = "cutover:env=<suffix>", created together with CREATE
// so that neither a concurrent creator nor a stale run can overwrite
// anything. Only records under this env's marker are ever changed: records
// without a marker, under another env's marker, or that Route 53 cannot
// combine with the weighted pair (a simple record of the same type, a
// CNAME) are reported in an error and left alone.
//
// On existing records it converges what they answer (IPs, host, alias,
// TTL, health check) but never their weights: during a cutover the
// weights belong to Router.Shift, and a later apply must not undo a shift.
// A record is converged by deleting it exactly as read and creating it
// anew in the same batch, so if a Shift changed it in between, Route 53
// rejects the batch and EnsureRecords reads again (up to three times). A
// change of record type (IPs to host) is refused, as is a pair with one
// record missing, whose split cannot be inferred; both missing under the
// env's marker (deleted by hand) are recreated with the initial split.
//
// Each service name is reported as one Change whose Note says the
// weights kept and warns about health checks that Route 53's fail-open
// rules can turn into unasked traffic shifts (see the package
// documentation). In a dry run, or with a pending zone ID, it reads only.
func EnsureRecords(ctx context.Context, env migration.Env, api RecordsAPI, spec RecordsSpec) (Records, error) {
	zone := normName(spec.ZoneName)
	if err := migration.Validate(env, spec); err != nil {
		return Records{}, fmt.Errorf("ensure records in %q: %w", zone, err)
	}
	r, err := ensureRecords(ctx, env, api, spec)
	if err != nil {
		return Records{}, fmt.Errorf("ensure records in %q: %w", zone, err)
	}
	return r, nil
}

func ensureRecords(ctx context.Context, env migration.Env, api RecordsAPI, spec RecordsSpec) (Records, error) {
	result := Records{ZoneID: bareZoneID(spec.ZoneID)}
	for _, svc := range spec.Services {
		result.Names = append(result.Names, strings.TrimSuffix(spec.fqdn(svc), "."))
	}
	if migration.IsPending(spec.ZoneID) {
		if !env.DryRun {
			return Records{}, fmt.Errorf("zone id %s is pending outside a dry run: ensure the zone first", spec.ZoneID)
		}
		for _, svc := range spec.Services {
			p, _ := spec.plan(env, spec.ZoneID, svc, serviceRecords{name: spec.fqdn(svc)})
			env.Report(p.report)
		}
		return result, nil
	}
	if err := checkZone(ctx, env, api, result.ZoneID, spec.ZoneName); err != nil {
		return Records{}, err
	}
	for attempt := 1; ; attempt++ {
		var plans []servicePlan
		var changes []types.Change
		for _, svc := range spec.Services {
			st, err := readService(ctx, api, result.ZoneID, spec.fqdn(svc))
			if err != nil {
				return Records{}, err
			}
			p, err := spec.plan(env, result.ZoneID, svc, st)
			if err != nil {
				return Records{}, err
			}
			plans = append(plans, p)
			changes = append(changes, p.changes...)
		}
		if len(changes) > 0 && !env.DryRun {
			out, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(result.ZoneID),
				ChangeBatch:  &types.ChangeBatch{Changes: changes, Comment: aws.String("cutover env " + env.Suffix + ": ensure blue/green records")},
			})
			if awsx.HasCode(err, "InvalidChangeBatch") && attempt < casAttempts {
				continue // the records changed since they were read
			}
			if err != nil {
				return Records{}, fmt.Errorf("change records: %w", err)
			}
			result.ChangeID = bareChangeID(aws.ToString(out.ChangeInfo.Id))
			if err := waitInsync(ctx, env, api, result.ChangeID, syncTimeout); err != nil {
				return Records{}, err
			}
		}
		for _, p := range plans {
			env.Report(p.report)
		}
		return result, nil
	}
}

// checkZone makes sure the zone exists (retrying while a new zone is not
// visible yet) and has the spec's name, so records never land in a zone
// the spec did not mean.
func checkZone(ctx context.Context, env migration.Env, api RecordsAPI, zoneID, zoneName string) error {
	var out *route53.GetHostedZoneOutput
	err := env.Retry(ctx, []string{"NoSuchHostedZone"}, func(ctx context.Context) error {
		var err error
		out, err = api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zoneID)})
		return err
	})
	if err != nil {
		return fmt.Errorf("get zone %s: %w", zoneID, err)
	}
	if have, want := fqdn(aws.ToString(out.HostedZone.Name)), fqdn(zoneName); have != want {
		return fmt.Errorf("zone %s is %s, the spec says %s", zoneID, strings.TrimSuffix(have, "."), strings.TrimSuffix(want, "."))
	}
	return nil
}

// DeleteRecords deletes the blue and green records of every service name
// in the spec, with their ownership markers, in one change batch. It
// deletes only what is under this env's marker: a name without a marker,
// or with another env's, is left alone and reported as a no-op. It is a
// no-op when the records (or the zone) are gone. The records are deleted
// exactly as read; if a Shift changes them in between, it reads again (up
// to three times). A dry run reports and writes nothing.
func DeleteRecords(ctx context.Context, env migration.Env, api RecordsAPI, spec RecordsSpec) error {
	zone := normName(spec.ZoneName)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete records in %q: %w", zone, err)
	}
	if err := deleteRecords(ctx, env, api, spec); err != nil {
		return fmt.Errorf("delete records in %q: %w", zone, err)
	}
	return nil
}

func deleteRecords(ctx context.Context, env migration.Env, api RecordsAPI, spec RecordsSpec) error {
	zoneID := bareZoneID(spec.ZoneID)
	gone := func(note string) {
		for _, svc := range spec.Services {
			env.Report(migration.Change{Kind: KindRecords, Name: strings.TrimSuffix(spec.fqdn(svc), "."), Action: migration.ActionNoop, Note: note})
		}
	}
	if migration.IsPending(zoneID) {
		gone("zone not created yet")
		return nil
	}
	for attempt := 1; ; attempt++ {
		var reports []migration.Change
		var changes []types.Change
		for _, svc := range spec.Services {
			name := spec.fqdn(svc)
			st, err := readService(ctx, api, zoneID, name)
			if awsx.IsNotFound(err) {
				gone("zone already deleted")
				return nil
			}
			if err != nil {
				return err
			}
			report := migration.Change{Kind: KindRecords, Name: strings.TrimSuffix(name, "."), ID: zoneID, Action: migration.ActionNoop}
			switch {
			case st.marker == nil && st.blue == nil && st.green == nil:
				report.Note = migration.NoteGone
			case st.marker == nil || !isMarker(env, *st.marker):
				report.Note = "not owned by env " + env.Suffix + " (no ownership marker of it); left alone"
			default:
				report.Action = migration.ActionDelete
				for _, rr := range []*types.ResourceRecordSet{st.blue, st.green, st.marker} {
					if rr != nil {
						changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: rr})
					}
				}
			}
			reports = append(reports, report)
		}
		if len(changes) > 0 && !env.DryRun {
			err := deleteInChunks(ctx, api, zoneID, changes, "cutover env "+env.Suffix+": delete blue/green records")
			if awsx.HasCode(err, "InvalidChangeBatch") && attempt < casAttempts {
				continue
			}
			if err != nil {
				return fmt.Errorf("change records: %w", err)
			}
		}
		for _, r := range reports {
			env.Report(r)
		}
		return nil
	}
}
