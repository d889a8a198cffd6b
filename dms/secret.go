package dms

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// Secret values never leave this file: they are read into a local
// variable, handed to Secrets Manager, and never logged, wrapped into an
// error, put into a Change or returned.

// connectionFields are the JSON fields DMS reads from an endpoint secret.
var connectionFields = []string{"username", "password", "host", "port"}

// SecretInfo describes a secret without its value.
type SecretInfo struct {
	ARN  string
	Name string
	// KMSKeyARN is the customer managed key that encrypts it; the secrets
	// access role may decrypt with it.
	KMSKeyARN string
}

// InspectSecret checks a connection secret — the on-premises source's,
// which the operator creates — without revealing it: it must exist, not
// be scheduled for deletion, be encrypted with a customer managed key
// (not aws/secretsmanager: the library encrypts every data store with a
// key it can scope), and hold a JSON object with username, password, host
// and port, which DMS needs. An error names missing fields, never values.
// It only reads, so it runs in a dry run too; a pending ARN is returned
// as is.
func InspectSecret(ctx context.Context, env migration.Env, api SecretsAPI, secretARN string) (SecretInfo, error) {
	if err := checkSecretARN(secretARN); err != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret: %w", err)
	}
	if migration.IsPending(secretARN) {
		return SecretInfo{ARN: secretARN, KMSKeyARN: secretARN}, nil
	}
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret %s: %w", secretARN, err)
	}
	if d.DeletedDate != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret %s: scheduled for deletion; restore it first", secretARN)
	}
	key, err := secretKeyARN(secretARN, aws.ToString(d.KmsKeyId))
	if err != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret %s: %w", secretARN, err)
	}
	v, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret %s: read: %w", secretARN, err)
	}
	if err := checkConnectionSecret(aws.ToString(v.SecretString)); err != nil {
		return SecretInfo{}, fmt.Errorf("inspect secret %s: %w", secretARN, err)
	}
	return SecretInfo{ARN: aws.ToString(d.ARN), Name: aws.ToString(d.Name), KMSKeyARN: key}, nil
}

// checkConnectionSecret checks the shape of a connection secret and
// reports problems by field name only.
func checkConnectionSecret(value string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		return errors.New("the value is not a JSON object with username, password, host and port")
	}
	var missing []string
	for _, f := range connectionFields {
		raw, ok := m[f]
		if !ok || string(raw) == `""` || string(raw) == "null" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the value lacks %s; DMS needs username, password, host and port", strings.Join(missing, ", "))
	}
	var port any
	_ = json.Unmarshal(m["port"], &port)
	switch p := port.(type) {
	case float64:
		if p < 1 || p > 65535 || p != float64(int(p)) {
			return errors.New("the port field is not a TCP port")
		}
	case string:
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("the port field is not a TCP port")
		}
	default:
		return errors.New("the port field is not a TCP port")
	}
	return nil
}

// secretKeyARN turns DescribeSecret's KmsKeyId into a key ARN.
func secretKeyARN(secretARN, kmsKeyID string) (string, error) {
	switch {
	case kmsKeyID == "" || strings.HasSuffix(kmsKeyID, "alias/aws/secretsmanager"):
		return "", errors.New("encrypted with the AWS managed key aws/secretsmanager; re-encrypt it with the env's customer managed key (UpdateSecret KmsKeyId)")
	case strings.HasPrefix(kmsKeyID, "arn:") && strings.Contains(kmsKeyID, ":key/"):
		return kmsKeyID, nil
	case strings.Contains(kmsKeyID, "alias/"):
		return "", fmt.Errorf("encrypted with key alias %s; set the secret's KmsKeyId to the key ARN so the access role can name the key", kmsKeyID)
	}
	parts := strings.SplitN(secretARN, ":", 6)
	return "arn:" + parts[1] + ":kms:" + parts[3] + ":" + parts[4] + ":key/" + kmsKeyID, nil
}

// TargetSecretSpec describes the secret "dms-target-endpoint-<suffix>"
// that the RDS endpoints read. RDS keeps the master password in its own
// secret (ManageMasterUserPassword), which lacks host and port; DMS needs
// both, so this secret holds the master user's credentials plus the
// instance endpoint.
type TargetSecretSpec struct {
	// DBInstanceID is the target DB instance identifier (TargetDB.ID).
	DBInstanceID string
	// DatabaseName is added to the secret as "dbname".
	DatabaseName string
	// KMSKeyARN encrypts the secret; the env key.
	KMSKeyARN string
	// RecoveryWindowDays is how long a deleted secret stays recoverable,
	// 7..30; 0 means 7. Applying again within the window restores it.
	RecoveryWindowDays int
}

// Validate checks the spec before any call.
func (s TargetSecretSpec) Validate() error {
	var errs []error
	if !migration.IsPending(s.DBInstanceID) {
		if err := migration.RuleRDSIdentifier.Check(s.DBInstanceID); err != nil {
			errs = append(errs, fmt.Errorf("targetSecret.dbInstanceId: %w", err))
		}
	}
	if s.DatabaseName != "" {
		if err := checkIdentifier(s.DatabaseName); err != nil {
			errs = append(errs, fmt.Errorf("targetSecret.databaseName: %w", err))
		}
	}
	if err := checkKeyARN(s.KMSKeyARN); err != nil {
		errs = append(errs, fmt.Errorf("targetSecret.kmsKeyArn: %w", err))
	}
	if s.RecoveryWindowDays != 0 && (s.RecoveryWindowDays < 7 || s.RecoveryWindowDays > 30) {
		errs = append(errs, fmt.Errorf("targetSecret.recoveryWindowDays: %d outside 7..30", s.RecoveryWindowDays))
	}
	return errors.Join(errs...)
}

// Secret is an ensured secret (never its value).
type Secret struct {
	Name string
	ARN  string // a pending ID in a dry run that would create it
}

// EnsureTargetSecret makes the target endpoint secret exist and hold the
// RDS master user's current credentials with the instance's host and
// port, encrypted with the env key and tagged.
//
// The secret's current version ID is a client token derived from the RDS
// secret's current version and the endpoint (never from the password), so
// a converged secret is recognised without reading any value: no
// GetSecretValue, no write. When RDS has rotated its password (every 7
// days by default) or the endpoint moved, the version differs and the
// value is synced (PutSecretValue); a crash between read and write
// repeats the same token, which Secrets Manager treats as idempotent. A
// secret of the name scheduled for deletion by an earlier destroy is
// restored. It refuses to adopt a secret without the ownership tag.
func EnsureTargetSecret(ctx context.Context, env migration.Env, db RDSAPI, api SecretsAPI, spec TargetSecretSpec) (Secret, error) {
	name := env.Name("dms-target-endpoint")
	if err := migration.Validate(env, spec); err != nil {
		return Secret{}, fmt.Errorf("ensure secret %q: %w", name, err)
	}
	s, err := ensureTargetSecret(ctx, env, db, api, spec, name)
	if err != nil {
		return Secret{}, fmt.Errorf("ensure secret %q: %w", name, err)
	}
	return s, nil
}

// rdsSource is what the target secret is made from (no value).
type rdsSource struct {
	masterARN, masterVersion string
	host                     string
	port                     int32
}

func (r rdsSource) token(env migration.Env, name, dbname string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{env.Account, env.Region, name, r.masterARN, r.masterVersion, r.host, fmt.Sprint(r.port), dbname}, "|")))
	return "cutover-" + hex.EncodeToString(h[:16])
}

func ensureTargetSecret(ctx context.Context, env migration.Env, db RDSAPI, api SecretsAPI, spec TargetSecretSpec, name string) (Secret, error) {
	pending := Secret{Name: name, ARN: migration.Pending(name)}
	if migration.AnyPending(spec.DBInstanceID, spec.KMSKeyARN) {
		env.Report(migration.Change{Kind: KindSecret, Name: name, ID: pending.ARN, Action: migration.ActionCreate})
		return pending, nil
	}
	src, err := targetSource(ctx, env, db, api, spec.DBInstanceID)
	if err != nil {
		if env.DryRun && awsx.IsNotFound(err) { // the instance comes earlier in the same plan
			env.Report(migration.Change{Kind: KindSecret, Name: name, ID: pending.ARN, Action: migration.ActionCreate})
			return pending, nil
		}
		return Secret{}, err
	}
	token := src.token(env, name, spec.DatabaseName)
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil && !awsx.IsNotFound(err) {
		return Secret{}, fmt.Errorf("describe: %w", err)
	}
	if err != nil { // missing
		if env.DryRun {
			env.Report(migration.Change{Kind: KindSecret, Name: name, ID: pending.ARN, Action: migration.ActionCreate})
			return pending, nil
		}
		value, err := targetValue(ctx, api, src, spec.DatabaseName)
		if err != nil {
			return Secret{}, err
		}
		out, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), Description: aws.String("DMS connection to the RDS target of env " + env.Suffix + " (synced from the RDS master user secret)"),
			KmsKeyId: aws.String(spec.KMSKeyARN), SecretString: aws.String(value), ClientRequestToken: aws.String(token),
			Tags: smTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) { // lost a race: converge what is there
			if err := visible(ctx, env, "secret "+name, func(ctx context.Context) (bool, error) {
				_, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
				if awsx.IsNotFound(err) {
					return false, nil
				}
				return err == nil, err
			}); err != nil {
				return Secret{}, err
			}
			return ensureTargetSecret(ctx, env, db, api, spec, name)
		}
		if err != nil {
			return Secret{}, fmt.Errorf("create: %w", err)
		}
		arn := aws.ToString(out.ARN)
		env.Report(migration.Change{Kind: KindSecret, Name: name, ID: arn, Action: migration.ActionCreate})
		return Secret{Name: name, ARN: arn}, nil
	}

	arn := aws.ToString(d.ARN)
	tags := fromSMTags(d.Tags)
	if !env.Owns(tags) {
		return Secret{}, notOwned(env, "secret", name)
	}
	var c migration.Converge
	if d.DeletedDate != nil {
		c.Fix("state", "scheduled for deletion", "restored", func() error {
			_, err := api.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(arn)})
			return err
		})
	}
	if !sameKey(aws.ToString(d.KmsKeyId), spec.KMSKeyARN) {
		c.Fix("kmsKeyId", aws.ToString(d.KmsKeyId), spec.KMSKeyARN, func() error {
			_, err := api.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(arn), KmsKeyId: aws.String(spec.KMSKeyARN)})
			return err
		})
	}
	if stages, ok := d.VersionIdsToStages[token]; ok && !slices.Contains(stages, "AWSCURRENT") {
		// The right version exists but someone made another one current:
		// Secrets Manager ignores a repeated token, so move the label back.
		current := ""
		for v, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") {
				current = v
			}
		}
		c.Fix("value", "(changed by hand)", "(synced from the RDS master user secret)", func() error {
			in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token)}
			if current != "" {
				in.RemoveFromVersionId = aws.String(current)
			}
			_, err := api.UpdateSecretVersionStage(ctx, in)
			return err
		})
	} else if !ok {
		c.Fix("value", "(stale)", "(synced from the RDS master user secret)", func() error {
			value, err := targetValue(ctx, api, src, spec.DatabaseName)
			if err != nil {
				return err
			}
			_, err = api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(value), ClientRequestToken: aws.String(token)})
			return err
		})
	}
	c.Tags(tags, env.NameTags(name), func(missing map[string]string) error {
		_, err := api.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: smTags(missing)})
		return err
	})
	if err := c.Apply(env, migration.Change{Kind: KindSecret, Name: name, ID: arn}); err != nil {
		return Secret{}, fmt.Errorf("update: %w", err)
	}
	return Secret{Name: name, ARN: arn}, nil
}

// targetSource reads the DB instance's endpoint and master secret version.
func targetSource(ctx context.Context, env migration.Env, db RDSAPI, api SecretsAPI, id string) (rdsSource, error) {
	out, err := db.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return rdsSource{}, fmt.Errorf("describe target db %s: %w", id, err)
	}
	if len(out.DBInstances) != 1 {
		return rdsSource{}, fmt.Errorf("describe target db %s: %d instances", id, len(out.DBInstances))
	}
	inst := out.DBInstances[0]
	if inst.MasterUserSecret == nil || aws.ToString(inst.MasterUserSecret.SecretArn) == "" {
		return rdsSource{}, fmt.Errorf("target db %s has no RDS-managed master user secret (ManageMasterUserPassword)", id)
	}
	if inst.Endpoint == nil || aws.ToString(inst.Endpoint.Address) == "" {
		return rdsSource{}, fmt.Errorf("target db %s has no endpoint yet (status %s)", id, aws.ToString(inst.DBInstanceStatus))
	}
	src := rdsSource{masterARN: aws.ToString(inst.MasterUserSecret.SecretArn), host: aws.ToString(inst.Endpoint.Address), port: aws.ToInt32(inst.Endpoint.Port)}
	// RDS creates its secret with the instance; it may not be visible yet.
	var d *secretsmanager.DescribeSecretOutput
	if err := env.Retry(ctx, []string{"ResourceNotFoundException"}, func(ctx context.Context) (err error) {
		d, err = api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(src.masterARN)})
		return err
	}); err != nil {
		return rdsSource{}, fmt.Errorf("describe master user secret of %s: %w", id, err)
	}
	for v, stages := range d.VersionIdsToStages {
		if slices.Contains(stages, "AWSCURRENT") {
			src.masterVersion = v
		}
	}
	if src.masterVersion == "" {
		return rdsSource{}, fmt.Errorf("master user secret of %s has no current version", id)
	}
	return src, nil
}

// targetValue builds the endpoint secret's value from the master secret's
// current version. The value goes straight to Secrets Manager.
func targetValue(ctx context.Context, api SecretsAPI, src rdsSource, dbname string) (string, error) {
	v, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(src.masterARN), VersionId: aws.String(src.masterVersion)})
	if err != nil {
		return "", fmt.Errorf("read master user secret %s: %w", src.masterARN, err)
	}
	var master struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(v.SecretString)), &master); err != nil || master.Username == "" || master.Password == "" {
		return "", fmt.Errorf("master user secret %s is not a JSON object with username and password", src.masterARN)
	}
	value := struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Host     string `json:"host"`
		Port     int32  `json:"port"`
		Engine   string `json:"engine"`
		DBName   string `json:"dbname,omitempty"`
	}{master.Username, master.Password, src.host, src.port, "postgres", dbname}
	b, err := json.Marshal(value)
	if err != nil {
		return "", errors.New("encode endpoint secret")
	}
	return string(b), nil
}

// DeleteTargetSecret schedules the env's target endpoint secret for
// deletion after its recovery window (the default 7 days), so a destroy
// can be undone by applying again within it. A secret already scheduled,
// missing, or without the ownership tag is left as it is.
func DeleteTargetSecret(ctx context.Context, env migration.Env, api SecretsAPI, spec TargetSecretSpec) error {
	name := env.Name("dms-target-endpoint")
	if err := env.Validate(); err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	if d := spec.RecoveryWindowDays; d != 0 && (d < 7 || d > 30) {
		return fmt.Errorf("delete secret %q: targetSecret.recoveryWindowDays: %d outside 7..30", name, d)
	}
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if awsx.IsNotFound(err) {
		env.ReportGone(KindSecret, name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete secret %q: describe: %w", name, err)
	}
	arn := aws.ToString(d.ARN)
	if !env.Owns(fromSMTags(d.Tags)) {
		env.ReportNotOwned(KindSecret, name, arn)
		return nil
	}
	if d.DeletedDate != nil {
		env.Report(migration.Change{Kind: KindSecret, Name: name, ID: arn, Action: migration.ActionNoop, Note: "already scheduled for deletion"})
		return nil
	}
	days := cmp.Or(spec.RecoveryWindowDays, 7)
	if !env.DryRun {
		if _, err := api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), RecoveryWindowInDays: aws.Int64(int64(days))}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete secret %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindSecret, Name: name, ID: arn, Action: migration.ActionDelete, Note: fmt.Sprintf("recoverable for %d days", days)})
	return nil
}
