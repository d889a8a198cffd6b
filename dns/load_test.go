package dns_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/migration"
)

// TestLoadRecordsRoundTrip: a Router built from the records found in the
// zone shifts exactly what EnsureRecords made, as the Lambda does.
func TestLoadRecordsRoundTrip(t *testing.T) {
	ctx := context.Background()
	env, cloud, _ := newEnv(t)
	zone, err := dns.EnsureZone(ctx, env, cloud.Route53(), dns.ZoneSpec{Name: "corp.example.internal", VPCID: newVPC(t, cloud)})
	require.NoError(t, err)
	spec := dns.RecordsSpec{ZoneID: zone.ID, ZoneName: "corp.example.internal", TTL: 30, Services: []dns.Service{
		{Name: "web", Blue: dns.Target{IPs: []string{"192.168.10.11", "192.168.10.10"}}, Green: dns.Target{Alias: &dns.Alias{DNSName: "internal-web-green-1.us-east-1.elb.amazonaws.com", HostedZoneID: "Z35SXDOTRQ7X7K"}}},
		{Name: "api", Blue: dns.Target{Host: "api.dc1.corp.example"}, Green: dns.Target{Host: "api-green.corp.example.internal", HealthCheckID: "abcdef01-2345-6789-abcd-ef0123456789"}},
	}}
	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), spec)
	require.NoError(t, err)

	loaded, err := dns.LoadRecords(ctx, env, cloud.Route53(), zone.ID, "corp.example.internal", []string{"web.corp.example.internal.", "api"})
	require.NoError(t, err)
	assert.Equal(t, int64(30), loaded.TTL)
	require.Len(t, loaded.Services, 2)
	assert.Equal(t, "web", loaded.Services[0].Name)
	assert.ElementsMatch(t, []string{"192.168.10.10", "192.168.10.11"}, loaded.Services[0].Blue.IPs)
	assert.Equal(t, "internal-web-green-1.us-east-1.elb.amazonaws.com", loaded.Services[0].Green.Alias.DNSName)
	assert.Equal(t, "api.dc1.corp.example", loaded.Services[1].Blue.Host)
	assert.Equal(t, "abcdef01-2345-6789-abcd-ef0123456789", loaded.Services[1].Green.HealthCheckID)

	router, err := dns.NewRouter(env, cloud.Route53(), zone.ID, loaded)
	require.NoError(t, err)
	_, err = router.Shift(ctx, migration.GreenPercent(25))
	require.NoError(t, err)
	// The records EnsureRecords owns are unchanged but for the weights:
	// a second EnsureRecords with the original spec writes nothing.
	cloud.ResetCalls()
	_, err = dns.EnsureRecords(ctx, env, cloud.Route53(), spec)
	require.NoError(t, err)
	assert.Empty(t, cloud.Writes())
	split, err := router.Weights(ctx)
	require.NoError(t, err)
	assert.Equal(t, migration.GreenPercent(25), split)

	// Another env's marker is not this env's records.
	other := env
	other.Suffix = "prod"
	_, err = dns.LoadRecords(ctx, other, cloud.Route53(), zone.ID, "corp.example.internal", []string{"web"})
	assert.ErrorContains(t, err, "no ownership marker of env prod")
	_, err = dns.LoadRecords(ctx, env, cloud.Route53(), zone.ID, "corp.example.internal", nil)
	assert.ErrorContains(t, err, "no service names")
}
