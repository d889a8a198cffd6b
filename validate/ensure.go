package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// DocumentAPI is the part of the SSM client EnsureDocument and
// DeleteDocument use.
type DocumentAPI interface {
	CreateDocument(context.Context, *ssm.CreateDocumentInput, ...func(*ssm.Options)) (*ssm.CreateDocumentOutput, error)
	DescribeDocument(context.Context, *ssm.DescribeDocumentInput, ...func(*ssm.Options)) (*ssm.DescribeDocumentOutput, error)
	GetDocument(context.Context, *ssm.GetDocumentInput, ...func(*ssm.Options)) (*ssm.GetDocumentOutput, error)
	UpdateDocument(context.Context, *ssm.UpdateDocumentInput, ...func(*ssm.Options)) (*ssm.UpdateDocumentOutput, error)
	UpdateDocumentDefaultVersion(context.Context, *ssm.UpdateDocumentDefaultVersionInput, ...func(*ssm.Options)) (*ssm.UpdateDocumentDefaultVersionOutput, error)
	ListDocumentVersions(context.Context, *ssm.ListDocumentVersionsInput, ...func(*ssm.Options)) (*ssm.ListDocumentVersionsOutput, error)
	DeleteDocument(context.Context, *ssm.DeleteDocumentInput, ...func(*ssm.Options)) (*ssm.DeleteDocumentOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	ListTagsForResource(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
}

// KindDocument is the Change kind of an SSM document.
const KindDocument = "ssm-document"

// TargetType is the resource type every validation document is limited to.
const TargetType = "/AWS::EC2::Instance"

// Timeouts of the waits on the env clock.
const (
	documentActiveTimeout = 5 * time.Minute
	documentDeleteTimeout = 5 * time.Minute
)

// Document is an ensured document: what Run and EnsureAssociation need.
type Document struct {
	Name string
	// ARN of the document; a Pending ID in a dry run that would create it.
	ARN string
	// Version is the default version, which Run and associations pin.
	// In a dry run that would create the document or a new version of it,
	// it is a Pending ID.
	Version string
	// Hash is the library's ContentHash of the content.
	Hash string
	// Parameters are the declared parameters, so that Run checks
	// overrides before sending them.
	Parameters map[string]Parameter
}

// DocumentARN returns the ARN of a document of env's account and Region,
// as IAM policies need it before the document exists.
func DocumentARN(env migration.Env, name string) string {
	return "arn:aws:ssm:" + env.Region + ":" + env.Account + ":document/" + name
}

// migrationRuleSSM checks a document or association name: the SSM naming
// rule, and none of the prefixes AWS reserves for its own documents.
func migrationRuleSSM(name string) error {
	if err := migration.RuleSSMName.Check(name); err != nil {
		return err
	}
	lower := strings.ToLower(name)
	for _, p := range []string{"aws", "amazon", "amzn"} {
		if strings.HasPrefix(lower, p) {
			return fmt.Errorf("%q starts with %q, which AWS reserves", name, p)
		}
	}
	return nil
}

// EnsureDocument makes a validation document exist with the spec's content
// as its default version, tagged with the env's tags. Idempotent: a
// converged document costs three reads (DescribeDocument,
// ListTagsForResource, GetDocument) and no write.
//
// Content is compared by the library's ContentHash of the default
// version's content (fetched as JSON) and of the spec's; the service's own
// DocumentHash is never compared with it, as AWS does not say how it is
// computed. When the content differs, EnsureDocument adds a version with
// UpdateDocument against "$LATEST" — SSM answers DuplicateDocumentContent
// when the content equals an existing version, which is no change: that
// version is found and used — waits for the version to be Active and makes
// it the default with UpdateDocumentDefaultVersion. A latest version that
// already holds the content (a run that stopped before setting the
// default) is made the default without a new version.
//
// Every version is JSON, of type Command, limited to TargetType
// (/AWS::EC2::Instance), which is set on create and on every new version.
//
// It refuses to adopt a document of that name without the env's ownership
// tag, and a document that is not a Command document (the type cannot
// change). A document at its version limit (DocumentVersionLimitExceeded)
// is reported with what to do; old versions are never deleted to make
// room.
func EnsureDocument(ctx context.Context, env migration.Env, api DocumentAPI, spec DocumentSpec) (Document, error) {
	if err := migration.Validate(env, spec); err != nil {
		return Document{}, fmt.Errorf("ensure document %q: %w", spec.Name, err)
	}
	d, err := ensureDocument(ctx, env, api, spec)
	if err != nil {
		return Document{}, fmt.Errorf("ensure document %q: %w", spec.Name, err)
	}
	return d, nil
}

func ensureDocument(ctx context.Context, env migration.Env, api DocumentAPI, spec DocumentSpec) (Document, error) {
	content := spec.Content()
	body := content.JSON()
	hash, err := ContentHash(body)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Name: spec.Name, ARN: DocumentARN(env, spec.Name), Hash: hash, Parameters: content.Parameters}
	found, err := describeDocument(ctx, api, spec.Name, "")
	if err != nil {
		return Document{}, err
	}
	if found == nil {
		if env.DryRun {
			doc.Version, doc.ARN = migration.Pending(spec.Name), migration.Pending(spec.Name)
			env.Report(migration.Change{Kind: KindDocument, Name: spec.Name, ID: doc.ARN, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "content", To: short(hash)}}})
			return doc, nil
		}
		out, err := api.CreateDocument(ctx, &ssm.CreateDocumentInput{
			Name:           aws.String(spec.Name),
			Content:        aws.String(body),
			DocumentFormat: types.DocumentFormatJson,
			DocumentType:   types.DocumentTypeCommand,
			TargetType:     aws.String(TargetType),
			Tags:           ssmTags(env.NameTags(spec.Name)),
		})
		switch {
		case err == nil:
			version := aws.ToString(out.DocumentDescription.DocumentVersion)
			if err := waitActive(ctx, env, api, spec.Name, version); err != nil {
				return Document{}, err
			}
			doc.Version = version
			env.Report(migration.Change{Kind: KindDocument, Name: spec.Name, ID: doc.ARN, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "content", To: "v" + version + " " + short(hash)}}})
			return doc, nil
		case awsx.HasCode(err, "DocumentAlreadyExists"):
			// Created meanwhile (or by a create whose response was lost):
			// converge it like any existing document.
			err = env.Retry(ctx, []string{"InvalidDocument"}, func(ctx context.Context) error {
				out, err := api.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String(spec.Name)})
				if err == nil {
					found = out.Document
				}
				return err
			})
			if err != nil {
				return Document{}, fmt.Errorf("describe after DocumentAlreadyExists: %w", err)
			}
		default:
			return Document{}, fmt.Errorf("create: %w", err)
		}
	}
	return convergeDocument(ctx, env, api, spec, doc, body, found)
}

func convergeDocument(ctx context.Context, env migration.Env, api DocumentAPI, spec DocumentSpec, doc Document, body string, found *types.DocumentDescription) (Document, error) {
	name := spec.Name
	tags, err := documentTags(ctx, api, name)
	if err != nil {
		return Document{}, err
	}
	if !env.Owns(tags) {
		return Document{}, fmt.Errorf("document %s exists without the ownership tag %s=%s; refusing to adopt it (rename the spec's document or delete that one)", name, migration.OwnerTag, env.Suffix)
	}
	if found.DocumentType != types.DocumentTypeCommand {
		return Document{}, fmt.Errorf("document %s is of type %s, not Command; the type cannot change: delete it and apply again", name, found.DocumentType)
	}
	defVersion, latest := aws.ToString(found.DefaultVersion), aws.ToString(found.LatestVersion)
	defHash, err := versionHash(ctx, api, name, defVersion)
	if err != nil {
		return Document{}, err
	}
	var c migration.Converge
	target := defVersion // the version that ends up the default
	newVersion := false
	if defHash != doc.Hash {
		latestHash := defHash
		if latest != defVersion {
			if latestHash, err = versionHash(ctx, api, name, latest); err != nil {
				return Document{}, err
			}
		}
		if latestHash == doc.Hash {
			target = latest
			c.Differs(migration.FieldDiff{Field: "defaultVersion", From: defVersion, To: latest})
		} else {
			newVersion = true
			c.Differs(migration.FieldDiff{Field: "content", From: "v" + defVersion + " " + short(defHash), To: "new version " + short(doc.Hash)})
		}
	}
	c.Tags(tags, env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String(name), Tags: ssmTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	change := migration.Change{Kind: KindDocument, Name: name, ID: doc.ARN}
	if !c.Changed() {
		if found.Status != types.DocumentStatusActive {
			// A run that stopped while the version was being created.
			if err := waitActive(ctx, env, api, name, defVersion); err != nil {
				return Document{}, err
			}
		}
		doc.Version = defVersion
		if err := c.Apply(env, change); err != nil { // reports noop
			return Document{}, err
		}
		return doc, nil
	}
	if env.DryRun {
		doc.Version = target
		if newVersion {
			doc.Version = migration.Pending(name)
		}
		if err := c.Apply(env, change); err != nil { // reports the update, writes nothing
			return Document{}, err
		}
		return doc, nil
	}
	// Tags first; then the version, whose diff entry (diff[0]) may change
	// with SSM's answer, so this Ensure reports its Change itself.
	if err := c.Run(env); err != nil {
		return Document{}, err
	}
	diff := c.Diff()
	if newVersion {
		out, err := api.UpdateDocument(ctx, &ssm.UpdateDocumentInput{
			Name:            aws.String(name),
			Content:         aws.String(body),
			DocumentVersion: aws.String("$LATEST"),
			DocumentFormat:  types.DocumentFormatJson,
			TargetType:      aws.String(TargetType),
		})
		switch {
		case err == nil:
			target = aws.ToString(out.DocumentDescription.DocumentVersion)
		case awsx.HasCode(err, "DuplicateDocumentContent"):
			// An existing version holds this content already: no change.
			if target, err = findVersion(ctx, api, name, doc.Hash); err != nil {
				return Document{}, err
			}
			diff[0] = migration.FieldDiff{Field: "defaultVersion", From: defVersion, To: target}
		case awsx.HasCode(err, "DocumentVersionLimitExceeded"):
			return Document{}, fmt.Errorf("update: document %s has reached its version limit; delete old non-default versions (aws ssm delete-document --name %s --document-version N) and apply again: %w", name, name, err)
		default:
			return Document{}, fmt.Errorf("update: %w", err)
		}
	}
	if target != defVersion {
		if err := waitActive(ctx, env, api, name, target); err != nil {
			return Document{}, err
		}
		if _, err := api.UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String(name), DocumentVersion: aws.String(target)}); err != nil {
			return Document{}, fmt.Errorf("set default version %s: %w", target, err)
		}
	}
	doc.Version = target
	change.Action, change.Diff = migration.ActionUpdate, diff
	env.Report(change)
	return doc, nil
}

// describeDocument returns the description of a document version (the
// default one when version is empty), or nil when the document does not
// exist.
func describeDocument(ctx context.Context, api DocumentAPI, name, version string) (*types.DocumentDescription, error) {
	in := &ssm.DescribeDocumentInput{Name: aws.String(name)}
	if version != "" {
		in.DocumentVersion = aws.String(version)
	}
	out, err := api.DescribeDocument(ctx, in)
	if awsx.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	return out.Document, nil
}

func documentTags(ctx context.Context, api DocumentAPI, name string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return fromSSMTags(out.TagList), nil
}

// versionHash returns the ContentHash of one version's content, fetched
// as JSON. Content that is not JSON hashes to "" (it differs from any
// document this package builds).
func versionHash(ctx context.Context, api DocumentAPI, name, version string) (string, error) {
	out, err := api.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String(name), DocumentVersion: aws.String(version), DocumentFormat: types.DocumentFormatJson})
	if err != nil {
		return "", fmt.Errorf("get version %s: %w", version, err)
	}
	h, err := ContentHash(aws.ToString(out.Content))
	if err != nil {
		return "", nil
	}
	return h, nil
}

// findVersion returns the newest version whose content has hash.
func findVersion(ctx context.Context, api DocumentAPI, name, hash string) (string, error) {
	var versions []int
	p := ssm.NewListDocumentVersionsPaginator(api, &ssm.ListDocumentVersionsInput{Name: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list versions: %w", err)
		}
		for _, v := range page.DocumentVersions {
			if n, err := strconv.Atoi(aws.ToString(v.DocumentVersion)); err == nil {
				versions = append(versions, n)
			}
		}
	}
	slices.Sort(versions)
	for _, n := range slices.Backward(versions) {
		h, err := versionHash(ctx, api, name, strconv.Itoa(n))
		if err != nil {
			return "", err
		}
		if h == hash {
			return strconv.Itoa(n), nil
		}
	}
	return "", fmt.Errorf("SSM reports DuplicateDocumentContent, but no version of %s has content %s", name, short(hash))
}

// waitActive waits on the env clock until a version of the document is
// Active, tolerating a new document or version not being visible yet.
func waitActive(ctx context.Context, env migration.Env, api DocumentAPI, name, version string) error {
	return env.Poll(ctx, "ssm document "+name+" v"+version+" to be Active", 2*time.Second, documentActiveTimeout, func(ctx context.Context) (string, bool, error) {
		out, err := api.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String(name), DocumentVersion: aws.String(version)})
		switch {
		case awsx.IsNotFound(err) || awsx.HasCode(err, "InvalidDocumentVersion"):
			return "not visible yet", false, nil
		case err != nil:
			return "", false, err
		}
		switch out.Document.Status {
		case types.DocumentStatusActive:
			return string(out.Document.Status), true, nil
		case types.DocumentStatusFailed:
			return "", false, fmt.Errorf("version %s failed: %s", version, aws.ToString(out.Document.StatusInformation))
		}
		return string(out.Document.Status), false, nil
	})
}

// DeleteDocument deletes a validation document with all its versions. It
// touches only a document carrying the env's ownership tag and is a no-op
// when the document is gone. While an association still uses the
// document (AssociatedInstances) it retries on the env clock for up to
// five minutes — delete the association first (DeleteSuite does).
func DeleteDocument(ctx context.Context, env migration.Env, api DocumentAPI, spec DocumentSpec) error {
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete document %q: %w", spec.Name, err)
	}
	if err := deleteDocument(ctx, env, api, spec.Name); err != nil {
		return fmt.Errorf("delete document %q: %w", spec.Name, err)
	}
	return nil
}

func deleteDocument(ctx context.Context, env migration.Env, api DocumentAPI, name string) error {
	found, err := describeDocument(ctx, api, name, "")
	if err != nil {
		return err
	}
	if found == nil {
		env.ReportGone(KindDocument, name)
		return nil
	}
	tags, err := documentTags(ctx, api, name)
	if err != nil {
		return err
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindDocument, name, DocumentARN(env, name))
		return nil
	}
	if !env.DryRun {
		var last error
		err := env.Poll(ctx, "ssm document "+name+" to be free of associations", 15*time.Second, documentDeleteTimeout, func(ctx context.Context) (string, bool, error) {
			_, err := api.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String(name)})
			switch {
			case err == nil || awsx.IsNotFound(err):
				return "", true, nil
			case awsx.IsDependencyViolation(err):
				last = err
				return "still associated", false, nil
			default:
				return "", false, err
			}
		})
		if err != nil {
			if errors.Is(err, awsx.ErrTimeout) && last != nil {
				err = fmt.Errorf("%w (last: %v)", err, last)
			}
			return err
		}
	}
	env.Report(migration.Change{Kind: KindDocument, Name: name, ID: DocumentARN(env, name), Action: migration.ActionDelete})
	return nil
}

// short abbreviates a ContentHash for a Change.
func short(hash string) string {
	if len(hash) > len("sha256:")+12 {
		return hash[:len("sha256:")+12]
	}
	return hash
}

func ssmTags(m map[string]string) []types.Tag {
	return awsx.Tags(m, func(k, v *string) types.Tag { return types.Tag{Key: k, Value: v} })
}

func fromSSMTags(tags []types.Tag) map[string]string {
	return awsx.TagMap(tags, func(t types.Tag) (*string, *string) { return t.Key, t.Value })
}
