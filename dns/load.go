package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutoverkit/cutover/migration"
)

// LoadRecords reads the env's weighted records at the given service names
// of a zone and returns the RecordsSpec that describes them, so that a
// process that has only the zone and the names — the rollback Lambda —
// can build a Router whose Shift rewrites exactly the records that are
// there, with new weights. names are relative to the zone ("web") or fully
// qualified ("web.corp.example.internal."). Only records under the env's
// ownership marker are read; a name without both records, or without the
// marker, is an error. Reads only.
func LoadRecords(ctx context.Context, env migration.Env, api RouterAPI, zoneID, zoneName string, names []string) (RecordsSpec, error) {
	spec := RecordsSpec{ZoneID: zoneID, ZoneName: normName(zoneName)}
	if err := errors.Join(checkZoneID(zoneID), checkName(zoneName)); err != nil {
		return RecordsSpec{}, fmt.Errorf("load records: %w", err)
	}
	if len(names) == 0 {
		return RecordsSpec{}, errors.New("load records: no service names")
	}
	zone := normName(zoneName)
	for _, n := range names {
		rel := strings.TrimSuffix(normName(n), "."+zone)
		name := fqdn(rel + "." + zone)
		st, err := readService(ctx, api, bareZoneID(zoneID), name)
		if err != nil {
			return RecordsSpec{}, fmt.Errorf("load records: %w", err)
		}
		switch {
		case st.marker == nil || !isMarker(env, *st.marker):
			return RecordsSpec{}, fmt.Errorf("load records: %s carries no ownership marker of env %s", name, env.Suffix)
		case st.blue == nil || st.green == nil:
			return RecordsSpec{}, fmt.Errorf("load records: %s lacks its blue or green record; run EnsureRecords", name)
		}
		spec.Services = append(spec.Services, Service{Name: rel, Blue: target(*st.blue), Green: target(*st.green)})
		for _, rr := range []*types.ResourceRecordSet{st.blue, st.green} {
			if rr.TTL != nil {
				spec.TTL = aws.ToInt64(rr.TTL)
			}
		}
	}
	if err := spec.Validate(); err != nil {
		return RecordsSpec{}, fmt.Errorf("load records: the records found do not form a valid spec: %w", err)
	}
	return spec, nil
}

// target is the inverse of RecordsSpec.record: what one record answers.
func target(rr types.ResourceRecordSet) Target {
	t := Target{HealthCheckID: aws.ToString(rr.HealthCheckId)}
	switch {
	case rr.AliasTarget != nil:
		t.Alias = &Alias{DNSName: normName(aws.ToString(rr.AliasTarget.DNSName)), HostedZoneID: bareZoneID(aws.ToString(rr.AliasTarget.HostedZoneId)), EvaluateTargetHealth: rr.AliasTarget.EvaluateTargetHealth}
	case rr.Type == types.RRTypeCname && len(rr.ResourceRecords) == 1:
		t.Host = normName(aws.ToString(rr.ResourceRecords[0].Value))
	default:
		for _, r := range rr.ResourceRecords {
			t.IPs = append(t.IPs, aws.ToString(r.Value))
		}
	}
	return t
}
