package fakecloud

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DynamoDB is the fake DynamoDB client: tables (created ACTIVE after a few
// fake seconds, KMS encryption, on-demand billing, point-in-time
// recovery, deletion protection, tags), on-demand backups, and items with
// condition, update, key-condition, filter and projection expressions
// evaluated as DynamoDB does. Conditional failures come back as the SDK's
// typed errors (*types.ConditionalCheckFailedException,
// *types.TransactionCanceledException with CancellationReasons), so code
// that inspects them with errors.As works against the fake as against AWS.
// Every call is atomic: the cloud's lock serialises them, so a
// conditional write has exactly one winner. Get it with Cloud.DynamoDB.
type DynamoDB struct{ c *Cloud }

// DynamoDB returns the DynamoDB client of the cloud.
func (c *Cloud) DynamoDB() *DynamoDB { return &DynamoDB{c: c} }

func init() { register("dynamodb", func() any { return &ddbState{} }) }

// How long the asynchronous table states last, in fake time.
const (
	ddbCreateTime = 5 * time.Second
	ddbUpdateTime = 5 * time.Second
	ddbDeleteTime = 5 * time.Second
	ddbMaxItem    = 400 * 1024
	ddbMaxPage    = 1024 * 1024
)

type ddbState struct {
	Tables  map[string]*ddbTable  `json:"tables"`
	Backups map[string]*ddbBackup `json:"backups"` // by ARN
}

type ddbKeyElem struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // HASH or RANGE
	Type string `json:"type"` // S, N or B
}

type ddbTable struct {
	Name               string                `json:"name"`
	ARN                string                `json:"arn"`
	ID                 string                `json:"id"`
	Key                []ddbKeyElem          `json:"key"`
	Attrs              map[string]string     `json:"attrs"` // attribute definitions
	BillingMode        string                `json:"billingMode"`
	RCU                int64                 `json:"rcu,omitempty"`
	WCU                int64                 `json:"wcu,omitempty"`
	KMSKeyARN          string                `json:"kmsKeyArn,omitempty"` // "" = AWS owned key
	PITR               bool                  `json:"pitr"`
	PITRDays           int32                 `json:"pitrDays,omitempty"`
	PITRSince          time.Time             `json:"pitrSince,omitzero"`
	DeletionProtection bool                  `json:"deletionProtection"`
	Tags               map[string]string     `json:"tags"`
	Created            time.Time             `json:"created"`
	UpdatingUntil      time.Time             `json:"updatingUntil,omitzero"`
	DeletedAt          time.Time             `json:"deletedAt,omitzero"`
	Items              map[string]storedItem `json:"items"`
}

type ddbBackup struct {
	ARN     string                `json:"arn"`
	Name    string                `json:"name"`
	Table   string                `json:"table"`
	Created time.Time             `json:"created"`
	Items   map[string]storedItem `json:"items"`
}

// DynamoDBBackup is an on-demand backup as the fake keeps it, for
// assertions.
type DynamoDBBackup struct {
	ARN, Name, Table string
	Created          time.Time
	Items            int
}

func (f *DynamoDB) st() *ddbState {
	s := state[ddbState](f.c, "dynamodb")
	if s.Tables == nil {
		s.Tables = map[string]*ddbTable{}
	}
	if s.Backups == nil {
		s.Backups = map[string]*ddbBackup{}
	}
	for name, t := range s.Tables {
		if !t.DeletedAt.IsZero() && !f.c.now().Before(t.DeletedAt.Add(ddbDeleteTime)) {
			delete(s.Tables, name)
		}
	}
	return s
}

func (t *ddbTable) status(now time.Time) types.TableStatus {
	switch {
	case !t.DeletedAt.IsZero():
		return types.TableStatusDeleting
	case now.Before(t.Created.Add(ddbCreateTime)):
		return types.TableStatusCreating
	case now.Before(t.UpdatingUntil):
		return types.TableStatusUpdating
	}
	return types.TableStatusActive
}

// typedErr returns a typed DynamoDB error in the shape the SDK returns it
// (an HTTP response error around the modeled exception), so that errors.As
// finds the typed exception.
func (f *DynamoDB) typedErr(e smithy.APIError) error {
	f.c.seq++
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{}}},
			Err:      e,
		},
		RequestID: fmt.Sprintf("%08x-fake-%012x", f.c.seq, f.c.seq*7919),
	}
}

func (f *DynamoDB) tableNotFound() error {
	return f.typedErr(&types.ResourceNotFoundException{Message: aws.String("Requested resource not found")})
}

// table returns a table that item operations may use: it exists and is
// not being created or deleted (DynamoDB answers ResourceNotFound for
// those).
func (f *DynamoDB) table(name *string) (*ddbTable, error) {
	if name == nil || *name == "" {
		return nil, apiError("ValidationException", "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	n := *name
	if strings.HasPrefix(n, "arn:") {
		_, n, _ = strings.Cut(n, ":table/")
	}
	t, ok := f.st().Tables[n]
	if !ok {
		return nil, f.tableNotFound()
	}
	if s := t.status(f.c.now()); s == types.TableStatusCreating || s == types.TableStatusDeleting {
		return nil, f.tableNotFound()
	}
	return t, nil
}

// tableAny returns a table in any state (control-plane reads).
func (f *DynamoDB) tableAny(name string) (*ddbTable, error) {
	if strings.HasPrefix(name, "arn:") {
		_, name, _ = strings.Cut(name, ":table/")
	}
	t, ok := f.st().Tables[name]
	if !ok || f.c.hidden("table/"+name) {
		return nil, f.typedErr(&types.ResourceNotFoundException{Message: aws.String("Requested resource not found: Table: " + name + " not found")})
	}
	return t, nil
}

var tableNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// checkKMSKey checks that key names a usable key of this cloud and
// returns its ARN, as DynamoDB refuses a key it cannot use.
func (f *DynamoDB) checkKMSKey(key string) (string, error) {
	k, err := f.c.KMS().key(key)
	if err != nil || k.State != string(kmstypes.KeyStateEnabled) {
		return "", apiError("ValidationException", "KMSMasterKeyId %s is invalid or the key is not enabled", key)
	}
	return k.ARN, nil
}

func (f *DynamoDB) describe(t *ddbTable) *types.TableDescription {
	now := f.c.now()
	d := &types.TableDescription{
		TableName:                 aws.String(t.Name),
		TableArn:                  aws.String(t.ARN),
		TableId:                   aws.String(t.ID),
		TableStatus:               t.status(now),
		CreationDateTime:          aws.Time(t.Created),
		DeletionProtectionEnabled: aws.Bool(t.DeletionProtection),
		ItemCount:                 aws.Int64(int64(len(t.Items))),
		BillingModeSummary:        &types.BillingModeSummary{BillingMode: types.BillingMode(t.BillingMode)},
		ProvisionedThroughput:     &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(t.RCU), WriteCapacityUnits: aws.Int64(t.WCU), NumberOfDecreasesToday: aws.Int64(0)},
		TableClassSummary:         &types.TableClassSummary{TableClass: types.TableClassStandard},
	}
	size := 0
	for _, it := range t.Items {
		size += itemSize(it.toAV())
	}
	d.TableSizeBytes = aws.Int64(int64(size))
	for _, k := range t.Key {
		d.KeySchema = append(d.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.Kind)})
	}
	for _, name := range sortedKeys(t.Attrs) {
		d.AttributeDefinitions = append(d.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeType(t.Attrs[name])})
	}
	if t.KMSKeyARN != "" {
		st := types.SSEStatusEnabled
		if now.Before(t.UpdatingUntil) {
			st = types.SSEStatusUpdating
		}
		d.SSEDescription = &types.SSEDescription{Status: st, SSEType: types.SSETypeKms, KMSMasterKeyArn: aws.String(t.KMSKeyARN)}
	}
	return d
}

// CreateTable creates a table: it is CREATING for a few fake seconds,
// then ACTIVE. Key attributes must be defined, and only they; on-demand
// (PAY_PER_REQUEST) tables take no provisioned throughput; SSE with a KMS
// key needs a usable key. Secondary indexes are not simulated and are
// refused.
func (f *DynamoDB) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	var out *dynamodb.CreateTableOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "CreateTable", true, func() error {
		name := aws.ToString(in.TableName)
		if !tableNameRe.MatchString(name) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
		}
		s := f.st()
		if _, ok := s.Tables[name]; ok {
			return f.typedErr(&types.ResourceInUseException{Message: aws.String("Table already exists: " + name)})
		}
		if len(in.GlobalSecondaryIndexes) > 0 || len(in.LocalSecondaryIndexes) > 0 {
			return apiError("ValidationException", "the fake does not simulate secondary indexes")
		}
		t := &ddbTable{Name: name, ARN: f.c.arn("dynamodb", "table/"+name), ID: f.c.newUUID(), Attrs: map[string]string{}, Tags: map[string]string{}, Created: f.c.now(), Items: map[string]storedItem{}}
		for _, a := range in.AttributeDefinitions {
			t.Attrs[aws.ToString(a.AttributeName)] = string(a.AttributeType)
		}
		if len(in.KeySchema) == 0 || len(in.KeySchema) > 2 || in.KeySchema[0].KeyType != types.KeyTypeHash || (len(in.KeySchema) == 2 && in.KeySchema[1].KeyType != types.KeyTypeRange) {
			return apiError("ValidationException", "1 validation error detected: Invalid KeySchema: The first KeySchemaElement is not a HASH key type, or a RANGE key is missing")
		}
		for _, k := range in.KeySchema {
			n := aws.ToString(k.AttributeName)
			typ, ok := t.Attrs[n]
			if !ok {
				return apiError("ValidationException", "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: %v", n, sortedKeys(t.Attrs))
			}
			t.Key = append(t.Key, ddbKeyElem{Name: n, Kind: string(k.KeyType), Type: typ})
		}
		if len(t.Attrs) != len(t.Key) {
			return apiError("ValidationException", "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
		}
		t.BillingMode = string(in.BillingMode)
		if t.BillingMode == "" {
			t.BillingMode = string(types.BillingModeProvisioned)
		}
		switch types.BillingMode(t.BillingMode) {
		case types.BillingModePayPerRequest:
			if in.ProvisionedThroughput != nil {
				return apiError("ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
			}
		case types.BillingModeProvisioned:
			if in.ProvisionedThroughput == nil {
				return apiError("ValidationException", "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
			}
			t.RCU, t.WCU = aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits)
		default:
			return apiError("ValidationException", "invalid BillingMode %s", t.BillingMode)
		}
		if sse := in.SSESpecification; sse != nil && aws.ToBool(sse.Enabled) {
			key := aws.ToString(sse.KMSMasterKeyId)
			if key == "" {
				key = "alias/aws/dynamodb"
				t.KMSKeyARN = f.c.arn("kms", "key/aws-managed-dynamodb")
			} else {
				arn, err := f.checkKMSKey(key)
				if err != nil {
					return err
				}
				t.KMSKeyARN = arn
			}
		}
		t.DeletionProtection = aws.ToBool(in.DeletionProtectionEnabled)
		for _, tag := range in.Tags {
			t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		s.Tables[name] = t
		f.c.created("table/" + name)
		out = &dynamodb.CreateTableOutput{TableDescription: f.describe(t)}
		return nil
	})
	return out, err
}

// DescribeTable describes a table in any state.
func (f *DynamoDB) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	var out *dynamodb.DescribeTableOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "DescribeTable", false, func() error {
		t, err := f.tableAny(aws.ToString(in.TableName))
		if err != nil {
			return err
		}
		out = &dynamodb.DescribeTableOutput{Table: f.describe(t)}
		return nil
	})
	return out, err
}

// ListTables lists table names in order, paginated by
// ExclusiveStartTableName (Limit default 100).
func (f *DynamoDB) ListTables(ctx context.Context, in *dynamodb.ListTablesInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	var out *dynamodb.ListTablesOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "ListTables", false, func() error {
		names := sortedKeys(f.st().Tables)
		if s := aws.ToString(in.ExclusiveStartTableName); s != "" {
			i := sort.SearchStrings(names, s)
			if i < len(names) && names[i] == s {
				i++
			}
			names = names[i:]
		}
		limit := int(aws.ToInt32(in.Limit))
		if limit <= 0 || limit > 100 {
			limit = 100
		}
		out = &dynamodb.ListTablesOutput{}
		if len(names) > limit {
			names = names[:limit]
			out.LastEvaluatedTableName = aws.String(names[limit-1])
		}
		out.TableNames = names
		return nil
	})
	return out, err
}

// UpdateTable changes billing mode, SSE and deletion protection. The
// table must be ACTIVE (ResourceInUseException otherwise, as in AWS) and
// is UPDATING for a few fake seconds after a change.
func (f *DynamoDB) UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	var out *dynamodb.UpdateTableOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "UpdateTable", true, func() error {
		t, err := f.tableAny(aws.ToString(in.TableName))
		if err != nil {
			return err
		}
		if st := t.status(f.c.now()); st != types.TableStatusActive {
			return f.typedErr(&types.ResourceInUseException{Message: aws.String(fmt.Sprintf("Attempt to change a resource which is still in use: Table: %s is in %s state", t.Name, st))})
		}
		if len(in.GlobalSecondaryIndexUpdates) > 0 || len(in.ReplicaUpdates) > 0 || in.StreamSpecification != nil {
			return apiError("ValidationException", "the fake does not simulate indexes, replicas or streams")
		}
		changed := false
		if in.BillingMode != "" && string(in.BillingMode) != t.BillingMode {
			switch in.BillingMode {
			case types.BillingModePayPerRequest:
				t.RCU, t.WCU = 0, 0
			case types.BillingModeProvisioned:
				if in.ProvisionedThroughput == nil {
					return apiError("ValidationException", "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
				}
				t.RCU, t.WCU = aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits)
			default:
				return apiError("ValidationException", "invalid BillingMode %s", in.BillingMode)
			}
			t.BillingMode = string(in.BillingMode)
			changed = true
		}
		if sse := in.SSESpecification; sse != nil {
			if !aws.ToBool(sse.Enabled) {
				if t.KMSKeyARN == "" {
					return apiError("ValidationException", "Table is already encrypted by default")
				}
				t.KMSKeyARN = ""
			} else {
				arn, err := f.checkKMSKey(aws.ToString(sse.KMSMasterKeyId))
				if err != nil {
					return err
				}
				if arn == t.KMSKeyARN {
					return apiError("ValidationException", "Table is already encrypted with the given KMS key")
				}
				t.KMSKeyARN = arn
			}
			changed = true
		}
		if in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled != t.DeletionProtection {
			t.DeletionProtection = *in.DeletionProtectionEnabled
			changed = true
		}
		if !changed && in.DeletionProtectionEnabled == nil {
			return apiError("ValidationException", "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification or DeletionProtectionEnabled must be specified")
		}
		if changed {
			t.UpdatingUntil = f.c.now().Add(ddbUpdateTime)
		}
		out = &dynamodb.UpdateTableOutput{TableDescription: f.describe(t)}
		return nil
	})
	return out, err
}

// DeleteTable deletes a table (DELETING for a few fake seconds, then
// gone). A table with deletion protection is refused, as in AWS.
func (f *DynamoDB) DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	var out *dynamodb.DeleteTableOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "DeleteTable", true, func() error {
		t, err := f.tableAny(aws.ToString(in.TableName))
		if err != nil {
			return err
		}
		switch t.status(f.c.now()) {
		case types.TableStatusCreating, types.TableStatusUpdating, types.TableStatusDeleting:
			return f.typedErr(&types.ResourceInUseException{Message: aws.String("Attempt to change a resource which is still in use: Table: " + t.Name + " is in " + string(t.status(f.c.now())) + " state")})
		}
		if t.DeletionProtection {
			return apiError("ValidationException", "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		t.DeletedAt = f.c.now()
		out = &dynamodb.DeleteTableOutput{TableDescription: f.describe(t)}
		return nil
	})
	return out, err
}

// DescribeContinuousBackups reports point-in-time recovery.
func (f *DynamoDB) DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	var out *dynamodb.DescribeContinuousBackupsOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "DescribeContinuousBackups", false, func() error {
		t, err := f.tableAny(aws.ToString(in.TableName))
		if err != nil {
			return err
		}
		if !t.DeletedAt.IsZero() {
			return f.typedErr(&types.TableNotFoundException{Message: aws.String("Table not found: " + t.Name)})
		}
		out = &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: f.pitr(t)}
		return nil
	})
	return out, err
}

func (f *DynamoDB) pitr(t *ddbTable) *types.ContinuousBackupsDescription {
	d := &types.ContinuousBackupsDescription{ContinuousBackupsStatus: types.ContinuousBackupsStatusEnabled, PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusDisabled}}
	if t.PITR {
		d.PointInTimeRecoveryDescription = &types.PointInTimeRecoveryDescription{
			PointInTimeRecoveryStatus:  types.PointInTimeRecoveryStatusEnabled,
			RecoveryPeriodInDays:       aws.Int32(t.PITRDays),
			EarliestRestorableDateTime: aws.Time(t.PITRSince),
			LatestRestorableDateTime:   aws.Time(f.c.now().Add(-5 * time.Minute)),
		}
	}
	return d
}

// UpdateContinuousBackups turns point-in-time recovery on or off
// (recovery period 1..35 days, default 35). While the table is still
// being created it fails with ContinuousBackupsUnavailableException, as
// AWS does for new tables; callers retry.
func (f *DynamoDB) UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error) {
	var out *dynamodb.UpdateContinuousBackupsOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "UpdateContinuousBackups", true, func() error {
		t, err := f.tableAny(aws.ToString(in.TableName))
		if err != nil {
			return err
		}
		if !t.DeletedAt.IsZero() {
			return f.typedErr(&types.TableNotFoundException{Message: aws.String("Table not found: " + t.Name)})
		}
		if t.status(f.c.now()) == types.TableStatusCreating {
			return f.typedErr(&types.ContinuousBackupsUnavailableException{Message: aws.String("Backups are being enabled for the table: " + t.Name + ". Please retry later")})
		}
		spec := in.PointInTimeRecoverySpecification
		if spec == nil || spec.PointInTimeRecoveryEnabled == nil {
			return apiError("ValidationException", "1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
		}
		days := aws.ToInt32(spec.RecoveryPeriodInDays)
		if days == 0 {
			days = 35
		}
		if days < 1 || days > 35 {
			return apiError("ValidationException", "RecoveryPeriodInDays must be between 1 and 35")
		}
		if *spec.PointInTimeRecoveryEnabled {
			if !t.PITR {
				t.PITRSince = f.c.now()
			}
			t.PITR, t.PITRDays = true, days
		} else {
			t.PITR, t.PITRDays, t.PITRSince = false, 0, time.Time{}
		}
		out = &dynamodb.UpdateContinuousBackupsOutput{ContinuousBackupsDescription: f.pitr(t)}
		return nil
	})
	return out, err
}

var backupNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// CreateBackup takes an on-demand backup of a table's items; it is
// AVAILABLE at once and outlives the table.
func (f *DynamoDB) CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	var out *dynamodb.CreateBackupOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "CreateBackup", true, func() error {
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		name := aws.ToString(in.BackupName)
		if !backupNameRe.MatchString(name) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'backupName' failed to satisfy constraint", name)
		}
		now := f.c.now()
		b := &ddbBackup{ARN: fmt.Sprintf("%s/backup/%013d-%s", t.ARN, now.UnixMilli(), f.c.newUUID()[:8]), Name: name, Table: t.Name, Created: now, Items: map[string]storedItem{}}
		for k, it := range t.Items {
			b.Items[k] = storedItemOf(it.toAV())
		}
		f.st().Backups[b.ARN] = b
		out = &dynamodb.CreateBackupOutput{BackupDetails: &types.BackupDetails{
			BackupArn: aws.String(b.ARN), BackupName: aws.String(name), BackupStatus: types.BackupStatusAvailable,
			BackupType: types.BackupTypeUser, BackupCreationDateTime: aws.Time(now), BackupSizeBytes: aws.Int64(0),
		}}
		return nil
	})
	return out, err
}

// Backups returns the on-demand backups of the account, for assertions.
func (f *DynamoDB) Backups() []DynamoDBBackup {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	s := f.st()
	var out []DynamoDBBackup
	for _, arn := range sortedKeys(s.Backups) {
		b := s.Backups[arn]
		out = append(out, DynamoDBBackup{ARN: b.ARN, Name: b.Name, Table: b.Table, Created: b.Created, Items: len(b.Items)})
	}
	return out
}

// TagResource adds or replaces tags of a table.
func (f *DynamoDB) TagResource(ctx context.Context, in *dynamodb.TagResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	err := f.c.call(ctx, dynamodb.ServiceID, "TagResource", true, func() error {
		t, err := f.tableAny(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		if len(t.Tags)+len(in.Tags) > 50 {
			merged := map[string]bool{}
			for k := range t.Tags {
				merged[k] = true
			}
			for _, tag := range in.Tags {
				merged[aws.ToString(tag.Key)] = true
			}
			if len(merged) > 50 {
				return f.typedErr(&types.LimitExceededException{Message: aws.String("Too many tags: a resource may have at most 50")})
			}
		}
		for _, tag := range in.Tags {
			t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return nil
	})
	return &dynamodb.TagResourceOutput{}, err
}

// UntagResource removes tags of a table.
func (f *DynamoDB) UntagResource(ctx context.Context, in *dynamodb.UntagResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.UntagResourceOutput, error) {
	err := f.c.call(ctx, dynamodb.ServiceID, "UntagResource", true, func() error {
		t, err := f.tableAny(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(t.Tags, k)
		}
		return nil
	})
	return &dynamodb.UntagResourceOutput{}, err
}

// ListTagsOfResource lists a table's tags, paginated by NextToken.
func (f *DynamoDB) ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	var out *dynamodb.ListTagsOfResourceOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "ListTagsOfResource", false, func() error {
		t, err := f.tableAny(aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		var all []types.Tag
		for _, k := range sortedKeys(t.Tags) {
			all = append(all, types.Tag{Key: aws.String(k), Value: aws.String(t.Tags[k])})
		}
		items, next, err := page(all, in.NextToken, 10)
		if err != nil {
			return err
		}
		out = &dynamodb.ListTagsOfResourceOutput{Tags: items, NextToken: next}
		return nil
	})
	return out, err
}

// TableItems returns every item of a table as the SDK's attribute values,
// ordered by key, for assertions.
func (f *DynamoDB) TableItems(table string) []map[string]types.AttributeValue {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	t, ok := f.st().Tables[table]
	if !ok {
		return nil
	}
	var out []map[string]types.AttributeValue
	for _, k := range sortedKeys(t.Items) {
		out = append(out, t.Items[k].toAV())
	}
	return out
}

// PutRawItem stores an item directly, bypassing conditions; tests use it
// to script concurrent writers.
func (f *DynamoDB) PutRawItem(table string, item map[string]types.AttributeValue) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if t, ok := f.st().Tables[table]; ok {
		t.Items[t.keyString(item)] = storedItemOf(item)
	}
}

// ---- items ----

func (t *ddbTable) keyString(item map[string]av) string {
	var parts []string
	for _, k := range t.Key {
		switch v := item[k.Name].(type) {
		case *types.AttributeValueMemberS:
			parts = append(parts, "S:"+v.Value)
		case *types.AttributeValueMemberN:
			n, _ := canonicalNum(v.Value)
			parts = append(parts, "N:"+n)
		case *types.AttributeValueMemberB:
			parts = append(parts, "B:"+base64.StdEncoding.EncodeToString(v.Value))
		}
	}
	return strings.Join(parts, "\x1f")
}

func (t *ddbTable) hashKey() ddbKeyElem { return t.Key[0] }

func (t *ddbTable) rangeKey() (ddbKeyElem, bool) {
	if len(t.Key) == 2 {
		return t.Key[1], true
	}
	return ddbKeyElem{}, false
}

// checkKey validates the key attributes of item; exact means item must
// hold nothing but the key (GetItem, DeleteItem, UpdateItem Key).
func (t *ddbTable) checkKey(item map[string]av, exact bool) error {
	if exact && len(item) != len(t.Key) {
		return apiError("ValidationException", "The provided key element does not match the schema")
	}
	for _, k := range t.Key {
		v, ok := item[k.Name]
		if !ok {
			if exact {
				return apiError("ValidationException", "The provided key element does not match the schema")
			}
			return apiError("ValidationException", "One or more parameter values were invalid: Missing the key %s in the item", k.Name)
		}
		if avType(v) != k.Type {
			return apiError("ValidationException", "One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k.Name, k.Type, avType(v))
		}
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == "" {
			return apiError("ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k.Name)
		}
		if b, ok := v.(*types.AttributeValueMemberB); ok && len(b.Value) == 0 {
			return apiError("ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: %s", k.Name)
		}
	}
	return nil
}

func (t *ddbTable) keyOf(item map[string]av) map[string]av {
	out := map[string]av{}
	for _, k := range t.Key {
		if v, ok := item[k.Name]; ok {
			out[k.Name] = cloneAV(v)
		}
	}
	return out
}

func (t *ddbTable) get(key map[string]av) (map[string]av, bool) {
	it, ok := t.Items[t.keyString(key)]
	if !ok {
		return nil, false
	}
	return it.toAV(), true
}

func checkItem(item map[string]av) error {
	for k, v := range item {
		if k == "" {
			return apiError("ValidationException", "One or more parameter values were invalid: An attribute name cannot be empty")
		}
		if err := validateValue(v); err != nil {
			return err
		}
	}
	if itemSize(item) > ddbMaxItem {
		return apiError("ValidationException", "Item size has exceeded the maximum allowed size")
	}
	return nil
}

func rejectLegacy(legacy bool, what string) error {
	if legacy {
		return apiError("ValidationException", "the fake supports expressions only, not the legacy %s parameters", what)
	}
	return nil
}

// condCheck evaluates an optional condition expression on item (nil when
// the item does not exist).
func condCheck(c cond, item map[string]av) (bool, error) {
	if c == nil {
		return true, nil
	}
	if item == nil {
		item = map[string]av{}
	}
	return c.test(item)
}

func (f *DynamoDB) conditionFailed(rv types.ReturnValuesOnConditionCheckFailure, old map[string]av) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
		e.Item = old
	}
	return f.typedErr(e)
}

// PutItem writes an item, replacing any item with its key, if the
// condition holds. ReturnValues ALL_OLD returns the replaced item.
func (f *DynamoDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	var out *dynamodb.PutItemOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "PutItem", true, func() error {
		if err := rejectLegacy(len(in.Expected) > 0, "Expected"); err != nil {
			return err
		}
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		x := newExprCtx(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		var c cond
		if in.ConditionExpression != nil {
			if c, err = x.parseCondition("ConditionExpression", *in.ConditionExpression); err != nil {
				return err
			}
		}
		if err := x.checkUnused(); err != nil {
			return err
		}
		if err := t.checkKey(in.Item, false); err != nil {
			return err
		}
		if err := checkItem(in.Item); err != nil {
			return err
		}
		old, _ := t.get(in.Item)
		ok, err := condCheck(c, old)
		if err != nil {
			return err
		}
		if !ok {
			return f.conditionFailed(in.ReturnValuesOnConditionCheckFailure, old)
		}
		t.Items[t.keyString(in.Item)] = storedItemOf(in.Item)
		out = &dynamodb.PutItemOutput{}
		switch in.ReturnValues {
		case types.ReturnValueNone, "":
		case types.ReturnValueAllOld:
			out.Attributes = old
		default:
			return apiError("ValidationException", "ReturnValues can only be ALL_OLD or NONE for PutItem")
		}
		return nil
	})
	return out, err
}

// GetItem reads one item by its full key.
func (f *DynamoDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	var out *dynamodb.GetItemOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "GetItem", false, func() error {
		if err := rejectLegacy(len(in.AttributesToGet) > 0, "AttributesToGet"); err != nil {
			return err
		}
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		x := newExprCtx(in.ExpressionAttributeNames, nil)
		var proj []docPath
		if in.ProjectionExpression != nil {
			if proj, err = x.parseProjection(*in.ProjectionExpression); err != nil {
				return err
			}
		}
		if err := x.checkUnused(); err != nil {
			return err
		}
		if err := t.checkKey(in.Key, true); err != nil {
			return err
		}
		out = &dynamodb.GetItemOutput{}
		if it, ok := t.get(in.Key); ok {
			out.Item = project(it, proj)
		}
		return nil
	})
	return out, err
}

// UpdateItem updates (or creates) one item with an update expression if
// the condition holds. Key attributes cannot be updated.
func (f *DynamoDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	var out *dynamodb.UpdateItemOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "UpdateItem", true, func() error {
		if err := rejectLegacy(len(in.Expected) > 0 || len(in.AttributeUpdates) > 0, "Expected/AttributeUpdates"); err != nil {
			return err
		}
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		old, newItem, err := f.applyUpdate(t, in.Key, in.UpdateExpression, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure)
		if err != nil {
			return err
		}
		t.Items[t.keyString(in.Key)] = storedItemOf(newItem)
		out = &dynamodb.UpdateItemOutput{}
		switch in.ReturnValues {
		case types.ReturnValueNone, "":
		case types.ReturnValueAllOld:
			out.Attributes = old
		case types.ReturnValueAllNew:
			out.Attributes = newItem
		case types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
			src := newItem
			if in.ReturnValues == types.ReturnValueUpdatedOld {
				src = old
			}
			out.Attributes = map[string]av{}
			for k, v := range src {
				var before, after av
				if old != nil {
					before = old[k]
				}
				after = newItem[k]
				if before == nil || after == nil || !avEqual(before, after) {
					out.Attributes[k] = v
				}
			}
		default:
			return apiError("ValidationException", "invalid ReturnValues %s", in.ReturnValues)
		}
		return nil
	})
	return out, err
}

// applyUpdate parses and checks an update, and returns the old item (nil
// when new) and the updated item, without storing it.
func (f *DynamoDB) applyUpdate(t *ddbTable, key map[string]av, updateExpr, condExpr *string, names map[string]string, values map[string]av, rv types.ReturnValuesOnConditionCheckFailure) (map[string]av, map[string]av, error) {
	x := newExprCtx(names, values)
	var c cond
	var err error
	if condExpr != nil {
		if c, err = x.parseCondition("ConditionExpression", *condExpr); err != nil {
			return nil, nil, err
		}
	}
	var u update
	if updateExpr != nil {
		if u, err = x.parseUpdate(*updateExpr); err != nil {
			return nil, nil, err
		}
	}
	if err := x.checkUnused(); err != nil {
		return nil, nil, err
	}
	if err := t.checkKey(key, true); err != nil {
		return nil, nil, err
	}
	for _, p := range u.paths() {
		for _, k := range t.Key {
			if p[0].name == k.Name {
				return nil, nil, apiError("ValidationException", "One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k.Name)
			}
		}
	}
	old, exists := t.get(key)
	if !exists {
		old = nil
	}
	ok, err := condCheck(c, old)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, f.conditionFailed(rv, old)
	}
	base := old
	if base == nil {
		base = cloneItem(key)
	}
	newItem, err := u.apply(base)
	if err != nil {
		return nil, nil, err
	}
	if err := checkItem(newItem); err != nil {
		return nil, nil, err
	}
	return old, newItem, nil
}

// DeleteItem deletes one item if the condition holds; deleting a missing
// item succeeds.
func (f *DynamoDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	var out *dynamodb.DeleteItemOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "DeleteItem", true, func() error {
		if err := rejectLegacy(len(in.Expected) > 0, "Expected"); err != nil {
			return err
		}
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		x := newExprCtx(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		var c cond
		if in.ConditionExpression != nil {
			if c, err = x.parseCondition("ConditionExpression", *in.ConditionExpression); err != nil {
				return err
			}
		}
		if err := x.checkUnused(); err != nil {
			return err
		}
		if err := t.checkKey(in.Key, true); err != nil {
			return err
		}
		old, _ := t.get(in.Key)
		ok, err := condCheck(c, old)
		if err != nil {
			return err
		}
		if !ok {
			return f.conditionFailed(in.ReturnValuesOnConditionCheckFailure, old)
		}
		delete(t.Items, t.keyString(in.Key))
		out = &dynamodb.DeleteItemOutput{}
		if in.ReturnValues == types.ReturnValueAllOld {
			out.Attributes = old
		}
		return nil
	})
	return out, err
}

// keyCond is a parsed key condition: equality on the partition key and at
// most one condition on the sort key.
type keyCond struct {
	hash    av
	rangeOK cond // nil: any sort key
}

func (f *DynamoDB) parseKeyCond(t *ddbTable, x *exprCtx, src string) (keyCond, error) {
	var kc keyCond
	c, err := x.parseCondition("KeyConditionExpression", src)
	if err != nil {
		return kc, err
	}
	var parts []cond
	switch a := c.(type) {
	case andCond:
		parts = []cond{a.l, a.r}
	default:
		parts = []cond{c}
	}
	hk := t.hashKey()
	rk, hasRange := t.rangeKey()
	unsupported := apiError("ValidationException", "Query key condition not supported")
	isPath := func(o operand, name string) bool {
		p, ok := o.(pathOp)
		return ok && len(p.p) == 1 && p.p[0].name == name
	}
	for _, part := range parts {
		switch p := part.(type) {
		case cmpCond:
			if _, ok := p.r.(valueOp); !ok {
				return kc, unsupported
			}
			switch {
			case isPath(p.l, hk.Name) && p.op == tEq && kc.hash == nil:
				kc.hash = p.r.(valueOp).v
			case hasRange && isPath(p.l, rk.Name) && p.op != tNe && kc.rangeOK == nil:
				kc.rangeOK = p
			default:
				return kc, unsupported
			}
		case betweenCond:
			if !hasRange || !isPath(p.v, rk.Name) || kc.rangeOK != nil {
				return kc, unsupported
			}
			kc.rangeOK = p
		case fnCond:
			if p.name != "begins_with" || !hasRange || len(p.p) != 1 || p.p[0].name != rk.Name || kc.rangeOK != nil {
				return kc, unsupported
			}
			kc.rangeOK = p
		default:
			return kc, unsupported
		}
	}
	if kc.hash == nil {
		return kc, apiError("ValidationException", "Query condition missed key schema element: %s", hk.Name)
	}
	if avType(kc.hash) != hk.Type {
		return kc, apiError("ValidationException", "One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	return kc, nil
}

// Query reads the items of one partition in sort-key order (reversed with
// ScanIndexForward false), optionally narrowed by a sort-key condition,
// then filtered. Limit caps the items evaluated (before the filter), and
// a page stops at 1 MB; LastEvaluatedKey is set whenever a page stopped
// early, as DynamoDB does — so the last page may be empty.
func (f *DynamoDB) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	var out *dynamodb.QueryOutput
	err := f.c.call(ctx, dynamodb.ServiceID, "Query", false, func() error {
		if err := rejectLegacy(len(in.KeyConditions) > 0 || len(in.QueryFilter) > 0 || len(in.AttributesToGet) > 0, "KeyConditions/QueryFilter/AttributesToGet"); err != nil {
			return err
		}
		t, err := f.table(in.TableName)
		if err != nil {
			return err
		}
		if in.IndexName != nil {
			return apiError("ValidationException", "The table does not have the specified index: %s", *in.IndexName)
		}
		if in.KeyConditionExpression == nil {
			return apiError("ValidationException", "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		x := newExprCtx(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		kc, err := f.parseKeyCond(t, x, *in.KeyConditionExpression)
		if err != nil {
			return err
		}
		var filter cond
		if in.FilterExpression != nil {
			if filter, err = x.parseCondition("FilterExpression", *in.FilterExpression); err != nil {
				return err
			}
		}
		var proj []docPath
		if in.ProjectionExpression != nil {
			if proj, err = x.parseProjection(*in.ProjectionExpression); err != nil {
				return err
			}
		}
		if err := x.checkUnused(); err != nil {
			return err
		}
		if in.Limit != nil && *in.Limit < 1 {
			return apiError("ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
		}
		hk := t.hashKey()
		rk, hasRange := t.rangeKey()
		var items []map[string]av
		for _, st := range t.Items {
			it := st.toAV()
			if !avEqual(it[hk.Name], kc.hash) {
				continue
			}
			if kc.rangeOK != nil {
				ok, err := kc.rangeOK.test(it)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			items = append(items, it)
		}
		forward := in.ScanIndexForward == nil || *in.ScanIndexForward
		if hasRange {
			sort.SliceStable(items, func(i, j int) bool {
				n, _ := avCompare(items[i][rk.Name], items[j][rk.Name])
				if forward {
					return n < 0
				}
				return n > 0
			})
		}
		if start := in.ExclusiveStartKey; len(start) > 0 {
			if err := t.checkKey(start, true); err != nil {
				return apiError("ValidationException", "The provided starting key is invalid: %v", err)
			}
			i := 0
			if hasRange {
				for i < len(items) {
					n, _ := avCompare(items[i][rk.Name], start[rk.Name])
					if (forward && n > 0) || (!forward && n < 0) {
						break
					}
					i++
				}
			} else {
				i = len(items)
			}
			items = items[i:]
		}
		out = &dynamodb.QueryOutput{}
		size, evaluated := 0, 0
		var last map[string]av
		for _, it := range items {
			if in.Limit != nil && evaluated == int(*in.Limit) {
				break
			}
			evaluated++
			size += itemSize(it)
			last = it
			keep := true
			if filter != nil {
				if keep, err = filter.test(it); err != nil {
					return err
				}
			}
			if keep {
				out.Count++
				if in.Select != types.SelectCount {
					out.Items = append(out.Items, project(it, proj))
				}
			}
			if size >= ddbMaxPage {
				break
			}
		}
		// A page that stopped at Limit or at 1 MB carries the key to resume
		// from, even when nothing is left: DynamoDB does not look ahead.
		if last != nil && ((in.Limit != nil && evaluated == int(*in.Limit)) || (size >= ddbMaxPage && evaluated < len(items))) {
			out.LastEvaluatedKey = t.keyOf(last)
		}
		scanned := int32(evaluated)
		out.ScannedCount = scanned
		return nil
	})
	return out, err
}

// TransactWriteItems applies up to 100 writes atomically: every condition
// is checked first, and if any fails nothing is written and the call
// fails with TransactionCanceledException, whose CancellationReasons hold
// one entry per action in order (Code "None" for the actions that were
// fine, "ConditionalCheckFailed" or "ValidationError" for the others).
func (f *DynamoDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	err := f.c.call(ctx, dynamodb.ServiceID, "TransactWriteItems", true, func() error {
		n := len(in.TransactItems)
		if n == 0 || n > 100 {
			return apiError("ValidationException", "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1")
		}
		type planned struct {
			t      *ddbTable
			key    string
			write  map[string]av // nil: delete (when del) or check only
			del    bool
			failed *types.CancellationReason
		}
		plans := make([]planned, n)
		seen := map[string]bool{}
		for i, ti := range in.TransactItems {
			count := 0
			for _, set := range []bool{ti.ConditionCheck != nil, ti.Put != nil, ti.Update != nil, ti.Delete != nil} {
				if set {
					count++
				}
			}
			if count != 1 {
				return apiError("ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete")
			}
			var (
				tableName *string
				key       map[string]av
				condExpr  *string
				names     map[string]string
				values    map[string]av
				rv        types.ReturnValuesOnConditionCheckFailure
			)
			switch {
			case ti.ConditionCheck != nil:
				o := ti.ConditionCheck
				tableName, key, condExpr, names, values, rv = o.TableName, o.Key, o.ConditionExpression, o.ExpressionAttributeNames, o.ExpressionAttributeValues, o.ReturnValuesOnConditionCheckFailure
				if condExpr == nil {
					return apiError("ValidationException", "ConditionCheck requires a ConditionExpression")
				}
			case ti.Put != nil:
				o := ti.Put
				tableName, key, condExpr, names, values, rv = o.TableName, o.Item, o.ConditionExpression, o.ExpressionAttributeNames, o.ExpressionAttributeValues, o.ReturnValuesOnConditionCheckFailure
			case ti.Update != nil:
				o := ti.Update
				tableName, key, condExpr, names, values, rv = o.TableName, o.Key, o.ConditionExpression, o.ExpressionAttributeNames, o.ExpressionAttributeValues, o.ReturnValuesOnConditionCheckFailure
			case ti.Delete != nil:
				o := ti.Delete
				tableName, key, condExpr, names, values, rv = o.TableName, o.Key, o.ConditionExpression, o.ExpressionAttributeNames, o.ExpressionAttributeValues, o.ReturnValuesOnConditionCheckFailure
			}
			t, err := f.table(tableName)
			if err != nil {
				return err
			}
			if err := t.checkKey(key, ti.Put == nil); err != nil {
				return err
			}
			ks := t.Name + "\x1e" + t.keyString(key)
			if seen[ks] {
				return apiError("ValidationException", "Transaction request cannot include multiple operations on one item")
			}
			seen[ks] = true
			p := planned{t: t, key: t.keyString(key)}
			old, exists := t.get(key)
			if !exists {
				old = nil
			}
			fail := func(code, msg string) {
				r := &types.CancellationReason{Code: aws.String(code), Message: aws.String(msg)}
				if code == "ConditionalCheckFailed" && rv == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
					r.Item = old
				}
				p.failed = r
			}
			if ti.Update != nil {
				_, newItem, err := f.applyUpdate(t, key, ti.Update.UpdateExpression, condExpr, names, values, rv)
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					p.write = newItem
				case errors.As(err, &ccf):
					fail("ConditionalCheckFailed", "The conditional request failed")
				default:
					return err
				}
				plans[i] = p
				continue
			}
			x := newExprCtx(names, values)
			var c cond
			if condExpr != nil {
				if c, err = x.parseCondition("ConditionExpression", *condExpr); err != nil {
					return err
				}
			}
			if err := x.checkUnused(); err != nil {
				return err
			}
			if ti.Put != nil {
				if err := checkItem(key); err != nil {
					return err
				}
				p.write = key
			}
			p.del = ti.Delete != nil
			ok, err := condCheck(c, old)
			if err != nil {
				fail("ValidationError", err.Error())
			} else if !ok {
				fail("ConditionalCheckFailed", "The conditional request failed")
			}
			plans[i] = p
		}
		var reasons []types.CancellationReason
		var codes []string
		cancelled := false
		for _, p := range plans {
			if p.failed != nil {
				cancelled = true
				reasons = append(reasons, *p.failed)
				codes = append(codes, aws.ToString(p.failed.Code))
			} else {
				reasons = append(reasons, types.CancellationReason{Code: aws.String("None")})
				codes = append(codes, "None")
			}
		}
		if cancelled {
			return f.typedErr(&types.TransactionCanceledException{
				Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"),
				CancellationReasons: reasons,
			})
		}
		for _, p := range plans {
			switch {
			case p.del:
				delete(p.t.Items, p.key)
			case p.write != nil:
				p.t.Items[p.key] = storedItemOf(p.write)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// ---- stored items ----

// storedItem is an item in DynamoDB's JSON shape, so the state saves and
// loads with Save and Load.
type storedItem map[string]storedValue

type storedValue struct {
	S    *string                 `json:"S,omitempty"`
	N    *string                 `json:"N,omitempty"`
	B    *[]byte                 `json:"B,omitempty"`
	BOOL *bool                   `json:"BOOL,omitempty"`
	NULL bool                    `json:"NULL,omitempty"`
	M    *map[string]storedValue `json:"M,omitempty"`
	L    *[]storedValue          `json:"L,omitempty"`
	SS   []string                `json:"SS,omitempty"`
	NS   []string                `json:"NS,omitempty"`
	BS   [][]byte                `json:"BS,omitempty"`
}

func storedItemOf(item map[string]av) storedItem {
	out := make(storedItem, len(item))
	for k, v := range item {
		out[k] = storedOf(v)
	}
	return out
}

func storedOf(v av) storedValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return storedValue{S: aws.String(x.Value)}
	case *types.AttributeValueMemberN:
		n, err := canonicalNum(x.Value)
		if err != nil {
			n = x.Value
		}
		return storedValue{N: aws.String(n)}
	case *types.AttributeValueMemberB:
		b := slices.Clone(x.Value)
		if b == nil {
			b = []byte{}
		}
		return storedValue{B: &b}
	case *types.AttributeValueMemberBOOL:
		return storedValue{BOOL: aws.Bool(x.Value)}
	case *types.AttributeValueMemberNULL:
		return storedValue{NULL: true}
	case *types.AttributeValueMemberM:
		m := make(map[string]storedValue, len(x.Value))
		for k, e := range x.Value {
			m[k] = storedOf(e)
		}
		return storedValue{M: &m}
	case *types.AttributeValueMemberL:
		l := make([]storedValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = storedOf(e)
		}
		return storedValue{L: &l}
	case *types.AttributeValueMemberSS:
		return storedValue{SS: slices.Clone(x.Value)}
	case *types.AttributeValueMemberNS:
		return storedValue{NS: slices.Clone(x.Value)}
	case *types.AttributeValueMemberBS:
		out := make([][]byte, len(x.Value))
		for i, e := range x.Value {
			out[i] = slices.Clone(e)
		}
		return storedValue{BS: out}
	}
	return storedValue{NULL: true}
}

func (it storedItem) toAV() map[string]av {
	out := make(map[string]av, len(it))
	for k, v := range it {
		out[k] = v.toAV()
	}
	return out
}

func (v storedValue) toAV() av {
	switch {
	case v.S != nil:
		return &types.AttributeValueMemberS{Value: *v.S}
	case v.N != nil:
		return &types.AttributeValueMemberN{Value: *v.N}
	case v.B != nil:
		return &types.AttributeValueMemberB{Value: slices.Clone(*v.B)}
	case v.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *v.BOOL}
	case v.M != nil:
		m := make(map[string]av, len(*v.M))
		for k, e := range *v.M {
			m[k] = e.toAV()
		}
		return &types.AttributeValueMemberM{Value: m}
	case v.L != nil:
		l := make([]av, len(*v.L))
		for i, e := range *v.L {
			l[i] = e.toAV()
		}
		return &types.AttributeValueMemberL{Value: l}
	case v.SS != nil:
		return &types.AttributeValueMemberSS{Value: slices.Clone(v.SS)}
	case v.NS != nil:
		return &types.AttributeValueMemberNS{Value: slices.Clone(v.NS)}
	case v.BS != nil:
		out := make([][]byte, len(v.BS))
		for i, e := range v.BS {
			out[i] = slices.Clone(e)
		}
		return &types.AttributeValueMemberBS{Value: out}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
