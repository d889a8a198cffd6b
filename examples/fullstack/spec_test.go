package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeSpec writes the default spec with edits applied (old → new text
// replacements) next to its certificates, and returns its path.
func writeSpec(t *testing.T, edits ...[2]string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := defaults.ReadFile("spec.default.yaml")
	require.NoError(t, err)
	text := string(data)
	for _, e := range edits {
		require.Contains(t, text, e[0], "edit target")
		text = strings.Replace(text, e[0], e[1], 1)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "certs"), 0o755))
	for _, c := range []string{"certs/onprem-ca.pem", "certs/rds-ca.pem"} {
		b, err := defaults.ReadFile(c)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, c), b, 0o644))
	}
	path := filepath.Join(dir, "cutover.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestDefaultSpecIsValid(t *testing.T) {
	s, err := loadSpec("")
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	// The file init writes validates too (certificates next to it).
	s, err = loadSpec(writeSpec(t))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
}

// TestSpecValidation: each bad spec is rejected with an error naming the
// path of the bad field in the spec file.
func TestSpecValidation(t *testing.T) {
	tests := []struct {
		name string
		edit [2]string
		want string
	}{
		{"suffix with upper case", [2]string{"suffix: dev", "suffix: Dev"}, "env.suffix: derived name"},
		{"suffix too long", [2]string{"suffix: dev", "suffix: " + strings.Repeat("d", 40)}, "env.suffix"},
		{"region", [2]string{"region: us-east-1", "region: virginia"}, "env.region"},
		{"reserved tag", [2]string{"CostCenter: platform-migration", "cutover:env: other"}, "env.tags"},
		{"key window", [2]string{"deletionWindowDays: 7", "deletionWindowDays: 3"}, "key.deletionWindowDays"},
		{"vpc cidr", [2]string{"cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"}, "network.vpc.cidr"},
		{"az count", [2]string{"azCount: 3", "azCount: 1"}, "network.subnets.azCount"},
		{"nat mode", [2]string{"mode: per-az", "mode: some"}, "network.natGateways.mode"},
		{"on-prem overlaps vpc", [2]string{"onPremCidr: 192.168.0.0/16", "onPremCidr: 10.0.0.0/8"}, "network.onPremCidr"},
		{"web port", [2]string{"webPort: 443", "webPort: 70000"}, "network.securityGroups.webPort"},
		{"flow log retention", [2]string{"retentionDays: 90", "retentionDays: 91"}, "network.flowLogs.retentionDays"},
		{"amazon asn reserved", [2]string{"amazonSideAsn: 64512", "amazonSideAsn: 7224"}, "network.vpnGateway.amazonSideAsn"},
		{"customer gateway ip", [2]string{"customerGatewayIp: 203.0.113.10", "customerGatewayIp: 10.1.2.3"}, "network.vpn.customerGatewayIp"},
		{"tunnel inside cidr reserved", [2]string{"insideCidr: 169.254.10.0/30", "insideCidr: 169.254.5.0/30"}, "network.vpn.tunnels[0].insideCidr"},
		{"one tunnel", [2]string{"      - insideCidr: 169.254.10.4/30\n", ""}, "network.vpn.tunnels"},
		{"dx vif without vlan", [2]string{`connectionId: ""`, "connectionId: dxcon-fgabcdef"}, "network.directConnect.vlan"},
		{"bgp primary", [2]string{"primary: vpn", "primary: carrier-pigeon"}, "network.bgp.primary"},
		{"source size", [2]string{"sourceSizeGb: 500", "sourceSizeGb: 0"}, "dms.sourceSizeGb"},
		{"dms engine too old for the target", [2]string{"engineVersion: 3.6.1", "engineVersion: 3.4.7"}, "dms.engineVersion"},
		{"source secret", [2]string{"secretName: cutover/dev/source-db", `secretName: ""`}, "dms.source.secretName"},
		{"source ca file", [2]string{"caCertificateFile: certs/onprem-ca.pem", "caCertificateFile: certs/missing.pem"}, "dms.source.caCertificateFile"},
		{"target engine", [2]string{`engineVersion: "17"`, `engineVersion: "13"`}, "dms.target"},
		{"table mapping", [2]string{`{schema: audit, table: "%"}`, `{schema: "", table: "%"}`}, "dms.tables"},
		{"lob size", [2]string{"maxSizeKb: 32", "maxSizeKb: 200000"}, "dms.lob"},
		{"dns ttl", [2]string{"ttl: 60", "ttl: 0"}, ""},
		{"dns blue ip", [2]string{"192.168.10.11]", "192.168.10.300]"}, "dns.services[0].blue"},
		{"subscription protocol", [2]string{"protocol: email", "protocol: http"}, "tracking.subscriptions[0]"},
		{"recovery days", [2]string{"recoveryDays: 35", "recoveryDays: 99"}, "tracking.recoveryDays"},
		{"duplicate host", [2]string{"app-12.dc1.corp.example", "app-01.dc2.corp.example"}, "servers.hosts[11]"},
		{"wave concurrency", [2]string{"waveConcurrency: 4", "waveConcurrency: 50"}, "servers.waveConcurrency"},
		{"files protocol", [2]string{"protocol: NFS", "protocol: FTP"}, "files.source.protocol"},
		{"files target", [2]string{"target: s3", "target: tape"}, "files.target"},
		{"files bandwidth", [2]string{"bytesPerSecond: 62500000", "bytesPerSecond: 0"}, "files.bytesPerSecond"},
		{"app port", [2]string{"port: 8443\n    path", "port: 0\n    path"}, "validation.application.port"},
		{"root cert", [2]string{"rootCertFile: /etc/pki/tls/certs/rds-global-bundle.pem", "rootCertFile: bundle.pem"}, "validation.database.rootCertFile"},
		{"load balancer", [2]string{"greenLoadBalancer: app/web-green-dev/0123456789abcdef", "greenLoadBalancer: web-green"}, "cutover.greenLoadBalancer"},
		{"steps not increasing", [2]string{"{green: 25, bake: 15m}", "{green: 5, bake: 15m}"}, "cutover.steps"},
		{"bake too short", [2]string{"{green: 10, bake: 15m}", "{green: 10, bake: 1m}"}, "cutover.steps[0].bake"},
		{"forward lag", [2]string{"maxForwardLag: 30s", "maxForwardLag: 0s"}, "cutover.maxForwardLag"},
		{"bad duration", [2]string{"rollbackWindow: 24h", "rollbackWindow: a day"}, "not a duration"},
		{"unknown field", [2]string{"  azCount: 3", "  azCout: 3"}, "azCout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := loadSpec(writeSpec(t, tt.edit))
			if err == nil {
				err = s.Validate()
			}
			if tt.want == "" { // a zero the package defaults: valid
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestSpecValidationReportsEverything: one run lists every problem.
func TestSpecValidationReportsEverything(t *testing.T) {
	s, err := loadSpec(writeSpec(t,
		[2]string{"cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"},
		[2]string{"sourceSizeGb: 500", "sourceSizeGb: 0"},
		[2]string{"protocol: email", "protocol: http"},
	))
	require.NoError(t, err)
	err = s.Validate()
	require.Error(t, err)
	for _, want := range []string{"network.vpc.cidr", "dms.sourceSizeGb", "tracking.subscriptions[0]"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestSpecAcceptsJSON(t *testing.T) {
	s, err := loadSpec("")
	require.NoError(t, err)
	dir := t.TempDir()
	// A JSON spec: the same keys.
	doc := `{"env": {"suffix": "json", "region": "us-east-1"}}`
	path := filepath.Join(dir, "spec.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	j, err := loadSpec(path)
	require.NoError(t, err)
	assert.Equal(t, "json", j.Env.Suffix)
	assert.NotEqual(t, s.Env.Suffix, j.Env.Suffix)
}
