package wire_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// TestHandlerNeedsTheEnvsRecords: the Lambda's handler shifts only records
// the env owns; a zone without them is an error at cold start, not a
// rollback that rewrites someone else's records.
func TestHandlerNeedsTheEnvsRecords(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	vpc, err := cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	zone, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: "corp.example.internal", VPCID: aws.ToString(vpc.Vpc.VpcId)})
	require.NoError(t, err)
	clients := wire.Clients{Route53: cloud.Route53(), DynamoDB: cloud.DynamoDB(), SNS: cloud.SNS(), DMS: cloud.DMS(), CloudWatch: cloud.CloudWatch()}
	cfg := rollback.LambdaConfig{Suffix: "dev", Region: env.Region, Account: env.Account, HostedZoneID: zone.ID, ZoneName: "corp.example.internal", RecordNames: []string{"web"},
		TableName: "migration-tracking-dev", TopicARN: "arn:aws:sns:us-east-1:123456789012:migration-notifications-dev", ReverseTaskARN: "arn:aws:dms:us-east-1:123456789012:task:R"}

	_, err = wire.Handler(ctx, env, cfg, clients)
	assert.ErrorContains(t, err, "carries no ownership marker of env dev")

	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), dns.RecordsSpec{ZoneID: zone.ID, ZoneName: "corp.example.internal", Services: []dns.Service{
		{Name: "web", Blue: dns.Target{IPs: []string{"192.168.10.10"}}, Green: dns.Target{IPs: []string{"10.0.1.10"}}},
	}})
	require.NoError(t, err)
	h, err := wire.Handler(ctx, env, cfg, clients)
	require.NoError(t, err)
	split, err := h.Router.Weights(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.AllBlue, split)
	// The Lambda rolls traffic back and never switches: it has no fence
	// and no database record to move.
	rev, ok := h.Reverse.(wire.Replication)
	require.True(t, ok)
	assert.Nil(t, rev.Database)
	assert.Nil(t, rev.Fence)
}

// TestSwitchDatabaseNeedsItsRecord: without the database record (or the
// fence) the switch refuses before any call — a nil DMS client would fail
// the test if one were made, and the record counts its calls — so the
// applications are never left writing to a frozen source that nothing
// tells them has moved.
func TestSwitchDatabaseNeedsItsRecord(t *testing.T) {
	ctx := context.Background()
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	fence := fakecloud.New().DMS().SourceFence("arn:aws:dms:us-east-1:123456789012:task:F")
	tests := []struct {
		name     string
		fence    dms.Fence
		database bool
		want     string
	}{
		{"no record", fence, false, "the database record is required"},
		{"no fence", nil, true, "a write fence on the source database is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wire.Replication{Env: env, Fence: tt.fence}
			rec := &countingRecord{}
			if tt.database {
				r.Database = rec
			}
			assert.ErrorContains(t, r.SwitchDatabase(ctx), tt.want)
			assert.Zero(t, rec.calls, "the database record is left alone")
		})
	}
}

// countingRecord is a database record that counts the calls made to it.
type countingRecord struct{ calls int }

func (r *countingRecord) Shift(context.Context, migration.Split) (migration.Shifted, error) {
	r.calls++
	return migration.Shifted{}, errors.New("the database record must not move")
}

func (r *countingRecord) Weights(context.Context) (migration.Split, error) {
	r.calls++
	return migration.Split{}, errors.New("the database record must not be read")
}
