package dms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/cutoverkit/cutover/migration"
)

// Clients are the AWS clients the DMS side of a migration uses.
type Clients struct {
	DMS     DMSAPI
	RDS     RDSAPI
	Secrets SecretsAPI
	IAM     migration.IAMAPI
}

// SourceSpec describes the on-premises PostgreSQL 13 database.
type SourceSpec struct {
	// SecretARN is the full ARN of the secret the operator created with
	// username, password, host and port of the migration user (a
	// superuser for full load + CDC), encrypted with the env key.
	SecretARN string `json:"secretArn" yaml:"secretArn"`
	// DatabaseName is the database to migrate.
	DatabaseName string `json:"databaseName" yaml:"databaseName"`
	// CACertificatePEM is the CA chain that signed the server certificate
	// (verify-full: the certificate's name must match the secret's host).
	CACertificatePEM string `json:"caCertificatePem" yaml:"caCertificatePem"`
	// Major is the source's PostgreSQL major version; 0 means 13.
	Major int `json:"major,omitempty" yaml:"major,omitempty"`
	// PluginName and SlotName: see PostgreSQLOptions.
	PluginName string `json:"pluginName,omitempty" yaml:"pluginName,omitempty"`
	SlotName   string `json:"slotName,omitempty" yaml:"slotName,omitempty"`
	// DisableHeartbeat turns the WAL heartbeat off (on by default, once a
	// minute: it keeps an idle slot from holding WAL on the source, and it
	// makes the forward task confirm the source's WAL past the database
	// switch's freeze within a minute, which SwitchToReverse waits for).
	DisableHeartbeat bool `json:"disableHeartbeat,omitempty" yaml:"disableHeartbeat,omitempty"`
	// CaptureDDLs lets DMS install its DDL capture trigger on the source
	// (off by default: the production database stays untouched).
	CaptureDDLs bool `json:"captureDdls,omitempty" yaml:"captureDdls,omitempty"`
}

// ExistingTarget names a target database the library does not create.
type ExistingTarget struct {
	// SecretARN is its connection secret (username, password, host, port),
	// encrypted with a customer managed key.
	SecretARN string `json:"secretArn" yaml:"secretArn"`
	// Engine is "postgres" or "aurora-postgresql".
	Engine string `json:"engine,omitempty" yaml:"engine,omitempty"`
	// Major is its PostgreSQL major version, 16 or 17.
	Major int `json:"major" yaml:"major"`
}

// TargetSpec describes the target: an RDS instance the library creates,
// or an Existing one.
type TargetSpec struct {
	// Existing, when set, skips the RDS resources.
	Existing *ExistingTarget `json:"existing,omitempty" yaml:"existing,omitempty"`
	// DatabaseName is the database DMS writes to.
	DatabaseName string `json:"databaseName" yaml:"databaseName"`
	// CACertificatePEM is the target's CA (the RDS Region bundle).
	CACertificatePEM string `json:"caCertificatePem" yaml:"caCertificatePem"`
	// The RDS instance (ignored with Existing); see TargetDBSpec.
	EngineVersion       string            `json:"engineVersion,omitempty" yaml:"engineVersion,omitempty"`
	Class               string            `json:"class,omitempty" yaml:"class,omitempty"`
	AllocatedStorageGB  int               `json:"allocatedStorageGb,omitempty" yaml:"allocatedStorageGb,omitempty"`
	SecurityGroupIDs    []string          `json:"securityGroupIds,omitempty" yaml:"securityGroupIds,omitempty"`
	MasterUsername      string            `json:"masterUsername,omitempty" yaml:"masterUsername,omitempty"`
	BackupRetentionDays int               `json:"backupRetentionDays,omitempty" yaml:"backupRetentionDays,omitempty"`
	ApplyImmediately    bool              `json:"applyImmediately,omitempty" yaml:"applyImmediately,omitempty"`
	SkipFinalSnapshot   bool              `json:"skipFinalSnapshot,omitempty" yaml:"skipFinalSnapshot,omitempty"`
	ExtraParameters     map[string]string `json:"extraParameters,omitempty" yaml:"extraParameters,omitempty"`
}

// InstanceOptions override the replication instance defaults.
type InstanceOptions struct {
	Class              string `json:"class,omitempty" yaml:"class,omitempty"`
	AllocatedStorageGB int    `json:"allocatedStorageGb,omitempty" yaml:"allocatedStorageGb,omitempty"`
	ApplyImmediately   bool   `json:"applyImmediately,omitempty" yaml:"applyImmediately,omitempty"`
	MaintenanceWindow  string `json:"maintenanceWindow,omitempty" yaml:"maintenanceWindow,omitempty"`
	// DNSNameServers: see InstanceSpec.DNSNameServers.
	DNSNameServers []string `json:"dnsNameServers,omitempty" yaml:"dnsNameServers,omitempty"`
}

// Spec is the whole DMS side of a migration. The IDs and ARNs it takes
// come from other packages: the private subnets and security groups from
// network, the key from migration.EnsureKey.
type Spec struct {
	// SourceSizeGB is the source database's size; it sizes the
	// replication instance and the target (500 for the reference).
	SourceSizeGB int `json:"sourceSizeGb" yaml:"sourceSizeGb"`
	// EngineVersion pins the DMS engine; DefaultEngineVersion when empty.
	EngineVersion string `json:"engineVersion,omitempty" yaml:"engineVersion,omitempty"`
	// PrivateSubnetIDs are the VPC's private subnets (two or more zones).
	PrivateSubnetIDs []string `json:"privateSubnetIds" yaml:"privateSubnetIds"`
	// SecurityGroupIDs are the replication instance's groups (sg-dms).
	SecurityGroupIDs []string `json:"securityGroupIds" yaml:"securityGroupIds"`
	// KMSKeyARN is the env key's ARN.
	KMSKeyARN string          `json:"kmsKeyArn" yaml:"kmsKeyArn"`
	Instance  InstanceOptions `json:"instance,omitempty" yaml:"instance,omitempty"`
	Source    SourceSpec      `json:"source" yaml:"source"`
	Target    TargetSpec      `json:"target" yaml:"target"`
	// Tables, LOB, TargetTablePrepMode, DisableValidation and
	// MaxFullLoadSubTasks configure the tasks (see TaskSpec).
	Tables              TableSelection `json:"tables" yaml:"tables"`
	LOB                 LOBSettings    `json:"lob,omitempty" yaml:"lob,omitempty"`
	TargetTablePrepMode string         `json:"targetTablePrepMode,omitempty" yaml:"targetTablePrepMode,omitempty"`
	DisableValidation   bool           `json:"disableValidation,omitempty" yaml:"disableValidation,omitempty"`
	MaxFullLoadSubTasks int            `json:"maxFullLoadSubTasks,omitempty" yaml:"maxFullLoadSubTasks,omitempty"`
}

func (s Spec) engineVersion() string {
	if s.EngineVersion == "" {
		return DefaultEngineVersion
	}
	return s.EngineVersion
}

func (s Spec) sourceMajor() int { return cmp.Or(s.Source.Major, 13) }

func (s Spec) targetMajor() int {
	if s.Target.Existing != nil {
		return s.Target.Existing.Major
	}
	if s.Target.EngineVersion == "" {
		return DefaultTargetMajor
	}
	return TargetDBSpec{EngineVersion: s.Target.EngineVersion}.Major()
}

// Validate checks the whole spec before any call: every resource spec
// with placeholders for the IDs only known at apply time, and that the
// pinned DMS engine supports both the source's and the target's
// PostgreSQL (the reverse task reads the target and writes the source).
func (s Spec) Validate() error {
	p := migration.Pending("validate")
	o := Outputs{
		SubnetGroup: SubnetGroup{ID: p}, Instance: Instance{ARN: p}, DBSubnetGroup: DBSubnetGroup{Name: p}, ParameterGroup: ParameterGroup{Name: p},
		TargetDB: TargetDB{ID: p}, TargetSecret: Secret{ARN: p}, SecretsRole: migration.Role{ARN: p},
		SourceCert: Certificate{ARN: p}, TargetCert: Certificate{ARN: p},
		Endpoints: map[string]Endpoint{EndpointSource: {ARN: p}, EndpointTarget: {ARN: p + "t"}, EndpointReverseSource: {ARN: p + "rs"}, EndpointReverseTarget: {ARN: p + "rt"}},
	}
	var errs []error
	if s.SourceSizeGB <= 0 {
		errs = append(errs, errors.New("dms.sourceSizeGb: required (the size of the source database in GB)"))
	}
	for _, v := range []interface{ Validate() error }{
		s.SubnetGroupSpec(), s.InstanceSpec(o), s.CertificateSpecs()[0], s.CertificateSpecs()[1],
		s.TaskSpec(Forward, o), s.TaskSpec(Reverse, o),
	} {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkSecretARN(s.Source.SecretARN); err != nil {
		errs = append(errs, fmt.Errorf("dms.source.secretArn: %w", err))
	}
	for _, f := range []struct{ path, name string }{{"dms.source.databaseName", s.Source.DatabaseName}, {"dms.target.databaseName", s.Target.DatabaseName}} {
		if err := checkIdentifier(f.name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.path, err))
		}
	}
	if p := s.Source.PluginName; p != "" && p != "pglogical" && p != "test_decoding" {
		errs = append(errs, fmt.Errorf("dms.source.pluginName: %q must be pglogical, test_decoding or empty", p))
	}
	if n := s.Source.SlotName; n != "" && !slotNameRe.MatchString(n) {
		errs = append(errs, fmt.Errorf("dms.source.slotName: %q is not a replication slot name (lower-case letters, digits, underscores, at most 63)", n))
	}
	if s.sourceMajor() < 10 || s.sourceMajor() > 17 {
		errs = append(errs, fmt.Errorf("dms.source.major: PostgreSQL %d is not a supported source", s.sourceMajor()))
	}
	if err := checkEngineVersion(s.engineVersion(), s.sourceMajor()); err != nil {
		errs = append(errs, fmt.Errorf("dms.engineVersion (source PostgreSQL %d): %w", s.sourceMajor(), err))
	}
	if err := checkEngineVersion(s.engineVersion(), s.targetMajor()); err != nil {
		errs = append(errs, fmt.Errorf("dms.engineVersion (target PostgreSQL %d): %w", s.targetMajor(), err))
	}
	if x := s.Target.Existing; x != nil {
		if err := checkSecretARN(x.SecretARN); err != nil {
			errs = append(errs, fmt.Errorf("dms.target.existing.secretArn: %w", err))
		}
		if x.Engine != "" && x.Engine != "postgres" && x.Engine != "aurora-postgresql" {
			errs = append(errs, fmt.Errorf("dms.target.existing.engine: %q must be postgres or aurora-postgresql", x.Engine))
		}
		if x.Major != 16 && x.Major != 17 {
			errs = append(errs, fmt.Errorf("dms.target.existing.major: %d; the target must be PostgreSQL 16 or 17", x.Major))
		}
	} else {
		for _, v := range []interface{ Validate() error }{s.DBSubnetGroupSpec(), s.ParameterGroupSpec(), s.TargetDBSpec(o), s.TargetSecretSpec(o)} {
			if err := v.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// The four endpoints are built from the fields checked above; their
	// own checks are a net for what those miss, named by endpoint, and
	// run only when the spec is otherwise valid so that one bad field is
	// reported once, under its own path.
	if len(errs) == 0 {
		for _, e := range s.EndpointSpecs(o) {
			if err := e.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("dms endpoint %s: %w", e.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Outputs are the IDs and ARNs the steps produce. Each field is written
// by one step and read by the steps that depend on it.
type Outputs struct {
	SubnetGroup    SubnetGroup
	Instance       Instance
	DBSubnetGroup  DBSubnetGroup
	ParameterGroup ParameterGroup
	TargetDB       TargetDB
	// TargetSecret is the secret the RDS endpoints read (made by
	// EnsureTargetSecret, or the existing target's).
	TargetSecret Secret
	// Source and Target describe the two connection secrets.
	Source, Target SecretInfo
	SecretsRole    migration.Role
	SourceCert     Certificate
	TargetCert     Certificate
	// Endpoints by name prefix (EndpointSource, ...).
	Endpoints map[string]Endpoint
	Forward   Task
	Reverse   Task
}

// SubnetGroupSpec returns the replication subnet group's spec.
func (s Spec) SubnetGroupSpec() SubnetGroupSpec {
	return SubnetGroupSpec{SubnetIDs: s.PrivateSubnetIDs}
}

// InstanceSpec returns the replication instance's spec.
func (s Spec) InstanceSpec(o Outputs) InstanceSpec {
	return InstanceSpec{
		SubnetGroup: o.SubnetGroup.ID, SecurityGroupIDs: s.SecurityGroupIDs, KMSKeyARN: s.KMSKeyARN, EngineVersion: s.engineVersion(),
		SourceSizeGB: s.SourceSizeGB, Class: s.Instance.Class, AllocatedStorageGB: s.Instance.AllocatedStorageGB,
		ApplyImmediately: s.Instance.ApplyImmediately, MaintenanceWindow: s.Instance.MaintenanceWindow, DNSNameServers: s.Instance.DNSNameServers,
	}
}

// DBSubnetGroupSpec returns the target's DB subnet group spec.
func (s Spec) DBSubnetGroupSpec() DBSubnetGroupSpec {
	return DBSubnetGroupSpec{SubnetIDs: s.PrivateSubnetIDs}
}

// ParameterGroupSpec returns the target's parameter group spec.
func (s Spec) ParameterGroupSpec() ParameterGroupSpec {
	return ParameterGroupSpec{Major: s.targetMajor(), Extra: s.Target.ExtraParameters}
}

// TargetDBSpec returns the target DB instance's spec.
func (s Spec) TargetDBSpec(o Outputs) TargetDBSpec {
	v := s.Target.EngineVersion
	if v == "" {
		v = fmt.Sprint(DefaultTargetMajor)
	}
	return TargetDBSpec{
		EngineVersion: v, SourceSizeGB: s.SourceSizeGB, Class: s.Target.Class, AllocatedStorageGB: s.Target.AllocatedStorageGB,
		SubnetGroup: o.DBSubnetGroup.Name, ParameterGroup: o.ParameterGroup.Name, SecurityGroupIDs: s.Target.SecurityGroupIDs,
		KMSKeyARN: s.KMSKeyARN, DatabaseName: s.Target.DatabaseName, MasterUsername: s.Target.MasterUsername,
		BackupRetentionDays: s.Target.BackupRetentionDays, ApplyImmediately: s.Target.ApplyImmediately, SkipFinalSnapshot: s.Target.SkipFinalSnapshot,
	}
}

// TargetSecretSpec returns the target endpoint secret's spec.
func (s Spec) TargetSecretSpec(o Outputs) TargetSecretSpec {
	return TargetSecretSpec{DBInstanceID: o.TargetDB.ID, DatabaseName: s.Target.DatabaseName, KMSKeyARN: s.KMSKeyARN}
}

// CertificateSpecs returns the source's and the target's CA specs.
func (s Spec) CertificateSpecs() []CertificateSpec {
	return []CertificateSpec{{Name: CertSource, PEM: s.Source.CACertificatePEM}, {Name: CertTarget, PEM: s.Target.CACertificatePEM}}
}

// SecretsRoleSpec returns the secrets access role's spec.
func (s Spec) SecretsRoleSpec(o Outputs) SecretsRoleSpec {
	keys := []string{o.Source.KMSKeyARN, o.Target.KMSKeyARN}
	if keys[0] == keys[1] {
		keys = keys[:1]
	}
	return SecretsRoleSpec{SecretARNs: []string{o.Source.ARN, o.Target.ARN}, KMSKeyARNs: keys}
}

// EndpointSpecs returns the four endpoints' specs.
func (s Spec) EndpointSpecs(o Outputs) []EndpointSpec {
	engine := "postgres"
	if x := s.Target.Existing; x != nil && x.Engine != "" {
		engine = x.Engine
	}
	targetSecret := o.TargetSecret.ARN
	// DMS's smallest heartbeat frequency: the bound on how long a switch
	// waits for an idle forward task to confirm the frozen source's WAL.
	const heartbeatMinutes = 1
	src := PostgreSQLOptions{HeartbeatEnable: !s.Source.DisableHeartbeat, HeartbeatFrequencyMinutes: heartbeatMinutes, CaptureDDLs: s.Source.CaptureDDLs, PluginName: s.Source.PluginName, SlotName: s.Source.SlotName, MapBooleanAsBoolean: true}
	return []EndpointSpec{
		{Name: EndpointSource, DatabaseName: s.Source.DatabaseName, SecretARN: s.Source.SecretARN, AccessRoleARN: o.SecretsRole.ARN, CertificateARN: o.SourceCert.ARN, KMSKeyARN: s.KMSKeyARN, PostgreSQL: src},
		{Name: EndpointTarget, Engine: engine, DatabaseName: s.Target.DatabaseName, SecretARN: targetSecret, AccessRoleARN: o.SecretsRole.ARN, CertificateARN: o.TargetCert.ARN, KMSKeyARN: s.KMSKeyARN,
			PostgreSQL: PostgreSQLOptions{MapBooleanAsBoolean: true, ReplicaSessionRole: true}},
		{Name: EndpointReverseSource, Engine: engine, DatabaseName: s.Target.DatabaseName, SecretARN: targetSecret, AccessRoleARN: o.SecretsRole.ARN, CertificateARN: o.TargetCert.ARN, KMSKeyARN: s.KMSKeyARN,
			PostgreSQL: PostgreSQLOptions{HeartbeatEnable: true, HeartbeatFrequencyMinutes: heartbeatMinutes, MapBooleanAsBoolean: true}},
		{Name: EndpointReverseTarget, DatabaseName: s.Source.DatabaseName, SecretARN: s.Source.SecretARN, AccessRoleARN: o.SecretsRole.ARN, CertificateARN: o.SourceCert.ARN, KMSKeyARN: s.KMSKeyARN,
			PostgreSQL: PostgreSQLOptions{MapBooleanAsBoolean: true, ReplicaSessionRole: true}},
	}
}

// TaskSpec returns the forward or reverse task's spec.
func (s Spec) TaskSpec(d Direction, o Outputs) TaskSpec {
	t := TaskSpec{Direction: d, InstanceARN: o.Instance.ARN, Tables: s.Tables, LOB: s.LOB, MaxFullLoadSubTasks: s.MaxFullLoadSubTasks}
	if d == Forward {
		t.SourceEndpointARN, t.TargetEndpointARN = o.Endpoints[EndpointSource].ARN, o.Endpoints[EndpointTarget].ARN
		t.TargetTablePrepMode, t.DisableValidation = s.TargetTablePrepMode, s.DisableValidation
	} else {
		t.SourceEndpointARN, t.TargetEndpointARN = o.Endpoints[EndpointReverseSource].ARN, o.Endpoints[EndpointReverseTarget].ARN
	}
	return t
}

// Step names of Steps, in dependency order.
const (
	StepServiceRoles   = "dms-service-roles"
	StepSubnetGroup    = "dms-subnet-group"
	StepInstance       = "dms-instance"
	StepDBSubnetGroup  = "rds-subnet-group"
	StepParameterGroup = "rds-parameter-group"
	StepTargetDB       = "rds-target"
	StepTargetSecret   = "dms-target-secret"
	StepSourceSecret   = "dms-source-secret"
	StepSecretsRole    = "dms-secrets-role"
	StepCertificates   = "dms-certificates"
	StepEndpoints      = "dms-endpoints"
	StepTasks          = "dms-tasks"
)

// Steps returns the DMS side of a migration as runbook steps (see the
// package documentation for the graph). spec is called when a step runs,
// so it can read IDs that earlier steps of the caller's runbook produced
// (the key, the subnets); dependsOn names those steps, and every step
// here that needs nothing else of this package depends on them. out
// receives the IDs and ARNs. Destroy runs the deletes in reverse: tasks,
// endpoints, certificates and the secrets role, the target secret, the
// RDS instance (final snapshot kept), its groups, the replication
// instance, its subnet group; the shared service roles stay.
func Steps(c Clients, spec func() Spec, out *Outputs, dependsOn ...string) []migration.Step {
	if out.Endpoints == nil {
		out.Endpoints = map[string]Endpoint{}
	}
	var mu sync.Mutex // parallel steps write different fields of out
	get := func() Outputs {
		mu.Lock()
		defer mu.Unlock()
		o := *out
		o.Endpoints = maps.Clone(out.Endpoints)
		return o
	}
	set := func(f func(o *Outputs)) {
		mu.Lock()
		f(out)
		mu.Unlock()
	}
	dep := func(more ...string) []string { return append(append([]string{}, dependsOn...), more...) }
	steps := []migration.Step{
		{Name: StepServiceRoles, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				_, err := EnsureServiceRoles(ctx, env, c.IAM)
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				for _, r := range ServiceRoleSpecs() {
					if err := migration.DeleteRole(ctx, env, c.IAM, r); err != nil { // shared: reports and keeps it
						return err
					}
				}
				return nil
			}},
		{Name: StepSubnetGroup, DependsOn: dep(StepServiceRoles),
			Apply: func(ctx context.Context, env migration.Env) error {
				g, err := EnsureSubnetGroup(ctx, env, c.DMS, spec().SubnetGroupSpec())
				set(func(o *Outputs) { o.SubnetGroup = g })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteSubnetGroup(ctx, env, c.DMS, spec().SubnetGroupSpec())
			}},
		{Name: StepInstance, DependsOn: dep(StepSubnetGroup),
			Apply: func(ctx context.Context, env migration.Env) error {
				in, err := EnsureInstance(ctx, env, c.DMS, spec().InstanceSpec(get()))
				set(func(o *Outputs) { o.Instance = in })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteInstance(ctx, env, c.DMS, spec().InstanceSpec(get()))
			}},
		{Name: StepSourceSecret, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				info, err := InspectSecret(ctx, env, c.Secrets, spec().Source.SecretARN)
				set(func(o *Outputs) { o.Source = info })
				return err
			}},
		{Name: StepCertificates, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				specs := spec().CertificateSpecs()
				src, err := EnsureCertificate(ctx, env, c.DMS, specs[0])
				if err != nil {
					return err
				}
				tgt, err := EnsureCertificate(ctx, env, c.DMS, specs[1])
				set(func(o *Outputs) { o.SourceCert, o.TargetCert = src, tgt })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return errors.Join(DeleteCertificate(ctx, env, c.DMS, spec().CertificateSpecs()[0]), DeleteCertificate(ctx, env, c.DMS, spec().CertificateSpecs()[1]))
			}},
		{Name: StepSecretsRole, DependsOn: dep(StepSourceSecret, StepTargetSecret),
			Apply: func(ctx context.Context, env migration.Env) error {
				r, err := EnsureSecretsRole(ctx, env, c.IAM, spec().SecretsRoleSpec(get()))
				set(func(o *Outputs) { o.SecretsRole = r })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteSecretsRole(ctx, env, c.IAM, SecretsRoleSpec{})
			}},
		{Name: StepEndpoints, DependsOn: dep(StepSecretsRole, StepCertificates),
			Apply: func(ctx context.Context, env migration.Env) error {
				for _, e := range spec().EndpointSpecs(get()) {
					ep, err := EnsureEndpoint(ctx, env, c.DMS, e)
					if err != nil {
						return err
					}
					set(func(o *Outputs) { o.Endpoints[e.Name] = ep })
				}
				return nil
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				var errs []error
				for _, e := range spec().EndpointSpecs(get()) {
					errs = append(errs, DeleteEndpoint(ctx, env, c.DMS, e))
				}
				return errors.Join(errs...)
			}},
		{Name: StepTasks, DependsOn: dep(StepInstance, StepEndpoints),
			Apply: func(ctx context.Context, env migration.Env) error {
				fwd, err := EnsureTask(ctx, env, c.DMS, spec().TaskSpec(Forward, get()))
				if err != nil {
					return err
				}
				rev, err := EnsureTask(ctx, env, c.DMS, spec().TaskSpec(Reverse, get()))
				set(func(o *Outputs) { o.Forward, o.Reverse = fwd, rev })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return errors.Join(DeleteTask(ctx, env, c.DMS, TaskSpec{Direction: Reverse}), DeleteTask(ctx, env, c.DMS, TaskSpec{Direction: Forward}))
			}},
	}
	if spec().Target.Existing != nil {
		return append(steps, migration.Step{Name: StepTargetSecret, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				info, err := InspectSecret(ctx, env, c.Secrets, spec().Target.Existing.SecretARN)
				set(func(o *Outputs) { o.Target, o.TargetSecret = info, Secret{Name: info.Name, ARN: info.ARN} })
				return err
			}})
	}
	return append(steps,
		migration.Step{Name: StepDBSubnetGroup, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				g, err := EnsureDBSubnetGroup(ctx, env, c.RDS, spec().DBSubnetGroupSpec())
				set(func(o *Outputs) { o.DBSubnetGroup = g })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteDBSubnetGroup(ctx, env, c.RDS, spec().DBSubnetGroupSpec())
			}},
		migration.Step{Name: StepParameterGroup, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				g, err := EnsureParameterGroup(ctx, env, c.RDS, spec().ParameterGroupSpec())
				set(func(o *Outputs) { o.ParameterGroup = g })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteParameterGroup(ctx, env, c.RDS, spec().ParameterGroupSpec())
			}},
		migration.Step{Name: StepTargetDB, DependsOn: dep(StepDBSubnetGroup, StepParameterGroup),
			Apply: func(ctx context.Context, env migration.Env) error {
				db, err := EnsureTargetDB(ctx, env, c.RDS, spec().TargetDBSpec(get()))
				set(func(o *Outputs) { o.TargetDB = db })
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteTargetDB(ctx, env, c.RDS, spec().TargetDBSpec(get()))
			}},
		migration.Step{Name: StepTargetSecret, DependsOn: dep(StepTargetDB),
			Apply: func(ctx context.Context, env migration.Env) error {
				s := spec()
				sec, err := EnsureTargetSecret(ctx, env, c.RDS, c.Secrets, s.TargetSecretSpec(get()))
				set(func(o *Outputs) {
					o.TargetSecret, o.Target = sec, SecretInfo{ARN: sec.ARN, Name: sec.Name, KMSKeyARN: s.KMSKeyARN}
				})
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteTargetSecret(ctx, env, c.Secrets, spec().TargetSecretSpec(get()))
			}},
	)
}

// TestConnections tests the four endpoints from the replication instance
// (see TestConnection) and returns every failure. The on-premises
// endpoints need the VPN or Direct Connect up and pg_hba.conf allowing
// Instance.PrivateIPs.
func TestConnections(ctx context.Context, env migration.Env, api DMSAPI, o Outputs) error {
	var errs []error
	for _, name := range []string{EndpointSource, EndpointTarget, EndpointReverseSource, EndpointReverseTarget} {
		if e, ok := o.Endpoints[name]; ok {
			errs = append(errs, TestConnection(ctx, env, api, o.Instance.ARN, e.ARN))
		}
	}
	return errors.Join(errs...)
}
