package fakecloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSM is the fake Systems Manager client. Get it with Cloud.SSM.
//
// It holds Command documents with versions (a default and a latest one,
// each Creating or Updating for a few seconds of fake time before it is
// Active), managed instances that tests register with RegisterInstance,
// Run Command (SendCommand resolves tag and ID targets, validates the
// parameters against the document, and its invocations go Pending →
// InProgress → Success/Failed/TimedOut over fake time, with outcomes
// tests script per instance and document) and State Manager
// associations. Only JSON documents are supported.
type SSM struct{ c *Cloud }

// SSM returns the Systems Manager client of the cloud.
func (c *Cloud) SSM() *SSM { return &SSM{c: c} }

func init() { register("ssm", func() any { return &ssmState{} }) }

// Timing of the simulated service, in fake time.
const (
	// SSMDocumentActivation is how long a new document version stays
	// Creating (version 1) or Updating before it is Active.
	SSMDocumentActivation = 3 * time.Second
	// SSMTargetResolution is how long a command sent to Targets stays
	// Pending with no invocations while its targets resolve.
	SSMTargetResolution = 2 * time.Second
	// SSMDispatch is how long an invocation stays Pending once its batch
	// starts, and SSMRunTime how long it then stays InProgress.
	SSMDispatch = time.Second
	SSMRunTime  = 8 * time.Second
	// SSMAssociationFirstRun is when a new or updated association's
	// immediate run completes.
	SSMAssociationFirstRun = 10 * time.Second
	// SSMDefaultVersionLimit is the number of versions a document may
	// have; UpdateDocument beyond it fails with DocumentVersionLimitExceeded.
	SSMDefaultVersionLimit = 1000
	// ssmMaxContent is the largest document content SSM accepts (64 KB).
	ssmMaxContent = 64 * 1024
	// ssmPluginOutputMax is how much of a step's output ListCommandInvocations
	// returns; AWS truncates the rest (the full output goes to CloudWatch
	// Logs or S3).
	ssmPluginOutputMax = 2500
	// ssmDefaultPage is the page size of list calls without MaxResults. It
	// is small on purpose, so callers that ignore NextToken are caught.
	ssmDefaultPage = 10
)

type ssmState struct {
	Documents    map[string]*fakeSSMDocument     `json:"documents"`
	Instances    map[string]*fakeManagedInstance `json:"instances"`
	Commands     []*fakeCommand                  `json:"commands"`
	Associations map[string]*fakeAssociation     `json:"associations"`
	Outcomes     map[string]*fakeOutcome         `json:"outcomes"` // instanceID|document
	VersionLimit int                             `json:"versionLimit,omitempty"`
}

type fakeSSMDocument struct {
	Name           string               `json:"name"`
	DocumentType   string               `json:"documentType"`
	DocumentFormat string               `json:"documentFormat"`
	TargetType     string               `json:"targetType,omitempty"`
	Tags           map[string]string    `json:"tags"`
	Versions       []*fakeSSMDocVersion `json:"versions"` // Versions[i] is version i+1; nil once deleted
	Default        int                  `json:"default"`
	Created        time.Time            `json:"created"`
}

type fakeSSMDocVersion struct {
	Version     int       `json:"version"`
	Content     string    `json:"content"`
	VersionName string    `json:"versionName,omitempty"`
	Created     time.Time `json:"created"`
}

type fakeManagedInstance struct {
	ID      string            `json:"id"`
	Tags    map[string]string `json:"tags"`
	Offline bool              `json:"offline,omitempty"`
}

type fakeOutcome struct {
	Status string `json:"status"`
	Output string `json:"output"`
}

// ssmDocContent is the part of a Command document the fake reads.
type ssmDocContent struct {
	SchemaVersion string                     `json:"schemaVersion"`
	Description   string                     `json:"description"`
	Parameters    map[string]ssmDocParameter `json:"parameters"`
	MainSteps     []ssmDocStep               `json:"mainSteps"`
}

type ssmDocParameter struct {
	Type           string          `json:"type"`
	Description    string          `json:"description"`
	Default        json.RawMessage `json:"default"`
	AllowedPattern string          `json:"allowedPattern"`
	AllowedValues  []string        `json:"allowedValues"`
}

type ssmDocStep struct {
	Action string          `json:"action"`
	Name   string          `json:"name"`
	Inputs json.RawMessage `json:"inputs"`
}

// SSMCommandPlugins are the step actions a schema 2.2 Command document may
// use (the Command document plugin reference).
var SSMCommandPlugins = []string{
	"aws:applications", "aws:cloudWatch", "aws:configureContainers", "aws:configureDocker", "aws:configurePackage",
	"aws:domainJoin", "aws:downloadContent", "aws:psModule", "aws:refreshAssociation", "aws:runDockerAction",
	"aws:runDocument", "aws:runPowerShellScript", "aws:runShellScript", "aws:softwareInventory",
	"aws:updateAgent", "aws:updateSsmAgent",
}

var (
	ssmDocNameRe   = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{3,128}$`)
	ssmStepNameRe  = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	ssmParamRefRe  = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)
	ssmTargetTypes = regexp.MustCompile(`^\/[\w\.\-\:\/]*$`)
)

func (f *SSM) st() *ssmState {
	s := state[ssmState](f.c, "ssm")
	if s.Documents == nil {
		s.Documents = map[string]*fakeSSMDocument{}
	}
	if s.Instances == nil {
		s.Instances = map[string]*fakeManagedInstance{}
	}
	if s.Associations == nil {
		s.Associations = map[string]*fakeAssociation{}
	}
	if s.Outcomes == nil {
		s.Outcomes = map[string]*fakeOutcome{}
	}
	return s
}

// parseSSMContent checks a Command document the way SSM does on create
// and update, and returns what the fake needs of it.
func parseSSMContent(content string) (*ssmDocContent, error) {
	if len(content) > ssmMaxContent {
		return nil, apiError("MaxDocumentSizeExceeded", "The content for the document exceeds the maximum size of 64 KB.")
	}
	var doc ssmDocContent
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return nil, apiError("InvalidDocumentContent", "The content for the document is not valid: %v", err)
	}
	switch doc.SchemaVersion {
	case "2.2":
	case "1.2", "2.0":
		return nil, apiError("InvalidDocumentSchemaVersion", "the fake supports schema version 2.2 only")
	default:
		return nil, apiError("InvalidDocumentSchemaVersion", "The version of the document schema is not supported: %q", doc.SchemaVersion)
	}
	if len(doc.MainSteps) == 0 {
		return nil, apiError("InvalidDocumentContent", "mainSteps must contain at least one step")
	}
	names := map[string]bool{}
	for i, s := range doc.MainSteps {
		if !slices.Contains(SSMCommandPlugins, s.Action) {
			return nil, apiError("InvalidDocumentContent", "mainSteps[%d]: action %q is not a supported plugin", i, s.Action)
		}
		if !ssmStepNameRe.MatchString(s.Name) {
			return nil, apiError("InvalidDocumentContent", "mainSteps[%d]: name %q must match %s", i, s.Name, ssmStepNameRe)
		}
		if names[s.Name] {
			return nil, apiError("InvalidDocumentContent", "mainSteps[%d]: duplicate step name %q", i, s.Name)
		}
		names[s.Name] = true
		for _, m := range ssmParamRefRe.FindAllStringSubmatch(string(s.Inputs), -1) {
			if _, ok := doc.Parameters[m[1]]; !ok && !strings.HasPrefix(m[1], "ssm:") {
				return nil, apiError("InvalidDocumentContent", "mainSteps[%d]: parameter %q is referenced but not defined", i, m[1])
			}
		}
	}
	for name, p := range doc.Parameters {
		if p.AllowedPattern != "" {
			if _, err := regexp.Compile(p.AllowedPattern); err != nil {
				return nil, apiError("InvalidDocumentContent", "parameter %q: allowedPattern does not compile: %v", name, err)
			}
		}
	}
	return &doc, nil
}

// ssmContentHash is the service's hash of a version: SHA-256 of the
// content as stored. Callers must not assume it equals any hash they
// compute themselves.
func ssmContentHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

func (f *SSM) document(name string) (*fakeSSMDocument, error) {
	d, ok := f.st().Documents[name]
	if !ok || f.c.hidden("ssm-document:"+name) {
		return nil, apiError("InvalidDocument", "The specified document does not exist.")
	}
	return d, nil
}

// version resolves "", "$DEFAULT", "$LATEST" or a number.
func (d *fakeSSMDocument) version(ref string) (*fakeSSMDocVersion, error) {
	n := 0
	switch ref {
	case "", "$DEFAULT":
		n = d.Default
	case "$LATEST":
		n = d.latest()
	default:
		v, err := strconv.Atoi(ref)
		if err != nil {
			return nil, apiError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
		}
		n = v
	}
	if n < 1 || n > len(d.Versions) || d.Versions[n-1] == nil {
		return nil, apiError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
	}
	return d.Versions[n-1], nil
}

func (d *fakeSSMDocument) latest() int {
	for i := len(d.Versions) - 1; i >= 0; i-- {
		if d.Versions[i] != nil {
			return i + 1
		}
	}
	return 0
}

func (f *SSM) versionStatus(v *fakeSSMDocVersion) types.DocumentStatus {
	if f.c.now().Before(v.Created.Add(SSMDocumentActivation)) {
		if v.Version == 1 {
			return types.DocumentStatusCreating
		}
		return types.DocumentStatusUpdating
	}
	return types.DocumentStatusActive
}

func (f *SSM) describe(d *fakeSSMDocument, v *fakeSSMDocVersion) *types.DocumentDescription {
	parsed, _ := parseSSMContent(v.Content)
	desc := &types.DocumentDescription{
		Name:            aws.String(d.Name),
		Owner:           aws.String(f.c.account),
		DocumentType:    types.DocumentType(d.DocumentType),
		DocumentFormat:  types.DocumentFormat(d.DocumentFormat),
		DocumentVersion: aws.String(strconv.Itoa(v.Version)),
		DefaultVersion:  aws.String(strconv.Itoa(d.Default)),
		LatestVersion:   aws.String(strconv.Itoa(d.latest())),
		Hash:            aws.String(ssmContentHash(v.Content)),
		HashType:        types.DocumentHashTypeSha256,
		Status:          f.versionStatus(v),
		SchemaVersion:   aws.String("2.2"),
		PlatformTypes:   []types.PlatformType{types.PlatformTypeLinux},
		CreatedDate:     aws.Time(d.Created),
		Tags:            ssmTags(d.Tags),
	}
	if d.TargetType != "" {
		desc.TargetType = aws.String(d.TargetType)
	}
	if v.VersionName != "" {
		desc.VersionName = aws.String(v.VersionName)
	}
	if parsed != nil {
		if parsed.Description != "" {
			desc.Description = aws.String(parsed.Description)
		}
		for _, name := range sortedKeys(parsed.Parameters) {
			p := parsed.Parameters[name]
			dp := types.DocumentParameter{Name: aws.String(name), Type: types.DocumentParameterType(p.Type)}
			if p.Description != "" {
				dp.Description = aws.String(p.Description)
			}
			var def string
			if len(p.Default) > 0 && json.Unmarshal(p.Default, &def) == nil {
				dp.DefaultValue = aws.String(def)
			}
			desc.Parameters = append(desc.Parameters, dp)
		}
	}
	return desc
}

// CreateDocument creates a document at version 1, which is its default.
func (f *SSM) CreateDocument(ctx context.Context, in *ssm.CreateDocumentInput, _ ...func(*ssm.Options)) (*ssm.CreateDocumentOutput, error) {
	var out *ssm.CreateDocumentOutput
	err := f.c.call(ctx, ssm.ServiceID, "CreateDocument", true, func() error {
		name := aws.ToString(in.Name)
		if !ssmDocNameRe.MatchString(name) {
			return apiError("ValidationException", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$", name)
		}
		lower := strings.ToLower(name)
		for _, reserved := range []string{"aws", "amazon", "amzn"} {
			if strings.HasPrefix(lower, reserved) {
				return apiError("ValidationException", "Document name %s: names beginning with %q are reserved", name, reserved)
			}
		}
		if in.DocumentType != "" && in.DocumentType != types.DocumentTypeCommand {
			return apiError("InvalidDocumentType", "the fake supports Command documents only")
		}
		if in.DocumentFormat != "" && in.DocumentFormat != types.DocumentFormatJson {
			return apiError("InvalidDocumentContent", "the fake supports JSON documents only")
		}
		if in.TargetType != nil && !ssmTargetTypes.MatchString(*in.TargetType) {
			return apiError("InvalidDocumentContent", "target type %q is not valid", *in.TargetType)
		}
		if _, err := parseSSMContent(aws.ToString(in.Content)); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Documents[name]; ok {
			return apiError("DocumentAlreadyExists", "Document with same name %s already exists", name)
		}
		d := &fakeSSMDocument{
			Name: name, DocumentType: string(types.DocumentTypeCommand), DocumentFormat: string(types.DocumentFormatJson),
			TargetType: aws.ToString(in.TargetType), Tags: map[string]string{}, Default: 1, Created: f.c.now(),
		}
		for _, t := range in.Tags {
			d.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		d.Versions = []*fakeSSMDocVersion{{Version: 1, Content: aws.ToString(in.Content), VersionName: aws.ToString(in.VersionName), Created: f.c.now()}}
		s.Documents[name] = d
		f.c.created("ssm-document:" + name)
		out = &ssm.CreateDocumentOutput{DocumentDescription: f.describe(d, d.Versions[0])}
		return nil
	})
	return out, err
}

// DescribeDocument describes one version of a document: the default one
// unless DocumentVersion or VersionName names another.
func (f *SSM) DescribeDocument(ctx context.Context, in *ssm.DescribeDocumentInput, _ ...func(*ssm.Options)) (*ssm.DescribeDocumentOutput, error) {
	var out *ssm.DescribeDocumentOutput
	err := f.c.call(ctx, ssm.ServiceID, "DescribeDocument", false, func() error {
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		v, err := f.versionByRef(d, aws.ToString(in.DocumentVersion), aws.ToString(in.VersionName))
		if err != nil {
			return err
		}
		out = &ssm.DescribeDocumentOutput{Document: f.describe(d, v)}
		return nil
	})
	return out, err
}

func (f *SSM) versionByRef(d *fakeSSMDocument, version, versionName string) (*fakeSSMDocVersion, error) {
	if versionName != "" {
		for _, v := range d.Versions {
			if v != nil && v.VersionName == versionName {
				return v, nil
			}
		}
		return nil, apiError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
	}
	return d.version(version)
}

// GetDocument returns the content of one version (the default one unless
// DocumentVersion names another). The fake stores and returns JSON only.
func (f *SSM) GetDocument(ctx context.Context, in *ssm.GetDocumentInput, _ ...func(*ssm.Options)) (*ssm.GetDocumentOutput, error) {
	var out *ssm.GetDocumentOutput
	err := f.c.call(ctx, ssm.ServiceID, "GetDocument", false, func() error {
		if in.DocumentFormat != "" && in.DocumentFormat != types.DocumentFormatJson {
			return apiError("UnsupportedOperationException", "the fake returns JSON documents only")
		}
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		v, err := f.versionByRef(d, aws.ToString(in.DocumentVersion), aws.ToString(in.VersionName))
		if err != nil {
			return err
		}
		out = &ssm.GetDocumentOutput{
			Name: aws.String(d.Name), Content: aws.String(v.Content), DocumentFormat: types.DocumentFormatJson,
			DocumentType: types.DocumentType(d.DocumentType), DocumentVersion: aws.String(strconv.Itoa(v.Version)),
			Status: f.versionStatus(v), CreatedDate: aws.Time(v.Created),
		}
		if v.VersionName != "" {
			out.VersionName = aws.String(v.VersionName)
		}
		return nil
	})
	return out, err
}

// UpdateDocument adds a version with new content. DocumentVersion must be
// "$LATEST" or the latest version number. Content equal to an existing
// version fails with DuplicateDocumentContent (⚠ AWS documents "matches
// another version"; the fake compares with every version, which is the
// stricter reading), and a document at its version limit fails with
// DocumentVersionLimitExceeded. The default version does not change.
func (f *SSM) UpdateDocument(ctx context.Context, in *ssm.UpdateDocumentInput, _ ...func(*ssm.Options)) (*ssm.UpdateDocumentOutput, error) {
	var out *ssm.UpdateDocumentOutput
	err := f.c.call(ctx, ssm.ServiceID, "UpdateDocument", true, func() error {
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		latest := d.latest()
		if ref := aws.ToString(in.DocumentVersion); ref != "$LATEST" && ref != strconv.Itoa(latest) {
			return apiError("InvalidDocumentVersion", "The document version is not valid or does not exist: only the latest version ($LATEST or %d) can be updated", latest)
		}
		if in.DocumentFormat != "" && in.DocumentFormat != types.DocumentFormatJson {
			return apiError("InvalidDocumentContent", "the fake supports JSON documents only")
		}
		if in.TargetType != nil && !ssmTargetTypes.MatchString(*in.TargetType) {
			return apiError("InvalidDocumentContent", "target type %q is not valid", *in.TargetType)
		}
		content := aws.ToString(in.Content)
		if _, err := parseSSMContent(content); err != nil {
			return err
		}
		for _, v := range d.Versions {
			if v != nil && v.Content == content {
				return apiError("DuplicateDocumentContent", "The content of the association document matches another document. Change the content of the document and try again.")
			}
			if v != nil && in.VersionName != nil && v.VersionName == *in.VersionName {
				return apiError("DuplicateDocumentVersionName", "The version name has already been used in this document.")
			}
		}
		limit := f.st().VersionLimit
		if limit == 0 {
			limit = SSMDefaultVersionLimit
		}
		if len(d.Versions) >= limit {
			return apiError("DocumentVersionLimitExceeded", "The document has too many versions (%d). Delete one or more document versions and try again.", limit)
		}
		v := &fakeSSMDocVersion{Version: len(d.Versions) + 1, Content: content, VersionName: aws.ToString(in.VersionName), Created: f.c.now()}
		d.Versions = append(d.Versions, v)
		if in.TargetType != nil {
			d.TargetType = *in.TargetType
		}
		out = &ssm.UpdateDocumentOutput{DocumentDescription: f.describe(d, v)}
		return nil
	})
	return out, err
}

// UpdateDocumentDefaultVersion makes an Active version the default.
func (f *SSM) UpdateDocumentDefaultVersion(ctx context.Context, in *ssm.UpdateDocumentDefaultVersionInput, _ ...func(*ssm.Options)) (*ssm.UpdateDocumentDefaultVersionOutput, error) {
	var out *ssm.UpdateDocumentDefaultVersionOutput
	err := f.c.call(ctx, ssm.ServiceID, "UpdateDocumentDefaultVersion", true, func() error {
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		ref := aws.ToString(in.DocumentVersion)
		if _, err := strconv.Atoi(ref); err != nil {
			return apiError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
		}
		v, err := d.version(ref)
		if err != nil {
			return err
		}
		if st := f.versionStatus(v); st != types.DocumentStatusActive {
			return apiError("InvalidDocumentOperation", "Version %d of document %s is %s; only an Active version can be the default", v.Version, d.Name, st)
		}
		d.Default = v.Version
		out = &ssm.UpdateDocumentDefaultVersionOutput{Description: &types.DocumentDefaultVersionDescription{Name: aws.String(d.Name), DefaultVersion: aws.String(ref)}}
		return nil
	})
	return out, err
}

// ListDocumentVersions lists a document's versions, oldest first, paginated.
func (f *SSM) ListDocumentVersions(ctx context.Context, in *ssm.ListDocumentVersionsInput, _ ...func(*ssm.Options)) (*ssm.ListDocumentVersionsOutput, error) {
	var out *ssm.ListDocumentVersionsOutput
	err := f.c.call(ctx, ssm.ServiceID, "ListDocumentVersions", false, func() error {
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		var all []types.DocumentVersionInfo
		for _, v := range d.Versions {
			if v == nil {
				continue
			}
			info := types.DocumentVersionInfo{
				Name: aws.String(d.Name), DocumentVersion: aws.String(strconv.Itoa(v.Version)), IsDefaultVersion: v.Version == d.Default,
				DocumentFormat: types.DocumentFormatJson, Status: f.versionStatus(v), CreatedDate: aws.Time(v.Created),
			}
			if v.VersionName != "" {
				info.VersionName = aws.String(v.VersionName)
			}
			all = append(all, info)
		}
		items, next, err := page(all, in.NextToken, pageSize(in.MaxResults, 50))
		if err != nil {
			return err
		}
		out = &ssm.ListDocumentVersionsOutput{DocumentVersions: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteDocument deletes a document (or one non-default version of it).
// A document an association still uses fails with AssociatedInstances.
func (f *SSM) DeleteDocument(ctx context.Context, in *ssm.DeleteDocumentInput, _ ...func(*ssm.Options)) (*ssm.DeleteDocumentOutput, error) {
	err := f.c.call(ctx, ssm.ServiceID, "DeleteDocument", true, func() error {
		s := f.st()
		d, err := f.document(aws.ToString(in.Name))
		if err != nil {
			return err
		}
		if in.DocumentVersion != nil || in.VersionName != nil {
			v, err := f.versionByRef(d, aws.ToString(in.DocumentVersion), aws.ToString(in.VersionName))
			if err != nil {
				return err
			}
			if v.Version == d.Default {
				return apiError("InvalidDocumentOperation", "You can't delete the default version of a document.")
			}
			d.Versions[v.Version-1] = nil
			return nil
		}
		for _, a := range s.Associations {
			if a.Document == d.Name {
				return apiError("AssociatedInstances", "You must disassociate a document from all managed nodes before you can delete it (association %s uses %s).", a.ID, d.Name)
			}
		}
		delete(s.Documents, d.Name)
		return nil
	})
	return &ssm.DeleteDocumentOutput{}, err
}

// taggable returns the tag map of a Document, Association or
// ManagedInstance.
func (f *SSM) taggable(rt types.ResourceTypeForTagging, id string) (map[string]string, error) {
	s := f.st()
	switch rt {
	case types.ResourceTypeForTaggingDocument:
		d, err := f.document(id)
		if err != nil {
			return nil, apiError("InvalidResourceId", "The resource ID %q is not valid. Verify the ID and try again.", id)
		}
		return d.Tags, nil
	case types.ResourceTypeForTaggingAssociation:
		a, ok := s.Associations[id]
		if !ok || f.c.hidden("ssm-association:"+id) {
			return nil, apiError("InvalidResourceId", "The resource ID %q is not valid. Verify the ID and try again.", id)
		}
		return a.Tags, nil
	case types.ResourceTypeForTaggingManagedInstance:
		i, ok := s.Instances[id]
		if !ok {
			return nil, apiError("InvalidResourceId", "The resource ID %q is not valid. Verify the ID and try again.", id)
		}
		return i.Tags, nil
	}
	return nil, apiError("InvalidResourceType", "the fake tags Document, Association and ManagedInstance resources only, not %q", rt)
}

// AddTagsToResource adds or overwrites tags.
func (f *SSM) AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, _ ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	err := f.c.call(ctx, ssm.ServiceID, "AddTagsToResource", true, func() error {
		tags, err := f.taggable(in.ResourceType, aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		if len(tags)+len(in.Tags) > 1000 {
			return apiError("TooManyTagsError", "too many tags")
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return nil
	})
	return &ssm.AddTagsToResourceOutput{}, err
}

// RemoveTagsFromResource removes tags by key.
func (f *SSM) RemoveTagsFromResource(ctx context.Context, in *ssm.RemoveTagsFromResourceInput, _ ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error) {
	err := f.c.call(ctx, ssm.ServiceID, "RemoveTagsFromResource", true, func() error {
		tags, err := f.taggable(in.ResourceType, aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	return &ssm.RemoveTagsFromResourceOutput{}, err
}

// ListTagsForResource returns a resource's tags, sorted by key.
func (f *SSM) ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	var out *ssm.ListTagsForResourceOutput
	err := f.c.call(ctx, ssm.ServiceID, "ListTagsForResource", false, func() error {
		tags, err := f.taggable(in.ResourceType, aws.ToString(in.ResourceId))
		if err != nil {
			return err
		}
		out = &ssm.ListTagsForResourceOutput{TagList: ssmTags(tags)}
		return nil
	})
	return out, err
}

func ssmTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func pageSize(max *int32, limit int) int {
	if max == nil || *max <= 0 {
		return ssmDefaultPage
	}
	return min(int(*max), limit)
}

// --- test helpers -------------------------------------------------------

// RegisterInstance makes id a managed instance with tags, online. Targets
// by tag resolve against these tags. The Name tag is reported as the
// invocation's InstanceName.
func (f *SSM) RegisterInstance(id string, tags map[string]string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().Instances[id] = &fakeManagedInstance{ID: id, Tags: maps.Clone(tags)}
	if f.st().Instances[id].Tags == nil {
		f.st().Instances[id].Tags = map[string]string{}
	}
}

// SetOnline marks a managed instance's agent as online or offline. A
// command sent to an offline instance stays Pending until its delivery
// timeout (SendCommand's TimeoutSeconds) and then times out with status
// details DeliveryTimedOut.
func (f *SSM) SetOnline(id string, online bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if i, ok := f.st().Instances[id]; ok {
		i.Offline = !online
	}
}

// AnyInstance, as ScriptOutcome's instanceID, scripts a document's outcome
// on every instance that has none of its own.
const AnyInstance = "*"

// ScriptOutcome sets what running document docName on instanceID (or on
// AnyInstance) ends with: status Success, Failed or TimedOut and the
// output of the document's last step. Unscripted invocations succeed with
// output "ok". It applies to commands sent from then on.
func (f *SSM) ScriptOutcome(instanceID, docName string, status types.CommandInvocationStatus, output string) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().Outcomes[instanceID+"|"+docName] = &fakeOutcome{Status: string(status), Output: output}
}

// SetVersionLimit lowers the number of versions a document may have, so
// tests reach DocumentVersionLimitExceeded quickly. 0 restores the default.
func (f *SSM) SetVersionLimit(n int) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.st().VersionLimit = n
}

// Documents returns the names of the documents, sorted.
func (f *SSM) Documents() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().Documents)
}

// DocumentVersions returns the default and latest version numbers of a
// document and the content of its default version; ok is false when the
// document does not exist.
func (f *SSM) DocumentVersions(name string) (defaultVersion, latest int, content string, ok bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	d, found := f.st().Documents[name]
	if !found {
		return 0, 0, "", false
	}
	return d.Default, d.latest(), d.Versions[d.Default-1].Content, true
}

// DocumentTags returns a copy of a document's tags, or nil.
func (f *SSM) DocumentTags(name string) map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	d, ok := f.st().Documents[name]
	if !ok {
		return nil
	}
	return maps.Clone(d.Tags)
}

// String renders a short summary of the SSM state, for test failures.
func (f *SSM) String() string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	s := f.st()
	return fmt.Sprintf("ssm: %d documents, %d instances, %d commands, %d associations", len(s.Documents), len(s.Instances), len(s.Commands), len(s.Associations))
}
