package fakecloud

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS is the fake KMS client. Get it with Cloud.KMS.
type KMS struct{ c *Cloud }

// KMS returns the KMS client of the cloud.
func (c *Cloud) KMS() *KMS { return &KMS{c: c} }

func init() { register("kms", func() any { return &kmsState{} }) }

type kmsState struct {
	Keys    map[string]*fakeKey `json:"keys"`
	Aliases map[string]string   `json:"aliases"` // alias name -> key ID
}

type fakeKey struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Description string            `json:"description"`
	State       string            `json:"state"`
	Policy      string            `json:"policy"`
	Rotation    bool              `json:"rotation"`
	Tags        map[string]string `json:"tags"`
	Created     time.Time         `json:"created"`
	DeleteAt    time.Time         `json:"deleteAt,omitzero"`
}

func (f *KMS) st() *kmsState {
	s := state[kmsState](f.c, "kms")
	if s.Keys == nil {
		s.Keys = map[string]*fakeKey{}
		s.Aliases = map[string]string{}
	}
	// Keys past their deletion date are gone.
	for id, k := range s.Keys {
		if k.State == string(types.KeyStatePendingDeletion) && !f.c.now().Before(k.DeleteAt) {
			delete(s.Keys, id)
		}
	}
	return s
}

// key resolves a key ID, key ARN, alias name or alias ARN.
func (f *KMS) key(ref string) (*fakeKey, error) {
	s := f.st()
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		_, res, _ := strings.Cut(ref, ":"+f.c.account+":")
		id = res
		if strings.HasPrefix(res, "key/") {
			id = strings.TrimPrefix(res, "key/")
		}
	}
	if strings.HasPrefix(id, "alias/") {
		kid, ok := s.Aliases[id]
		if !ok {
			return nil, notFound("NotFoundException", "Alias %s is not found.", f.c.arn("kms", id))
		}
		id = kid
	}
	k, ok := s.Keys[id]
	if !ok || f.c.hidden(id) {
		return nil, notFound("NotFoundException", "Key '%s' does not exist", f.c.arn("kms", "key/"+id))
	}
	return k, nil
}

func (k *fakeKey) metadata(account string) *types.KeyMetadata {
	m := &types.KeyMetadata{
		KeyId:        aws.String(k.ID),
		Arn:          aws.String(k.ARN),
		AWSAccountId: aws.String(account),
		Description:  aws.String(k.Description),
		KeyState:     types.KeyState(k.State),
		Enabled:      k.State == string(types.KeyStateEnabled),
		KeyManager:   types.KeyManagerTypeCustomer,
		KeySpec:      types.KeySpecSymmetricDefault,
		KeyUsage:     types.KeyUsageTypeEncryptDecrypt,
		Origin:       types.OriginTypeAwsKms,
		CreationDate: aws.Time(k.Created),
	}
	if !k.DeleteAt.IsZero() {
		m.DeletionDate = aws.Time(k.DeleteAt)
	}
	return m
}

// CreateKey creates a symmetric customer managed key.
func (f *KMS) CreateKey(ctx context.Context, in *kms.CreateKeyInput, _ ...func(*kms.Options)) (*kms.CreateKeyOutput, error) {
	var out *kms.CreateKeyOutput
	err := f.c.call(ctx, kms.ServiceID, "CreateKey", true, func() error {
		if in.KeySpec != "" && in.KeySpec != types.KeySpecSymmetricDefault {
			return apiError("UnsupportedOperationException", "the fake supports symmetric keys only")
		}
		if in.Policy != nil {
			if err := checkPolicyJSON("MalformedPolicyDocumentException", *in.Policy); err != nil {
				return err
			}
		}
		id := f.c.newUUID()
		k := &fakeKey{ID: id, ARN: f.c.arn("kms", "key/"+id), Description: aws.ToString(in.Description), State: string(types.KeyStateEnabled), Policy: aws.ToString(in.Policy), Tags: map[string]string{}, Created: f.c.now()}
		for _, t := range in.Tags {
			k.Tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
		if k.Policy == "" {
			k.Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + f.c.account + `:root"},"Action":"kms:*","Resource":"*"}]}`
		}
		f.st().Keys[id] = k
		f.c.created(id)
		out = &kms.CreateKeyOutput{KeyMetadata: k.metadata(f.c.account)}
		return nil
	})
	return out, err
}

// DescribeKey describes a key by ID, ARN or alias.
func (f *KMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	var out *kms.DescribeKeyOutput
	err := f.c.call(ctx, kms.ServiceID, "DescribeKey", false, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		out = &kms.DescribeKeyOutput{KeyMetadata: k.metadata(f.c.account)}
		return nil
	})
	return out, err
}

// ListKeys lists key IDs, paginated by Marker (page size Limit, default 100).
func (f *KMS) ListKeys(ctx context.Context, in *kms.ListKeysInput, _ ...func(*kms.Options)) (*kms.ListKeysOutput, error) {
	var out *kms.ListKeysOutput
	err := f.c.call(ctx, kms.ServiceID, "ListKeys", false, func() error {
		s := f.st()
		var all []types.KeyListEntry
		for _, id := range sortedKeys(s.Keys) {
			all = append(all, types.KeyListEntry{KeyId: aws.String(id), KeyArn: aws.String(s.Keys[id].ARN)})
		}
		size := 100
		if in.Limit != nil {
			size = int(*in.Limit)
		}
		items, next, err := page(all, in.Marker, size)
		if err != nil {
			return err
		}
		out = &kms.ListKeysOutput{Keys: items, NextMarker: next, Truncated: next != nil}
		return nil
	})
	return out, err
}

// ListAliases lists aliases, optionally of one key.
func (f *KMS) ListAliases(ctx context.Context, in *kms.ListAliasesInput, _ ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	var out *kms.ListAliasesOutput
	err := f.c.call(ctx, kms.ServiceID, "ListAliases", false, func() error {
		s := f.st()
		var all []types.AliasListEntry
		for _, name := range sortedKeys(s.Aliases) {
			kid := s.Aliases[name]
			if in.KeyId != nil {
				k, err := f.key(*in.KeyId)
				if err != nil {
					return err
				}
				if k.ID != kid {
					continue
				}
			}
			all = append(all, types.AliasListEntry{AliasName: aws.String(name), AliasArn: aws.String(f.c.arn("kms", name)), TargetKeyId: aws.String(kid)})
		}
		size := 100
		if in.Limit != nil {
			size = int(*in.Limit)
		}
		items, next, err := page(all, in.Marker, size)
		if err != nil {
			return err
		}
		out = &kms.ListAliasesOutput{Aliases: items, NextMarker: next, Truncated: next != nil}
		return nil
	})
	return out, err
}

// ListResourceTags lists a key's tags.
func (f *KMS) ListResourceTags(ctx context.Context, in *kms.ListResourceTagsInput, _ ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error) {
	var out *kms.ListResourceTagsOutput
	err := f.c.call(ctx, kms.ServiceID, "ListResourceTags", false, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		out = &kms.ListResourceTagsOutput{}
		for _, key := range sortedKeys(k.Tags) {
			out.Tags = append(out.Tags, types.Tag{TagKey: aws.String(key), TagValue: aws.String(k.Tags[key])})
		}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites tags on a key.
func (f *KMS) TagResource(ctx context.Context, in *kms.TagResourceInput, _ ...func(*kms.Options)) (*kms.TagResourceOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "TagResource", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			k.Tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
		return nil
	})
	return &kms.TagResourceOutput{}, err
}

// GetKeyPolicy returns the key policy (PolicyName "default").
func (f *KMS) GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	var out *kms.GetKeyPolicyOutput
	err := f.c.call(ctx, kms.ServiceID, "GetKeyPolicy", false, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		out = &kms.GetKeyPolicyOutput{Policy: aws.String(k.Policy), PolicyName: aws.String("default")}
		return nil
	})
	return out, err
}

// PutKeyPolicy replaces the key policy.
func (f *KMS) PutKeyPolicy(ctx context.Context, in *kms.PutKeyPolicyInput, _ ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "PutKeyPolicy", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		if err := checkPolicyJSON("MalformedPolicyDocumentException", aws.ToString(in.Policy)); err != nil {
			return err
		}
		k.Policy = aws.ToString(in.Policy)
		return nil
	})
	return &kms.PutKeyPolicyOutput{}, err
}

// GetKeyRotationStatus reports whether automatic rotation is on.
func (f *KMS) GetKeyRotationStatus(ctx context.Context, in *kms.GetKeyRotationStatusInput, _ ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error) {
	var out *kms.GetKeyRotationStatusOutput
	err := f.c.call(ctx, kms.ServiceID, "GetKeyRotationStatus", false, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		out = &kms.GetKeyRotationStatusOutput{KeyRotationEnabled: k.Rotation, KeyId: aws.String(k.ID), RotationPeriodInDays: aws.Int32(365)}
		return nil
	})
	return out, err
}

// EnableKeyRotation turns automatic rotation on.
func (f *KMS) EnableKeyRotation(ctx context.Context, in *kms.EnableKeyRotationInput, _ ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "EnableKeyRotation", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		if k.State != string(types.KeyStateEnabled) {
			return apiError("KMSInvalidStateException", "%s is %s", k.ARN, k.State)
		}
		k.Rotation = true
		return nil
	})
	return &kms.EnableKeyRotationOutput{}, err
}

// DisableKeyRotation turns automatic rotation off (tests use it to drift).
func (f *KMS) DisableKeyRotation(ctx context.Context, in *kms.DisableKeyRotationInput, _ ...func(*kms.Options)) (*kms.DisableKeyRotationOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "DisableKeyRotation", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		k.Rotation = false
		return nil
	})
	return &kms.DisableKeyRotationOutput{}, err
}

// EnableKey enables a disabled key.
func (f *KMS) EnableKey(ctx context.Context, in *kms.EnableKeyInput, _ ...func(*kms.Options)) (*kms.EnableKeyOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "EnableKey", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		if k.State == string(types.KeyStatePendingDeletion) {
			return apiError("KMSInvalidStateException", "%s is pending deletion", k.ARN)
		}
		k.State = string(types.KeyStateEnabled)
		return nil
	})
	return &kms.EnableKeyOutput{}, err
}

// DisableKey disables a key (tests use it to drift).
func (f *KMS) DisableKey(ctx context.Context, in *kms.DisableKeyInput, _ ...func(*kms.Options)) (*kms.DisableKeyOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "DisableKey", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		k.State = string(types.KeyStateDisabled)
		return nil
	})
	return &kms.DisableKeyOutput{}, err
}

// CreateAlias points a new alias at a key.
func (f *KMS) CreateAlias(ctx context.Context, in *kms.CreateAliasInput, _ ...func(*kms.Options)) (*kms.CreateAliasOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "CreateAlias", true, func() error {
		name := aws.ToString(in.AliasName)
		if !strings.HasPrefix(name, "alias/") || strings.HasPrefix(name, "alias/aws/") {
			return apiError("InvalidAliasNameException", "alias %q must begin with alias/ and not alias/aws/", name)
		}
		s := f.st()
		if _, ok := s.Aliases[name]; ok {
			return apiError("AlreadyExistsException", "An alias with the name %s already exists", f.c.arn("kms", name))
		}
		k, err := f.key(aws.ToString(in.TargetKeyId))
		if err != nil {
			return err
		}
		s.Aliases[name] = k.ID
		return nil
	})
	return &kms.CreateAliasOutput{}, err
}

// UpdateAlias points an existing alias at another key.
func (f *KMS) UpdateAlias(ctx context.Context, in *kms.UpdateAliasInput, _ ...func(*kms.Options)) (*kms.UpdateAliasOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "UpdateAlias", true, func() error {
		s := f.st()
		name := aws.ToString(in.AliasName)
		if _, ok := s.Aliases[name]; !ok {
			return notFound("NotFoundException", "Alias %s is not found.", f.c.arn("kms", name))
		}
		k, err := f.key(aws.ToString(in.TargetKeyId))
		if err != nil {
			return err
		}
		s.Aliases[name] = k.ID
		return nil
	})
	return &kms.UpdateAliasOutput{}, err
}

// DeleteAlias removes an alias.
func (f *KMS) DeleteAlias(ctx context.Context, in *kms.DeleteAliasInput, _ ...func(*kms.Options)) (*kms.DeleteAliasOutput, error) {
	err := f.c.call(ctx, kms.ServiceID, "DeleteAlias", true, func() error {
		s := f.st()
		name := aws.ToString(in.AliasName)
		if _, ok := s.Aliases[name]; !ok {
			return notFound("NotFoundException", "Alias %s is not found.", f.c.arn("kms", name))
		}
		delete(s.Aliases, name)
		return nil
	})
	return &kms.DeleteAliasOutput{}, err
}

// ScheduleKeyDeletion schedules deletion after 7..30 days (default 30).
func (f *KMS) ScheduleKeyDeletion(ctx context.Context, in *kms.ScheduleKeyDeletionInput, _ ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error) {
	var out *kms.ScheduleKeyDeletionOutput
	err := f.c.call(ctx, kms.ServiceID, "ScheduleKeyDeletion", true, func() error {
		k, err := f.key(aws.ToString(in.KeyId))
		if err != nil {
			return err
		}
		days := int32(30)
		if in.PendingWindowInDays != nil {
			days = *in.PendingWindowInDays
		}
		if days < 7 || days > 30 {
			return apiError("ValidationException", "PendingWindowInDays must be between 7 and 30")
		}
		if k.State == string(types.KeyStatePendingDeletion) {
			return apiError("KMSInvalidStateException", "%s is pending deletion", k.ARN)
		}
		k.State = string(types.KeyStatePendingDeletion)
		k.Rotation = false
		k.DeleteAt = f.c.now().Add(time.Duration(days) * 24 * time.Hour)
		out = &kms.ScheduleKeyDeletionOutput{KeyId: aws.String(k.ARN), DeletionDate: aws.Time(k.DeleteAt), KeyState: types.KeyStatePendingDeletion, PendingWindowInDays: aws.Int32(days)}
		return nil
	})
	return out, err
}

// KeyState returns the state of a key and whether it exists, for
// assertions.
func (f *KMS) KeyState(id string) (string, bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	k, ok := f.st().Keys[id]
	if !ok {
		return "", false
	}
	return k.State, true
}

// LiveKeys returns the IDs of the keys not pending deletion, for
// assertions.
func (f *KMS) LiveKeys() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	s := f.st()
	for _, id := range sortedKeys(s.Keys) {
		if s.Keys[id].State != string(types.KeyStatePendingDeletion) {
			out = append(out, id)
		}
	}
	return out
}
