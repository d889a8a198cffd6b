package fakecloud

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAM is the fake IAM client. Get it with Cloud.IAM. IAM is global: its
// ARNs carry no Region.
type IAM struct{ c *Cloud }

// IAM returns the IAM client of the cloud.
func (c *Cloud) IAM() *IAM { return &IAM{c: c} }

func init() { register("iam", func() any { return &iamState{} }) }

type iamState struct {
	Roles    map[string]*fakeRole    `json:"roles"` // by lower-case name: IAM names are case-insensitive
	Profiles map[string]*fakeProfile `json:"profiles"`
}

type fakeRole struct {
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Trust       string            `json:"trust"`
	Description string            `json:"description"`
	MaxSession  int32             `json:"maxSession"`
	Tags        map[string]string `json:"tags"`
	Attached    []string          `json:"attached"`
	Inline      map[string]string `json:"inline"`
	Created     time.Time         `json:"created"`
}

type fakeProfile struct {
	Name  string   `json:"name"`
	Path  string   `json:"path"`
	ID    string   `json:"id"`
	ARN   string   `json:"arn"`
	Roles []string `json:"roles"`
}

// ManagedPolicies are the AWS managed policies the fake knows, by ARN.
// Attaching any other AWS managed policy fails with NoSuchEntity, as in
// IAM, which catches a mistyped name in tests. Add the ones a package uses.
var ManagedPolicies = map[string]bool{
	"arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole":                     true,
	"arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole":                    true,
	"arn:aws:iam::aws:policy/service-role/AWSApplicationMigrationReplicationServerPolicy": true,
	"arn:aws:iam::aws:policy/service-role/AWSApplicationMigrationConversionServerPolicy":  true,
	"arn:aws:iam::aws:policy/service-role/AWSApplicationMigrationMGHAccess":               true,
	"arn:aws:iam::aws:policy/AWSApplicationMigrationAgentInstallationPolicy":              true,
	"arn:aws:iam::aws:policy/AWSApplicationMigrationAgentPolicy":                          true,
	"arn:aws:iam::aws:policy/AWSApplicationMigrationServiceEc2InstancePolicy":             true,
	"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore":                                true,
	"arn:aws:iam::aws:policy/service-role/AWSApplicationMigrationAgentPolicy_v2":          true,
	"arn:aws:iam::aws:policy/service-role/AWSElasticDisasterRecoveryEc2InstancePolicy":    true,
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":                    true,
}

var roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func (f *IAM) st() *iamState {
	s := state[iamState](f.c, "iam")
	if s.Roles == nil {
		s.Roles = map[string]*fakeRole{}
		s.Profiles = map[string]*fakeProfile{}
	}
	return s
}

func (f *IAM) role(name string) (*fakeRole, error) {
	r, ok := f.st().Roles[strings.ToLower(name)]
	if !ok || f.c.hidden("role/"+strings.ToLower(name)) {
		return nil, notFound("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return r, nil
}

func (r *fakeRole) out() *types.Role {
	return &types.Role{
		RoleName: aws.String(r.Name), Path: aws.String(r.Path), RoleId: aws.String(r.ID), Arn: aws.String(r.ARN),
		AssumeRolePolicyDocument: aws.String(url.QueryEscape(r.Trust)), // IAM returns policies URL-encoded
		Description:              aws.String(r.Description), MaxSessionDuration: aws.Int32(r.MaxSession),
		CreateDate: aws.Time(r.Created), Tags: iamTags(r.Tags),
	}
}

func iamTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func checkPath(p string) error {
	if p == "" || p == "/" || (strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") && len(p) <= 512) {
		return nil
	}
	return apiError("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
}

// CreateRole creates a role; names are unique case-insensitively.
func (f *IAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	var out *iam.CreateRoleOutput
	err := f.c.call(ctx, iam.ServiceID, "CreateRole", true, func() error {
		name := aws.ToString(in.RoleName)
		if !roleNameRe.MatchString(name) {
			return apiError("ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint", name)
		}
		if err := checkPath(aws.ToString(in.Path)); err != nil {
			return err
		}
		if err := checkPolicyJSON("MalformedPolicyDocument", aws.ToString(in.AssumeRolePolicyDocument)); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Roles[strings.ToLower(name)]; ok {
			return apiError("EntityAlreadyExists", "Role with name %s already exists.", name)
		}
		path := aws.ToString(in.Path)
		if path == "" {
			path = "/"
		}
		r := &fakeRole{Name: name, Path: path, ID: "AROA" + strings.ToUpper(f.c.newID("x")[3:]), ARN: f.c.globalARN("iam", f.c.account, "role"+path+name),
			Trust: aws.ToString(in.AssumeRolePolicyDocument), Description: aws.ToString(in.Description), MaxSession: 3600,
			Tags: map[string]string{}, Inline: map[string]string{}, Created: f.c.now()}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		for _, t := range in.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		s.Roles[strings.ToLower(name)] = r
		f.c.created("role/" + strings.ToLower(name))
		out = &iam.CreateRoleOutput{Role: r.out()}
		return nil
	})
	return out, err
}

// CreateServiceLinkedRole creates the service-linked role of a service
// (AWSServiceName "mgn.amazonaws.com" → AWSServiceRoleForApplicationMigrationService).
func (f *IAM) CreateServiceLinkedRole(ctx context.Context, in *iam.CreateServiceLinkedRoleInput, _ ...func(*iam.Options)) (*iam.CreateServiceLinkedRoleOutput, error) {
	var out *iam.CreateServiceLinkedRoleOutput
	err := f.c.call(ctx, iam.ServiceID, "CreateServiceLinkedRole", true, func() error {
		svc := aws.ToString(in.AWSServiceName)
		name, ok := serviceLinkedRoleNames[svc]
		if !ok {
			return apiError("InvalidInput", "Service %s does not support service-linked roles in the fake", svc)
		}
		s := f.st()
		if _, ok := s.Roles[strings.ToLower(name)]; ok {
			return apiError("InvalidInput", "Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		path := "/aws-service-role/" + svc + "/"
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + svc + `"},"Action":"sts:AssumeRole"}]}`
		r := &fakeRole{Name: name, Path: path, ID: "AROA" + strings.ToUpper(f.c.newID("x")[3:]), ARN: f.c.globalARN("iam", f.c.account, "role"+path+name),
			Trust: trust, Description: aws.ToString(in.Description), MaxSession: 3600, Tags: map[string]string{}, Inline: map[string]string{}, Created: f.c.now()}
		s.Roles[strings.ToLower(name)] = r
		out = &iam.CreateServiceLinkedRoleOutput{Role: r.out()}
		return nil
	})
	return out, err
}

var serviceLinkedRoleNames = map[string]string{
	"mgn.amazonaws.com":      "AWSServiceRoleForApplicationMigrationService",
	"dms.amazonaws.com":      "AWSServiceRoleForDMSServerless",
	"datasync.amazonaws.com": "AWSServiceRoleForDataSync",
}

// GetRole describes a role.
func (f *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	var out *iam.GetRoleOutput
	err := f.c.call(ctx, iam.ServiceID, "GetRole", false, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		out = &iam.GetRoleOutput{Role: r.out()}
		return nil
	})
	return out, err
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (f *IAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "UpdateAssumeRolePolicy", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if err := checkPolicyJSON("MalformedPolicyDocument", aws.ToString(in.PolicyDocument)); err != nil {
			return err
		}
		r.Trust = aws.ToString(in.PolicyDocument)
		return nil
	})
	return &iam.UpdateAssumeRolePolicyOutput{}, err
}

// UpdateRole changes a role's description and maximum session duration.
func (f *IAM) UpdateRole(ctx context.Context, in *iam.UpdateRoleInput, _ ...func(*iam.Options)) (*iam.UpdateRoleOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "UpdateRole", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		return nil
	})
	return &iam.UpdateRoleOutput{}, err
}

// DeleteRole deletes a role with no attached or inline policies and no
// instance profile, else DeleteConflict.
func (f *IAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "DeleteRole", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if len(r.Attached) > 0 || len(r.Inline) > 0 {
			return apiError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
		}
		for _, p := range f.st().Profiles {
			for _, rn := range p.Roles {
				if strings.EqualFold(rn, r.Name) {
					return apiError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
				}
			}
		}
		delete(f.st().Roles, strings.ToLower(r.Name))
		return nil
	})
	return &iam.DeleteRoleOutput{}, err
}

// TagRole adds or overwrites tags on a role.
func (f *IAM) TagRole(ctx context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "TagRole", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(r.Tags) > 50 {
			return apiError("LimitExceeded", "a role can have at most 50 tags")
		}
		return nil
	})
	return &iam.TagRoleOutput{}, err
}

// ListRoleTags lists a role's tags (one page).
func (f *IAM) ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput, _ ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error) {
	var out *iam.ListRoleTagsOutput
	err := f.c.call(ctx, iam.ServiceID, "ListRoleTags", false, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		out = &iam.ListRoleTagsOutput{Tags: iamTags(r.Tags)}
		return nil
	})
	return out, err
}

// AttachRolePolicy attaches a managed policy; unknown AWS managed policies
// are NoSuchEntity.
func (f *IAM) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "AttachRolePolicy", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		arn := aws.ToString(in.PolicyArn)
		if strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") && !ManagedPolicies[arn] {
			return notFound("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
		}
		for _, a := range r.Attached {
			if a == arn {
				return nil
			}
		}
		r.Attached = append(r.Attached, arn)
		return nil
	})
	return &iam.AttachRolePolicyOutput{}, err
}

// DetachRolePolicy detaches a managed policy.
func (f *IAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "DetachRolePolicy", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		arn := aws.ToString(in.PolicyArn)
		for i, a := range r.Attached {
			if a == arn {
				r.Attached = append(r.Attached[:i], r.Attached[i+1:]...)
				return nil
			}
		}
		return notFound("NoSuchEntity", "Policy %s was not found.", arn)
	})
	return &iam.DetachRolePolicyOutput{}, err
}

// ListAttachedRolePolicies lists attached managed policies, paginated.
func (f *IAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	var out *iam.ListAttachedRolePoliciesOutput
	err := f.c.call(ctx, iam.ServiceID, "ListAttachedRolePolicies", false, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		var all []types.AttachedPolicy
		for _, a := range r.Attached {
			all = append(all, types.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(a[strings.LastIndex(a, "/")+1:])})
		}
		size := 100
		if in.MaxItems != nil {
			size = int(*in.MaxItems)
		}
		items, next, err := page(all, in.Marker, size)
		if err != nil {
			return err
		}
		out = &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: items, Marker: next, IsTruncated: next != nil}
		return nil
	})
	return out, err
}

// PutRolePolicy writes an inline policy.
func (f *IAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "PutRolePolicy", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if err := checkPolicyJSON("MalformedPolicyDocument", aws.ToString(in.PolicyDocument)); err != nil {
			return err
		}
		r.Inline[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
		return nil
	})
	return &iam.PutRolePolicyOutput{}, err
}

// GetRolePolicy returns an inline policy, URL-encoded as IAM returns it.
func (f *IAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	var out *iam.GetRolePolicyOutput
	err := f.c.call(ctx, iam.ServiceID, "GetRolePolicy", false, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		doc, ok := r.Inline[aws.ToString(in.PolicyName)]
		if !ok {
			return notFound("NoSuchEntity", "The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
		}
		out = &iam.GetRolePolicyOutput{RoleName: aws.String(r.Name), PolicyName: in.PolicyName, PolicyDocument: aws.String(url.QueryEscape(doc))}
		return nil
	})
	return out, err
}

// DeleteRolePolicy deletes an inline policy.
func (f *IAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "DeleteRolePolicy", true, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		name := aws.ToString(in.PolicyName)
		if _, ok := r.Inline[name]; !ok {
			return notFound("NoSuchEntity", "The role policy with name %s cannot be found.", name)
		}
		delete(r.Inline, name)
		return nil
	})
	return &iam.DeleteRolePolicyOutput{}, err
}

// ListRolePolicies lists inline policy names, paginated.
func (f *IAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	var out *iam.ListRolePoliciesOutput
	err := f.c.call(ctx, iam.ServiceID, "ListRolePolicies", false, func() error {
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		size := 100
		if in.MaxItems != nil {
			size = int(*in.MaxItems)
		}
		items, next, err := page(sortedKeys(r.Inline), in.Marker, size)
		if err != nil {
			return err
		}
		out = &iam.ListRolePoliciesOutput{PolicyNames: items, Marker: next, IsTruncated: next != nil}
		return nil
	})
	return out, err
}

func (p *fakeProfile) out(f *IAM) *types.InstanceProfile {
	ip := &types.InstanceProfile{InstanceProfileName: aws.String(p.Name), InstanceProfileId: aws.String(p.ID), Arn: aws.String(p.ARN), Path: aws.String(p.Path)}
	for _, rn := range p.Roles {
		if r, ok := f.st().Roles[strings.ToLower(rn)]; ok {
			ip.Roles = append(ip.Roles, *r.out())
		}
	}
	return ip
}

// CreateInstanceProfile creates an instance profile.
func (f *IAM) CreateInstanceProfile(ctx context.Context, in *iam.CreateInstanceProfileInput, _ ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error) {
	var out *iam.CreateInstanceProfileOutput
	err := f.c.call(ctx, iam.ServiceID, "CreateInstanceProfile", true, func() error {
		name := aws.ToString(in.InstanceProfileName)
		if !roleNameRe.MatchString(name) {
			return apiError("ValidationError", "invalid instance profile name %q", name)
		}
		if err := checkPath(aws.ToString(in.Path)); err != nil {
			return err
		}
		s := f.st()
		if _, ok := s.Profiles[strings.ToLower(name)]; ok {
			return apiError("EntityAlreadyExists", "Instance Profile %s already exists.", name)
		}
		path := aws.ToString(in.Path)
		if path == "" {
			path = "/"
		}
		p := &fakeProfile{Name: name, Path: path, ID: "AIPA" + strings.ToUpper(f.c.newID("x")[3:]), ARN: f.c.globalARN("iam", f.c.account, "instance-profile"+path+name)}
		s.Profiles[strings.ToLower(name)] = p
		out = &iam.CreateInstanceProfileOutput{InstanceProfile: p.out(f)}
		return nil
	})
	return out, err
}

func (f *IAM) profile(name string) (*fakeProfile, error) {
	p, ok := f.st().Profiles[strings.ToLower(name)]
	if !ok {
		return nil, notFound("NoSuchEntity", "Instance Profile %s cannot be found.", name)
	}
	return p, nil
}

// GetInstanceProfile describes an instance profile.
func (f *IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	var out *iam.GetInstanceProfileOutput
	err := f.c.call(ctx, iam.ServiceID, "GetInstanceProfile", false, func() error {
		p, err := f.profile(aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		out = &iam.GetInstanceProfileOutput{InstanceProfile: p.out(f)}
		return nil
	})
	return out, err
}

// AddRoleToInstanceProfile adds the (single) role of a profile.
func (f *IAM) AddRoleToInstanceProfile(ctx context.Context, in *iam.AddRoleToInstanceProfileInput, _ ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "AddRoleToInstanceProfile", true, func() error {
		p, err := f.profile(aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		r, err := f.role(aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return apiError("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		p.Roles = []string{r.Name}
		return nil
	})
	return &iam.AddRoleToInstanceProfileOutput{}, err
}

// RemoveRoleFromInstanceProfile removes a role from a profile.
func (f *IAM) RemoveRoleFromInstanceProfile(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput, _ ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "RemoveRoleFromInstanceProfile", true, func() error {
		p, err := f.profile(aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		for i, rn := range p.Roles {
			if strings.EqualFold(rn, aws.ToString(in.RoleName)) {
				p.Roles = append(p.Roles[:i], p.Roles[i+1:]...)
				return nil
			}
		}
		return notFound("NoSuchEntity", "Role %s is not in instance profile %s.", aws.ToString(in.RoleName), p.Name)
	})
	return &iam.RemoveRoleFromInstanceProfileOutput{}, err
}

// DeleteInstanceProfile deletes a profile that holds no role.
func (f *IAM) DeleteInstanceProfile(ctx context.Context, in *iam.DeleteInstanceProfileInput, _ ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error) {
	err := f.c.call(ctx, iam.ServiceID, "DeleteInstanceProfile", true, func() error {
		p, err := f.profile(aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return apiError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
		}
		delete(f.st().Profiles, strings.ToLower(p.Name))
		return nil
	})
	return &iam.DeleteInstanceProfileOutput{}, err
}

// Roles returns the names of every role, for assertions.
func (f *IAM) Roles() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []string
	for _, k := range sortedKeys(f.st().Roles) {
		out = append(out, f.st().Roles[k].Name)
	}
	return out
}

// RoleInlinePolicies returns a copy of a role's inline policies (plain
// JSON), for assertions.
func (f *IAM) RoleInlinePolicies(name string) map[string]string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	r, ok := f.st().Roles[strings.ToLower(name)]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range r.Inline {
		out[k] = v
	}
	return out
}

// RoleAttached returns a role's attached managed policy ARNs.
func (f *IAM) RoleAttached(name string) []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	r, ok := f.st().Roles[strings.ToLower(name)]
	if !ok {
		return nil
	}
	return append([]string(nil), r.Attached...)
}
