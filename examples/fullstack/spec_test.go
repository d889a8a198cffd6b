package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
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
		{"private prefix", [2]string{"privatePrefix: 20", "privatePrefix: 29"}, "network.subnets.privatePrefix"},
		{"app port", [2]string{"appPort: 8443", "appPort: 0"}, "network.securityGroups.appPort"},
		{"db port", [2]string{"dbPort: 5432", "dbPort: 0"}, "network.securityGroups.dbPort"},
		{"on-prem db port", [2]string{"onPremDbPort: 5432", "onPremDbPort: 70000"}, "network.securityGroups.onPremDbPort"},
		{"public web cidr", [2]string{"publicWebCidrs: []", "publicWebCidrs: [nope]"}, "network.securityGroups.publicWebCidrs[0]"},
		{"customer asn", [2]string{"customerAsn: 65010", "customerAsn: 0"}, "network.vpn.customerAsn"},
		{"vpn log retention", [2]string{"logRetentionDays: 90", "logRetentionDays: 91"}, "network.vpn.logRetentionDays"},
		{"pre-shared key is an ARN", [2]string{"      - insideCidr: 169.254.10.0/30", "      - {insideCidr: 169.254.10.0/30, preSharedKeySecretArn: hunter2}"}, "network.vpn.tunnels[0].preSharedKeySecretArn"},
		{"dx amazon asn", [2]string{"amazonSideAsn: 64513", "amazonSideAsn: 7224"}, "network.directConnect.amazonSideAsn"},
		{"dx auth key is an ARN", [2]string{`authKeySecretArn: ""`, "authKeySecretArn: hunter2"}, "network.directConnect.authKeySecretArn"},
		{"dx allowed prefix", [2]string{"allowedPrefixes: []", "allowedPrefixes: [bad]"}, "network.directConnect.allowedPrefixes[0]"},
		{"dms instance class", [2]string{"  instance:\n", "  instance:\n    class: m5.large\n"}, "dms.instance.class"},
		{"dms name server off premises", [2]string{"dnsNameServers: [192.168.0.10, 192.168.0.11]", "dnsNameServers: [192.168.0.10, 8.8.8.8]"}, "dms.instance.dnsNameServers[1]: 8.8.8.8 is outside the on-premises network 192.168.0.0/16"},
		{"dms name server", [2]string{"dnsNameServers: [192.168.0.10, 192.168.0.11]", "dnsNameServers: [ns1.dc1.corp.example]"}, "dms.instance.dnsNameServers[0]"},
		{"target class", [2]string{"skipFinalSnapshot: false", "skipFinalSnapshot: false\n    class: db.nope"}, "dms.target.class"},
		{"target storage below the source", [2]string{"skipFinalSnapshot: false", "skipFinalSnapshot: false\n    allocatedStorageGb: 100"}, "dms.target.allocatedStorageGb: 100 GB is smaller than the 500 GB source"},
		{"target database name", [2]string{"databaseName: bank\n    engineVersion", "databaseName: 1bank\n    engineVersion"}, "dms.target.databaseName"},
		{"source ca file not a certificate", [2]string{"caCertificateFile: certs/onprem-ca.pem", "caCertificateFile: cutover.yaml"}, "dms.source.caCertificateFile: cutover.yaml: certificate.pem"},
		{"target ca file", [2]string{"caCertificateFile: certs/rds-ca.pem", "caCertificateFile: certs/missing.pem"}, "dms.target.caCertificateFile"},
		{"lob mode", [2]string{"mode: limited", "mode: bogus"}, "dms.lob.mode"},
		{"table exclude", [2]string{`{schema: public, table: "tmp_%"}`, `{schema: public, table: ""}`}, "dms.tables.exclude[0].table"},
		{"dns zone", [2]string{"zone: corp.example.internal", `zone: "not a zone!"`}, "dns.zone"},
		{"service name", [2]string{"- name: web", `- name: "web!"`}, "dns.services[0].name"},
		{"blue ips and host", [2]string{"blue: {ips: [192.168.10.10, 192.168.10.11]}", "blue: {host: a.example, ips: [192.168.10.10]}"}, "dns.services[0].blue: give exactly one of ips or host"},
		{"alias zone", [2]string{"hostedZoneId: Z35SXDOTRQ7X7K}", `hostedZoneId: "bad zone"}`}, "dns.services[0].green.alias.hostedZoneId"},
		{"health check", [2]string{"blue: {ips: [192.168.10.10, 192.168.10.11]}", "blue: {ips: [192.168.10.10], healthCheckId: nope}"}, "dns.services[0].blue.healthCheckId"},
		{"subscription endpoint", [2]string{"endpoint: migration-ops@example.com", "endpoint: not-an-email"}, "tracking.subscriptions[0]: endpoint"},
		{"replication instance type", [2]string{"instanceType: t3.small", "instanceType: huge"}, "servers.replication.instanceType"},
		{"replication bandwidth", [2]string{"bandwidthMbps: 200", "bandwidthMbps: -1"}, "servers.replication.bandwidthMbps"},
		{"empty host", [2]string{"    - app-01.dc1.corp.example\n", "    - \"\"\n"}, "servers.hosts[0]: empty host name"},
		{"bad host", [2]string{"app-12.dc1.corp.example", `"bad host!"`}, "servers.hosts[11]"},
		{"files server", [2]string{"serverHostname: files.dc1.corp.example", `serverHostname: ""`}, "files.source.serverHostname"},
		{"files subdirectory", [2]string{"subdirectory: /exports/share", "subdirectory: exports"}, "files.source.subdirectory"},
		{"files agents", [2]string{"agents: [datasync-agent-dc1]", "agents: []"}, "files.source.agents"},
		{"validation targets", [2]string{`targets: {Wave: ["1"]}`, "targets: {}"}, "validation.targets"},
		{"health path", [2]string{"path: /health", "path: health"}, "validation.application.path"},
		{"tls server name", [2]string{"serverName: web.corp.example.internal", `serverName: "bad name!"`}, "validation.application.serverName"},
		{"expected status", [2]string{"expectStatus: 200", "expectStatus: 999"}, "validation.application.expectStatus"},
		{"unit", [2]string{"units: [app.service]", `units: ["app; reboot"]`}, "validation.services.units[0]"},
		{"service port", [2]string{"ports: [8443]", "ports: [0]"}, "validation.services.ports[0]"},
		{"mount point", [2]string{"mountPoint: /mnt/share", "mountPoint: mnt"}, "validation.files.mountPoint"},
		{"schedule", [2]string{"schedule: rate(30 minutes)", "schedule: every hour"}, "validation.schedule"},
		{"error rate", [2]string{"maxErrorRate: 1 ", "maxErrorRate: 150 "}, "cutover.maxErrorRate"},
		{"p99 latency", [2]string{"maxP99Latency: 1.5s", "maxP99Latency: -1s"}, "cutover.maxP99Latency"},
		{"cdc latency", [2]string{"maxCdcLatency: 5m", "maxCdcLatency: -5m"}, "cutover.maxCdcLatency"},
		{"data loss budget", [2]string{"dataLossBudget: 1m", "dataLossBudget: -1m"}, "cutover.dataLossBudget"},
		{"rollback window", [2]string{"rollbackWindow: 24h", "rollbackWindow: 0s"}, "cutover.rollbackWindow"},
		{"last step below 100", [2]string{"{green: 100, bake: 30m}", "{green: 90, bake: 30m}"}, "cutover.steps: the last step must send 100 % to green"},
		{"negative ttl", [2]string{"ttl: 60", "ttl: -5"}, "dns.ttl"},
		{"no database section", [2]string{"  database:\n    name: db\n    blue: {host: pg13.dc1.corp.example}\n", ""}, "dns.database.name: required"},
		{"database name missing", [2]string{"    name: db\n", "    name: \"\"\n"}, "dns.database.name: required"},
		{"database host missing", [2]string{"blue: {host: pg13.dc1.corp.example}", "blue: {}"}, "dns.database.blue.host: required"},
		{"database name", [2]string{"    name: db\n", "    name: \"db!\"\n"}, "dns.database.name: "},
		{"database name of a service", [2]string{"    name: db\n", "    name: Web\n"}, "dns.database.name: \"Web\" is also dns.services[0].name"},
		{"database name too long for its marker", [2]string{"    name: db\n", "    name: " + strings.Repeat("d.", 113) + "db\n"}, "makes the 259-character marker name"},
		{"database host", [2]string{"host: pg13.dc1.corp.example", "host: \"pg13 dc1\""}, "dns.database.blue.host: "},
		{"database host is its own name", [2]string{"host: pg13.dc1.corp.example", "host: DB.corp.example.internal."}, "dns.database.blue.host: \"DB.corp.example.internal.\" is the database name itself"},
		{"database blue ips", [2]string{"blue: {host: pg13.dc1.corp.example}", "blue: {ips: [192.168.30.10]}"}, `unknown field "ips"`},
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
			assertSpecPaths(t, err)
		})
	}
}

// assertSpecPaths checks that every line of a validation error starts
// with a section of the spec file: no package's own field path (wave:,
// gates:, rules:, targetSecret.) leaks to the operator.
func assertSpecPaths(t *testing.T, err error) {
	t.Helper()
	if strings.HasPrefix(err.Error(), "parse spec ") {
		return // the YAML decoder's report, with the line
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		section, _, _ := strings.Cut(line, ".")
		section, _, _ = strings.Cut(section, " ")
		assert.Contains(t, []string{"env", "key", "network", "dms", "dns", "tracking", "servers", "files", "validation", "cutover"}, section, "the path of %q", line)
	}
}

// TestSpecValidationReportsEverything: one run lists every problem.
func TestSpecValidationReportsEverything(t *testing.T) {
	s, err := loadSpec(writeSpec(t,
		[2]string{"cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"},
		[2]string{"sourceSizeGb: 500", "sourceSizeGb: 0"},
		[2]string{"protocol: email", "protocol: http"},
		// Several in one section: a bad threshold or load balancer does not
		// hide a bad step.
		[2]string{"greenLoadBalancer: app/web-green-dev/0123456789abcdef", "greenLoadBalancer: web-green"},
		[2]string{"maxErrorRate: 1 ", "maxErrorRate: 101 "},
		[2]string{"{green: 25, bake: 15m}", "{green: 5, bake: 15m}"},
	))
	require.NoError(t, err)
	err = s.Validate()
	require.Error(t, err)
	for _, want := range []string{"network.vpc.cidr", "dms.sourceSizeGb", "tracking.subscriptions[0]", "cutover.greenLoadBalancer", "cutover.maxErrorRate", "cutover.steps[1].green"} {
		assert.Contains(t, err.Error(), want)
	}
	assertSpecPaths(t, err)
}

// TestSpecAcceptsJSON: the reference spec written as JSON loads to the
// same Spec as the YAML and validates, with its files resolved next to it.
func TestSpecAcceptsJSON(t *testing.T) {
	yamlPath := writeSpec(t)
	fromYAML, err := loadSpec(yamlPath)
	require.NoError(t, err)

	data, err := os.ReadFile(yamlPath)
	require.NoError(t, err)
	var doc any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	js, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	jsonPath := filepath.Join(filepath.Dir(yamlPath), "spec.json")
	require.NoError(t, os.WriteFile(jsonPath, js, 0o644))

	fromJSON, err := loadSpec(jsonPath)
	require.NoError(t, err)
	require.NoError(t, fromJSON.Validate(), "the JSON spec validates, its CA files found next to it")
	assert.Equal(t, fromYAML, fromJSON)
	assert.Len(t, fromJSON.Servers.Hosts, 12)
	assert.Equal(t, Duration(15*time.Minute), fromJSON.Cutover.Steps[0].Bake)

	// A JSON typo is refused like a YAML one.
	require.NoError(t, os.WriteFile(jsonPath, []byte(strings.Replace(string(js), `"azCount"`, `"azCout"`, 1)), 0o644))
	_, err = loadSpec(jsonPath)
	assert.ErrorContains(t, err, `unknown field "azCout"`)
}

// TestREADMESpecReference: the README's table of the spec file names every
// field of every section, and nothing that is not one. Field names are the
// only code-formatted words of a section's row.
func TestREADMESpecReference(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) == 4 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = cells[2]
		}
	}
	code := regexp.MustCompile("`([^`]+)`")
	st := reflect.TypeFor[Spec]()
	for i := range st.NumField() {
		f := st.Field(i)
		section, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if section == "" {
			continue // unexported
		}
		t.Run(section, func(t *testing.T) {
			row, ok := rows[section]
			require.True(t, ok, "the README has a row for %s", section)
			var named []string
			for _, m := range code.FindAllStringSubmatch(row, -1) {
				named = append(named, m[1])
			}
			// As sets: a name that two parts share (blue's and green's
			// ips, the source's and the target's databaseName) counts once.
			set := func(names []string) []string { return slices.Compact(slices.Sorted(slices.Values(names))) }
			assert.Equal(t, set(yamlFields(f.Type)), set(named), "the fields of %s, as the README names them", section)
		})
	}
}

// yamlFields lists the yaml names of every field below a type, nested
// structs (and their lists) included.
func yamlFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" {
			continue
		}
		out = append(out, name)
		out = append(out, yamlFields(t.Field(i).Type)...)
	}
	return out
}
