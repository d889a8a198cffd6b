package dns

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// The Change kinds this package reports.
const (
	// KindZone is a private hosted zone.
	KindZone = "dns-zone"
	// KindRecords is the blue and green weighted records of one service
	// name, with their ownership marker.
	KindRecords = "dns-records"
	// KindWeights is a traffic shift made by Router.Shift.
	KindWeights = "dns-weights"
)

// The SetIdentifiers of the two weighted records of a service name.
const (
	Blue  = "blue"
	Green = "green"
)

// syncTimeout bounds the wait for a Route 53 change to reach INSYNC. AWS
// says changes generally propagate within 60 seconds.
const syncTimeout = 5 * time.Minute

var (
	labelRe       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	vpcIDRe       = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	regionRe      = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
	zoneIDRe      = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	healthCheckRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// normName lower-cases a DNS name and drops its trailing dot: the form the
// specs and results of this package use.
func normName(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// fqdn returns name in Route 53's form: lower case with the trailing dot.
func fqdn(name string) string { return normName(name) + "." }

// checkName reports why name (already normalised) is not a host name of
// labels [a-z0-9-], each 1..63 characters not starting or ending with a
// hyphen, 253 characters in all.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("required")
	}
	if len(name) > 253 {
		return fmt.Errorf("%q is %d characters; DNS names have at most 253", name, len(name))
	}
	for _, l := range strings.Split(name, ".") {
		if !labelRe.MatchString(l) {
			return fmt.Errorf("%q has the label %q; labels are 1..63 of a-z, 0-9 and '-', not starting or ending with '-'", name, l)
		}
	}
	return nil
}

// bareZoneID drops the "/hostedzone/" prefix Route 53 puts on zone IDs in
// responses; the tagging operations take the bare ID only.
func bareZoneID(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

// bareChangeID drops the "/change/" prefix.
func bareChangeID(id string) string { return strings.TrimPrefix(id, "/change/") }

// checkZoneID reports why id is neither a hosted zone ID nor a pending one.
func checkZoneID(id string) error {
	if migration.IsPending(id) {
		return nil
	}
	if !zoneIDRe.MatchString(bareZoneID(id)) {
		return fmt.Errorf("%q is not a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ", id)
	}
	return nil
}

// insyncPoll is the longest delay between two GetChange calls while a
// change propagates: Route 53 changes are usually INSYNC within a minute,
// a rollback's reaction time includes the wait, and one call every 5
// seconds is far inside Route 53's 5 requests per second.
const insyncPoll = 5 * time.Second

// waitInsync waits, on the env clock, until a Route 53 change is INSYNC,
// using the acceptor of the SDK's ResourceRecordSetsChanged waiter and
// polling at least every insyncPoll.
func waitInsync(ctx context.Context, env migration.Env, api route53.GetChangeAPIClient, changeID string, timeout time.Duration) error {
	var accept awsx.Acceptor[route53.GetChangeInput, route53.GetChangeOutput]
	route53.NewResourceRecordSetsChangedWaiter(api, func(o *route53.ResourceRecordSetsChangedWaiterOptions) { accept = o.Retryable })
	_, err := migration.WaitEvery(ctx, env, "route 53 change "+changeID+" to be INSYNC", insyncPoll, api.GetChange, &route53.GetChangeInput{Id: aws.String(changeID)}, accept, timeout, "NoSuchChange")
	return err
}
