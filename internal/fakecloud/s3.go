package fakecloud

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is the fake S3 client. Get it with Cloud.S3.
//
// It mimics what a reconciler of buckets meets: the global bucket
// namespace (BucketAlreadyExists for another account's bucket,
// BucketAlreadyOwnedByYou for one's own — except in us-east-1, where S3
// answers 200 OK for legacy compatibility), the LocationConstraint rules
// of us-east-1 and the other Regions, the 2023 defaults of a new bucket
// (SSE-S3, Block Public Access on, BucketOwnerEnforced), ExpectedBucketOwner,
// versioned objects with delete markers, and BucketNotEmpty on delete.
type S3 struct{ c *Cloud }

// S3 returns the S3 client of the cloud.
func (c *Cloud) S3() *S3 { return &S3{c: c} }

func init() { register("s3", func() any { return &s3State{} }) }

type s3State struct {
	Buckets map[string]*s3Bucket `json:"buckets"`
}

type s3Bucket struct {
	Name       string                       `json:"name"`
	Region     string                       `json:"region"`
	Owner      string                       `json:"owner"`
	Created    time.Time                    `json:"created"`
	SSE        s3SSE                        `json:"sse"`
	Policy     string                       `json:"policy,omitempty"`
	Versioning string                       `json:"versioning,omitempty"` // "", Enabled, Suspended
	PAB        *s3PAB                       `json:"pab,omitempty"`
	Ownership  string                       `json:"ownership,omitempty"`
	Tags       map[string]string            `json:"tags,omitempty"` // nil: no tag set
	Objects    map[string][]s3ObjectVersion `json:"objects,omitempty"`
	Seq        int                          `json:"seq"`
}

type s3SSE struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"keyId,omitempty"`
	BucketKey bool   `json:"bucketKey"`
}

type s3PAB struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// s3ObjectVersion is one version of an object, newest last.
type s3ObjectVersion struct {
	VersionID    string    `json:"versionId"`
	Size         int64     `json:"size"`
	DeleteMarker bool      `json:"deleteMarker,omitempty"`
	Modified     time.Time `json:"modified"`
}

var s3BucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (f *S3) st() *s3State {
	s := state[s3State](f.c, "s3")
	if s.Buckets == nil {
		s.Buckets = map[string]*s3Bucket{}
	}
	return s
}

func s3Error(status int, code, format string, args ...any) error {
	return &apiErr{code: code, msg: fmt.Sprintf(format, args...), status: status, fault: smithy.FaultClient}
}

func s3CheckBucketName(name string) error {
	if !s3BucketNameRe.MatchString(name) || strings.Contains(name, "..") || strings.HasPrefix(name, "xn--") ||
		strings.HasSuffix(name, "-s3alias") || regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(name) {
		return apiError("InvalidBucketName", "The specified bucket is not valid.")
	}
	return nil
}

// bucket resolves a bucket the caller may use: NoSuchBucket when it does
// not exist (or is not visible yet), AccessDenied when another account
// owns it or ExpectedBucketOwner does not match.
func (f *S3) bucket(name string, expectedOwner *string) (*s3Bucket, error) {
	b, ok := f.st().Buckets[name]
	if !ok || f.c.hidden("bucket/"+name) {
		return nil, s3Error(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	}
	if b.Owner != f.c.account || (expectedOwner != nil && *expectedOwner != b.Owner) {
		return nil, s3Error(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	return b, nil
}

// CreateBucket creates a bucket in the Region its LocationConstraint
// names, with the defaults S3 gives every new bucket since 2023.
func (f *S3) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	var out *s3.CreateBucketOutput
	err := f.c.call(ctx, "S3", "CreateBucket", true, func() error {
		name := aws.ToString(in.Bucket)
		if err := s3CheckBucketName(name); err != nil {
			return err
		}
		var lc string
		var tags []types.Tag
		if in.CreateBucketConfiguration != nil {
			lc = string(in.CreateBucketConfiguration.LocationConstraint)
			tags = in.CreateBucketConfiguration.Tags
		}
		region := lc
		switch {
		case f.c.region == "us-east-1" && lc == "us-east-1":
			return apiError("InvalidLocationConstraint", "The specified location-constraint is not valid")
		case f.c.region == "us-east-1" && lc == "":
			region = "us-east-1"
		case f.c.region != "us-east-1" && lc == "":
			return apiError("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
		case f.c.region != "us-east-1" && lc != f.c.region:
			return apiError("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", lc)
		}
		s := f.st()
		if b, ok := s.Buckets[name]; ok {
			switch {
			case b.Owner != f.c.account:
				return s3Error(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
			case b.Region == "us-east-1" && f.c.region == "us-east-1":
				// Legacy: re-creating an own bucket in us-east-1 succeeds.
				out = &s3.CreateBucketOutput{Location: aws.String("/" + name), BucketArn: aws.String("arn:aws:s3:::" + name)}
				return nil
			default:
				return s3Error(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
			}
		}
		own := string(in.ObjectOwnership)
		if own == "" {
			own = string(types.ObjectOwnershipBucketOwnerEnforced)
		}
		b := &s3Bucket{Name: name, Region: region, Owner: f.c.account, Created: f.c.now(), SSE: s3SSE{Algorithm: "AES256"},
			PAB: &s3PAB{true, true, true, true}, Ownership: own, Objects: map[string][]s3ObjectVersion{}}
		if len(tags) > 0 {
			if err := checkS3Tags(tags); err != nil {
				return err
			}
			b.Tags = map[string]string{}
			for _, t := range tags {
				b.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		s.Buckets[name] = b
		f.c.created("bucket/" + name)
		out = &s3.CreateBucketOutput{Location: aws.String("/" + name), BucketArn: aws.String("arn:aws:s3:::" + name)}
		return nil
	})
	return out, err
}

// HeadBucket reports a bucket's Region: 404 NotFound when it does not
// exist, 403 Forbidden when it is another account's.
func (f *S3) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	var out *s3.HeadBucketOutput
	err := f.c.call(ctx, "S3", "HeadBucket", false, func() error {
		name := aws.ToString(in.Bucket)
		b, ok := f.st().Buckets[name]
		if !ok || f.c.hidden("bucket/"+name) {
			return s3Error(http.StatusNotFound, "NotFound", "Not Found")
		}
		if b.Owner != f.c.account || (in.ExpectedBucketOwner != nil && *in.ExpectedBucketOwner != b.Owner) {
			return s3Error(http.StatusForbidden, "Forbidden", "Forbidden")
		}
		out = &s3.HeadBucketOutput{BucketRegion: aws.String(b.Region), BucketArn: aws.String("arn:aws:s3:::" + name)}
		return nil
	})
	return out, err
}

// PutBucketEncryption sets the default encryption (one rule).
func (f *S3) PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	err := f.c.call(ctx, "S3", "PutBucketEncryption", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if in.ServerSideEncryptionConfiguration == nil || len(in.ServerSideEncryptionConfiguration.Rules) != 1 || in.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
			return apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		r := in.ServerSideEncryptionConfiguration.Rules[0]
		d := r.ApplyServerSideEncryptionByDefault
		switch d.SSEAlgorithm {
		case types.ServerSideEncryptionAes256:
			if d.KMSMasterKeyID != nil {
				return apiError("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
			}
		case types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
			if k := aws.ToString(d.KMSMasterKeyID); k != "" && strings.HasPrefix(k, "arn:aws:kms:"+f.c.region+":"+f.c.account+":") {
				if _, err := f.c.KMS().key(k); err != nil {
					return apiError("KMS.NotFoundException", "Invalid keyId %s", k)
				}
			}
		default:
			return apiError("MalformedXML", "unknown SSEAlgorithm %q", d.SSEAlgorithm)
		}
		b.SSE = s3SSE{Algorithm: string(d.SSEAlgorithm), KeyID: aws.ToString(d.KMSMasterKeyID), BucketKey: aws.ToBool(r.BucketKeyEnabled)}
		return nil
	})
	return &s3.PutBucketEncryptionOutput{}, err
}

// GetBucketEncryption returns the default encryption; every bucket has
// one (SSE-S3 unless set otherwise).
func (f *S3) GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	var out *s3.GetBucketEncryptionOutput
	err := f.c.call(ctx, "S3", "GetBucketEncryption", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		d := &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(b.SSE.Algorithm)}
		if b.SSE.KeyID != "" {
			d.KMSMasterKeyID = aws.String(b.SSE.KeyID)
		}
		out = &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
			Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: d, BucketKeyEnabled: aws.Bool(b.SSE.BucketKey)}},
		}}
		return nil
	})
	return out, err
}

// PutBucketPolicy replaces the bucket policy.
func (f *S3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	err := f.c.call(ctx, "S3", "PutBucketPolicy", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if err := checkPolicyJSON("MalformedPolicy", aws.ToString(in.Policy)); err != nil {
			return err
		}
		b.Policy = aws.ToString(in.Policy)
		return nil
	})
	return &s3.PutBucketPolicyOutput{}, err
}

// GetBucketPolicy returns the bucket policy, or NoSuchBucketPolicy.
func (f *S3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	var out *s3.GetBucketPolicyOutput
	err := f.c.call(ctx, "S3", "GetBucketPolicy", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if b.Policy == "" {
			return s3Error(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
		}
		out = &s3.GetBucketPolicyOutput{Policy: aws.String(b.Policy)}
		return nil
	})
	return out, err
}

// DeleteBucketPolicy removes the bucket policy.
func (f *S3) DeleteBucketPolicy(ctx context.Context, in *s3.DeleteBucketPolicyInput, _ ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error) {
	err := f.c.call(ctx, "S3", "DeleteBucketPolicy", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		b.Policy = ""
		return nil
	})
	return &s3.DeleteBucketPolicyOutput{}, err
}

// PutBucketVersioning enables or suspends versioning; a versioned bucket
// can never go back to unversioned.
func (f *S3) PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, _ ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	err := f.c.call(ctx, "S3", "PutBucketVersioning", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if in.VersioningConfiguration == nil {
			return apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		switch st := in.VersioningConfiguration.Status; st {
		case types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended:
			b.Versioning = string(st)
		default:
			return apiError("MalformedXML", "invalid versioning status %q", st)
		}
		return nil
	})
	return &s3.PutBucketVersioningOutput{}, err
}

// GetBucketVersioning returns the versioning status ("" when never set).
func (f *S3) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	var out *s3.GetBucketVersioningOutput
	err := f.c.call(ctx, "S3", "GetBucketVersioning", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		out = &s3.GetBucketVersioningOutput{Status: types.BucketVersioningStatus(b.Versioning)}
		return nil
	})
	return out, err
}

// PutPublicAccessBlock sets the bucket's Block Public Access settings.
func (f *S3) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	err := f.c.call(ctx, "S3", "PutPublicAccessBlock", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		p := in.PublicAccessBlockConfiguration
		if p == nil {
			return apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		b.PAB = &s3PAB{aws.ToBool(p.BlockPublicAcls), aws.ToBool(p.IgnorePublicAcls), aws.ToBool(p.BlockPublicPolicy), aws.ToBool(p.RestrictPublicBuckets)}
		return nil
	})
	return &s3.PutPublicAccessBlockOutput{}, err
}

// GetPublicAccessBlock returns the settings, or
// NoSuchPublicAccessBlockConfiguration.
func (f *S3) GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	var out *s3.GetPublicAccessBlockOutput
	err := f.c.call(ctx, "S3", "GetPublicAccessBlock", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if b.PAB == nil {
			return s3Error(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
		}
		out = &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(b.PAB.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.PAB.IgnorePublicAcls),
			BlockPublicPolicy: aws.Bool(b.PAB.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.PAB.RestrictPublicBuckets),
		}}
		return nil
	})
	return out, err
}

// DeletePublicAccessBlock removes the settings (tests use it to make drift).
func (f *S3) DeletePublicAccessBlock(ctx context.Context, in *s3.DeletePublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.DeletePublicAccessBlockOutput, error) {
	err := f.c.call(ctx, "S3", "DeletePublicAccessBlock", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		b.PAB = nil
		return nil
	})
	return &s3.DeletePublicAccessBlockOutput{}, err
}

// PutBucketOwnershipControls sets Object Ownership (one rule).
func (f *S3) PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	err := f.c.call(ctx, "S3", "PutBucketOwnershipControls", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if in.OwnershipControls == nil || len(in.OwnershipControls.Rules) != 1 {
			return apiError("MalformedXML", "exactly one ownership rule is required")
		}
		switch o := in.OwnershipControls.Rules[0].ObjectOwnership; o {
		case types.ObjectOwnershipBucketOwnerEnforced, types.ObjectOwnershipBucketOwnerPreferred, types.ObjectOwnershipObjectWriter:
			b.Ownership = string(o)
		default:
			return apiError("MalformedXML", "invalid ObjectOwnership %q", o)
		}
		return nil
	})
	return &s3.PutBucketOwnershipControlsOutput{}, err
}

// GetBucketOwnershipControls returns Object Ownership, or
// OwnershipControlsNotFoundError.
func (f *S3) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	var out *s3.GetBucketOwnershipControlsOutput
	err := f.c.call(ctx, "S3", "GetBucketOwnershipControls", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if b.Ownership == "" {
			return s3Error(http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
		}
		out = &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(b.Ownership)}}}}
		return nil
	})
	return out, err
}

func checkS3Tags(tags []types.Tag) error {
	if len(tags) > 50 {
		return apiError("InvalidTag", "Object tags cannot be greater than 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		switch {
		case k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256:
			return apiError("InvalidTag", "The TagKey or TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return apiError("InvalidTag", "Your TagKey cannot be prefixed with aws:")
		case seen[k]:
			return apiError("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		seen[k] = true
	}
	return nil
}

// PutBucketTagging replaces the whole tag set.
func (f *S3) PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	err := f.c.call(ctx, "S3", "PutBucketTagging", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if in.Tagging == nil {
			return apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		if err := checkS3Tags(in.Tagging.TagSet); err != nil {
			return err
		}
		b.Tags = map[string]string{}
		for _, t := range in.Tagging.TagSet {
			b.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return nil
	})
	return &s3.PutBucketTaggingOutput{}, err
}

// GetBucketTagging returns the tag set, or NoSuchTagSet.
func (f *S3) GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, _ ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error) {
	var out *s3.GetBucketTaggingOutput
	err := f.c.call(ctx, "S3", "GetBucketTagging", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if len(b.Tags) == 0 {
			return s3Error(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
		}
		out = &s3.GetBucketTaggingOutput{}
		for _, k := range sortedKeys(b.Tags) {
			out.TagSet = append(out.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(b.Tags[k])})
		}
		return nil
	})
	return out, err
}

// DeleteBucketTagging removes every tag.
func (f *S3) DeleteBucketTagging(ctx context.Context, in *s3.DeleteBucketTaggingInput, _ ...func(*s3.Options)) (*s3.DeleteBucketTaggingOutput, error) {
	err := f.c.call(ctx, "S3", "DeleteBucketTagging", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		b.Tags = nil
		return nil
	})
	return &s3.DeleteBucketTaggingOutput{}, err
}

func s3MaxKeys(n *int32) int {
	if n == nil || *n <= 0 || *n > 1000 {
		return 1000
	}
	return int(*n)
}

// ListObjectsV2 lists the current (not deleted) objects by key,
// paginated by continuation token.
func (f *S3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	var out *s3.ListObjectsV2Output
	err := f.c.call(ctx, "S3", "ListObjectsV2", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		var all []types.Object
		for _, k := range sortedKeys(b.Objects) {
			vs := b.Objects[k]
			if len(vs) == 0 || vs[len(vs)-1].DeleteMarker || !strings.HasPrefix(k, aws.ToString(in.Prefix)) {
				continue
			}
			v := vs[len(vs)-1]
			all = append(all, types.Object{Key: aws.String(k), Size: aws.Int64(v.Size), LastModified: aws.Time(v.Modified)})
		}
		items, next, err := page(all, in.ContinuationToken, s3MaxKeys(in.MaxKeys))
		if err != nil {
			return err
		}
		out = &s3.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix, Contents: items, KeyCount: aws.Int32(int32(len(items))),
			IsTruncated: aws.Bool(next != nil), NextContinuationToken: next, ContinuationToken: in.ContinuationToken}
		return nil
	})
	return out, err
}

// ListObjectVersions lists every version and delete marker, by key and
// newest first, paginated by key and version markers.
func (f *S3) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	var out *s3.ListObjectVersionsOutput
	err := f.c.call(ctx, "S3", "ListObjectVersions", false, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		type entry struct {
			key string
			v   s3ObjectVersion
		}
		var all []entry
		for _, k := range sortedKeys(b.Objects) {
			if !strings.HasPrefix(k, aws.ToString(in.Prefix)) {
				continue
			}
			vs := b.Objects[k]
			for i := len(vs) - 1; i >= 0; i-- {
				all = append(all, entry{k, vs[i]})
			}
		}
		start := 0
		if km := aws.ToString(in.KeyMarker); km != "" {
			// Start after the marker entry, or after every version of
			// the marker key when no version marker is given.
			start = len(all)
			for i, e := range all {
				if in.VersionIdMarker != nil && e.key == km && e.v.VersionID == *in.VersionIdMarker {
					start = i + 1
					break
				}
				if e.key > km {
					start = i
					break
				}
			}
		}
		end := min(start+s3MaxKeys(in.MaxKeys), len(all))
		out = &s3.ListObjectVersionsOutput{Name: in.Bucket, Prefix: in.Prefix, IsTruncated: aws.Bool(end < len(all))}
		for i, e := range all[start:end] {
			latest := i+start == 0 || all[i+start-1].key != e.key
			if e.v.DeleteMarker {
				out.DeleteMarkers = append(out.DeleteMarkers, types.DeleteMarkerEntry{Key: aws.String(e.key), VersionId: aws.String(e.v.VersionID), IsLatest: aws.Bool(latest), LastModified: aws.Time(e.v.Modified)})
			} else {
				out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(e.key), VersionId: aws.String(e.v.VersionID), IsLatest: aws.Bool(latest), Size: aws.Int64(e.v.Size), LastModified: aws.Time(e.v.Modified)})
			}
		}
		if end < len(all) {
			last := all[end-1]
			out.NextKeyMarker, out.NextVersionIdMarker = aws.String(last.key), aws.String(last.v.VersionID)
		}
		return nil
	})
	return out, err
}

// DeleteObjects deletes up to 1000 objects: a named version is removed
// for good; without a version, a versioned bucket gains a delete marker.
func (f *S3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	var out *s3.DeleteObjectsOutput
	err := f.c.call(ctx, "S3", "DeleteObjects", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > 1000 {
			return apiError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		out = &s3.DeleteObjectsOutput{}
		for _, o := range in.Delete.Objects {
			key := aws.ToString(o.Key)
			vs := b.Objects[key]
			if o.VersionId != nil {
				vs = slices.DeleteFunc(vs, func(v s3ObjectVersion) bool { return v.VersionID == *o.VersionId })
			} else if b.Versioning == "" {
				vs = nil
			} else {
				b.Seq++
				vs = append(vs, s3ObjectVersion{VersionID: fmt.Sprintf("v%08d", b.Seq), DeleteMarker: true, Modified: f.c.now()})
			}
			if len(vs) == 0 {
				delete(b.Objects, key)
			} else {
				b.Objects[key] = vs
			}
			out.Deleted = append(out.Deleted, types.DeletedObject{Key: o.Key, VersionId: o.VersionId})
		}
		return nil
	})
	return out, err
}

// DeleteBucket deletes an empty bucket: any object version or delete
// marker left makes it BucketNotEmpty.
func (f *S3) DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, _ ...func(*s3.Options)) (*s3.DeleteBucketOutput, error) {
	err := f.c.call(ctx, "S3", "DeleteBucket", true, func() error {
		b, err := f.bucket(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
		if err != nil {
			return err
		}
		if len(b.Objects) > 0 {
			return s3Error(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty. You must delete all versions in the bucket.")
		}
		delete(f.st().Buckets, b.Name)
		return nil
	})
	return &s3.DeleteBucketOutput{}, err
}

// putObjectLocked writes one object version. Call with mu held.
func (f *S3) putObjectLocked(b *s3Bucket, key string, size int64) {
	if b.Objects == nil { // empty buckets load from a saved state without the map
		b.Objects = map[string][]s3ObjectVersion{}
	}
	b.Seq++
	v := s3ObjectVersion{VersionID: "null", Size: size, Modified: f.c.now()}
	if b.Versioning == string(types.BucketVersioningStatusEnabled) {
		v.VersionID = fmt.Sprintf("v%08d", b.Seq)
		b.Objects[key] = append(b.Objects[key], v)
		return
	}
	// Unversioned or suspended: the "null" version is replaced.
	vs := slices.DeleteFunc(b.Objects[key], func(o s3ObjectVersion) bool { return o.VersionID == "null" })
	b.Objects[key] = append(vs, v)
}

// PutTestObject writes an object into a bucket of this account, as an
// upload (or a DataSync transfer) would; tests use it to fill a bucket.
func (f *S3) PutTestObject(bucket, key string, size int64) error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	b, ok := f.st().Buckets[bucket]
	if !ok {
		return fmt.Errorf("fakecloud: no bucket %q", bucket)
	}
	f.putObjectLocked(b, key, size)
	return nil
}

// PlantForeignBucket makes a bucket of that name owned by another account,
// so that CreateBucket answers BucketAlreadyExists and every other call
// AccessDenied.
func (f *S3) PlantForeignBucket(name string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().Buckets[name] = &s3Bucket{Name: name, Region: f.c.region, Owner: "999999999999", Created: f.c.now(), SSE: s3SSE{Algorithm: "AES256"}, Objects: map[string][]s3ObjectVersion{}}
}

// Buckets returns the names of this account's buckets, for assertions.
func (f *S3) Buckets() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, name := range sortedKeys(f.st().Buckets) {
		if f.st().Buckets[name].Owner == f.c.account {
			out = append(out, name)
		}
	}
	return out
}

// ObjectVersions returns how many object versions and delete markers a
// bucket holds, for assertions.
func (f *S3) ObjectVersions(bucket string) int {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	b, ok := f.st().Buckets[bucket]
	if !ok {
		return 0
	}
	n := 0
	for _, vs := range b.Objects {
		n += len(vs)
	}
	return n
}
