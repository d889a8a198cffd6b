package migration

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// KMSAPI is the part of the KMS client EnsureKey and DeleteKey use.
type KMSAPI interface {
	CreateKey(context.Context, *kms.CreateKeyInput, ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error)
	ListResourceTags(context.Context, *kms.ListResourceTagsInput, ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error)
	TagResource(context.Context, *kms.TagResourceInput, ...func(*kms.Options)) (*kms.TagResourceOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
	PutKeyPolicy(context.Context, *kms.PutKeyPolicyInput, ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error)
	GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	EnableKeyRotation(context.Context, *kms.EnableKeyRotationInput, ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error)
	EnableKey(context.Context, *kms.EnableKeyInput, ...func(*kms.Options)) (*kms.EnableKeyOutput, error)
	CreateAlias(context.Context, *kms.CreateAliasInput, ...func(*kms.Options)) (*kms.CreateAliasOutput, error)
	DeleteAlias(context.Context, *kms.DeleteAliasInput, ...func(*kms.Options)) (*kms.DeleteAliasOutput, error)
	ScheduleKeyDeletion(context.Context, *kms.ScheduleKeyDeletionInput, ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error)
}

// KindKey is the Change kind of the env's KMS key.
const KindKey = "kms-key"

// KeySpec describes the env's customer managed key.
type KeySpec struct {
	// Description of the key; a default naming the env when empty.
	Description string
	// DeletionWindowDays is the waiting period DeleteKey schedules: 7 to
	// 30 days; 0 means 7, the minimum.
	DeletionWindowDays int
}

// Validate checks the spec.
func (s KeySpec) Validate() error {
	if s.DeletionWindowDays != 0 && (s.DeletionWindowDays < 7 || s.DeletionWindowDays > 30) {
		return fmt.Errorf("key.deletionWindowDays: must be 7..30, got %d", s.DeletionWindowDays)
	}
	if len(s.Description) > 8192 {
		return errors.New("key.description: at most 8192 characters")
	}
	return nil
}

// Key is the env's KMS key. Every data store of the env (logs, DynamoDB,
// SNS, Secrets Manager, DMS, RDS, EBS, S3, Lambda environment) encrypts
// with it; other packages take ARN in their specs.
type Key struct {
	ID    string
	ARN   string
	Alias string
}

// KeyAlias returns the alias of the env's key, "alias/migration-<suffix>".
func KeyAlias(env Env) string { return "alias/" + env.Name("migration") }

// KeyPolicy returns the key policy of the env's key. It grants:
//
//   - the account root full control (KeyAdminSid), which AWS requires so
//     that the key stays manageable through IAM;
//   - CloudWatch Logs in the Region, for the log groups under
//     /cutover/<suffix>/ only (the kms:EncryptionContext:aws:logs:arn
//     condition);
//   - principals of this account using the key through DynamoDB, Secrets
//     Manager, SNS, DMS, RDS, EC2 (EBS volumes of server replication), S3,
//     Lambda and EFS in the Region (kms:ViaService and kms:CallerAccount);
//   - DynamoDB itself (the service principal) reading the key's metadata,
//     which it does to watch the state of a table's key and report when the
//     key is disabled or pending deletion;
//   - CloudWatch alarms and EventBridge, which publish to the encrypted SNS
//     topic as services and need GenerateDataKey and Decrypt.
//
// Resource "*" in a key policy means this key.
func KeyPolicy(env Env) PolicyDocument {
	root := "arn:aws:iam::" + env.Account + ":root"
	via := func(sid string, services []string, actions ...string) Statement {
		var hosts Strings
		for _, s := range services {
			hosts = append(hosts, s+"."+env.Region+".amazonaws.com")
		}
		return Statement{
			Sid: sid, Effect: "Allow", Principal: &Principal{Any: true}, Action: actions, Resource: Strings{"*"},
			Condition: Condition{"StringEquals": {"kms:ViaService": hosts, "kms:CallerAccount": {env.Account}}},
		}
	}
	dataActions := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
	return NewPolicy(
		Statement{Sid: KeyAdminSid, Effect: "Allow", Principal: AWSPrincipal(root), Action: Strings{"kms:*"}, Resource: Strings{"*"}},
		Statement{
			Sid: "AllowCloudWatchLogs", Effect: "Allow", Principal: ServicePrincipal("logs." + env.Region + ".amazonaws.com"),
			Action:   Strings{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource: Strings{"*"},
			Condition: Condition{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {
				"arn:aws:logs:" + env.Region + ":" + env.Account + ":log-group:/cutover/" + env.Suffix + "/*",
			}}},
		},
		via("AllowDataStoresViaService", []string{"secretsmanager", "sns", "s3"}, dataActions...),
		via("AllowGrantsViaService", []string{"dynamodb", "dms", "rds", "ec2", "lambda", "elasticfilesystem"}, append(slices.Clone(dataActions), "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")...),
		Statement{
			Sid: "AllowDynamoDBToDescribeKey", Effect: "Allow", Principal: ServicePrincipal("dynamodb.amazonaws.com"),
			Action: Strings{"kms:Describe*", "kms:Get*", "kms:List*"}, Resource: Strings{"*"},
		},
		Statement{
			Sid: "AllowAlarmAndEventPublishers", Effect: "Allow", Principal: ServicePrincipal("cloudwatch.amazonaws.com", "events.amazonaws.com"),
			Action: Strings{"kms:GenerateDataKey*", "kms:Decrypt"}, Resource: Strings{"*"},
		},
	)
}

// EnsureKey makes the env's customer managed key exist and converge:
// symmetric, enabled, automatic rotation on, the alias KeyAlias(env), the
// policy KeyPolicy(env) and the env's tags.
//
// It finds the key by its alias, then — when the alias is missing, as after
// a crash between CreateKey and CreateAlias — by the ownership tag, so a
// re-run never makes a second key. It refuses to adopt a key that lacks
// the env's ownership tag and reports an error when more than one owned
// key exists. Idempotent: a converged key costs reads only.
func EnsureKey(ctx context.Context, env Env, api KMSAPI, spec KeySpec) (Key, error) {
	alias := KeyAlias(env)
	if err := Validate(env, spec); err != nil {
		return Key{}, fmt.Errorf("ensure key %q: %w", alias, err)
	}
	k, err := ensureKey(ctx, env, api, spec, alias)
	if err != nil {
		return Key{}, fmt.Errorf("ensure key %q: %w", alias, err)
	}
	return k, nil
}

func (s KeySpec) description(env Env) string {
	if s.Description != "" {
		return s.Description
	}
	return "cutover migration key for env " + env.Suffix
}

func ensureKey(ctx context.Context, env Env, api KMSAPI, spec KeySpec, alias string) (Key, error) {
	meta, hasAlias, err := findKey(ctx, env, api, alias)
	if err != nil {
		return Key{}, err
	}
	policy := KeyPolicy(env)
	if meta == nil {
		if env.DryRun {
			id := Pending(alias)
			env.Report(Change{Kind: KindKey, Name: alias, ID: id, Action: ActionCreate})
			return Key{ID: id, ARN: id, Alias: alias}, nil
		}
		out, err := api.CreateKey(ctx, &kms.CreateKeyInput{
			Description: aws.String(spec.description(env)),
			KeySpec:     kmstypes.KeySpecSymmetricDefault,
			KeyUsage:    kmstypes.KeyUsageTypeEncryptDecrypt,
			Policy:      aws.String(policy.JSON()),
			Tags:        kmsTags(env.NameTags(alias)),
		})
		if err != nil {
			return Key{}, fmt.Errorf("create key: %w", err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		notVisible := []string{"NotFoundException"}
		if err := env.Retry(ctx, notVisible, func(ctx context.Context) error {
			_, err := api.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(id)})
			return err
		}); err != nil {
			return Key{}, fmt.Errorf("create alias for key %s: %w", id, err)
		}
		if err := env.Retry(ctx, notVisible, func(ctx context.Context) error {
			_, err := api.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
			return err
		}); err != nil {
			return Key{}, fmt.Errorf("enable rotation of key %s: %w", id, err)
		}
		env.Report(Change{Kind: KindKey, Name: alias, ID: id, Action: ActionCreate})
		return Key{ID: id, ARN: aws.ToString(out.KeyMetadata.Arn), Alias: alias}, nil
	}

	id := aws.ToString(meta.KeyId)
	key := Key{ID: id, ARN: aws.ToString(meta.Arn), Alias: alias}
	var c Converge
	if meta.KeyState == kmstypes.KeyStateDisabled {
		c.Fix("state", string(meta.KeyState), string(kmstypes.KeyStateEnabled), func() error {
			_, err := api.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(id)})
			return err
		})
	}
	if !hasAlias {
		c.Fix("alias", "(none)", alias, func() error {
			_, err := api.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(id)})
			return err
		})
	}
	rot, err := api.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		return Key{}, fmt.Errorf("get rotation status of key %s: %w", id, err)
	}
	if !rot.KeyRotationEnabled {
		c.Fix("rotation", "off", "on", func() error {
			_, err := api.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
			return err
		})
	}
	pol, err := api.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		return Key{}, fmt.Errorf("get policy of key %s: %w", id, err)
	}
	if !PolicyEqual(aws.ToString(pol.Policy), policy.JSON()) {
		c.Fix("policy", "(differs)", "KeyPolicy(env)", func() error {
			_, err := api.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(policy.JSON())})
			return err
		})
	}
	tags, err := api.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(id)})
	if err != nil {
		return Key{}, fmt.Errorf("list tags of key %s: %w", id, err)
	}
	c.Tags(fromKMSTags(tags.Tags), env.NameTags(alias), func(missing map[string]string) error {
		_, err := api.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: kmsTags(missing)})
		return err
	})
	if err := c.Apply(env, Change{Kind: KindKey, Name: alias, ID: id}); err != nil {
		return Key{}, fmt.Errorf("update key %s: %w", id, err)
	}
	return key, nil
}

// findKey finds the env's key: by alias first, else by the ownership tag
// among the account's keys (skipping keys pending deletion). hasAlias says
// whether the alias points at it.
func findKey(ctx context.Context, env Env, api KMSAPI, alias string) (*kmstypes.KeyMetadata, bool, error) {
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	switch {
	case err == nil:
		meta := out.KeyMetadata
		tags, err := api.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: meta.KeyId})
		if err != nil {
			return nil, false, fmt.Errorf("list tags of key %s: %w", aws.ToString(meta.KeyId), err)
		}
		if !env.Owns(fromKMSTags(tags.Tags)) {
			return nil, false, fmt.Errorf("alias %s points at key %s, which lacks the ownership tag %s=%s; refusing to adopt it", alias, aws.ToString(meta.KeyId), OwnerTag, env.Suffix)
		}
		if meta.KeyState == kmstypes.KeyStatePendingDeletion {
			return nil, false, fmt.Errorf("key %s is pending deletion; cancel the deletion or delete alias %s first", aws.ToString(meta.KeyId), alias)
		}
		return meta, true, nil
	case !awsx.IsNotFound(err):
		return nil, false, fmt.Errorf("describe %s: %w", alias, err)
	}
	owned, err := ownedKeys(ctx, env, api)
	if err != nil {
		return nil, false, err
	}
	switch len(owned) {
	case 0:
		return nil, false, nil
	case 1:
		return owned[0], false, nil
	default:
		ids := make([]string, len(owned))
		for i, m := range owned {
			ids[i] = aws.ToString(m.KeyId)
		}
		return nil, false, fmt.Errorf("%d keys carry %s=%s (%v); expected one: delete the extra keys", len(owned), OwnerTag, env.Suffix, ids)
	}
}

// ownedKeys lists the keys of the account that carry the env's ownership
// tag and are not pending deletion.
func ownedKeys(ctx context.Context, env Env, api KMSAPI) ([]*kmstypes.KeyMetadata, error) {
	var owned []*kmstypes.KeyMetadata
	p := kms.NewListKeysPaginator(api, &kms.ListKeysInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		for _, k := range page.Keys {
			tags, err := api.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId})
			if awsx.IsNotFound(err) || awsx.HasCode(err, "AccessDeniedException") {
				continue // deleted meanwhile, or a key we may not read: not ours
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of key %s: %w", aws.ToString(k.KeyId), err)
			}
			if !env.Owns(fromKMSTags(tags.Tags)) {
				continue
			}
			d, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				return nil, fmt.Errorf("describe key %s: %w", aws.ToString(k.KeyId), err)
			}
			if d.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
				owned = append(owned, d.KeyMetadata)
			}
		}
	}
	return owned, nil
}

// DeleteKey deletes the env's key: it removes the alias and schedules the
// key's deletion after the spec's window (7 days by default, the minimum
// KMS allows). Data encrypted with the key becomes unreadable when the
// window ends; until then `aws kms cancel-key-deletion` restores it. Only a
// key carrying the env's ownership tag is touched; a missing key is a
// no-op.
func DeleteKey(ctx context.Context, env Env, api KMSAPI, spec KeySpec) error {
	alias := KeyAlias(env)
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete key %q: %w", alias, err)
	}
	meta, hasAlias, err := findKey(ctx, env, api, alias)
	if err != nil {
		return fmt.Errorf("delete key %q: %w", alias, err)
	}
	if meta == nil {
		env.ReportGone(KindKey, alias)
		return nil
	}
	id := aws.ToString(meta.KeyId)
	days := int32(spec.DeletionWindowDays)
	if days == 0 {
		days = 7
	}
	if !env.DryRun {
		if hasAlias {
			if _, err := api.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)}); err != nil && !awsx.IsNotFound(err) {
				return fmt.Errorf("delete key %q: delete alias: %w", alias, err)
			}
		}
		if _, err := api.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(days)}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete key %q: schedule deletion of %s: %w", alias, id, err)
		}
	}
	env.Report(Change{Kind: KindKey, Name: alias, ID: id, Action: ActionDelete, Note: fmt.Sprintf("deletion scheduled in %d days", days)})
	return nil
}

func kmsTags(m map[string]string) []kmstypes.Tag {
	return awsx.Tags(m, func(k, v *string) kmstypes.Tag { return kmstypes.Tag{TagKey: k, TagValue: v} })
}

func fromKMSTags(tags []kmstypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t kmstypes.Tag) (*string, *string) { return t.TagKey, t.TagValue })
}
