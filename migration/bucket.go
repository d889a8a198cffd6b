package migration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// S3API is the part of the S3 client EnsureBucket and DeleteBucket use.
type S3API interface {
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	DeleteBucket(context.Context, *s3.DeleteBucketInput, ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
}

// KindBucket is the Change kind of an S3 bucket.
const KindBucket = "s3-bucket"

// BucketSpec describes the bucket that receives the migrated file share.
type BucketSpec struct {
	// KMSKeyARN is the env key (Key.ARN): the bucket's default encryption
	// is SSE-KMS with it, with an S3 Bucket Key to cut KMS requests.
	// Required.
	KMSKeyARN string
	// ForceDeleteObjects lets DeleteBucket destroy every object version
	// in the bucket before deleting it. Without it DeleteBucket refuses to
	// delete a bucket that holds anything: the bucket holds the migrated
	// files (2 TB in the reference migration), and a destroy must never
	// lose them by accident. Set it only when the data is no longer
	// needed or is safely elsewhere.
	ForceDeleteObjects bool
}

// Validate checks the spec.
func (s BucketSpec) Validate() error {
	if !IsPending(s.KMSKeyARN) && !strings.HasPrefix(s.KMSKeyARN, "arn:aws") {
		return fmt.Errorf("bucket.kmsKeyArn: %q is not a KMS key ARN (required)", s.KMSKeyARN)
	}
	return nil
}

// Bucket is an ensured bucket.
type Bucket struct {
	Name string
	ARN  string
}

// BucketName returns the name of the env's file bucket,
// "migration-files-<suffix>-<account>": bucket names are global, so the
// account ID keeps two accounts using the same suffix apart.
func BucketName(env Env) string { return env.Name("migration-files") + "-" + env.Account }

// BucketARN returns the ARN of a bucket.
func BucketARN(name string) string { return "arn:aws:s3:::" + name }

// BucketPolicy returns the bucket's policy: it denies every request that
// does not use TLS (aws:SecureTransport false), for the bucket and every
// object in it.
func BucketPolicy(name string) PolicyDocument {
	arn := BucketARN(name)
	return NewPolicy(Statement{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: &Principal{Any: true},
		Action: Strings{"s3:*"}, Resource: Strings{arn, arn + "/*"},
		Condition: Condition{"Bool": {"aws:SecureTransport": {"false"}}},
	})
}

// bucketTimeout bounds the wait for a new bucket to be visible.
const bucketTimeout = 2 * time.Minute

// EnsureBucket makes the env's file bucket BucketName(env) exist and
// converge: in the env's Region, SSE-KMS with the spec's key and an S3
// Bucket Key, the TLS-only BucketPolicy, versioning enabled, all four
// Block Public Access settings on, Object Ownership BucketOwnerEnforced
// (ACLs disabled), and the env's tags (tags it does not name are kept).
//
// Every call names the env's account as ExpectedBucketOwner, so it never
// configures a bucket of another account. It refuses a name taken by
// another account, a bucket of that name without the env's ownership tag,
// and a bucket in another Region (a bucket's Region is immutable).
// Idempotent: a converged bucket costs reads only.
func EnsureBucket(ctx context.Context, env Env, api S3API, spec BucketSpec) (Bucket, error) {
	name := BucketName(env)
	if err := Validate(env, spec); err != nil {
		return Bucket{}, fmt.Errorf("ensure bucket %q: %w", name, err)
	}
	b, err := ensureBucket(ctx, env, api, spec, name)
	if err != nil {
		return Bucket{}, fmt.Errorf("ensure bucket %q: %w", name, err)
	}
	return b, nil
}

// headBucket reports whether the bucket exists in this account, and its
// Region.
func headBucket(ctx context.Context, env Env, api S3API, name string) (exists bool, region string, err error) {
	out, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(env.Account)})
	switch {
	case err == nil:
		return true, aws.ToString(out.BucketRegion), nil
	case awsx.IsNotFound(err):
		return false, "", nil
	case awsx.HasCode(err, "Forbidden", "AccessDenied"):
		return false, "", fmt.Errorf("the name is taken by a bucket of another account (S3 bucket names are global); choose another env suffix: %w", err)
	default:
		return false, "", fmt.Errorf("head: %w", err)
	}
}

func ensureBucket(ctx context.Context, env Env, api S3API, spec BucketSpec, name string) (Bucket, error) {
	b := Bucket{Name: name, ARN: BucketARN(name)}
	exists, region, err := headBucket(ctx, env, api, name)
	if err != nil {
		return Bucket{}, err
	}
	if !exists {
		if env.DryRun || IsPending(spec.KMSKeyARN) {
			env.Report(Change{Kind: KindBucket, Name: name, ID: Pending(name), Action: ActionCreate})
			return b, nil
		}
		if err := createBucket(ctx, env, api, spec, name); err != nil {
			return Bucket{}, err
		}
		env.Report(Change{Kind: KindBucket, Name: name, ID: b.ARN, Action: ActionCreate})
		return b, nil
	}
	if region != env.Region {
		return Bucket{}, fmt.Errorf("region is immutable: the bucket is in %s, the env in %s; delete it or use another suffix", region, env.Region)
	}
	have, err := bucketTags(ctx, env, api, name)
	if err != nil {
		return Bucket{}, err
	}
	if !env.Owns(have) {
		return Bucket{}, fmt.Errorf("bucket exists without the ownership tag %s=%s; refusing to adopt it", OwnerTag, env.Suffix)
	}
	var c Converge
	if err := bucketDiff(ctx, env, api, spec, name, have, &c); err != nil {
		return Bucket{}, err
	}
	// A key still pending (a plan) leaves the diff to show and nothing to write.
	run := env
	run.DryRun = env.DryRun || IsPending(spec.KMSKeyARN)
	if err := c.Apply(run, Change{Kind: KindBucket, Name: name, ID: b.ARN}); err != nil {
		return Bucket{}, fmt.Errorf("update: %w", err)
	}
	return b, nil
}

func createBucket(ctx context.Context, env Env, api S3API, spec BucketSpec, name string) error {
	cfg := &s3types.CreateBucketConfiguration{Tags: s3Tags(env.NameTags(name))}
	if env.Region != "us-east-1" { // us-east-1 rejects a LocationConstraint naming itself
		cfg.LocationConstraint = s3types.BucketLocationConstraint(env.Region)
	}
	_, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), CreateBucketConfiguration: cfg, ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced})
	if err != nil && !awsx.HasCode(err, "BucketAlreadyOwnedByYou") { // our own lost response: configure what is there
		if awsx.HasCode(err, "BucketAlreadyExists") {
			return fmt.Errorf("the name is taken by a bucket of another account (S3 bucket names are global); choose another env suffix: %w", err)
		}
		return fmt.Errorf("create: %w", err)
	}
	var accept awsx.Acceptor[s3.HeadBucketInput, s3.HeadBucketOutput]
	s3.NewBucketExistsWaiter(api, func(o *s3.BucketExistsWaiterOptions) { accept = o.Retryable })
	if _, err := Wait(ctx, env, "bucket "+name+" to exist", api.HeadBucket, &s3.HeadBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(env.Account)}, accept, bucketTimeout, "NotFound"); err != nil {
		return err
	}
	// A new bucket can be invisible to the next call for a moment.
	for _, w := range bucketWrites(env, api, spec, name).inOrder() {
		if err := env.Retry(ctx, []string{"NoSuchBucket"}, w); err != nil {
			return fmt.Errorf("configure: %w", err)
		}
	}
	return nil
}

// bucketConfig holds the configuration writes of a bucket, each one
// request.
type bucketConfig struct {
	publicAccess, ownership, encryption, versioning, policy func(context.Context) error
}

// inOrder returns the writes in the order a new bucket gets them: public
// access blocked and ownership enforced before anything else.
func (c bucketConfig) inOrder() []func(context.Context) error {
	return []func(context.Context) error{c.publicAccess, c.ownership, c.encryption, c.versioning, c.policy}
}

func bucketWrites(env Env, api S3API, spec BucketSpec, name string) bucketConfig {
	owner := aws.String(env.Account)
	bucket := aws.String(name)
	return bucketConfig{
		publicAccess: func(ctx context.Context) error {
			_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, ExpectedBucketOwner: owner, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return err
		},
		ownership: func(ctx context.Context) error {
			_, err := api.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: bucket, ExpectedBucketOwner: owner, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
			return err
		},
		encryption: func(ctx context.Context) error {
			_, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket, ExpectedBucketOwner: owner, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(spec.KMSKeyARN)},
					BucketKeyEnabled:                   aws.Bool(true),
				}}}})
			return err
		},
		versioning: func(ctx context.Context) error {
			_, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket, ExpectedBucketOwner: owner, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		},
		policy: func(ctx context.Context) error {
			_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, ExpectedBucketOwner: owner, Policy: aws.String(BucketPolicy(name).JSON())})
			return err
		},
	}
}

// bucketDiff compares an existing bucket with the spec and records on c
// what differs and the writes that converge it.
func bucketDiff(ctx context.Context, env Env, api S3API, spec BucketSpec, name string, haveTags map[string]string, c *Converge) error {
	owner := aws.String(env.Account)
	bucket := aws.String(name)
	all := bucketWrites(env, api, spec, name)
	add := func(d FieldDiff, w func(context.Context) error) {
		c.Fix(d.Field, d.From, d.To, func() error { return w(ctx) })
	}

	pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket, ExpectedBucketOwner: owner})
	switch {
	case awsx.HasCode(err, "NoSuchPublicAccessBlockConfiguration"):
		add(FieldDiff{Field: "publicAccessBlock", From: "(none)", To: "all blocked"}, all.publicAccess)
	case err != nil:
		return fmt.Errorf("get public access block: %w", err)
	default:
		c := pab.PublicAccessBlockConfiguration
		if c == nil || !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
			add(FieldDiff{Field: "publicAccessBlock", From: "(partial)", To: "all blocked"}, all.publicAccess)
		}
	}

	own, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket, ExpectedBucketOwner: owner})
	switch {
	case awsx.HasCode(err, "OwnershipControlsNotFoundError"):
		add(FieldDiff{Field: "objectOwnership", From: "(none)", To: string(s3types.ObjectOwnershipBucketOwnerEnforced)}, all.ownership)
	case err != nil:
		return fmt.Errorf("get ownership controls: %w", err)
	default:
		have := ""
		if own.OwnershipControls != nil && len(own.OwnershipControls.Rules) == 1 {
			have = string(own.OwnershipControls.Rules[0].ObjectOwnership)
		}
		if have != string(s3types.ObjectOwnershipBucketOwnerEnforced) {
			add(FieldDiff{Field: "objectOwnership", From: have, To: string(s3types.ObjectOwnershipBucketOwnerEnforced)}, all.ownership)
		}
	}

	enc, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket, ExpectedBucketOwner: owner})
	if err != nil && !awsx.HasCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return fmt.Errorf("get encryption: %w", err)
	}
	if from, ok := encryptionMatches(enc, spec.KMSKeyARN); !ok {
		add(FieldDiff{Field: "encryption", From: from, To: "aws:kms " + spec.KMSKeyARN + " (bucket key)"}, all.encryption)
	}

	ver, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket, ExpectedBucketOwner: owner})
	if err != nil {
		return fmt.Errorf("get versioning: %w", err)
	}
	if ver.Status != s3types.BucketVersioningStatusEnabled {
		from := string(ver.Status)
		if from == "" {
			from = "(off)"
		}
		add(FieldDiff{Field: "versioning", From: from, To: string(s3types.BucketVersioningStatusEnabled)}, all.versioning)
	}

	pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket, ExpectedBucketOwner: owner})
	switch {
	case awsx.HasCode(err, "NoSuchBucketPolicy"):
		add(FieldDiff{Field: "policy", From: "(none)", To: "TLS only"}, all.policy)
	case err != nil:
		return fmt.Errorf("get policy: %w", err)
	case !PolicyEqual(aws.ToString(pol.Policy), BucketPolicy(name).JSON()):
		add(FieldDiff{Field: "policy", From: "(differs)", To: "TLS only"}, all.policy)
	}

	c.Tags(haveTags, env.NameTags(name), func(missing map[string]string) error {
		merged := maps.Clone(haveTags) // PutBucketTagging replaces the set: keep the tags others set
		maps.Copy(merged, missing)
		_, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, ExpectedBucketOwner: owner, Tagging: &s3types.Tagging{TagSet: s3Tags(merged)}})
		return err
	})
	return nil
}

// encryptionMatches reports whether the default encryption is exactly
// one SSE-KMS rule with the key and the bucket key on; from renders what
// is there.
func encryptionMatches(out *s3.GetBucketEncryptionOutput, keyARN string) (from string, ok bool) {
	if out == nil || out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) == 0 {
		return "(none)", false
	}
	rules := out.ServerSideEncryptionConfiguration.Rules
	r := rules[0]
	d := r.ApplyServerSideEncryptionByDefault
	if d == nil {
		return "(none)", false
	}
	from = string(d.SSEAlgorithm)
	if k := aws.ToString(d.KMSMasterKeyID); k != "" {
		from += " " + k
	}
	if aws.ToBool(r.BucketKeyEnabled) {
		from += " (bucket key)"
	}
	return from, len(rules) == 1 && d.SSEAlgorithm == s3types.ServerSideEncryptionAwsKms && aws.ToString(d.KMSMasterKeyID) == keyARN && aws.ToBool(r.BucketKeyEnabled)
}

func bucketTags(ctx context.Context, env Env, api S3API, name string) (map[string]string, error) {
	out, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(env.Account)})
	if awsx.HasCode(err, "NoSuchTagSet") {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get tags: %w", err)
	}
	m := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

func s3Tags(m map[string]string) []s3types.Tag {
	out := make([]s3types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, s3types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// ErrBucketNotEmpty is wrapped by the error DeleteBucket returns for a
// bucket that still holds objects and a spec without ForceDeleteObjects.
var ErrBucketNotEmpty = errors.New("bucket is not empty")

// DeleteBucket deletes the env's file bucket.
//
// It refuses — returning an error wrapping ErrBucketNotEmpty, in a dry
// run too — to delete a bucket that holds any object version or delete
// marker, unless spec.ForceDeleteObjects is set: then it deletes every
// version (1000 per request) before the bucket. A bucket without the env's
// ownership tag, or of another account, is left in place; a missing bucket
// is a no-op.
func DeleteBucket(ctx context.Context, env Env, api S3API, spec BucketSpec) error {
	name := BucketName(env)
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	if err := deleteBucket(ctx, env, api, spec, name); err != nil {
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	return nil
}

func deleteBucket(ctx context.Context, env Env, api S3API, spec BucketSpec, name string) error {
	arn := BucketARN(name)
	exists, _, err := headBucket(ctx, env, api, name)
	if err != nil && awsx.HasCode(err, "Forbidden", "AccessDenied") {
		env.Report(Change{Kind: KindBucket, Name: name, Action: ActionNoop, Note: "another account's bucket; left in place"})
		return nil
	}
	if err != nil {
		return err
	}
	if !exists {
		env.ReportGone(KindBucket, name)
		return nil
	}
	tags, err := bucketTags(ctx, env, api, name)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindBucket, name, arn)
		return nil
	}
	owner := aws.String(env.Account)
	first, err := api.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(name), ExpectedBucketOwner: owner, MaxKeys: aws.Int32(1)})
	if err != nil {
		return fmt.Errorf("list object versions: %w", err)
	}
	empty := len(first.Versions)+len(first.DeleteMarkers) == 0
	if !empty && !spec.ForceDeleteObjects {
		return fmt.Errorf("%w: it holds the migrated files; refusing to delete it (set BucketSpec.ForceDeleteObjects to destroy every object version with the bucket)", ErrBucketNotEmpty)
	}
	if env.DryRun {
		note := ""
		if !empty {
			note = "deletes every object version first (ForceDeleteObjects)"
		}
		env.Report(Change{Kind: KindBucket, Name: name, ID: arn, Action: ActionDelete, Note: note})
		return nil
	}
	deleted := 0
	if !empty {
		if deleted, err = emptyBucket(ctx, env, api, name); err != nil {
			return err
		}
	}
	if _, err := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: owner}); err != nil && !awsx.IsNotFound(err) {
		return fmt.Errorf("delete: %w", err)
	}
	note := ""
	if deleted > 0 {
		note = fmt.Sprintf("deleted %d object versions and delete markers (ForceDeleteObjects)", deleted)
	}
	env.Report(Change{Kind: KindBucket, Name: name, ID: arn, Action: ActionDelete, Note: note})
	return nil
}

// emptyBucket deletes every object version and delete marker, a page
// (at most 1000) per DeleteObjects request, and returns how many.
func emptyBucket(ctx context.Context, env Env, api S3API, name string) (int, error) {
	owner := aws.String(env.Account)
	deleted := 0
	for {
		page, err := api.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(name), ExpectedBucketOwner: owner, MaxKeys: aws.Int32(1000)})
		if err != nil {
			return deleted, fmt.Errorf("list object versions: %w", err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), ExpectedBucketOwner: owner, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return deleted, fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return deleted, fmt.Errorf("delete objects: %d failed, first %s (version %s): %s %s", len(out.Errors), aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		deleted += len(ids)
	}
}
