package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDS is the fake RDS client (DB instances, parameter groups, subnet
// groups, snapshots). Get it with Cloud.RDS.
//
// A DB instance is "creating" for rdsCreateFor (longer when Multi-AZ) and
// then "available"; changes apply at once with ApplyImmediately or wait in
// PendingModifiedValues until ApplyPendingMaintenance; a static parameter
// changed in an instance's group leaves the instance "pending-reboot".
// ManageMasterUserPassword creates the master user secret in the Secrets
// Manager fake, owned by RDS and holding only username and password, as
// RDS does. DeleteDBInstance takes a final snapshot unless told to skip
// it, and refuses to go without either.
type RDS struct{ c *Cloud }

// RDS returns the RDS client of the cloud.
func (c *Cloud) RDS() *RDS { return &RDS{c: c} }

func init() { register("rds", func() any { return &rdsState{} }) }

type rdsState struct {
	Instances    map[string]*fakeDBInstance    `json:"instances"`
	ParamGroups  map[string]*fakeParamGroup    `json:"paramGroups"`
	SubnetGroups map[string]*fakeDBSubnetGroup `json:"subnetGroups"`
	Snapshots    map[string]*fakeDBSnapshot    `json:"snapshots"`
}

type fakeDBInstance struct {
	ID              string            `json:"id"`
	ARN             string            `json:"arn"`
	ResourceID      string            `json:"resourceId"`
	Class           string            `json:"class"`
	Engine          string            `json:"engine"`
	EngineVersion   string            `json:"engineVersion"`
	Storage         int32             `json:"storage"`
	StorageType     string            `json:"storageType"`
	Encrypted       bool              `json:"encrypted"`
	KmsKeyID        string            `json:"kmsKeyId,omitempty"`
	MultiAZ         bool              `json:"multiAz"`
	Public          bool              `json:"public"`
	SubnetGroup     string            `json:"subnetGroup"`
	SecurityGroups  []string          `json:"securityGroups"`
	ParamGroup      string            `json:"paramGroup"`
	ParamStatus     string            `json:"paramStatus"`
	MasterUsername  string            `json:"masterUsername"`
	MasterSecretARN string            `json:"masterSecretArn,omitempty"`
	MasterSecretKey string            `json:"masterSecretKey,omitempty"`
	DBName          string            `json:"dbName,omitempty"`
	Port            int32             `json:"port"`
	LogExports      []string          `json:"logExports,omitempty"`
	DeletionProtect bool              `json:"deletionProtection"`
	BackupRetention int32             `json:"backupRetention"`
	CopyTags        bool              `json:"copyTags"`
	AutoMinor       bool              `json:"autoMinor"`
	Tags            map[string]string `json:"tags"`
	Created         time.Time         `json:"created"`
	Status          string            `json:"status"`
	Steps           []rdsStep         `json:"steps,omitempty"`
	Pending         rdsPending        `json:"pending"`
	FinalSnapshot   string            `json:"finalSnapshot,omitempty"`
	EndpointAddress string            `json:"endpointAddress"`
}

type rdsPending struct {
	Class         string `json:"class,omitempty"`
	Storage       int32  `json:"storage,omitempty"`
	MultiAZ       *bool  `json:"multiAz,omitempty"`
	EngineVersion string `json:"engineVersion,omitempty"`
}

func (p rdsPending) empty() bool {
	return p.Class == "" && p.Storage == 0 && p.MultiAZ == nil && p.EngineVersion == ""
}

// rdsStep is one scheduled status change of an asynchronous resource.
type rdsStep struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
}

// rdsSettle applies the scheduled steps that are due and returns what is
// left.
func rdsSettle(status *string, steps []rdsStep, now time.Time) []rdsStep {
	for len(steps) > 0 && !now.Before(steps[0].At) {
		*status = steps[0].Status
		steps = steps[1:]
	}
	return steps
}

type fakeParamGroup struct {
	Name        string                 `json:"name"`
	ARN         string                 `json:"arn"`
	Family      string                 `json:"family"`
	Description string                 `json:"description"`
	Params      map[string]fakeDBParam `json:"params"`
	Tags        map[string]string      `json:"tags"`
}

type fakeDBParam struct {
	Value  string `json:"value"`
	Method string `json:"method"`
}

type fakeDBSubnetGroup struct {
	Name        string            `json:"name"`
	ARN         string            `json:"arn"`
	Description string            `json:"description"`
	Subnets     []string          `json:"subnets"`
	VPC         string            `json:"vpc"`
	Tags        map[string]string `json:"tags"`
}

type fakeDBSnapshot struct {
	ID            string            `json:"id"`
	ARN           string            `json:"arn"`
	Instance      string            `json:"instance"`
	Type          string            `json:"type"`
	Engine        string            `json:"engine"`
	EngineVersion string            `json:"engineVersion"`
	Storage       int32             `json:"storage"`
	KmsKeyID      string            `json:"kmsKeyId,omitempty"`
	Tags          map[string]string `json:"tags"`
	Created       time.Time         `json:"created"`
	Status        string            `json:"status"`
	Steps         []rdsStep         `json:"steps,omitempty"`
}

// Timings of the simulated RDS.
const (
	rdsCreateFor       = 10 * time.Minute
	rdsMultiAZExtra    = 5 * time.Minute
	rdsModifyFor       = 5 * time.Minute
	rdsDeleteFor       = 5 * time.Minute
	rdsSnapshotFor     = 5 * time.Minute
	rdsRebootFor       = 2 * time.Minute
	rdsMaxParamsPerMod = 20
)

// rdsParams are the PostgreSQL parameters the fake knows, with whether
// they are static (a change needs a reboot).
var rdsParams = map[string]bool{
	"rds.force_ssl":                       false,
	"rds.logical_replication":             true,
	"max_replication_slots":               true,
	"max_wal_senders":                     true,
	"max_worker_processes":                true,
	"max_logical_replication_workers":     true,
	"shared_preload_libraries":            true,
	"wal_sender_timeout":                  false,
	"max_slot_wal_keep_size":              false,
	"log_min_duration_statement":          false,
	"log_connections":                     false,
	"log_disconnections":                  false,
	"session_replication_role":            false,
	"idle_in_transaction_session_timeout": false,
	"ssl_min_protocol_version":            false,
	"password_encryption":                 false,
}

var (
	rdsIDRe       = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9]){0,62}$`)
	rdsGroupRe    = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9]){0,254}$`)
	rdsFamilyRe   = regexp.MustCompile(`^postgres(1[1-8])$`)
	rdsVersionRe  = regexp.MustCompile(`^(1[1-8])(\.[0-9]+)?$`)
	rdsClassRe    = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	rdsLogExports = []string{"postgresql", "upgrade", "iam-db-auth-error"}
)

func (f *RDS) st() *rdsState {
	s := state[rdsState](f.c, "rds")
	if s.Instances == nil {
		s.Instances = map[string]*fakeDBInstance{}
		s.ParamGroups = map[string]*fakeParamGroup{}
		s.SubnetGroups = map[string]*fakeDBSubnetGroup{}
		s.Snapshots = map[string]*fakeDBSnapshot{}
	}
	now := f.c.now()
	for id, in := range s.Instances {
		in.Steps = rdsSettle(&in.Status, in.Steps, now)
		if in.Status == "deleted" {
			delete(s.Instances, id)
		}
	}
	for _, sn := range s.Snapshots {
		sn.Steps = rdsSettle(&sn.Status, sn.Steps, now)
	}
	return s
}

func rdsTagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func rdsTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// subnetAZs resolves subnet IDs to their VPC and zones, as the DMS fake
// does (see subnetLookup).
func (c *Cloud) dbSubnetsInfo(ids []string) (vpc string, azs map[string]bool, err error) {
	azs = map[string]bool{}
	for _, id := range ids {
		v, az, ok := dbLookupSubnet(c, id)
		if !ok {
			return "", nil, fmt.Errorf("subnet %s", id)
		}
		if vpc != "" && v != vpc {
			return "", nil, fmt.Errorf("subnets %s: in more than one VPC", id)
		}
		vpc = v
		azs[az] = true
	}
	return vpc, azs, nil
}

// --- DB instances ---

func (f *RDS) instance(id string) (*fakeDBInstance, error) {
	in, ok := f.st().Instances[strings.ToLower(id)]
	if !ok || f.c.hidden("rds-db/"+strings.ToLower(id)) {
		return nil, notFound("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	return in, nil
}

func (in *fakeDBInstance) out() types.DBInstance {
	d := types.DBInstance{
		DBInstanceIdentifier: aws.String(in.ID), DBInstanceArn: aws.String(in.ARN), DbiResourceId: aws.String(in.ResourceID),
		DBInstanceClass: aws.String(in.Class), Engine: aws.String(in.Engine), EngineVersion: aws.String(in.EngineVersion),
		AllocatedStorage: aws.Int32(in.Storage), StorageType: aws.String(in.StorageType), StorageEncrypted: aws.Bool(in.Encrypted),
		KmsKeyId: smOpt(in.KmsKeyID), MultiAZ: aws.Bool(in.MultiAZ), PubliclyAccessible: aws.Bool(in.Public),
		MasterUsername: aws.String(in.MasterUsername), DBName: smOpt(in.DBName), DbInstancePort: aws.Int32(0),
		EnabledCloudwatchLogsExports: slices.Clone(in.LogExports), DeletionProtection: aws.Bool(in.DeletionProtect),
		BackupRetentionPeriod: aws.Int32(in.BackupRetention), CopyTagsToSnapshot: aws.Bool(in.CopyTags),
		AutoMinorVersionUpgrade: aws.Bool(in.AutoMinor), TagList: rdsTags(in.Tags), InstanceCreateTime: aws.Time(in.Created),
		DBInstanceStatus:  aws.String(in.Status),
		DBParameterGroups: []types.DBParameterGroupStatus{{DBParameterGroupName: aws.String(in.ParamGroup), ParameterApplyStatus: aws.String(in.ParamStatus)}},
		DBSubnetGroup:     &types.DBSubnetGroup{DBSubnetGroupName: aws.String(in.SubnetGroup)},
	}
	for _, sg := range in.SecurityGroups {
		d.VpcSecurityGroups = append(d.VpcSecurityGroups, types.VpcSecurityGroupMembership{VpcSecurityGroupId: aws.String(sg), Status: aws.String("active")})
	}
	if in.Status != "creating" {
		d.Endpoint = &types.Endpoint{Address: aws.String(in.EndpointAddress), Port: aws.Int32(in.Port)}
	}
	if in.MasterSecretARN != "" {
		status := "active"
		if in.Status == "creating" {
			status = "creating"
		}
		d.MasterUserSecret = &types.MasterUserSecret{SecretArn: aws.String(in.MasterSecretARN), SecretStatus: aws.String(status), KmsKeyId: smOpt(in.MasterSecretKey)}
	}
	if !in.Pending.empty() {
		p := &types.PendingModifiedValues{MultiAZ: in.Pending.MultiAZ}
		if in.Pending.Class != "" {
			p.DBInstanceClass = aws.String(in.Pending.Class)
		}
		if in.Pending.Storage != 0 {
			p.AllocatedStorage = aws.Int32(in.Pending.Storage)
		}
		if in.Pending.EngineVersion != "" {
			p.EngineVersion = aws.String(in.Pending.EngineVersion)
		}
		d.PendingModifiedValues = p
	}
	return d
}

func (f *RDS) randomPassword() string {
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~!"
	var b strings.Builder
	for i := 0; i < 4; i++ {
		f.c.seq++
		x := mix(f.c.seq)
		for j := 0; j < 8; j++ {
			b.WriteByte(chars[x%uint64(len(chars))])
			x /= uint64(len(chars))
		}
	}
	return b.String()
}

// CreateDBInstance creates a PostgreSQL DB instance.
func (f *RDS) CreateDBInstance(ctx context.Context, in *rds.CreateDBInstanceInput, _ ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error) {
	var out *rds.CreateDBInstanceOutput
	err := f.c.call(ctx, rds.ServiceID, "CreateDBInstance", true, func() error {
		s := f.st()
		id := strings.ToLower(aws.ToString(in.DBInstanceIdentifier))
		switch {
		case !rdsIDRe.MatchString(id):
			return apiError("InvalidParameterValue", "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
		case s.Instances[id] != nil:
			return apiError("DBInstanceAlreadyExists", "DB instance already exists")
		case aws.ToString(in.Engine) != "postgres":
			return apiError("InvalidParameterValue", "Invalid DB engine: %s (the fake supports postgres)", aws.ToString(in.Engine))
		case !rdsClassRe.MatchString(aws.ToString(in.DBInstanceClass)):
			return apiError("InvalidParameterValue", "Invalid DB Instance class: %s", aws.ToString(in.DBInstanceClass))
		case aws.ToBool(in.ManageMasterUserPassword) && in.MasterUserPassword != nil:
			return apiError("InvalidParameterCombination", "You can't specify MasterUserPassword and ManageMasterUserPassword together.")
		case !aws.ToBool(in.ManageMasterUserPassword) && in.MasterUserPassword == nil:
			return apiError("InvalidParameterValue", "The parameter MasterUserPassword must be provided and must not be blank.")
		case aws.ToString(in.MasterUsername) == "":
			return apiError("InvalidParameterValue", "The parameter MasterUsername must be provided and must not be blank.")
		case in.MultiAZ != nil && *in.MultiAZ && in.AvailabilityZone != nil:
			return apiError("InvalidParameterCombination", "Requesting a specific availability zone is not valid for Multi-AZ instances.")
		case in.KmsKeyId != nil && !aws.ToBool(in.StorageEncrypted):
			return apiError("InvalidParameterCombination", "Encryption must be enabled if KmsKeyId is specified.")
		}
		version := aws.ToString(in.EngineVersion)
		if version == "" {
			version = "16"
		}
		m := rdsVersionRe.FindStringSubmatch(version)
		if m == nil {
			return apiError("InvalidParameterCombination", "Cannot find version %s for postgres", version)
		}
		if m[2] == "" {
			version += ".6" // a major version selects its default minor
		}
		storageType := aws.ToString(in.StorageType)
		if storageType == "" {
			storageType = "gp2"
		}
		storage := aws.ToInt32(in.AllocatedStorage)
		if storage < 20 || storage > 65536 {
			return apiError("InvalidParameterValue", "Invalid storage size for engine name postgres and storage type %s: %d", storageType, storage)
		}
		sg := aws.ToString(in.DBSubnetGroupName)
		if _, ok := s.SubnetGroups[strings.ToLower(sg)]; sg == "" || !ok {
			return notFound("DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", sg)
		}
		pg := aws.ToString(in.DBParameterGroupName)
		if pg == "" {
			pg = "default.postgres" + m[1]
		} else {
			g, ok := s.ParamGroups[strings.ToLower(pg)]
			if !ok {
				return notFound("DBParameterGroupNotFound", "DBParameterGroup not found: %s", pg)
			}
			if g.Family != "postgres"+m[1] {
				return apiError("InvalidParameterCombination", "The parameter group %s with DBParameterGroupFamily %s can't be used for this instance. Use a parameter group with DBParameterGroupFamily postgres%s.", pg, g.Family, m[1])
			}
		}
		key := ""
		if aws.ToBool(in.StorageEncrypted) {
			key = aws.ToString(in.KmsKeyId)
			if key != "" {
				if !smKeyUsable(f.c, key) {
					return apiError("KMSKeyNotAccessibleFault", "The specified KMS key %s does not exist, is not enabled or you do not have permissions to access it.", key)
				}
				key = smKeyARN(f.c, key)
			}
		}
		for _, e := range in.EnableCloudwatchLogsExports {
			if !slices.Contains(rdsLogExports, e) {
				return apiError("InvalidParameterCombination", "You cannot use the log types '%s' with engine version postgres %s.", e, version)
			}
		}
		now := f.c.now()
		f.c.seq++
		port := aws.ToInt32(in.Port)
		if port == 0 {
			port = 5432
		}
		db := &fakeDBInstance{
			ID: id, ARN: f.c.arn("rds", "db:"+id), ResourceID: "db-" + strings.ToUpper(dmsBase32(mix(f.c.seq)) + dmsBase32(mix(f.c.seq+1)))[:26],
			Class: aws.ToString(in.DBInstanceClass), Engine: "postgres", EngineVersion: version, Storage: storage, StorageType: storageType,
			Encrypted: aws.ToBool(in.StorageEncrypted), KmsKeyID: key, MultiAZ: aws.ToBool(in.MultiAZ),
			Public: aws.ToBool(in.PubliclyAccessible), SubnetGroup: strings.ToLower(sg), SecurityGroups: slices.Clone(in.VpcSecurityGroupIds),
			ParamGroup: strings.ToLower(pg), ParamStatus: "in-sync", MasterUsername: aws.ToString(in.MasterUsername), DBName: aws.ToString(in.DBName),
			Port: port, LogExports: slices.Clone(in.EnableCloudwatchLogsExports), DeletionProtect: aws.ToBool(in.DeletionProtection),
			BackupRetention: 1, CopyTags: aws.ToBool(in.CopyTagsToSnapshot), AutoMinor: in.AutoMinorVersionUpgrade == nil || *in.AutoMinorVersionUpgrade,
			Tags: rdsTagMap(in.Tags), Created: now, Status: "creating",
			EndpointAddress: fmt.Sprintf("%s.c%010x.%s.rds.amazonaws.com", id, mix(f.c.seq)&0xffffffffff, f.c.region),
		}
		if in.BackupRetentionPeriod != nil {
			db.BackupRetention = *in.BackupRetentionPeriod
		}
		create := rdsCreateFor
		if db.MultiAZ {
			create += rdsMultiAZExtra
		}
		db.Steps = []rdsStep{{At: now.Add(create), Status: "available"}}
		if aws.ToBool(in.ManageMasterUserPassword) {
			skey := aws.ToString(in.MasterUserSecretKmsKeyId)
			if skey != "" && !smKeyUsable(f.c, skey) {
				return apiError("KMSKeyNotAccessibleFault", "The specified KMS key %s does not exist, is not enabled or you do not have permissions to access it.", skey)
			}
			value, _ := json.Marshal(map[string]string{"username": db.MasterUsername, "password": f.randomPassword()})
			sm := f.c.SecretsManager()
			sec := sm.managedSecret("rds!"+strings.ToLower(db.ResourceID), "rds", skey, string(value), map[string]string{
				"aws:rds:primaryDBInstanceArn": db.ARN, "aws:secretsmanager:owningService": "rds",
			})
			db.MasterSecretARN, db.MasterSecretKey = sec.ARN, skey
		}
		s.Instances[id] = db
		f.c.created("rds-db/" + id)
		out = &rds.CreateDBInstanceOutput{DBInstance: rdsPtr(db.out())}
		return nil
	})
	return out, err
}

func rdsPtr[T any](v T) *T { return &v }

// DescribeDBInstances describes one instance (DBInstanceIdentifier) or
// all, paginated by Marker.
func (f *RDS) DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	var out *rds.DescribeDBInstancesOutput
	err := f.c.call(ctx, rds.ServiceID, "DescribeDBInstances", false, func() error {
		var all []types.DBInstance
		if in.DBInstanceIdentifier != nil {
			db, err := f.instance(*in.DBInstanceIdentifier)
			if err != nil {
				return err
			}
			all = append(all, db.out())
		} else {
			s := f.st()
			for _, id := range sortedKeys(s.Instances) {
				all = append(all, s.Instances[id].out())
			}
		}
		items, next, err := page(all, in.Marker, int(max(aws.ToInt32(in.MaxRecords), 20)))
		if err != nil {
			return err
		}
		out = &rds.DescribeDBInstancesOutput{DBInstances: items, Marker: next}
		return nil
	})
	return out, err
}

// ModifyDBInstance changes an available instance. Class, storage, Multi-AZ
// and engine version apply at once with ApplyImmediately (the instance is
// "modifying" for a while) or wait in PendingModifiedValues; the other
// fields apply at once. Storage can only grow; the parameter group change
// leaves the instance "pending-reboot".
func (f *RDS) ModifyDBInstance(ctx context.Context, in *rds.ModifyDBInstanceInput, _ ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error) {
	var out *rds.ModifyDBInstanceOutput
	err := f.c.call(ctx, rds.ServiceID, "ModifyDBInstance", true, func() error {
		db, err := f.instance(aws.ToString(in.DBInstanceIdentifier))
		if err != nil {
			return err
		}
		if db.Status != "available" {
			return apiError("InvalidDBInstanceState", "Database instance is not in available state.")
		}
		if in.AllocatedStorage != nil && *in.AllocatedStorage < db.Storage {
			return apiError("InvalidParameterCombination", "Invalid storage size for engine name postgres and storage type %s: %d (storage can only grow)", db.StorageType, *in.AllocatedStorage)
		}
		if in.DBInstanceClass != nil && !rdsClassRe.MatchString(*in.DBInstanceClass) {
			return apiError("InvalidParameterValue", "Invalid DB Instance class: %s", *in.DBInstanceClass)
		}
		if in.EngineVersion != nil {
			if m := rdsVersionRe.FindStringSubmatch(*in.EngineVersion); m == nil || !strings.HasPrefix(db.EngineVersion, m[1]+".") && !aws.ToBool(in.AllowMajorVersionUpgrade) {
				return apiError("InvalidParameterCombination", "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.")
			}
		}
		if pg := aws.ToString(in.DBParameterGroupName); pg != "" {
			g, ok := f.st().ParamGroups[strings.ToLower(pg)]
			if !ok {
				return notFound("DBParameterGroupNotFound", "DBParameterGroup not found: %s", pg)
			}
			if !strings.HasPrefix(db.EngineVersion, strings.TrimPrefix(g.Family, "postgres")+".") {
				return apiError("InvalidParameterCombination", "The parameter group %s with DBParameterGroupFamily %s can't be used for this instance.", pg, g.Family)
			}
			if g.Name != db.ParamGroup {
				db.ParamGroup, db.ParamStatus = g.Name, "pending-reboot"
			}
		}
		if c := in.CloudwatchLogsExportConfiguration; c != nil {
			for _, e := range c.EnableLogTypes {
				if !slices.Contains(rdsLogExports, e) {
					return apiError("InvalidParameterCombination", "You cannot use the log types '%s'.", e)
				}
				if !slices.Contains(db.LogExports, e) {
					db.LogExports = append(db.LogExports, e)
				}
			}
			db.LogExports = slices.DeleteFunc(db.LogExports, func(e string) bool { return slices.Contains(c.DisableLogTypes, e) })
		}
		if in.DeletionProtection != nil {
			db.DeletionProtect = *in.DeletionProtection
		}
		if in.CopyTagsToSnapshot != nil {
			db.CopyTags = *in.CopyTagsToSnapshot
		}
		if in.AutoMinorVersionUpgrade != nil {
			db.AutoMinor = *in.AutoMinorVersionUpgrade
		}
		if in.BackupRetentionPeriod != nil {
			db.BackupRetention = *in.BackupRetentionPeriod
		}
		if in.PubliclyAccessible != nil {
			db.Public = *in.PubliclyAccessible
		}
		if in.VpcSecurityGroupIds != nil {
			db.SecurityGroups = slices.Clone(in.VpcSecurityGroupIds)
		}
		p := db.Pending
		if in.DBInstanceClass != nil {
			p.Class = *in.DBInstanceClass
		}
		if in.AllocatedStorage != nil {
			p.Storage = *in.AllocatedStorage
		}
		if in.MultiAZ != nil {
			p.MultiAZ = aws.Bool(*in.MultiAZ)
		}
		if in.EngineVersion != nil {
			p.EngineVersion = *in.EngineVersion
		}
		db.Pending = p
		if aws.ToBool(in.ApplyImmediately) && !p.empty() {
			db.applyPending()
			db.Status = "modifying"
			db.Steps = []rdsStep{{At: f.c.now().Add(rdsModifyFor), Status: "available"}}
		}
		out = &rds.ModifyDBInstanceOutput{DBInstance: rdsPtr(db.out())}
		return nil
	})
	return out, err
}

func (db *fakeDBInstance) applyPending() {
	p := db.Pending
	if p.Class != "" {
		db.Class = p.Class
	}
	if p.Storage != 0 {
		db.Storage = p.Storage
	}
	if p.MultiAZ != nil {
		db.MultiAZ = *p.MultiAZ
	}
	if p.EngineVersion != "" {
		db.EngineVersion = p.EngineVersion
		if !strings.Contains(db.EngineVersion, ".") {
			db.EngineVersion += ".6"
		}
	}
	db.Pending = rdsPending{}
}

// RebootDBInstance reboots an available instance, which applies pending
// static parameter changes.
func (f *RDS) RebootDBInstance(ctx context.Context, in *rds.RebootDBInstanceInput, _ ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error) {
	var out *rds.RebootDBInstanceOutput
	err := f.c.call(ctx, rds.ServiceID, "RebootDBInstance", true, func() error {
		db, err := f.instance(aws.ToString(in.DBInstanceIdentifier))
		if err != nil {
			return err
		}
		if db.Status != "available" {
			return apiError("InvalidDBInstanceState", "Database instance is not in available state.")
		}
		db.Status, db.ParamStatus = "rebooting", "in-sync"
		db.Steps = []rdsStep{{At: f.c.now().Add(rdsRebootFor), Status: "available"}}
		out = &rds.RebootDBInstanceOutput{DBInstance: rdsPtr(db.out())}
		return nil
	})
	return out, err
}

// DeleteDBInstance deletes an instance: with SkipFinalSnapshot, or with a
// FinalDBSnapshotIdentifier that the fake snapshots to (exactly one of
// the two); never while DeletionProtection is on. The RDS-managed master
// secret goes with the instance.
func (f *RDS) DeleteDBInstance(ctx context.Context, in *rds.DeleteDBInstanceInput, _ ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error) {
	var out *rds.DeleteDBInstanceOutput
	err := f.c.call(ctx, rds.ServiceID, "DeleteDBInstance", true, func() error {
		db, err := f.instance(aws.ToString(in.DBInstanceIdentifier))
		if err != nil {
			return err
		}
		skip := aws.ToBool(in.SkipFinalSnapshot)
		final := aws.ToString(in.FinalDBSnapshotIdentifier)
		switch {
		case db.DeletionProtect:
			return apiError("InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.")
		case db.Status == "deleting":
			return apiError("InvalidDBInstanceState", "DB instance %s is already being deleted.", db.ID)
		case db.Status == "creating":
			return apiError("InvalidDBInstanceState", "Instance %s is currently creating - a final snapshot cannot be taken.", db.ID)
		case skip && final != "":
			return apiError("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when deleting a DB instance with SkipFinalSnapshot set to true.")
		case !skip && final == "":
			return apiError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		}
		now := f.c.now()
		s := f.st()
		if final != "" {
			sid := strings.ToLower(final)
			if !rdsGroupRe.MatchString(sid) {
				return apiError("InvalidParameterValue", "The parameter FinalDBSnapshotIdentifier is not a valid identifier.")
			}
			if _, ok := s.Snapshots[sid]; ok {
				return apiError("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", sid)
			}
			tags := map[string]string{}
			if db.CopyTags {
				for k, v := range db.Tags {
					tags[k] = v
				}
			}
			s.Snapshots[sid] = &fakeDBSnapshot{
				ID: sid, ARN: f.c.arn("rds", "snapshot:"+sid), Instance: db.ID, Type: "manual", Engine: db.Engine, EngineVersion: db.EngineVersion,
				Storage: db.Storage, KmsKeyID: db.KmsKeyID, Tags: tags, Created: now, Status: "creating",
				Steps: []rdsStep{{At: now.Add(rdsSnapshotFor), Status: "available"}},
			}
			db.FinalSnapshot = sid
		}
		if db.MasterSecretARN != "" {
			sm := f.c.SecretsManager()
			for name, sec := range sm.st().Secrets {
				if sec.ARN == db.MasterSecretARN {
					delete(sm.st().Secrets, name)
				}
			}
		}
		db.Status = "deleting"
		db.Steps = []rdsStep{{At: now.Add(rdsDeleteFor), Status: "deleted"}}
		out = &rds.DeleteDBInstanceOutput{DBInstance: rdsPtr(db.out())}
		return nil
	})
	return out, err
}

// --- parameter groups ---

func (f *RDS) paramGroup(name string) (*fakeParamGroup, error) {
	g, ok := f.st().ParamGroups[strings.ToLower(name)]
	if !ok || f.c.hidden("rds-pg/"+strings.ToLower(name)) {
		return nil, notFound("DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
	}
	return g, nil
}

// CreateDBParameterGroup creates a parameter group of a postgres family.
func (f *RDS) CreateDBParameterGroup(ctx context.Context, in *rds.CreateDBParameterGroupInput, _ ...func(*rds.Options)) (*rds.CreateDBParameterGroupOutput, error) {
	var out *rds.CreateDBParameterGroupOutput
	err := f.c.call(ctx, rds.ServiceID, "CreateDBParameterGroup", true, func() error {
		name := strings.ToLower(aws.ToString(in.DBParameterGroupName))
		switch {
		case !rdsGroupRe.MatchString(name):
			return apiError("InvalidParameterValue", "The parameter DBParameterGroupName is not a valid identifier.")
		case !rdsFamilyRe.MatchString(aws.ToString(in.DBParameterGroupFamily)):
			return apiError("InvalidParameterValue", "DBParameterGroupFamily %s is not valid (the fake supports postgres11..18)", aws.ToString(in.DBParameterGroupFamily))
		case aws.ToString(in.Description) == "":
			return apiError("InvalidParameterValue", "The parameter Description must be provided and must not be blank.")
		}
		s := f.st()
		if _, ok := s.ParamGroups[name]; ok {
			return apiError("DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
		}
		g := &fakeParamGroup{Name: name, ARN: f.c.arn("rds", "pg:"+name), Family: aws.ToString(in.DBParameterGroupFamily),
			Description: aws.ToString(in.Description), Params: map[string]fakeDBParam{}, Tags: rdsTagMap(in.Tags)}
		s.ParamGroups[name] = g
		f.c.created("rds-pg/" + name)
		out = &rds.CreateDBParameterGroupOutput{DBParameterGroup: &types.DBParameterGroup{
			DBParameterGroupName: aws.String(name), DBParameterGroupArn: aws.String(g.ARN), DBParameterGroupFamily: aws.String(g.Family), Description: aws.String(g.Description)}}
		return nil
	})
	return out, err
}

// DescribeDBParameterGroups describes one group or all.
func (f *RDS) DescribeDBParameterGroups(ctx context.Context, in *rds.DescribeDBParameterGroupsInput, _ ...func(*rds.Options)) (*rds.DescribeDBParameterGroupsOutput, error) {
	var out *rds.DescribeDBParameterGroupsOutput
	err := f.c.call(ctx, rds.ServiceID, "DescribeDBParameterGroups", false, func() error {
		var groups []*fakeParamGroup
		if in.DBParameterGroupName != nil {
			g, err := f.paramGroup(*in.DBParameterGroupName)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		} else {
			s := f.st()
			for _, n := range sortedKeys(s.ParamGroups) {
				groups = append(groups, s.ParamGroups[n])
			}
		}
		var all []types.DBParameterGroup
		for _, g := range groups {
			all = append(all, types.DBParameterGroup{DBParameterGroupName: aws.String(g.Name), DBParameterGroupArn: aws.String(g.ARN), DBParameterGroupFamily: aws.String(g.Family), Description: aws.String(g.Description)})
		}
		items, next, err := page(all, in.Marker, int(max(aws.ToInt32(in.MaxRecords), 20)))
		if err != nil {
			return err
		}
		out = &rds.DescribeDBParameterGroupsOutput{DBParameterGroups: items, Marker: next}
		return nil
	})
	return out, err
}

// ModifyDBParameterGroup sets up to 20 parameters. A static parameter
// needs ApplyMethod pending-reboot, and its change leaves every instance
// using the group "pending-reboot".
func (f *RDS) ModifyDBParameterGroup(ctx context.Context, in *rds.ModifyDBParameterGroupInput, _ ...func(*rds.Options)) (*rds.ModifyDBParameterGroupOutput, error) {
	var out *rds.ModifyDBParameterGroupOutput
	err := f.c.call(ctx, rds.ServiceID, "ModifyDBParameterGroup", true, func() error {
		g, err := f.paramGroup(aws.ToString(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		if len(in.Parameters) == 0 || len(in.Parameters) > rdsMaxParamsPerMod {
			return apiError("InvalidParameterValue", "Parameters must hold 1..%d entries", rdsMaxParamsPerMod)
		}
		staticChanged := false
		for _, p := range in.Parameters {
			name := aws.ToString(p.ParameterName)
			static, known := rdsParams[name]
			if !known {
				return apiError("InvalidParameterValue", "Could not find parameter with name: %s", name)
			}
			if p.ApplyMethod == "" {
				return apiError("InvalidParameterValue", "ApplyMethod is required for parameter %s", name)
			}
			if static && p.ApplyMethod == types.ApplyMethodImmediate {
				return apiError("InvalidParameterCombination", "cannot use immediate apply method for static parameter")
			}
			if old, ok := g.Params[name]; !ok || old.Value != aws.ToString(p.ParameterValue) {
				staticChanged = staticChanged || static
			}
		}
		for _, p := range in.Parameters {
			g.Params[aws.ToString(p.ParameterName)] = fakeDBParam{Value: aws.ToString(p.ParameterValue), Method: string(p.ApplyMethod)}
		}
		if staticChanged {
			for _, db := range f.st().Instances {
				if db.ParamGroup == g.Name && db.Status != "creating" {
					db.ParamStatus = "pending-reboot"
				}
			}
		}
		out = &rds.ModifyDBParameterGroupOutput{DBParameterGroupName: aws.String(g.Name)}
		return nil
	})
	return out, err
}

// DescribeDBParameters lists a group's parameters; Source "user" limits
// them to the ones set on the group. Paginated by Marker (100 a page).
func (f *RDS) DescribeDBParameters(ctx context.Context, in *rds.DescribeDBParametersInput, _ ...func(*rds.Options)) (*rds.DescribeDBParametersOutput, error) {
	var out *rds.DescribeDBParametersOutput
	err := f.c.call(ctx, rds.ServiceID, "DescribeDBParameters", false, func() error {
		g, err := f.paramGroup(aws.ToString(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		var all []types.Parameter
		for _, name := range sortedKeys(rdsParams) {
			p, set := g.Params[name]
			src := "engine-default"
			if set {
				src = "user"
			}
			if in.Source != nil && *in.Source != src {
				continue
			}
			applyType := "dynamic"
			if rdsParams[name] {
				applyType = "static"
			}
			param := types.Parameter{ParameterName: aws.String(name), Source: aws.String(src), ApplyType: aws.String(applyType), IsModifiable: aws.Bool(true)}
			if set {
				param.ParameterValue, param.ApplyMethod = aws.String(p.Value), types.ApplyMethod(p.Method)
			}
			all = append(all, param)
		}
		items, next, err := page(all, in.Marker, int(max(aws.ToInt32(in.MaxRecords), 100)))
		if err != nil {
			return err
		}
		out = &rds.DescribeDBParametersOutput{Parameters: items, Marker: next}
		return nil
	})
	return out, err
}

// DeleteDBParameterGroup deletes a group no instance uses.
func (f *RDS) DeleteDBParameterGroup(ctx context.Context, in *rds.DeleteDBParameterGroupInput, _ ...func(*rds.Options)) (*rds.DeleteDBParameterGroupOutput, error) {
	err := f.c.call(ctx, rds.ServiceID, "DeleteDBParameterGroup", true, func() error {
		g, err := f.paramGroup(aws.ToString(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		for _, db := range f.st().Instances {
			if db.ParamGroup == g.Name {
				return apiError("InvalidDBParameterGroupState", "One or more database instances are still members of this parameter group %s, so the group cannot be deleted", g.Name)
			}
		}
		delete(f.st().ParamGroups, g.Name)
		return nil
	})
	return &rds.DeleteDBParameterGroupOutput{}, err
}

// --- subnet groups ---

func (f *RDS) subnetGroup(name string) (*fakeDBSubnetGroup, error) {
	g, ok := f.st().SubnetGroups[strings.ToLower(name)]
	if !ok || f.c.hidden("rds-sg/"+strings.ToLower(name)) {
		return nil, notFound("DBSubnetGroupNotFoundFault", "DB subnet group '%s' not found.", name)
	}
	return g, nil
}

func (g *fakeDBSubnetGroup) out(c *Cloud) types.DBSubnetGroup {
	o := types.DBSubnetGroup{DBSubnetGroupName: aws.String(g.Name), DBSubnetGroupArn: aws.String(g.ARN), DBSubnetGroupDescription: aws.String(g.Description),
		SubnetGroupStatus: aws.String("Complete"), VpcId: aws.String(g.VPC)}
	for _, id := range g.Subnets {
		_, az, _ := dbLookupSubnet(c, id)
		o.Subnets = append(o.Subnets, types.Subnet{SubnetIdentifier: aws.String(id), SubnetStatus: aws.String("Active"), SubnetAvailabilityZone: &types.AvailabilityZone{Name: aws.String(az)}})
	}
	return o
}

func (f *RDS) checkSubnets(ids []string) (string, error) {
	if len(ids) == 0 {
		return "", apiError("InvalidParameterValue", "The parameter SubnetIds must be provided.")
	}
	vpc, azs, err := f.c.dbSubnetsInfo(ids)
	if err != nil {
		return "", apiError("InvalidSubnet", "Some of the subnets are invalid: %v", err)
	}
	if len(azs) < 2 {
		return "", apiError("DBSubnetGroupDoesNotCoverEnoughAZs", "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(sortedKeys(azs), ", "))
	}
	return vpc, nil
}

// CreateDBSubnetGroup creates a subnet group over subnets of one VPC in
// at least two Availability Zones.
func (f *RDS) CreateDBSubnetGroup(ctx context.Context, in *rds.CreateDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.CreateDBSubnetGroupOutput, error) {
	var out *rds.CreateDBSubnetGroupOutput
	err := f.c.call(ctx, rds.ServiceID, "CreateDBSubnetGroup", true, func() error {
		name := strings.ToLower(aws.ToString(in.DBSubnetGroupName))
		if name == "" || name == "default" || len(name) > 255 {
			return apiError("InvalidParameterValue", "The parameter DBSubnetGroupName is not a valid identifier.")
		}
		if aws.ToString(in.DBSubnetGroupDescription) == "" {
			return apiError("InvalidParameterValue", "The parameter DBSubnetGroupDescription must be provided and must not be blank.")
		}
		s := f.st()
		if _, ok := s.SubnetGroups[name]; ok {
			return apiError("DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
		}
		vpc, err := f.checkSubnets(in.SubnetIds)
		if err != nil {
			return err
		}
		g := &fakeDBSubnetGroup{Name: name, ARN: f.c.arn("rds", "subgrp:"+name), Description: aws.ToString(in.DBSubnetGroupDescription),
			Subnets: slices.Sorted(slices.Values(in.SubnetIds)), VPC: vpc, Tags: rdsTagMap(in.Tags)}
		s.SubnetGroups[name] = g
		f.c.created("rds-sg/" + name)
		out = &rds.CreateDBSubnetGroupOutput{DBSubnetGroup: rdsPtr(g.out(f.c))}
		return nil
	})
	return out, err
}

// DescribeDBSubnetGroups describes one group or all.
func (f *RDS) DescribeDBSubnetGroups(ctx context.Context, in *rds.DescribeDBSubnetGroupsInput, _ ...func(*rds.Options)) (*rds.DescribeDBSubnetGroupsOutput, error) {
	var out *rds.DescribeDBSubnetGroupsOutput
	err := f.c.call(ctx, rds.ServiceID, "DescribeDBSubnetGroups", false, func() error {
		var all []types.DBSubnetGroup
		if in.DBSubnetGroupName != nil {
			g, err := f.subnetGroup(*in.DBSubnetGroupName)
			if err != nil {
				return err
			}
			all = append(all, g.out(f.c))
		} else {
			s := f.st()
			for _, n := range sortedKeys(s.SubnetGroups) {
				all = append(all, s.SubnetGroups[n].out(f.c))
			}
		}
		items, next, err := page(all, in.Marker, int(max(aws.ToInt32(in.MaxRecords), 20)))
		if err != nil {
			return err
		}
		out = &rds.DescribeDBSubnetGroupsOutput{DBSubnetGroups: items, Marker: next}
		return nil
	})
	return out, err
}

// ModifyDBSubnetGroup replaces a group's subnets (same rules as create;
// the VPC cannot change).
func (f *RDS) ModifyDBSubnetGroup(ctx context.Context, in *rds.ModifyDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.ModifyDBSubnetGroupOutput, error) {
	var out *rds.ModifyDBSubnetGroupOutput
	err := f.c.call(ctx, rds.ServiceID, "ModifyDBSubnetGroup", true, func() error {
		g, err := f.subnetGroup(aws.ToString(in.DBSubnetGroupName))
		if err != nil {
			return err
		}
		vpc, err := f.checkSubnets(in.SubnetIds)
		if err != nil {
			return err
		}
		if vpc != g.VPC {
			return apiError("InvalidSubnet", "The new subnets are not in the same VPC as the existing subnet group.")
		}
		g.Subnets = slices.Sorted(slices.Values(in.SubnetIds))
		if in.DBSubnetGroupDescription != nil {
			g.Description = *in.DBSubnetGroupDescription
		}
		out = &rds.ModifyDBSubnetGroupOutput{DBSubnetGroup: rdsPtr(g.out(f.c))}
		return nil
	})
	return out, err
}

// DeleteDBSubnetGroup deletes a group no instance uses.
func (f *RDS) DeleteDBSubnetGroup(ctx context.Context, in *rds.DeleteDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.DeleteDBSubnetGroupOutput, error) {
	err := f.c.call(ctx, rds.ServiceID, "DeleteDBSubnetGroup", true, func() error {
		g, err := f.subnetGroup(aws.ToString(in.DBSubnetGroupName))
		if err != nil {
			return err
		}
		for _, db := range f.st().Instances {
			if db.SubnetGroup == g.Name {
				return apiError("InvalidDBSubnetGroupStateFault", "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", g.Name, db.ID)
			}
		}
		delete(f.st().SubnetGroups, g.Name)
		return nil
	})
	return &rds.DeleteDBSubnetGroupOutput{}, err
}

// --- snapshots ---

func (sn *fakeDBSnapshot) out() types.DBSnapshot {
	return types.DBSnapshot{DBSnapshotIdentifier: aws.String(sn.ID), DBSnapshotArn: aws.String(sn.ARN), DBInstanceIdentifier: aws.String(sn.Instance),
		SnapshotType: aws.String(sn.Type), Engine: aws.String(sn.Engine), EngineVersion: aws.String(sn.EngineVersion), AllocatedStorage: aws.Int32(sn.Storage),
		Encrypted: aws.Bool(sn.KmsKeyID != ""), KmsKeyId: smOpt(sn.KmsKeyID), TagList: rdsTags(sn.Tags), SnapshotCreateTime: aws.Time(sn.Created), Status: aws.String(sn.Status)}
}

// DescribeDBSnapshots describes snapshots by identifier or by instance.
func (f *RDS) DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput, _ ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	var out *rds.DescribeDBSnapshotsOutput
	err := f.c.call(ctx, rds.ServiceID, "DescribeDBSnapshots", false, func() error {
		s := f.st()
		var all []types.DBSnapshot
		if id := aws.ToString(in.DBSnapshotIdentifier); id != "" {
			sn, ok := s.Snapshots[strings.ToLower(id)]
			if !ok {
				return notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
			}
			all = append(all, sn.out())
		} else {
			for _, id := range sortedKeys(s.Snapshots) {
				sn := s.Snapshots[id]
				if in.DBInstanceIdentifier == nil || strings.EqualFold(*in.DBInstanceIdentifier, sn.Instance) {
					all = append(all, sn.out())
				}
			}
		}
		items, next, err := page(all, in.Marker, int(max(aws.ToInt32(in.MaxRecords), 20)))
		if err != nil {
			return err
		}
		out = &rds.DescribeDBSnapshotsOutput{DBSnapshots: items, Marker: next}
		return nil
	})
	return out, err
}

// DeleteDBSnapshot deletes an available manual snapshot.
func (f *RDS) DeleteDBSnapshot(ctx context.Context, in *rds.DeleteDBSnapshotInput, _ ...func(*rds.Options)) (*rds.DeleteDBSnapshotOutput, error) {
	var out *rds.DeleteDBSnapshotOutput
	err := f.c.call(ctx, rds.ServiceID, "DeleteDBSnapshot", true, func() error {
		s := f.st()
		id := strings.ToLower(aws.ToString(in.DBSnapshotIdentifier))
		sn, ok := s.Snapshots[id]
		if !ok {
			return notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
		}
		if sn.Status != "available" {
			return apiError("InvalidDBSnapshotState", "Cannot delete the snapshot because it is not currently in the available state.")
		}
		delete(s.Snapshots, id)
		out = &rds.DeleteDBSnapshotOutput{DBSnapshot: rdsPtr(sn.out())}
		return nil
	})
	return out, err
}

// --- tags ---

func (f *RDS) tagsOf(arn string) (map[string]string, error) {
	s := f.st()
	for _, db := range s.Instances {
		if db.ARN == arn {
			return db.Tags, nil
		}
	}
	for _, g := range s.ParamGroups {
		if g.ARN == arn {
			return g.Tags, nil
		}
	}
	for _, g := range s.SubnetGroups {
		if g.ARN == arn {
			return g.Tags, nil
		}
	}
	for _, sn := range s.Snapshots {
		if sn.ARN == arn {
			return sn.Tags, nil
		}
	}
	switch {
	case strings.Contains(arn, ":db:"):
		return nil, notFound("DBInstanceNotFound", "DBInstance %s not found.", arn)
	case strings.Contains(arn, ":pg:"):
		return nil, notFound("DBParameterGroupNotFound", "DBParameterGroup not found: %s", arn)
	case strings.Contains(arn, ":subgrp:"):
		return nil, notFound("DBSubnetGroupNotFoundFault", "DB subnet group not found: %s", arn)
	case strings.Contains(arn, ":snapshot:"):
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", arn)
	}
	return nil, apiError("InvalidParameterValue", "Unable to parse ARN %s", arn)
}

// ListTagsForResource lists the tags of an instance, group or snapshot.
func (f *RDS) ListTagsForResource(ctx context.Context, in *rds.ListTagsForResourceInput, _ ...func(*rds.Options)) (*rds.ListTagsForResourceOutput, error) {
	var out *rds.ListTagsForResourceOutput
	err := f.c.call(ctx, rds.ServiceID, "ListTagsForResource", false, func() error {
		tags, err := f.tagsOf(aws.ToString(in.ResourceName))
		if err != nil {
			return err
		}
		out = &rds.ListTagsForResourceOutput{TagList: rdsTags(tags)}
		return nil
	})
	return out, err
}

// AddTagsToResource adds or overwrites tags (at most 50 per resource).
func (f *RDS) AddTagsToResource(ctx context.Context, in *rds.AddTagsToResourceInput, _ ...func(*rds.Options)) (*rds.AddTagsToResourceOutput, error) {
	err := f.c.call(ctx, rds.ServiceID, "AddTagsToResource", true, func() error {
		tags, err := f.tagsOf(aws.ToString(in.ResourceName))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(tags) > 50 {
			return apiError("TagQuotaPerResourceExceeded", "a resource can have at most 50 tags")
		}
		return nil
	})
	return &rds.AddTagsToResourceOutput{}, err
}

// RemoveTagsFromResource removes tags.
func (f *RDS) RemoveTagsFromResource(ctx context.Context, in *rds.RemoveTagsFromResourceInput, _ ...func(*rds.Options)) (*rds.RemoveTagsFromResourceOutput, error) {
	err := f.c.call(ctx, rds.ServiceID, "RemoveTagsFromResource", true, func() error {
		tags, err := f.tagsOf(aws.ToString(in.ResourceName))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	return &rds.RemoveTagsFromResourceOutput{}, err
}

// --- test helpers ---

// DBInstanceStatus returns an instance's status ("" when gone), for
// assertions.
func (f *RDS) DBInstanceStatus(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if db, ok := f.st().Instances[strings.ToLower(id)]; ok {
		return db.Status
	}
	return ""
}

// DBInstances returns the identifiers of all instances, for assertions.
func (f *RDS) DBInstances() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Instances)
}

// Snapshots returns the identifiers of all snapshots, for assertions.
func (f *RDS) Snapshots() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Snapshots)
}

// ParameterGroupParams returns the user-set parameters of a group, for
// assertions.
func (f *RDS) ParameterGroupParams(name string) map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	g, ok := f.st().ParamGroups[strings.ToLower(name)]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range g.Params {
		out[k] = v.Value
	}
	return out
}

// ApplyPendingMaintenance applies an instance's pending modifications, as
// its next maintenance window would. It reports whether anything was
// pending.
func (f *RDS) ApplyPendingMaintenance(id string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	db, ok := f.st().Instances[strings.ToLower(id)]
	if !ok || db.Pending.empty() {
		return false
	}
	db.applyPending()
	return true
}

// SetDBInstanceStatus forces an instance's status (for example "storage-
// full" or "failed"), for tests of how callers react.
func (f *RDS) SetDBInstanceStatus(id, status string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if db, ok := f.st().Instances[strings.ToLower(id)]; ok {
		db.Status, db.Steps = status, nil
	}
}
