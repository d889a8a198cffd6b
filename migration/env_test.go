package migration_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
)

func TestEnvValidateSuffix(t *testing.T) {
	tests := []struct {
		suffix string
		rule   string // "" means valid; else a fragment of the error naming the rule broken
	}{
		{"dev", ""},
		{"prod-eu1", ""},
		{"a", ""},
		{"1st", ""}, // every derived name starts with the prefix's letter
		{strings.Repeat("a", 34), ""},
		{"", "env.suffix: required"},
		{"Dev", "must be lower case"}, // RDS and S3 names are lower case
		{"dev-", "ends with a hyphen; DMS identifiers must not"},
		{"-dev", "must not contain two consecutive hyphens"},          // "dms-instance--dev"
		{"de--v", "must not contain two consecutive hyphens"},         // DMS identifiers
		{"dev_1", "allow only"},                                       // underscore: not in DNS-safe names
		{"dev.1", "allow only"},                                       // dots break S3 TLS and DMS identifiers
		{"dev 1", "allow only"},                                       // spaces
		{strings.Repeat("a", 35), "S3 bucket names allow at most 63"}, // migration-files-<suffix>-<account>
		{strings.Repeat("a", 60), "allow at most"},                    // breaks several; the first is reported
		{"dév", "allow only"},                                         // non-ASCII
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			env := migration.Env{Suffix: tt.suffix, Region: "us-east-1", Account: "123456789012"}
			err := env.Validate()
			if tt.rule == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.rule)
			assert.Contains(t, err.Error(), "env.suffix")
		})
	}
}

func TestEnvValidateOtherFields(t *testing.T) {
	valid := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	tests := []struct {
		name string
		edit func(*migration.Env)
		want string
	}{
		{"region", func(e *migration.Env) { e.Region = "virginia" }, "env.region"},
		{"gov region ok", func(e *migration.Env) { e.Region = "us-gov-west-1" }, ""},
		{"account", func(e *migration.Env) { e.Account = "1234" }, "env.account"},
		{"reserved tag", func(e *migration.Env) { e.UserTags = map[string]string{"cutover:env": "x"} }, "set by the library"},
		{"aws tag", func(e *migration.Env) { e.UserTags = map[string]string{"aws:foo": "x"} }, "reserved by AWS"},
		{"long tag value", func(e *migration.Env) { e.UserTags = map[string]string{"k": strings.Repeat("v", 257)} }, "env.tags[k]: at most 256"},
		{"256 non-ASCII characters are fine", func(e *migration.Env) { e.UserTags = map[string]string{"Kostenstelle": strings.Repeat("ü", 256)} }, ""},
		{"tag key with a bang", func(e *migration.Env) { e.UserTags = map[string]string{"team!": "x"} }, `env.tags: key "team!": only letters, digits, spaces and _ . : / = + - @`},
		{"tag value with a control character", func(e *migration.Env) { e.UserTags = map[string]string{"team": "a\tb"} }, `env.tags[team]: "a\tb": only letters`},
		{"tag value with a comma", func(e *migration.Env) { e.UserTags = map[string]string{"team": "a,b"} }, `env.tags[team]: "a,b"`},
		{"tag characters AWS allows", func(e *migration.Env) {
			e.UserTags = map[string]string{"cost-center/owner": "ops@bank.example +1 = x_y.z:é"}
		}, ""},
		{"project with a bang", func(e *migration.Env) { e.Project = "monolith!" }, `env.project: "monolith!": only letters`},
		{"long project", func(e *migration.Env) { e.Project = strings.Repeat("p", 257) }, "env.project: at most 256"},
		{"too many tags", func(e *migration.Env) {
			e.UserTags = map[string]string{}
			for i := range 46 {
				e.UserTags[string(rune('a'+i%26))+strings.Repeat("x", i)] = "v"
			}
		}, "at most 50 per resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := valid
			tt.edit(&env)
			err := env.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestEnvTagsAndNames(t *testing.T) {
	env := migration.Env{Suffix: "dev", Project: "monolith", UserTags: map[string]string{"CostCenter": "42"}}
	assert.Equal(t, map[string]string{
		"Environment": "dev", "Project": "monolith", "ManagedBy": "cutover", "cutover:env": "dev", "CostCenter": "42",
	}, env.Tags())
	assert.Equal(t, "vpc-dev", env.NameTags("vpc-dev")["Name"])
	assert.Equal(t, "cutover", migration.Env{Suffix: "x"}.Tags()["Project"], "default project")

	assert.True(t, env.Owns(map[string]string{"cutover:env": "dev"}))
	assert.False(t, env.Owns(map[string]string{"cutover:env": "prod"}), "another env's")
	assert.False(t, env.Owns(map[string]string{"Name": "vpc-dev", "ManagedBy": "cutover"}), "a look-alike is not owned")

	// A user tag cannot override the ownership tag through Tags().
	env.UserTags["cutover:env"] = "prod"
	assert.Equal(t, "dev", env.Tags()["cutover:env"])
}

func TestNameRules(t *testing.T) {
	for _, k := range migration.Kinds {
		env := migration.Env{Suffix: "dev"}
		assert.NoError(t, k.Rule.Check(env.Name(k.Prefix)+strings.Repeat("a", k.Reserve)), "kind %s with a short suffix", k.Prefix)
	}
	assert.ErrorContains(t, migration.RuleDMSIdentifier.Check("1abc"), "must start with a letter")
	assert.ErrorContains(t, migration.RuleDMSIdentifier.Check("abc-"), "ends with a hyphen")
	assert.ErrorContains(t, migration.RuleS3Bucket.Check("ab"), "need at least 3")
	assert.ErrorContains(t, migration.RuleIAMRole.Check(strings.Repeat("r", 65)), "IAM role names allow at most 64")
	assert.ErrorContains(t, migration.RuleEventRule.Check(strings.Repeat("r", 65)), "EventBridge rule names allow at most 64")
	assert.ErrorContains(t, migration.RuleEventRule.Check("rule/x"), "EventBridge rule names allow only")
}
