package validate_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/validate"
)

// Every document the package generates passes the schema 2.2 rules and
// the injection rules, and SSM (the fake) accepts it.
func TestGeneratedDocumentsPassSchema(t *testing.T) {
	env, cloud, _ := newEnv(t)
	plain := validate.ApplicationHealth{Port: 8080}
	minimal := []validate.Check{plain, validate.ServiceAvailability{Ports: []int{22}}, validate.ServiceAvailability{Units: []string{"sshd.service"}}, validate.FileStorage{MountPoint: "/data"}}
	specs := fullSpec("arn:aws:kms:us-east-1:123456789012:key/k").Documents(env)
	require.Len(t, specs, 3)
	for i, c := range minimal {
		specs = append(specs, validate.DocumentSpec{Name: env.Name("validate-minimal") + string(rune('a'+i)), Checks: []validate.Check{c}})
	}
	for _, s := range specs {
		t.Run(s.Name, func(t *testing.T) {
			content := s.Content().JSON()
			require.NoError(t, validate.CheckSchema(content))
			require.NoError(t, validate.CheckInjection(content))
			require.NoError(t, s.Validate())
			// Deterministic rendering: the content hash is stable.
			h1, err := validate.ContentHash(content)
			require.NoError(t, err)
			h2, _ := validate.ContentHash(s.Content().JSON())
			assert.Equal(t, h1, h2)
			// Every step is a Linux shell step with a unique name.
			var doc validate.CommandDocument
			require.NoError(t, json.Unmarshal([]byte(content), &doc))
			assert.Equal(t, "2.2", doc.SchemaVersion)
			for _, st := range doc.MainSteps {
				assert.Equal(t, validate.ActionRunShellScript, st.Action)
				assert.Equal(t, []string{"platformType", "Linux"}, st.Precondition.StringEquals)
			}
			_, err = cloud.SSM().CreateDocument(context.Background(), &ssm.CreateDocumentInput{Name: aws.String(s.Name), Content: aws.String(content), DocumentType: types.DocumentTypeCommand, DocumentFormat: types.DocumentFormatJson})
			require.NoError(t, err)
		})
	}
}

func TestContentHashIgnoresFormatting(t *testing.T) {
	a, err := validate.ContentHash(`{"b": [1, 2], "a": "x<y"}`)
	require.NoError(t, err)
	b, err := validate.ContentHash("{\n  \"a\": \"x\\u003cy\",\n  \"b\": [1,2]\n}")
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.True(t, strings.HasPrefix(a, "sha256:"))
	c, _ := validate.ContentHash(`{"a": "x<y", "b": [2, 1]}`)
	assert.NotEqual(t, a, c)
	_, err = validate.ContentHash("schemaVersion: '2.2'")
	assert.Error(t, err)
}

// A valid document the table below breaks one rule at a time.
const goodDoc = `{
  "schemaVersion": "2.2",
  "parameters": {"port": {"type": "String", "default": "80", "allowedPattern": "^[0-9]{1,5}$", "interpolationType": "ENV_VAR"}},
  "mainSteps": [
    {"action": "aws:runShellScript", "name": "check", "precondition": {"StringEquals": ["platformType", "Linux"]},
     "inputs": {"timeoutSeconds": "60", "runCommand": ["[ -n \"${SSM_port+x}\" ] || SSM_port='{{ port }}'", "echo \"$SSM_port\""]}}
  ]
}`

func TestCheckSchema(t *testing.T) {
	require.NoError(t, validate.CheckSchema(goodDoc))
	tests := []struct {
		name, old, new, want string
	}{
		{"schema version", `"2.2"`, `"1.2"`, `schemaVersion: must be "2.2"`},
		{"unknown action", `"aws:runShellScript"`, `"aws:runBashScript"`, `action: "aws:runBashScript" is not a Command document plugin`},
		{"step name characters", `"name": "check"`, `"name": "check step!"`, `must match ^[a-zA-Z0-9_.-]+$`},
		{"missing step name", `"name": "check", `, ``, `.name: "" must match`},
		{"undeclared parameter", `'{{ port }}'`, `'{{ prot }}'`, `{{ prot }} references a parameter the document does not declare`},
		{"parameter store reference", `'{{ port }}'`, `'{{ssm:/db/password}}'`, `{{ ssm:/db/password }} references a parameter`},
		{"unused parameter", `'{{ port }}'`, `80`, `parameters.port: declared but never referenced`},
		{"default outside the pattern", `"default": "80"`, `"default": "eighty"`, `default "eighty" does not match allowedPattern`},
		{"bad pattern", `"^[0-9]{1,5}$"`, `"^[0-9"`, `allowedPattern does not compile`},
		{"parameter type", `"type": "String"`, `"type": "Text"`, `type "Text" is not one of`},
		{"parameter name", `"port": {`, `"po-rt": {`, `parameters.po-rt: name must match`},
		{"ENV_VAR on a list", `"type": "String"`, `"type": "StringList"`, `interpolationType ENV_VAR applies to String parameters only`},
		{"precondition operator", `"StringEquals": ["platformType", "Linux"]`, `"StringLike": ["platformType", "Linux"]`, `precondition: must be {"StringEquals"`},
		{"precondition platform", `"Linux"]`, `"Solaris"]`, `precondition: must be`},
		{"shell step on Windows", `"Linux"]`, `"Windows"]`, `aws:runShellScript does not run on Windows`},
		{"timeout range", `"timeoutSeconds": "60"`, `"timeoutSeconds": "200000"`, `timeoutSeconds: "200000" must be 1..172800`},
		{"empty script", `"runCommand": [`, `"runCommand": [], "x": [`, `runCommand: at least one line required`},
		{"unknown step field", `"name": "check",`, `"name": "check", "onFailur": "exit",`, `unknown field "onFailur"`},
		{"no steps", `"mainSteps": [`, `"mainSteps": [], "other": [`, `mainSteps: at least one step required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, goodDoc, tt.old, "the test must change something")
			err := validate.CheckSchema(strings.Replace(goodDoc, tt.old, tt.new, 1))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// Duplicate step names.
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(goodDoc), &doc))
	steps := doc["mainSteps"].([]any)
	doc["mainSteps"] = append(steps, steps[0])
	b, _ := json.Marshal(doc)
	require.ErrorContains(t, validate.CheckSchema(string(b)), `"check" is already the name of mainSteps[0]; step names must be unique`)
	require.ErrorContains(t, validate.CheckSchema("not json"), "not a JSON object")
}

func TestCheckInjection(t *testing.T) {
	require.NoError(t, validate.CheckInjection(goodDoc))
	tests := []struct {
		name, old, new, want string
	}{
		{"pattern admits a quote", `"^[0-9]{1,5}$"`, `"^[0-9']{1,5}$"`, `accepts "'"`},
		{"pattern admits anything", `"^[0-9]{1,5}$"`, `"^.*$"`, `accepts`},
		{"unanchored pattern", `"^[0-9]{1,5}$"`, `"[0-9]{1,5}"`, `must be anchored`},
		{"no pattern", `, "allowedPattern": "^[0-9]{1,5}$"`, ``, `needs an allowedPattern or allowedValues`},
		{"textual interpolation in code", `"echo \"$SSM_port\""`, `"echo {{ port }}"`, `must appear only inside single quotes`},
		{"double-quoted interpolation", `"echo \"$SSM_port\""`, `"echo \"{{ port }}\""`, `must appear only inside single quotes`},
		{"no ENV_VAR", `, "interpolationType": "ENV_VAR"`, ``, `interpolationType must be ENV_VAR`},
		{"tracing", `"echo \"$SSM_port\""`, `"set -eux"`, `command tracing`},
		{"tracing by name", `"echo \"$SSM_port\""`, `"set -o xtrace"`, `command tracing`},
		{"allowed value with metacharacter", `"allowedPattern": "^[0-9]{1,5}$"`, `"allowedValues": ["80", "80;id"]`, `contains a shell metacharacter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, goodDoc, tt.old)
			err := validate.CheckInjection(strings.Replace(goodDoc, tt.old, tt.new, 1))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Every pattern the checks use rejects every injection probe, and accepts
// the values the checks are meant for.
func TestPatternsRejectInjection(t *testing.T) {
	accept := map[string][]string{
		validate.PatternPort:       {"1", "80", "5432", "65535"},
		validate.PatternPorts:      {"22", "80 443 8443"},
		validate.PatternHost:       {"db", "rds-target-dev.abc.us-east-1.rds.amazonaws.com"},
		validate.PatternURLPath:    {"/", "/health", "/api/v1/status?verbose=1"},
		validate.PatternFile:       {"/etc/pki/rds/global-bundle.pem", "/mnt/files"},
		validate.PatternFileOrNone: {"", "/etc/ssl/ca.pem"},
		validate.PatternRelPath:    {"", "sentinel", ".cutover/sentinel"},
		validate.PatternStatus:     {"200", "204", "302"},
		validate.PatternText:       {"", "OK", `"status":"UP"`},
		validate.PatternSeconds:    {"1", "30", "999"},
		validate.PatternSecretARN:  {secretARN, "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x/y-AbC"},
		validate.PatternDBName:     {"orders", "_x1"},
		validate.PatternQuery:      {"SELECT 1", "SELECT count(*) FROM public.orders WHERE id = 1"},
		validate.PatternUnits:      {"app.service", "app.service nginx.service getty@tty1.service"},
		validate.PatternFSType:     {"", "nfs4", "fuse.s3fs"},
	}
	for pattern, good := range accept {
		re := regexp.MustCompile(pattern)
		for _, v := range good {
			assert.True(t, re.MatchString(v), "%s must accept %q", pattern, v)
		}
		for _, probe := range validate.InjectionProbes {
			for _, v := range []string{probe, "a" + probe, probe + "a", "/x" + probe} {
				assert.False(t, re.MatchString(v), "%s must reject %q", pattern, v)
			}
		}
	}
}

func TestCheckValidate(t *testing.T) {
	tests := []struct {
		check validate.Check
		want  string
	}{
		{validate.ApplicationHealth{Port: 70000}, "applicationHealth.port"},
		{validate.ApplicationHealth{Port: 443, TLS: true}, "applicationHealth.serverName"},
		{validate.ApplicationHealth{Port: 80, ServerName: "app"}, "apply only with TLS"},
		{validate.ApplicationHealth{Port: 80, Path: "health"}, "applicationHealth.path"},
		{validate.ApplicationHealth{Port: 443, TLS: true, ServerName: "app", CAFile: "ca.pem"}, "applicationHealth.caFile"},
		{validate.ApplicationHealth{Port: 80, ExpectStatus: 42}, "applicationHealth.expectStatus"},
		{validate.ApplicationHealth{Port: 80, ExpectBody: "it's up"}, "applicationHealth.expectBody"},
		{validate.ApplicationHealth{Port: 80, Timeout: 1500 * 1e6}, "applicationHealth.timeout"},
		{validate.DatabaseConnectivity{Host: "db", Database: "orders", RootCertFile: "/ca.pem", SecretARN: "hunter2"}, "databaseConnectivity.secretArn"},
		{validate.DatabaseConnectivity{Host: "db", Database: "orders", SecretARN: secretARN}, "databaseConnectivity.rootCertFile"},
		{validate.DatabaseConnectivity{Host: "db;id", Database: "orders", SecretARN: secretARN, RootCertFile: "/ca.pem"}, "databaseConnectivity.host"},
		{validate.DatabaseConnectivity{Host: "db", Database: "orders", SecretARN: secretARN, RootCertFile: "/ca.pem", Query: "SELECT 1; DROP TABLE orders"}, "databaseConnectivity.query"},
		{validate.DatabaseConnectivity{Host: "db", Database: "my-db", SecretARN: secretARN, RootCertFile: "/ca.pem"}, "databaseConnectivity.database"},
		{validate.ServiceAvailability{}, "at least one unit or port"},
		{validate.ServiceAvailability{Units: []string{"app service"}}, "serviceAvailability.units[0]"},
		{validate.ServiceAvailability{Ports: []int{0}}, "serviceAvailability.ports[0]"},
		{validate.FileStorage{MountPoint: "mnt"}, "fileStorage.mountPoint"},
		{validate.FileStorage{MountPoint: "/mnt", ReadPath: "../etc/shadow"}, "fileStorage.readPath"},
		{validate.FileStorage{MountPoint: "/mnt", FSType: "NFS 4"}, "fileStorage.fsType"},
	}
	for _, tt := range tests {
		err := tt.check.Validate()
		require.Error(t, err, "%+v", tt.check)
		assert.Contains(t, err.Error(), tt.want)
	}
	for _, c := range []validate.Check{appCheck, dbCheck, svcCheck, fsCheck} {
		assert.NoError(t, c.Validate())
	}
}

// No credential reaches a document, a parameter or a result: the
// database check carries only the secret's ARN, and its script never
// prints the secret, puts the password in an argument or the environment,
// or traces commands.
func TestNoSecretInDocuments(t *testing.T) {
	env, _, _ := newEnv(t)
	for _, s := range fullSpec("arn:aws:kms:us-east-1:123456789012:key/k").Documents(env) {
		doc := s.Content()
		for name, p := range doc.Parameters {
			lower := strings.ToLower(name)
			assert.False(t, strings.Contains(lower, "password") || (strings.Contains(lower, "secret") && name != "dbSecretArn"), "parameter %s", name)
			if name == "dbSecretArn" {
				assert.Equal(t, secretARN, *p.Default)
			}
		}
		for _, st := range doc.MainSteps {
			script := strings.Join(st.Inputs.RunCommand, "\n")
			assert.NotContains(t, script, "PGPASSWORD", "the password never goes into the environment")
			assert.NotRegexp(t, `echo[^\n]*\$(secret|\{secret)`, script, "the secret is never printed")
			assert.NotRegexp(t, `(^|\s)(-k|--insecure)(\s|$)`, script, "TLS verification is never turned off")
			assert.NotRegexp(t, `sslmode=(disable|allow|prefer|require)\b`, script)
		}
	}
	// The results of a run carry only the redacted excerpt.
	assert.NotContains(t, validate.Redact("psql: password=hunter2"), "hunter2")
}

func TestInstancePolicy(t *testing.T) {
	env, _, _ := newEnv(t)
	spec := fullSpec("arn:aws:kms:us-east-1:123456789012:key/k")
	p := validate.InstancePolicy(env, spec)
	require.NoError(t, p.CheckLeastPrivilege())
	js := p.JSON()
	assert.Contains(t, js, secretARN)
	assert.Contains(t, js, "secretsmanager.us-east-1.amazonaws.com")
	assert.Contains(t, js, "arn:aws:logs:us-east-1:123456789012:log-group:/cutover/dev/validation:*")
	assert.NotContains(t, js, "logs:CreateLogGroup", "the group exists, encrypted; SSM must not create a plain one")
	spec.Database = nil
	assert.NotContains(t, validate.InstancePolicy(env, spec).JSON(), "secretsmanager")
}
