package tracking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// TableAPI is the part of the DynamoDB client EnsureTable and DeleteTable
// use.
type TableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	UpdateContinuousBackups(context.Context, *dynamodb.UpdateContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
	ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
	CreateBackup(context.Context, *dynamodb.CreateBackupInput, ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
}

// KindTable is the Change kind of the tracking table.
const KindTable = "dynamodb-table"

// Key attribute names of the tracking table.
const (
	AttrPK = "pk"
	AttrSK = "sk"
)

// TableName returns the env's tracking table name,
// "migration-tracking-<suffix>".
func TableName(env migration.Env) string { return env.Name("migration-tracking") }

// TableSpec describes the tracking table. Billing is on-demand, and the
// key schema is fixed (see the package documentation).
type TableSpec struct {
	// KMSKeyARN is the env key (migration.Key.ARN). Required: the table
	// is encrypted with the customer managed key, never the AWS owned one.
	KMSKeyARN string
	// RecoveryDays is the point-in-time recovery window, 1..35 days; 0
	// means 35, the most DynamoDB keeps.
	RecoveryDays int
	// DeletionProtection turns DynamoDB's deletion protection on. Off by
	// default so that the env stays destroyable; DeleteTable refuses a
	// protected table rather than turning protection off.
	DeletionProtection bool
	// SkipFinalBackup makes DeleteTable delete without first taking the
	// on-demand backup that keeps the migration's history.
	SkipFinalBackup bool
}

// Validate checks the spec.
func (s TableSpec) Validate() error {
	var errs []error
	if err := checkKeyARN("table.kmsKeyArn", s.KMSKeyARN); err != nil {
		errs = append(errs, err)
	}
	if s.RecoveryDays < 0 || s.RecoveryDays > 35 {
		errs = append(errs, fmt.Errorf("table.recoveryDays: %d outside 1..35 (0 means 35)", s.RecoveryDays))
	}
	return errors.Join(errs...)
}

func (s TableSpec) recoveryDays() int32 {
	if s.RecoveryDays == 0 {
		return 35
	}
	return int32(s.RecoveryDays)
}

// checkKeyARN accepts a KMS key ARN (not an alias) or a dry-run Pending ID.
func checkKeyARN(field, arn string) error {
	if migration.IsPending(arn) {
		return nil
	}
	if !strings.HasPrefix(arn, "arn:aws") || !strings.Contains(arn, ":kms:") || !strings.Contains(arn, ":key/") {
		return fmt.Errorf("%s: %q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); required", field, arn)
	}
	return nil
}

// Table is an ensured tracking table.
type Table struct {
	Name string
	ARN  string
}

// tableTimeout bounds the waits for the table to become ACTIVE or gone.
const tableTimeout = 10 * time.Minute

// EnsureTable makes the env's tracking table exist and converge: key
// schema pk/sk (strings), on-demand billing, encryption with the spec's
// KMS key, point-in-time recovery, the spec's deletion protection and the
// env's tags.
//
// The table is found by its name. A table of that name without the env's
// ownership tag is refused, never adopted. A missing table is created with
// every setting and tag in the CreateTable call, waited for until ACTIVE,
// then given point-in-time recovery (which DynamoDB accepts only once the
// table is ACTIVE). An existing table converges billing, encryption,
// deletion protection, recovery and missing tags, one UpdateTable at a
// time as DynamoDB requires; a different key schema is refused (it is
// immutable). Converged, it makes no write. Dry run: reads only; a pending
// key reports a create without any call.
func EnsureTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec) (Table, error) {
	name := TableName(env)
	if err := migration.Validate(env, spec); err != nil {
		return Table{}, fmt.Errorf("ensure table %q: %w", name, err)
	}
	t, err := ensureTable(ctx, env, api, spec, name)
	if err != nil {
		return Table{}, fmt.Errorf("ensure table %q: %w", name, err)
	}
	return t, nil
}

func ensureTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec, name string) (Table, error) {
	create := migration.Change{Kind: KindTable, Name: name, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "kmsKey", To: spec.KMSKeyARN}}}
	if migration.IsPending(spec.KMSKeyARN) {
		create.ID = migration.Pending(name)
		env.Report(create)
		return Table{Name: name, ARN: create.ID}, nil
	}
	desc, err := describeTable(ctx, api, name)
	if err != nil {
		return Table{}, err
	}
	if desc == nil {
		if env.DryRun {
			create.ID = migration.Pending(name)
			env.Report(create)
			return Table{Name: name, ARN: create.ID}, nil
		}
		arn, err := createTable(ctx, env, api, spec, name)
		if errors.Is(err, errTableExists) {
			// A create whose response was lost, or a parallel apply: the
			// table is there now (maybe not visible yet); converge it like
			// any existing one.
			if err := waitTableActive(ctx, env, api, name); err != nil {
				return Table{}, err
			}
			if desc, err = describeTable(ctx, api, name); err != nil || desc == nil {
				return Table{}, fmt.Errorf("create: table exists but cannot be described: %v", err)
			}
			return convergeTable(ctx, env, api, spec, name, desc)
		}
		if err != nil {
			return Table{}, err
		}
		create.ID = arn
		env.Report(create)
		return Table{Name: name, ARN: arn}, nil
	}
	return convergeTable(ctx, env, api, spec, name, desc)
}

// describeTable returns the table, or nil when it does not exist.
func describeTable(ctx context.Context, api TableAPI, name string) (*types.TableDescription, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	switch {
	case awsx.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe: %w", err)
	}
	return out.Table, nil
}

// errTableExists is CreateTable's ResourceInUseException: the table was
// created meanwhile.
var errTableExists = errors.New("table exists")

func createTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec, name string) (string, error) {
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode:               types.BillingModePayPerRequest,
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KMSKeyARN)},
		DeletionProtectionEnabled: aws.Bool(spec.DeletionProtection),
		Tags:                      ddbTags(env.NameTags(name)),
	}
	out, err := api.CreateTable(ctx, in)
	switch {
	case awsx.IsAlreadyExists(err):
		return "", errTableExists
	case err != nil:
		return "", fmt.Errorf("create: %w", err)
	}
	arn := aws.ToString(out.TableDescription.TableArn)
	if err := waitTableActive(ctx, env, api, name); err != nil {
		return "", err
	}
	if err := enablePITR(ctx, env, api, name, spec.recoveryDays()); err != nil {
		return "", err
	}
	return arn, nil
}

func waitTableActive(ctx context.Context, env migration.Env, api TableAPI, name string) error {
	var accept awsx.Acceptor[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput]
	dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) { accept = o.Retryable })
	_, err := migration.Wait(ctx, env, "table "+name+" to be ACTIVE", api.DescribeTable, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, accept, tableTimeout, "ResourceNotFoundException")
	return err
}

// enablePITR turns point-in-time recovery on, retrying while DynamoDB
// still sets up backups for a new table.
func enablePITR(ctx context.Context, env migration.Env, api TableAPI, name string, days int32) error {
	err := env.Retry(ctx, []string{"ContinuousBackupsUnavailableException"}, func(ctx context.Context) error {
		_, err := api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        aws.String(name),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: aws.Int32(days)},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("enable point-in-time recovery: %w", err)
	}
	return nil
}

func tableTags(ctx context.Context, api TableAPI, arn string) (map[string]string, error) {
	tags := map[string]string{}
	var token *string
	for {
		out, err := api.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("list tags: %w", err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return tags, nil
		}
		token = out.NextToken
	}
}

func convergeTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec, name string, desc *types.TableDescription) (Table, error) {
	arn := aws.ToString(desc.TableArn)
	table := Table{Name: name, ARN: arn}
	tags, err := tableTags(ctx, api, arn)
	if err != nil {
		return Table{}, err
	}
	if !env.Owns(tags) {
		return Table{}, fmt.Errorf("table exists without the ownership tag %s=%s; refusing to adopt it", migration.OwnerTag, env.Suffix)
	}
	switch desc.TableStatus {
	case types.TableStatusDeleting:
		return Table{}, errors.New("table is being deleted; apply again once it is gone")
	case types.TableStatusCreating, types.TableStatusUpdating:
		if !env.DryRun {
			if err := waitTableActive(ctx, env, api, name); err != nil {
				return Table{}, err
			}
			if d, err := describeTable(ctx, api, name); err == nil && d != nil {
				desc = d
			}
		}
	}
	if err := checkKeySchema(desc); err != nil {
		return Table{}, err
	}

	var c migration.Converge
	// DynamoDB takes one kind of change per UpdateTable and refuses
	// another while the table is UPDATING.
	update := func(in *dynamodb.UpdateTableInput) func() error {
		return func() error {
			if _, err := api.UpdateTable(ctx, in); err != nil {
				return fmt.Errorf("update: %w", err)
			}
			return waitTableActive(ctx, env, api, name)
		}
	}
	billing := types.BillingModeProvisioned
	if desc.BillingModeSummary != nil && desc.BillingModeSummary.BillingMode != "" {
		billing = desc.BillingModeSummary.BillingMode
	}
	if billing != types.BillingModePayPerRequest {
		c.Fix("billingMode", string(billing), string(types.BillingModePayPerRequest), update(&dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}))
	}
	haveKey := "(AWS owned key)"
	if sse := desc.SSEDescription; sse != nil && sse.SSEType == types.SSETypeKms && sse.Status != types.SSEStatusDisabled && sse.Status != types.SSEStatusDisabling {
		haveKey = aws.ToString(sse.KMSMasterKeyArn)
	}
	if haveKey != spec.KMSKeyARN {
		c.Fix("kmsKey", haveKey, spec.KMSKeyARN, update(&dynamodb.UpdateTableInput{TableName: aws.String(name), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KMSKeyARN)}}))
	}
	if have := aws.ToBool(desc.DeletionProtectionEnabled); have != spec.DeletionProtection {
		c.Fix("deletionProtection", fmt.Sprint(have), fmt.Sprint(spec.DeletionProtection), update(&dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(spec.DeletionProtection)}))
	}
	cb, err := api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	if err != nil {
		return Table{}, fmt.Errorf("describe continuous backups: %w", err)
	}
	pitr, days := "off", int32(0)
	if d := cb.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil && d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled {
		pitr, days = "on", aws.ToInt32(d.PointInTimeRecoveryDescription.RecoveryPeriodInDays)
	}
	if pitr != "on" || (days != 0 && days != spec.recoveryDays()) {
		c.Fix("pointInTimeRecovery", fmt.Sprintf("%s (%d days)", pitr, days), fmt.Sprintf("on (%d days)", spec.recoveryDays()), func() error {
			return enablePITR(ctx, env, api, name, spec.recoveryDays())
		})
	}
	c.Tags(tags, env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: ddbTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	if err := c.Apply(env, migration.Change{Kind: KindTable, Name: name, ID: arn}); err != nil {
		return Table{}, err
	}
	return table, nil
}

// checkKeySchema refuses a table whose key is not pk/sk strings: the key
// schema of a table cannot change.
func checkKeySchema(desc *types.TableDescription) error {
	want := map[string]types.KeyType{AttrPK: types.KeyTypeHash, AttrSK: types.KeyTypeRange}
	ok := len(desc.KeySchema) == 2
	for _, k := range desc.KeySchema {
		if want[aws.ToString(k.AttributeName)] != k.KeyType {
			ok = false
		}
	}
	for _, a := range desc.AttributeDefinitions {
		if _, key := want[aws.ToString(a.AttributeName)]; key && a.AttributeType != types.ScalarAttributeTypeS {
			ok = false
		}
	}
	if !ok {
		var have []string
		for _, k := range desc.KeySchema {
			have = append(have, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return fmt.Errorf("key schema is immutable: the table has [%s], the tracking store needs [pk HASH (S), sk RANGE (S)]; delete the table or choose another env suffix", strings.Join(have, ", "))
	}
	return nil
}

// FinalBackupName returns the name of the backup DeleteTable takes:
// "migration-tracking-final-<suffix>-<UTC yyyymmddhhmmss>".
func FinalBackupName(env migration.Env, at time.Time) string {
	return env.Name("migration-tracking-final") + "-" + at.UTC().Format("20060102150405")
}

// DeleteTable deletes the env's tracking table. First it takes an
// on-demand backup (FinalBackupName) so that the migration's history —
// the audit trail of every transition and decision — survives the env
// (SkipFinalBackup turns that off); the backup is kept until deleted by
// hand. It touches only a table carrying the env's ownership tag, refuses
// a table with deletion protection on (turn it off in the spec and apply
// first), waits until the table is gone and is a no-op when it already
// is.
func DeleteTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec) error {
	name := TableName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete table %q: %w", name, err)
	}
	if err := deleteTable(ctx, env, api, spec, name); err != nil {
		return fmt.Errorf("delete table %q: %w", name, err)
	}
	return nil
}

func deleteTable(ctx context.Context, env migration.Env, api TableAPI, spec TableSpec, name string) error {
	desc, err := describeTable(ctx, api, name)
	if err != nil {
		return err
	}
	if desc == nil || desc.TableStatus == types.TableStatusDeleting {
		env.ReportGone(KindTable, name)
		return nil
	}
	arn := aws.ToString(desc.TableArn)
	tags, err := tableTags(ctx, api, arn)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindTable, name, arn)
		return nil
	}
	if aws.ToBool(desc.DeletionProtectionEnabled) {
		return errors.New("deletion protection is on; set it off in the spec and apply before destroying")
	}
	note := "no final backup (skipFinalBackup)"
	if !spec.SkipFinalBackup {
		note = "final backup " + FinalBackupName(env, env.Now())
	}
	if !env.DryRun {
		if desc.TableStatus != types.TableStatusActive {
			if err := waitTableActive(ctx, env, api, name); err != nil {
				return err
			}
		}
		if !spec.SkipFinalBackup {
			out, err := api.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(name), BackupName: aws.String(FinalBackupName(env, env.Now()))})
			if err != nil {
				return fmt.Errorf("final backup (set skipFinalBackup to delete without one): %w", err)
			}
			note = "final backup " + aws.ToString(out.BackupDetails.BackupArn)
		}
		_, err := api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if err != nil && !awsx.IsNotFound(err) {
			return err
		}
		var accept awsx.Acceptor[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput]
		dynamodb.NewTableNotExistsWaiter(api, func(o *dynamodb.TableNotExistsWaiterOptions) { accept = o.Retryable })
		if _, err := migration.Wait(ctx, env, "table "+name+" to be deleted", api.DescribeTable, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, accept, tableTimeout); err != nil {
			return err
		}
	}
	env.Report(migration.Change{Kind: KindTable, Name: name, ID: arn, Action: migration.ActionDelete, Note: note})
	return nil
}

func ddbTags(m map[string]string) []types.Tag {
	return awsx.Tags(m, func(k, v *string) types.Tag { return types.Tag{Key: k, Value: v} })
}
