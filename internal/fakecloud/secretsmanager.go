package fakecloud

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManager is the fake Secrets Manager client. Get it with
// Cloud.SecretsManager.
//
// It keeps every version of a secret with its staging labels (AWSCURRENT,
// AWSPREVIOUS), honours ClientRequestToken idempotency (same token and
// value: ignored; same token, other value: refused), schedules deletion
// with a recovery window (a scheduled secret blocks a create of the same
// name until restored or purged), refuses writes to secrets another
// service manages (the RDS master user secret), and checks the KMS key a
// secret names.
type SecretsManager struct{ c *Cloud }

// SecretsManager returns the Secrets Manager client of the cloud.
func (c *Cloud) SecretsManager() *SecretsManager { return &SecretsManager{c: c} }

func init() { register("secretsmanager", func() any { return &smState{} }) }

type smState struct {
	Secrets map[string]*fakeSecret `json:"secrets"` // by name
}

type fakeSecret struct {
	Name          string                    `json:"name"`
	ARN           string                    `json:"arn"`
	Description   string                    `json:"description,omitempty"`
	KmsKeyID      string                    `json:"kmsKeyId,omitempty"` // as given; "" is aws/secretsmanager
	Tags          map[string]string         `json:"tags"`
	Versions      map[string]*secretVersion `json:"versions"`
	OwningService string                    `json:"owningService,omitempty"`
	RotationDays  int64                     `json:"rotationDays,omitempty"`
	Created       time.Time                 `json:"created"`
	Changed       time.Time                 `json:"changed"`
	DeletedAt     time.Time                 `json:"deletedAt,omitzero"`
	PurgeAt       time.Time                 `json:"purgeAt,omitzero"`
}

type secretVersion struct {
	ID      string    `json:"id"`
	String  *string   `json:"string,omitempty"`
	Binary  []byte    `json:"binary,omitempty"`
	Stages  []string  `json:"stages"`
	Created time.Time `json:"created"`
}

var smNameRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@!-]{1,512}$`)

func (f *SecretsManager) st() *smState {
	s := state[smState](f.c, "secretsmanager")
	if s.Secrets == nil {
		s.Secrets = map[string]*fakeSecret{}
	}
	now := f.c.now()
	for name, sec := range s.Secrets { // past their recovery window: gone
		if !sec.PurgeAt.IsZero() && !now.Before(sec.PurgeAt) {
			delete(s.Secrets, name)
		}
	}
	return s
}

// lookup resolves a SecretId: a name, a full ARN or a partial ARN (the
// ARN without its random six-character suffix).
func (f *SecretsManager) lookup(id string) (*fakeSecret, error) {
	s := f.st()
	var found *fakeSecret
	if strings.HasPrefix(id, "arn:") {
		for _, sec := range s.Secrets {
			if sec.ARN == id || strings.TrimSuffix(sec.ARN, sec.ARN[len(sec.ARN)-7:]) == id {
				found = sec
				break
			}
		}
	} else {
		found = s.Secrets[id]
	}
	if found == nil || f.c.hidden(found.ARN) {
		return nil, notFound("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	return found, nil
}

// live is lookup for operations refused on a secret scheduled for deletion.
func (f *SecretsManager) live(id string) (*fakeSecret, error) {
	sec, err := f.lookup(id)
	if err != nil {
		return nil, err
	}
	if !sec.DeletedAt.IsZero() {
		return nil, apiError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

// smKeyUsable resolves a key reference against the KMS fake without
// counting a read: a secret encrypted with a missing or disabled key
// cannot be written.
func smKeyUsable(c *Cloud, ref string) bool {
	ks := state[kmsState](c, "kms")
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		_, res, _ := strings.Cut(ref, ":"+c.account+":")
		id = strings.TrimPrefix(res, "key/")
	}
	if strings.HasPrefix(id, "alias/") {
		kid, ok := ks.Aliases[id]
		if !ok {
			return false
		}
		id = kid
	}
	k, ok := ks.Keys[id]
	return ok && k.State == "Enabled"
}

// smKeyARN returns the ARN of the key ref names, or "" when unknown.
func smKeyARN(c *Cloud, ref string) string {
	ks := state[kmsState](c, "kms")
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		_, res, _ := strings.Cut(ref, ":"+c.account+":")
		id = strings.TrimPrefix(res, "key/")
	}
	if strings.HasPrefix(id, "alias/") {
		id = ks.Aliases[id]
	}
	if k, ok := ks.Keys[id]; ok {
		return k.ARN
	}
	return ""
}

func smCheckToken(tok *string) error {
	if tok != nil && (len(*tok) < 32 || len(*tok) > 64) {
		return apiError("ValidationException", "ClientRequestToken must be 32 to 64 characters long.")
	}
	return nil
}

func (sec *fakeSecret) current() *secretVersion {
	for _, v := range sec.Versions {
		if slices.Contains(v.Stages, "AWSCURRENT") {
			return v
		}
	}
	return nil
}

// addVersion makes a new AWSCURRENT version (the old one becomes
// AWSPREVIOUS), or ignores a repeat of the same token and value.
func (f *SecretsManager) addVersion(sec *fakeSecret, token *string, str *string, bin []byte) (string, error) {
	id := aws.ToString(token)
	if id == "" {
		id = f.c.newUUID()
	}
	if v, ok := sec.Versions[id]; ok {
		if aws.ToString(v.String) == aws.ToString(str) && string(v.Binary) == string(bin) {
			return id, nil
		}
		return "", apiError("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
	}
	for _, v := range sec.Versions {
		v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == "AWSPREVIOUS" })
		if i := slices.Index(v.Stages, "AWSCURRENT"); i >= 0 {
			v.Stages[i] = "AWSPREVIOUS"
		}
	}
	// Versions without a label are removed, as Secrets Manager does.
	for vid, v := range sec.Versions {
		if len(v.Stages) == 0 {
			delete(sec.Versions, vid)
		}
	}
	sec.Versions[id] = &secretVersion{ID: id, String: str, Binary: bin, Stages: []string{"AWSCURRENT"}, Created: f.c.now()}
	sec.Changed = f.c.now()
	return id, nil
}

func (f *SecretsManager) newSecret(name, description, kmsKey, owner string, tags map[string]string) *fakeSecret {
	f.c.seq++
	suffix := strings.ToUpper(dmsBase32(mix(f.c.seq)))[:6]
	sec := &fakeSecret{
		Name: name, ARN: f.c.arn("secretsmanager", "secret:"+name+"-"+suffix), Description: description,
		KmsKeyID: kmsKey, Tags: map[string]string{}, Versions: map[string]*secretVersion{}, OwningService: owner,
		Created: f.c.now(), Changed: f.c.now(),
	}
	for k, v := range tags {
		sec.Tags[k] = v
	}
	f.st().Secrets[name] = sec
	f.c.created(sec.ARN)
	return sec
}

// CreateSecret creates a secret with its first version. A repeat with the
// same ClientRequestToken and value is ignored (idempotent); a name in use
// is ResourceExistsException, and a name scheduled for deletion is
// InvalidRequestException until the secret is restored or purged.
func (f *SecretsManager) CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	var out *secretsmanager.CreateSecretOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "CreateSecret", true, func() error {
		name := aws.ToString(in.Name)
		if !smNameRe.MatchString(name) {
			return apiError("ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}
		if err := smCheckToken(in.ClientRequestToken); err != nil {
			return err
		}
		if in.SecretString != nil && in.SecretBinary != nil {
			return apiError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
		}
		if k := aws.ToString(in.KmsKeyId); k != "" && !smKeyUsable(f.c, k) {
			return apiError("EncryptionFailure", "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.")
		}
		if len(in.Tags) > 50 {
			return apiError("ValidationException", "a secret can have at most 50 tags")
		}
		if sec, ok := f.st().Secrets[name]; ok {
			if !sec.DeletedAt.IsZero() {
				return apiError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
			}
			if tok := aws.ToString(in.ClientRequestToken); tok != "" {
				if v, ok := sec.Versions[tok]; ok && aws.ToString(v.String) == aws.ToString(in.SecretString) && string(v.Binary) == string(in.SecretBinary) {
					out = &secretsmanager.CreateSecretOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), VersionId: aws.String(tok)}
					return nil
				}
			}
			return apiError("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
		}
		tags := map[string]string{}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		sec := f.newSecret(name, aws.ToString(in.Description), aws.ToString(in.KmsKeyId), "", tags)
		out = &secretsmanager.CreateSecretOutput{ARN: aws.String(sec.ARN), Name: aws.String(name)}
		if in.SecretString != nil || in.SecretBinary != nil {
			vid, err := f.addVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary)
			if err != nil {
				return err
			}
			out.VersionId = aws.String(vid)
		}
		return nil
	})
	return out, err
}

// DescribeSecret describes a secret (never its value); it works on a
// secret scheduled for deletion and shows DeletedDate.
func (f *SecretsManager) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	var out *secretsmanager.DescribeSecretOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "DescribeSecret", false, func() error {
		sec, err := f.lookup(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		out = &secretsmanager.DescribeSecretOutput{
			ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), Description: smOpt(sec.Description),
			KmsKeyId: smOpt(sec.KmsKeyID), Tags: smTags(sec.Tags), OwningService: smOpt(sec.OwningService),
			CreatedDate: aws.Time(sec.Created), LastChangedDate: aws.Time(sec.Changed),
			VersionIdsToStages: map[string][]string{}, RotationEnabled: aws.Bool(sec.RotationDays > 0),
		}
		if sec.RotationDays > 0 {
			out.RotationRules = &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(sec.RotationDays)}
		}
		if !sec.DeletedAt.IsZero() {
			out.DeletedDate = aws.Time(sec.DeletedAt)
		}
		for id, v := range sec.Versions {
			out.VersionIdsToStages[id] = slices.Clone(v.Stages)
		}
		return nil
	})
	return out, err
}

// GetSecretValue returns the value of a version: AWSCURRENT unless
// VersionId or VersionStage says otherwise.
func (f *SecretsManager) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	var out *secretsmanager.GetSecretValueOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "GetSecretValue", false, func() error {
		sec, err := f.live(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		if sec.KmsKeyID != "" && !smKeyUsable(f.c, sec.KmsKeyID) {
			return apiError("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
		}
		stage := aws.ToString(in.VersionStage)
		if stage == "" && in.VersionId == nil {
			stage = "AWSCURRENT"
		}
		for id, v := range sec.Versions {
			if (in.VersionId == nil || *in.VersionId == id) && (stage == "" || slices.Contains(v.Stages, stage)) {
				out = &secretsmanager.GetSecretValueOutput{
					ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), VersionId: aws.String(id),
					SecretString: v.String, SecretBinary: v.Binary, VersionStages: slices.Clone(v.Stages), CreatedDate: aws.Time(v.Created),
				}
				return nil
			}
		}
		return notFound("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	})
	return out, err
}

// PutSecretValue adds a version that becomes AWSCURRENT. A repeat with the
// same ClientRequestToken and value is ignored. Secrets managed by another
// service (the RDS master user secret) are refused.
func (f *SecretsManager) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	var out *secretsmanager.PutSecretValueOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "PutSecretValue", true, func() error {
		sec, err := f.live(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		if sec.OwningService != "" {
			return apiError("InvalidRequestException", "You can't modify secret %s because it's managed by %s.", sec.Name, sec.OwningService)
		}
		if err := smCheckToken(in.ClientRequestToken); err != nil {
			return err
		}
		if (in.SecretString == nil) == (in.SecretBinary == nil) {
			return apiError("InvalidParameterException", "You must provide exactly one of SecretString and SecretBinary.")
		}
		if sec.KmsKeyID != "" && !smKeyUsable(f.c, sec.KmsKeyID) {
			return apiError("EncryptionFailure", "Secrets Manager can't encrypt the protected secret text using the provided KMS key.")
		}
		vid, err := f.addVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary)
		if err != nil {
			return err
		}
		out = &secretsmanager.PutSecretValueOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), VersionId: aws.String(vid), VersionStages: []string{"AWSCURRENT"}}
		return nil
	})
	return out, err
}

// UpdateSecret changes the description and the KMS key (new versions are
// encrypted with it) and, with a value, adds a version.
func (f *SecretsManager) UpdateSecret(ctx context.Context, in *secretsmanager.UpdateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretOutput, error) {
	var out *secretsmanager.UpdateSecretOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "UpdateSecret", true, func() error {
		sec, err := f.live(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		if sec.OwningService != "" {
			return apiError("InvalidRequestException", "You can't modify secret %s because it's managed by %s.", sec.Name, sec.OwningService)
		}
		if err := smCheckToken(in.ClientRequestToken); err != nil {
			return err
		}
		if k := aws.ToString(in.KmsKeyId); k != "" {
			if !smKeyUsable(f.c, k) {
				return apiError("EncryptionFailure", "Secrets Manager can't encrypt the protected secret text using the provided KMS key.")
			}
			sec.KmsKeyID = k
		}
		if in.Description != nil {
			sec.Description = *in.Description
		}
		out = &secretsmanager.UpdateSecretOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name)}
		if in.SecretString != nil || in.SecretBinary != nil {
			vid, err := f.addVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary)
			if err != nil {
				return err
			}
			out.VersionId = aws.String(vid)
		}
		sec.Changed = f.c.now()
		return nil
	})
	return out, err
}

// UpdateSecretVersionStage moves a staging label: off RemoveFromVersionId
// (which must hold it, if the label is attached anywhere) and onto
// MoveToVersionId. Moving AWSCURRENT makes the old current version
// AWSPREVIOUS, as Secrets Manager does.
func (f *SecretsManager) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	var out *secretsmanager.UpdateSecretVersionStageOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "UpdateSecretVersionStage", true, func() error {
		sec, err := f.live(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		if sec.OwningService != "" {
			return apiError("InvalidRequestException", "You can't modify secret %s because it's managed by %s.", sec.Name, sec.OwningService)
		}
		stage := aws.ToString(in.VersionStage)
		if stage == "" {
			return apiError("InvalidParameterException", "VersionStage is required")
		}
		var holder *secretVersion
		for _, v := range sec.Versions {
			if slices.Contains(v.Stages, stage) {
				holder = v
			}
		}
		if holder != nil && aws.ToString(in.RemoveFromVersionId) != holder.ID {
			return apiError("InvalidParameterException", "The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder.ID)
		}
		var target *secretVersion
		if in.MoveToVersionId != nil {
			target = sec.Versions[*in.MoveToVersionId]
			if target == nil {
				return notFound("ResourceNotFoundException", "Secrets Manager can't find the specified secret version.")
			}
		}
		if holder != nil {
			holder.Stages = slices.DeleteFunc(holder.Stages, func(s string) bool { return s == stage })
			if stage == "AWSCURRENT" && target != nil {
				for _, v := range sec.Versions {
					v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == "AWSPREVIOUS" })
				}
				holder.Stages = append(holder.Stages, "AWSPREVIOUS")
			}
		}
		if target != nil {
			target.Stages = slices.DeleteFunc(target.Stages, func(s string) bool { return s == stage || (stage == "AWSCURRENT" && s == "AWSPREVIOUS") })
			target.Stages = append(target.Stages, stage)
		}
		sec.Changed = f.c.now()
		out = &secretsmanager.UpdateSecretVersionStageOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name)}
		return nil
	})
	return out, err
}

// TagResource adds or overwrites tags on a secret.
func (f *SecretsManager) TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error) {
	err := f.c.call(ctx, secretsmanager.ServiceID, "TagResource", true, func() error {
		sec, err := f.lookup(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			sec.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(sec.Tags) > 50 {
			return apiError("ValidationException", "a secret can have at most 50 tags")
		}
		return nil
	})
	return &secretsmanager.TagResourceOutput{}, err
}

// UntagResource removes tags from a secret.
func (f *SecretsManager) UntagResource(ctx context.Context, in *secretsmanager.UntagResourceInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UntagResourceOutput, error) {
	err := f.c.call(ctx, secretsmanager.ServiceID, "UntagResource", true, func() error {
		sec, err := f.lookup(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(sec.Tags, k)
		}
		return nil
	})
	return &secretsmanager.UntagResourceOutput{}, err
}

// DeleteSecret schedules deletion after RecoveryWindowInDays (7..30,
// default 30), or deletes at once with ForceDeleteWithoutRecovery; not
// both. A secret managed by another service is refused.
func (f *SecretsManager) DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	var out *secretsmanager.DeleteSecretOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "DeleteSecret", true, func() error {
		sec, err := f.live(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		if sec.OwningService != "" {
			return apiError("InvalidRequestException", "You can't delete secret %s because it's managed by %s.", sec.Name, sec.OwningService)
		}
		force := aws.ToBool(in.ForceDeleteWithoutRecovery)
		if force && in.RecoveryWindowInDays != nil {
			return apiError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		}
		days := int64(30)
		if in.RecoveryWindowInDays != nil {
			days = *in.RecoveryWindowInDays
		}
		if !force && (days < 7 || days > 30) {
			return apiError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
		now := f.c.now()
		sec.DeletedAt = now
		sec.PurgeAt = now.Add(time.Duration(days) * 24 * time.Hour)
		if force {
			sec.PurgeAt = now
		}
		out = &secretsmanager.DeleteSecretOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), DeletionDate: aws.Time(sec.PurgeAt)}
		if force {
			delete(f.st().Secrets, sec.Name)
		}
		return nil
	})
	return out, err
}

// RestoreSecret cancels a scheduled deletion.
func (f *SecretsManager) RestoreSecret(ctx context.Context, in *secretsmanager.RestoreSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error) {
	var out *secretsmanager.RestoreSecretOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "RestoreSecret", true, func() error {
		sec, err := f.lookup(aws.ToString(in.SecretId))
		if err != nil {
			return err
		}
		sec.DeletedAt, sec.PurgeAt = time.Time{}, time.Time{}
		out = &secretsmanager.RestoreSecretOutput{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name)}
		return nil
	})
	return out, err
}

// ListSecrets lists secrets, filtered as Secrets Manager filters: name,
// description and tag filters are case-sensitive prefix matches (a value
// starting with "!" negates), "all" matches any of them; secrets
// scheduled for deletion only with IncludePlannedDeletion. Paginated by
// NextToken (MaxResults, default 100).
func (f *SecretsManager) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	var out *secretsmanager.ListSecretsOutput
	err := f.c.call(ctx, secretsmanager.ServiceID, "ListSecrets", false, func() error {
		s := f.st()
		var all []types.SecretListEntry
		for _, name := range sortedKeys(s.Secrets) {
			sec := s.Secrets[name]
			if !sec.DeletedAt.IsZero() && !aws.ToBool(in.IncludePlannedDeletion) {
				continue
			}
			ok, err := sec.matches(in.Filters)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			e := types.SecretListEntry{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name), Description: smOpt(sec.Description),
				KmsKeyId: smOpt(sec.KmsKeyID), Tags: smTags(sec.Tags), OwningService: smOpt(sec.OwningService),
				CreatedDate: aws.Time(sec.Created), LastChangedDate: aws.Time(sec.Changed), SecretVersionsToStages: map[string][]string{}}
			if !sec.DeletedAt.IsZero() {
				e.DeletedDate = aws.Time(sec.DeletedAt)
			}
			for id, v := range sec.Versions {
				e.SecretVersionsToStages[id] = slices.Clone(v.Stages)
			}
			all = append(all, e)
		}
		size := 100
		if in.MaxResults != nil {
			if *in.MaxResults < 1 || *in.MaxResults > 100 {
				return apiError("InvalidParameterException", "MaxResults must be 1..100")
			}
			size = int(*in.MaxResults)
		}
		items, next, err := page(all, in.NextToken, size)
		if err != nil {
			return err
		}
		out = &secretsmanager.ListSecretsOutput{SecretList: items, NextToken: next}
		return nil
	})
	return out, err
}

func (sec *fakeSecret) matches(filters []types.Filter) (bool, error) {
	prefixAny := func(values []string, candidates ...string) bool {
		for _, v := range values {
			neg := strings.HasPrefix(v, "!")
			v = strings.TrimPrefix(v, "!")
			hit := false
			for _, c := range candidates {
				if strings.HasPrefix(c, v) {
					hit = true
				}
			}
			if hit != neg {
				return true
			}
		}
		return false
	}
	var keys, values []string
	for _, k := range sortedKeys(sec.Tags) {
		keys = append(keys, k)
		values = append(values, sec.Tags[k])
	}
	for _, fl := range filters {
		var ok bool
		switch fl.Key {
		case types.FilterNameStringTypeName:
			ok = prefixAny(fl.Values, sec.Name)
		case types.FilterNameStringTypeDescription:
			ok = prefixAny(fl.Values, sec.Description)
		case types.FilterNameStringTypeTagKey:
			ok = prefixAny(fl.Values, keys...)
		case types.FilterNameStringTypeTagValue:
			ok = prefixAny(fl.Values, values...)
		case types.FilterNameStringTypeOwningService:
			ok = prefixAny(fl.Values, sec.OwningService)
		case types.FilterNameStringTypePrimaryRegion:
			ok = false
		case types.FilterNameStringTypeAll:
			ok = prefixAny(fl.Values, append(append([]string{sec.Name, sec.Description}, keys...), values...)...)
		default:
			return false, apiError("InvalidParameterException", "Invalid filter key %q", fl.Key)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func smTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func smOpt(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// managedSecret creates a secret owned by another AWS service (RDS's
// master user secret): name, tags and first value. Call with mu held.
func (f *SecretsManager) managedSecret(name, owner, kmsKey, value string, tags map[string]string) *fakeSecret {
	sec := f.newSecret(name, "Secret associated with primary RDS DB instance", kmsKey, owner, tags)
	sec.RotationDays = 7
	_, _ = f.addVersion(sec, nil, aws.String(value), nil)
	return sec
}

// SecretValue returns the AWSCURRENT string value of a secret (by name or
// ARN) and whether it exists and is not scheduled for deletion, for
// assertions.
func (f *SecretsManager) SecretValue(id string) (string, bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, sec := range f.st().Secrets {
		if (sec.Name == id || sec.ARN == id) && sec.DeletedAt.IsZero() {
			if v := sec.current(); v != nil {
				return aws.ToString(v.String), true
			}
		}
	}
	return "", false
}

// Secrets returns the names of all secrets, scheduled for deletion or
// not, for assertions.
func (f *SecretsManager) Secrets() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Secrets)
}

// ScheduledForDeletion reports whether the named secret exists and is
// scheduled for deletion, for assertions.
func (f *SecretsManager) ScheduledForDeletion(name string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	sec, ok := f.st().Secrets[name]
	return ok && !sec.DeletedAt.IsZero()
}

// Rotate simulates a rotation of a managed secret (the RDS master user
// password every 7 days): a new AWSCURRENT version whose "password" field
// is replaced by password. It reports whether the secret exists.
func (f *SecretsManager) Rotate(id, password string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for _, sec := range f.st().Secrets {
		if sec.Name != id && sec.ARN != id {
			continue
		}
		cur := sec.current()
		if cur == nil {
			return false
		}
		v := smReplaceField(aws.ToString(cur.String), "password", password)
		_, err := f.addVersion(sec, nil, aws.String(v), nil)
		return err == nil
	}
	return false
}
