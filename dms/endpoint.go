package dms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// Name prefixes of the four endpoints. DMS endpoints have a direction, so
// the reverse task (RDS → on-premises) needs its own pair.
const (
	// EndpointSource is the on-premises database as the forward source.
	EndpointSource = "dms-source"
	// EndpointTarget is the RDS database as the forward target.
	EndpointTarget = "dms-target"
	// EndpointReverseSource is the RDS database as the reverse source.
	EndpointReverseSource = "dms-reverse-source"
	// EndpointReverseTarget is the on-premises database as the reverse
	// target.
	EndpointReverseTarget = "dms-reverse-target"
)

// endpointType returns the DMS endpoint type of an endpoint name.
func endpointType(name string) dmstypes.ReplicationEndpointTypeValue {
	if name == EndpointSource || name == EndpointReverseSource {
		return dmstypes.ReplicationEndpointTypeValueSource
	}
	return dmstypes.ReplicationEndpointTypeValueTarget
}

// EndpointSpec describes one PostgreSQL endpoint "<Name>-<suffix>". TLS is
// always SslMode verify-full against CertificateARN, and credentials only
// come from a Secrets Manager secret read through an access role: the
// endpoint never holds a user name, password, host or port.
type EndpointSpec struct {
	// Name is EndpointSource, EndpointTarget, EndpointReverseSource or
	// EndpointReverseTarget; it fixes the endpoint type.
	Name string
	// Engine is "postgres" (RDS, self-managed; the default) or
	// "aurora-postgresql". Immutable.
	Engine string
	// DatabaseName is the PostgreSQL database to migrate.
	DatabaseName string
	// SecretARN is the full ARN of the secret holding username, password,
	// host and port (for RDS: the one EnsureTargetSecret makes).
	SecretARN string
	// AccessRoleARN is the role DMS assumes to read the secret
	// (EnsureSecretsRole).
	AccessRoleARN string
	// CertificateARN is the imported CA that signed the server's
	// certificate (EnsureCertificate).
	CertificateARN string
	// KMSKeyARN encrypts the endpoint's connection settings; the env key.
	// Immutable.
	KMSKeyARN string
	// PostgreSQL holds the engine settings.
	PostgreSQL PostgreSQLOptions
}

// PostgreSQLOptions are the PostgreSQL endpoint settings the library
// manages (DMS PostgreSQLSettings). The zero value is valid.
type PostgreSQLOptions struct {
	// HeartbeatEnable makes DMS write a heartbeat to the source every
	// HeartbeatFrequencyMinutes (default 5) so an idle replication slot
	// does not hold WAL back (source endpoints).
	HeartbeatEnable           bool
	HeartbeatFrequencyMinutes int
	// CaptureDDLs makes DMS create its DDL capture artifacts (an event
	// trigger and the awsdms_ddl_audit table) in the source. Off keeps the
	// source database untouched; schema changes during the migration then
	// have to be applied on both sides by hand.
	CaptureDDLs bool
	// PluginName forces the logical decoding plugin: "pglogical" or
	// "test_decoding"; empty lets DMS pick (pglogical when installed).
	PluginName string
	// SlotName is an existing logical replication slot to use (native CDC
	// start points); empty lets DMS create one.
	SlotName string
	// MapBooleanAsBoolean migrates booleans as boolean instead of
	// varchar(5); set it on both endpoints of a task.
	MapBooleanAsBoolean bool
	// ReplicaSessionRole runs "SET session_replication_role='replica'"
	// after connecting, so the apply bypasses triggers and foreign keys
	// (target endpoints; the rows already passed them on the source).
	ReplicaSessionRole bool
}

var (
	slotNameRe = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	certARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:dms:[a-z0-9-]+:[0-9]{12}:cert:[A-Za-z0-9-]+$`)
)

// Validate checks the spec before any call.
func (s EndpointSpec) Validate() error {
	var errs []error
	switch s.Name {
	case EndpointSource, EndpointTarget, EndpointReverseSource, EndpointReverseTarget:
	default:
		errs = append(errs, fmt.Errorf("endpoint.name: %q must be one of %s, %s, %s, %s", s.Name, EndpointSource, EndpointTarget, EndpointReverseSource, EndpointReverseTarget))
	}
	if s.Engine != "" && s.Engine != "postgres" && s.Engine != "aurora-postgresql" {
		errs = append(errs, fmt.Errorf("endpoint.engine: %q must be postgres or aurora-postgresql", s.Engine))
	}
	if err := checkIdentifier(s.DatabaseName); err != nil {
		errs = append(errs, fmt.Errorf("endpoint.databaseName: %w", err))
	}
	if err := checkSecretARN(s.SecretARN); err != nil {
		errs = append(errs, fmt.Errorf("endpoint.secretArn: %w", err))
	}
	if err := checkRoleARN(s.AccessRoleARN); err != nil {
		errs = append(errs, fmt.Errorf("endpoint.accessRoleArn: %w", err))
	}
	if !migration.IsPending(s.CertificateARN) && !certARNRe.MatchString(s.CertificateARN) {
		errs = append(errs, fmt.Errorf("endpoint.certificateArn: %q is not a DMS certificate ARN (SslMode verify-full needs the CA)", s.CertificateARN))
	}
	if err := checkKeyARN(s.KMSKeyARN); err != nil {
		errs = append(errs, fmt.Errorf("endpoint.kmsKeyArn: %w", err))
	}
	p := s.PostgreSQL
	if p.HeartbeatFrequencyMinutes < 0 || p.HeartbeatFrequencyMinutes > 1440 {
		errs = append(errs, fmt.Errorf("endpoint.postgresql.heartbeatFrequencyMinutes: %d outside 0..1440", p.HeartbeatFrequencyMinutes))
	}
	if p.PluginName != "" && p.PluginName != "pglogical" && p.PluginName != "test_decoding" {
		errs = append(errs, fmt.Errorf("endpoint.postgresql.pluginName: %q must be pglogical, test_decoding or empty", p.PluginName))
	}
	if p.SlotName != "" && !slotNameRe.MatchString(p.SlotName) {
		errs = append(errs, fmt.Errorf("endpoint.postgresql.slotName: %q is not a replication slot name (lower-case letters, digits, underscores, at most 63)", p.SlotName))
	}
	if endpointType(s.Name) == dmstypes.ReplicationEndpointTypeValueTarget && (p.HeartbeatEnable || p.CaptureDDLs || p.PluginName != "" || p.SlotName != "") {
		errs = append(errs, fmt.Errorf("endpoint.postgresql: heartbeat, DDL capture, plugin and slot are source settings; %s is a target", s.Name))
	}
	if endpointType(s.Name) == dmstypes.ReplicationEndpointTypeValueSource && p.ReplicaSessionRole {
		errs = append(errs, fmt.Errorf("endpoint.postgresql.replicaSessionRole: a target setting; %s is a source", s.Name))
	}
	return errors.Join(errs...)
}

var roleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)

func checkRoleARN(a string) error {
	if migration.IsPending(a) || roleARNRe.MatchString(a) {
		return nil
	}
	return fmt.Errorf("%q is not an IAM role ARN", a)
}

func (s EndpointSpec) engine() string {
	if s.Engine == "" {
		return "postgres"
	}
	return s.Engine
}

// settings returns the PostgreSQLSettings the endpoint must have.
func (s EndpointSpec) settings() *dmstypes.PostgreSQLSettings {
	p := s.PostgreSQL
	out := &dmstypes.PostgreSQLSettings{
		SecretsManagerSecretId: aws.String(s.SecretARN), SecretsManagerAccessRoleArn: aws.String(s.AccessRoleARN),
		DatabaseName: aws.String(s.DatabaseName), MapBooleanAsBoolean: aws.Bool(p.MapBooleanAsBoolean),
	}
	if endpointType(s.Name) == dmstypes.ReplicationEndpointTypeValueSource {
		out.HeartbeatEnable, out.CaptureDdls = aws.Bool(p.HeartbeatEnable), aws.Bool(p.CaptureDDLs)
		if p.HeartbeatEnable {
			out.HeartbeatFrequency = aws.Int32(int32(cmp.Or(p.HeartbeatFrequencyMinutes, 5)))
		}
		if p.PluginName != "" {
			out.PluginName = dmstypes.PluginNameValue(p.PluginName)
		}
		if p.SlotName != "" {
			out.SlotName = aws.String(p.SlotName)
		}
	}
	if p.ReplicaSessionRole {
		out.AfterConnectScript = aws.String("SET session_replication_role='replica'")
	}
	return out
}

// settingsDiff compares the fields the library manages; DMS fills in
// defaults for the others, which are left alone.
func settingsDiff(have, want *dmstypes.PostgreSQLSettings) []migration.FieldDiff {
	if have == nil {
		have = &dmstypes.PostgreSQLSettings{}
	}
	var diff []migration.FieldDiff
	str := func(field string, h, w *string) {
		if w != nil && aws.ToString(h) != *w {
			diff = append(diff, migration.FieldDiff{Field: field, From: aws.ToString(h), To: *w})
		}
	}
	boolean := func(field string, h, w *bool, def bool) {
		hv := def
		if h != nil {
			hv = *h
		}
		if w != nil && hv != *w {
			diff = append(diff, migration.FieldDiff{Field: field, From: fmt.Sprint(hv), To: fmt.Sprint(*w)})
		}
	}
	str("secretsManagerSecretId", have.SecretsManagerSecretId, want.SecretsManagerSecretId)
	str("secretsManagerAccessRoleArn", have.SecretsManagerAccessRoleArn, want.SecretsManagerAccessRoleArn)
	str("postgresql.databaseName", have.DatabaseName, want.DatabaseName)
	str("slotName", have.SlotName, want.SlotName)
	str("afterConnectScript", have.AfterConnectScript, want.AfterConnectScript)
	boolean("heartbeatEnable", have.HeartbeatEnable, want.HeartbeatEnable, false)
	boolean("captureDdls", have.CaptureDdls, want.CaptureDdls, true)
	boolean("mapBooleanAsBoolean", have.MapBooleanAsBoolean, want.MapBooleanAsBoolean, false)
	if want.HeartbeatFrequency != nil && aws.ToInt32(have.HeartbeatFrequency) != *want.HeartbeatFrequency {
		diff = append(diff, migration.FieldDiff{Field: "heartbeatFrequency", From: fmt.Sprint(aws.ToInt32(have.HeartbeatFrequency)), To: fmt.Sprint(*want.HeartbeatFrequency)})
	}
	if want.PluginName != "" && have.PluginName != want.PluginName {
		diff = append(diff, migration.FieldDiff{Field: "pluginName", From: string(have.PluginName), To: string(want.PluginName)})
	}
	return diff
}

// Endpoint is an ensured endpoint.
type Endpoint struct {
	ID  string
	ARN string // a pending ID in a dry run that would create it
}

// EnsureEndpoint makes the endpoint exist and converge: SslMode
// verify-full with the spec's CA, the secret and access role, the
// database and the managed PostgreSQL settings, the env's tags.
//
// It finds the endpoint by its identifier and refuses to adopt one
// without the env's ownership tag, or to change what DMS fixes at
// creation (the KMS key, the endpoint type, the engine). A new access
// role is not assumable for some seconds, and DMS answers
// AccessDeniedFault meanwhile: that error, and only that one, is retried
// on the env clock. A pending secret, role, certificate or key makes it
// report a create without calling AWS. Idempotent.
func EnsureEndpoint(ctx context.Context, env migration.Env, api DMSAPI, spec EndpointSpec) (Endpoint, error) {
	name := env.Name(spec.Name)
	if err := migration.Validate(env, spec); err != nil {
		return Endpoint{}, fmt.Errorf("ensure dms endpoint %q: %w", name, err)
	}
	e, err := ensureEndpoint(ctx, env, api, spec, name)
	if err != nil {
		return Endpoint{}, fmt.Errorf("ensure dms endpoint %q: %w", name, err)
	}
	return e, nil
}

// roleRetry absorbs the propagation of a new secrets access role.
func roleRetry(ctx context.Context, env migration.Env, fn func(context.Context) error) error {
	return env.Retry(ctx, []string{codeAccessDenied}, fn)
}

func ensureEndpoint(ctx context.Context, env migration.Env, api DMSAPI, spec EndpointSpec, name string) (Endpoint, error) {
	typ := endpointType(spec.Name)
	createDiff := []migration.FieldDiff{{Field: "type", To: string(typ)}, {Field: "sslMode", To: string(dmstypes.DmsSslModeValueVerifyFull)}}
	if migration.AnyPending(spec.SecretARN, spec.AccessRoleARN, spec.CertificateARN, spec.KMSKeyARN) {
		env.Report(migration.Change{Kind: KindEndpoint, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Diff: createDiff})
		return Endpoint{ID: name, ARN: migration.Pending(name)}, nil
	}
	found, err := findEndpoint(ctx, api, name)
	if err != nil {
		return Endpoint{}, err
	}
	want := spec.settings()
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindEndpoint, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate, Diff: createDiff})
			return Endpoint{ID: name, ARN: migration.Pending(name)}, nil
		}
		var out *dms.CreateEndpointOutput
		err := roleRetry(ctx, env, func(ctx context.Context) error {
			var err error
			out, err = api.CreateEndpoint(ctx, &dms.CreateEndpointInput{
				EndpointIdentifier: aws.String(name), EndpointType: typ, EngineName: aws.String(spec.engine()),
				DatabaseName: aws.String(spec.DatabaseName), SslMode: dmstypes.DmsSslModeValueVerifyFull,
				CertificateArn: aws.String(spec.CertificateARN), KmsKeyId: aws.String(spec.KMSKeyARN),
				PostgreSQLSettings: want, Tags: dmsTags(env.NameTags(name)),
			})
			return err
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "endpoint "+name, func(ctx context.Context) (bool, error) { e, err := findEndpoint(ctx, api, name); return e != nil, err }); err != nil {
				return Endpoint{}, err
			}
			return ensureEndpoint(ctx, env, api, spec, name)
		}
		if err != nil {
			return Endpoint{}, fmt.Errorf("create: %w", err)
		}
		arn := aws.ToString(out.Endpoint.EndpointArn)
		env.Report(migration.Change{Kind: KindEndpoint, Name: name, ID: arn, Action: migration.ActionCreate, Diff: createDiff})
		return Endpoint{ID: name, ARN: arn}, nil
	}

	arn := aws.ToString(found.EndpointArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return Endpoint{}, err
	}
	if !env.Owns(tags) {
		return Endpoint{}, notOwned(env, "endpoint", name)
	}
	switch {
	case aws.ToString(found.Status) == "deleting":
		return Endpoint{}, fmt.Errorf("endpoint %s is being deleted; wait for it to go and apply again", arn)
	case found.EndpointType != typ:
		return Endpoint{}, fmt.Errorf("endpoint type is immutable: %s is a %s endpoint, the spec wants %s", arn, strings.ToLower(string(found.EndpointType)), typ)
	case aws.ToString(found.EngineName) != spec.engine():
		return Endpoint{}, fmt.Errorf("engine is immutable here: %s is %s, the spec wants %s", arn, aws.ToString(found.EngineName), spec.engine())
	case !sameKey(aws.ToString(found.KmsKeyId), spec.KMSKeyARN):
		return Endpoint{}, fmt.Errorf("kms key is immutable: %s is encrypted with %s, the spec wants %s", arn, aws.ToString(found.KmsKeyId), spec.KMSKeyARN)
	}
	var diff []migration.FieldDiff
	if found.SslMode != dmstypes.DmsSslModeValueVerifyFull {
		diff = append(diff, migration.FieldDiff{Field: "sslMode", From: string(found.SslMode), To: string(dmstypes.DmsSslModeValueVerifyFull)})
	}
	if aws.ToString(found.CertificateArn) != spec.CertificateARN {
		diff = append(diff, migration.FieldDiff{Field: "certificateArn", From: aws.ToString(found.CertificateArn), To: spec.CertificateARN})
	}
	if aws.ToString(found.DatabaseName) != spec.DatabaseName {
		diff = append(diff, migration.FieldDiff{Field: "databaseName", From: aws.ToString(found.DatabaseName), To: spec.DatabaseName})
	}
	diff = append(diff, settingsDiff(found.PostgreSQLSettings, want)...)
	var c migration.Converge
	c.FixAll(diff, func() error {
		if err := roleRetry(ctx, env, func(ctx context.Context) error {
			_, err := api.ModifyEndpoint(ctx, &dms.ModifyEndpointInput{
				EndpointArn: aws.String(arn), SslMode: dmstypes.DmsSslModeValueVerifyFull, CertificateArn: aws.String(spec.CertificateARN),
				DatabaseName: aws.String(spec.DatabaseName), PostgreSQLSettings: want,
			})
			return err
		}); err != nil {
			return fmt.Errorf("modify: %w", err)
		}
		return nil
	})
	c.Tags(tags, env.NameTags(name), tagDMS(ctx, api, arn))
	note := ""
	if len(diff) > 0 {
		note = "a running task picks up endpoint changes when it is stopped and resumed"
	}
	if err := c.Apply(env, migration.Change{Kind: KindEndpoint, Name: name, ID: arn, Note: note}); err != nil {
		return Endpoint{}, err
	}
	return Endpoint{ID: name, ARN: arn}, nil
}

func findEndpoint(ctx context.Context, api DMSAPI, name string) (*dmstypes.Endpoint, error) {
	out, err := ignoreNotFound(api.DescribeEndpoints(ctx, &dms.DescribeEndpointsInput{Filters: idFilter("endpoint-id", name)}))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if out == nil {
		return nil, nil
	}
	for _, e := range out.Endpoints {
		if strings.EqualFold(aws.ToString(e.EndpointIdentifier), name) {
			return &e, nil
		}
	}
	return nil, nil
}

// endpointDeletedTimeout bounds the wait for an endpoint to go.
const endpointDeletedTimeout = 10 * time.Minute

// DeleteEndpoint deletes the env's endpoint once no task uses it (a task
// still deleting is waited out) and waits until it is gone. It touches
// only an endpoint carrying the env's ownership tag and is a no-op when
// the endpoint is gone.
func DeleteEndpoint(ctx context.Context, env migration.Env, api DMSAPI, spec EndpointSpec) error {
	name := env.Name(spec.Name)
	if err := migration.Validate(env, nameOnly(spec.Name, EndpointSource, EndpointTarget, EndpointReverseSource, EndpointReverseTarget)); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete dms endpoint %q: %w", name, err)
	}
	if err := deleteEndpoint(ctx, env, api, name); err != nil {
		return fmt.Errorf("delete dms endpoint %q: %w", name, err)
	}
	return nil
}

func deleteEndpoint(ctx context.Context, env migration.Env, api DMSAPI, name string) error {
	found, err := findEndpoint(ctx, api, name)
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindEndpoint, name)
		return nil
	}
	arn := aws.ToString(found.EndpointArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindEndpoint, name, arn)
		return nil
	}
	if !env.DryRun {
		if err := deleteWhenFree(ctx, env, "dms endpoint "+name, func(ctx context.Context) error {
			_, err := api.DeleteEndpoint(ctx, &dms.DeleteEndpointInput{EndpointArn: aws.String(arn)})
			return err
		}); err != nil {
			return err
		}
		var accept awsx.Acceptor[dms.DescribeEndpointsInput, dms.DescribeEndpointsOutput]
		dms.NewEndpointDeletedWaiter(api, func(o *dms.EndpointDeletedWaiterOptions) { accept = o.Retryable })
		if _, err := migration.Wait(ctx, env, "dms endpoint "+name+" to be deleted", api.DescribeEndpoints,
			&dms.DescribeEndpointsInput{Filters: idFilter("endpoint-arn", arn)}, accept, endpointDeletedTimeout); err != nil {
			return err
		}
	}
	env.Report(migration.Change{Kind: KindEndpoint, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}

// connectionTimeout bounds TestConnection.
const connectionTimeout = 10 * time.Minute

// TestConnection tests an endpoint from the replication instance and
// waits for the result: nil when DMS connected (TLS verified, the secret
// read through the role, the credentials accepted), else an error with
// DMS's failure message. It writes nothing but the test itself, so a dry
// run skips it. Use it as a readiness check before starting a task: a
// secret without host and port, a pg_hba.conf that rejects the instance's
// address or an expired CA all show here instead of in a failed task.
func TestConnection(ctx context.Context, env migration.Env, api DMSAPI, instanceARN, endpointARN string) error {
	if env.DryRun || migration.AnyPending(instanceARN, endpointARN) {
		return nil
	}
	if _, err := api.TestConnection(ctx, &dms.TestConnectionInput{ReplicationInstanceArn: aws.String(instanceARN), EndpointArn: aws.String(endpointARN)}); err != nil {
		return fmt.Errorf("test connection of %s: %w", endpointARN, err)
	}
	var accept awsx.Acceptor[dms.DescribeConnectionsInput, dms.DescribeConnectionsOutput]
	dms.NewTestConnectionSucceedsWaiter(api, func(o *dms.TestConnectionSucceedsWaiterOptions) { accept = o.Retryable })
	in := &dms.DescribeConnectionsInput{Filters: []dmstypes.Filter{
		{Name: aws.String("endpoint-arn"), Values: []string{endpointARN}},
		{Name: aws.String("replication-instance-arn"), Values: []string{instanceARN}},
	}}
	out, err := migration.Wait(ctx, env, "dms connection test of "+endpointARN, api.DescribeConnections, in, accept, connectionTimeout)
	if err != nil {
		if out != nil {
			i := slices.IndexFunc(out.Connections, func(c dmstypes.Connection) bool { return aws.ToString(c.Status) == "failed" })
			if i >= 0 {
				return fmt.Errorf("test connection of %s: %s", endpointARN, aws.ToString(out.Connections[i].LastFailureMessage))
			}
		}
		return fmt.Errorf("test connection of %s: %w", endpointARN, err)
	}
	return nil
}
