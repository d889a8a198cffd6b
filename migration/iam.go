package migration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// IAMAPI is the part of the IAM client EnsureRole and DeleteRole use.
type IAMAPI interface {
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	UpdateRole(context.Context, *iam.UpdateRoleInput, ...func(*iam.Options)) (*iam.UpdateRoleOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	AttachRolePolicy(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	CreateInstanceProfile(context.Context, *iam.CreateInstanceProfileInput, ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error)
	GetInstanceProfile(context.Context, *iam.GetInstanceProfileInput, ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	AddRoleToInstanceProfile(context.Context, *iam.AddRoleToInstanceProfileInput, ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error)
	RemoveRoleFromInstanceProfile(context.Context, *iam.RemoveRoleFromInstanceProfileInput, ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error)
	DeleteInstanceProfile(context.Context, *iam.DeleteInstanceProfileInput, ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error)
}

// KindRole is the Change kind of an IAM role.
const KindRole = "iam-role"

// RoleSpec describes an IAM role.
type RoleSpec struct {
	// Name of the role: env.Name(...) for a role of the env, or the fixed
	// name AWS expects for an account role (dms-vpc-role).
	Name string
	// Path, "/" when empty; "/service-role/" for the MGN server roles.
	Path string
	// Description of the role.
	Description string
	// Trust is the assume-role policy (see TrustPolicy).
	Trust PolicyDocument
	// ManagedPolicies are ARNs of managed policies to attach, exactly.
	ManagedPolicies []string
	// Inline maps policy name to document; each must pass
	// CheckLeastPrivilege.
	Inline map[string]PolicyDocument
	// InstanceProfile makes a same-named instance profile holding the role
	// (EC2 instances assume roles through one).
	InstanceProfile bool
	// Shared marks an account-wide role that no env owns (dms-vpc-role,
	// the MGN roles): EnsureRole creates it when missing and adds missing
	// policies, but never removes anything from it, never requires the
	// ownership tag, and DeleteRole leaves it in place — other envs and
	// tools rely on it.
	Shared bool
}

var rolePathRe = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)

// Validate checks the spec.
func (s RoleSpec) Validate() error {
	var errs []error
	if err := RuleIAMRole.Check(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("role.name: %w", err))
	}
	if s.Path != "" && (!rolePathRe.MatchString(s.Path) || len(s.Path) > 512) {
		errs = append(errs, fmt.Errorf("role.path: %q must begin and end with /", s.Path))
	}
	if len(s.Description) > 1000 {
		errs = append(errs, errors.New("role.description: at most 1000 characters"))
	}
	if len(s.Trust.Statement) == 0 {
		errs = append(errs, errors.New("role.trust: at least one statement required"))
	}
	for _, arn := range s.ManagedPolicies {
		if !strings.HasPrefix(arn, "arn:aws:iam::") || !strings.Contains(arn, ":policy/") {
			errs = append(errs, fmt.Errorf("role.managedPolicies: %q is not a policy ARN", arn))
		}
	}
	for name, doc := range s.Inline {
		if name == "" || len(name) > 128 {
			errs = append(errs, fmt.Errorf("role.inline: policy name %q must be 1..128 characters", name))
		}
		if err := doc.CheckLeastPrivilege(); err != nil {
			errs = append(errs, fmt.Errorf("role.inline[%s]: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (s RoleSpec) path() string {
	if s.Path == "" {
		return "/"
	}
	return s.Path
}

// Role is an ensured role.
type Role struct {
	Name string
	ARN  string
	// InstanceProfileARN is set when the spec asked for one.
	InstanceProfileARN string
}

// RoleARN returns the ARN a role of the spec has in env's account, as
// policies need it before the role exists.
func RoleARN(env Env, spec RoleSpec) string {
	return "arn:aws:iam::" + env.Account + ":role" + spec.path() + spec.Name
}

// EnsureRole makes a role exist and converge: trust policy, description,
// tags, exactly the spec's managed policies and inline policies, and the
// instance profile. IAM is eventually consistent: a new role is not
// assumable for some seconds, so callers retry their first use of it on
// that use's specific error (see Env.Retry), never by re-creating it.
//
// It refuses to adopt a role of the env's name that lacks the ownership
// tag, unless the spec is Shared. Idempotent; a converged role costs reads
// only.
func EnsureRole(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) (Role, error) {
	if err := Validate(env, spec); err != nil {
		return Role{}, fmt.Errorf("ensure role %q: %w", spec.Name, err)
	}
	r, err := ensureRole(ctx, env, api, spec)
	if err != nil {
		return Role{}, fmt.Errorf("ensure role %q: %w", spec.Name, err)
	}
	return r, nil
}

func ensureRole(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) (Role, error) {
	trust := spec.Trust.JSON()
	tags := env.NameTags(spec.Name)
	if spec.Shared {
		// An account role is no env's: it carries no ownership tag, so no
		// env's destroy (or inventory) counts it as its own.
		tags = map[string]string{"Name": spec.Name, TagManagedBy: ManagedBy}
	}
	got, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
	if err != nil && !awsx.IsNotFound(err) {
		return Role{}, fmt.Errorf("get: %w", err)
	}
	if err != nil { // missing
		if env.DryRun {
			id := Pending(spec.Name)
			env.Report(Change{Kind: KindRole, Name: spec.Name, ID: id, Action: ActionCreate})
			return Role{Name: spec.Name, ARN: RoleARN(env, spec)}, nil
		}
		out, err := api.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(spec.Name), Path: aws.String(spec.path()), Description: aws.String(spec.Description),
			AssumeRolePolicyDocument: aws.String(trust), Tags: iamTags(tags),
		})
		if awsx.IsAlreadyExists(err) { // lost a race or a response: converge what is there
			return ensureRole(ctx, env, api, spec)
		}
		if err != nil {
			return Role{}, fmt.Errorf("create: %w", err)
		}
		role := Role{Name: spec.Name, ARN: aws.ToString(out.Role.Arn)}
		if err := setPolicies(ctx, env, api, spec); err != nil {
			return Role{}, err
		}
		if spec.InstanceProfile {
			if role.InstanceProfileARN, err = ensureProfile(ctx, env, api, spec); err != nil {
				return Role{}, err
			}
		}
		env.Report(Change{Kind: KindRole, Name: spec.Name, ID: role.ARN, Action: ActionCreate})
		return role, nil
	}

	r := got.Role
	have := fromIAMTags(r.Tags)
	if !spec.Shared && !env.Owns(have) {
		return Role{}, fmt.Errorf("role %s exists without the ownership tag %s=%s; refusing to adopt it", aws.ToString(r.Arn), OwnerTag, env.Suffix)
	}
	role := Role{Name: spec.Name, ARN: aws.ToString(r.Arn)}
	if p := aws.ToString(r.Path); p != spec.path() {
		return Role{}, fmt.Errorf("path is immutable: role has %s, the spec wants %s", p, spec.path())
	}
	var c Converge
	if !PolicyEqual(aws.ToString(r.AssumeRolePolicyDocument), trust) {
		if spec.Shared {
			// Another env or tool may rely on the trust of a shared role.
			env.Log().Warn("shared role trust policy differs; left unchanged", "role", spec.Name)
		} else {
			c.Fix("trust", "(differs)", "spec", func() error {
				_, err := api.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(spec.Name), PolicyDocument: aws.String(trust)})
				return err
			})
		}
	}
	if !spec.Shared && aws.ToString(r.Description) != spec.Description {
		c.Fix("description", aws.ToString(r.Description), spec.Description, func() error {
			_, err := api.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(spec.Name), Description: aws.String(spec.Description)})
			return err
		})
	}
	if !spec.Shared {
		c.Tags(have, tags, func(missing map[string]string) error {
			_, err := api.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(spec.Name), Tags: iamTags(missing)})
			return err
		})
	}
	attached, err := listAttached(ctx, api, spec.Name)
	if err != nil {
		return Role{}, err
	}
	inline, err := listInline(ctx, api, spec.Name)
	if err != nil {
		return Role{}, err
	}
	policyDiff(ctx, api, spec, attached, inline, &c, once)
	if spec.InstanceProfile {
		arn, err := profileDiff(ctx, env, api, spec, &c, once)
		if err != nil {
			return Role{}, err
		}
		role.InstanceProfileARN = arn
	}
	if err := c.Apply(env, Change{Kind: KindRole, Name: spec.Name, ID: role.ARN}); err != nil {
		return Role{}, fmt.Errorf("update: %w", err)
	}
	return role, nil
}

// once runs a write as it is: on a role that exists.
func once(write func() error) func() error { return write }

// whileNew runs a write on a role just created, retrying while IAM does
// not show the role (or its new instance profile) to the call yet.
func whileNew(ctx context.Context, env Env) func(func() error) func() error {
	return func(write func() error) func() error {
		return func() error {
			return env.Retry(ctx, []string{"NoSuchEntity"}, func(context.Context) error { return write() })
		}
	}
}

// setPolicies attaches and writes the spec's policies on a new role.
func setPolicies(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) error {
	var c Converge
	policyDiff(ctx, api, spec, nil, nil, &c, whileNew(ctx, env))
	if err := c.Run(env); err != nil {
		return fmt.Errorf("set policies: %w", err)
	}
	return nil
}

// policyDiff compares the attached and inline policies with the spec and
// records on c what differs and the writes that converge it, each run
// through how. A shared role only gains what it lacks.
func policyDiff(ctx context.Context, api IAMAPI, spec RoleSpec, attached []string, inline map[string]string, c *Converge, how func(func() error) func() error) {
	for _, arn := range spec.ManagedPolicies {
		if !slices.Contains(attached, arn) {
			c.Fix("managed policy", "", arn, how(func() error {
				_, err := api.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(spec.Name), PolicyArn: aws.String(arn)})
				return err
			}))
		}
	}
	if !spec.Shared {
		for _, arn := range attached {
			if !slices.Contains(spec.ManagedPolicies, arn) {
				c.Fix("managed policy", arn, "", how(func() error {
					_, err := api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(spec.Name), PolicyArn: aws.String(arn)})
					return err
				}))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Inline)) {
		doc := spec.Inline[name].JSON()
		if have, ok := inline[name]; ok && PolicyEqual(have, doc) {
			continue
		}
		from := "(missing)"
		if _, ok := inline[name]; ok {
			from = "(differs)"
		}
		c.Fix("inline policy "+name, from, "spec", how(func() error {
			_, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
			return err
		}))
	}
	if !spec.Shared {
		for _, name := range slices.Sorted(maps.Keys(inline)) {
			if _, ok := spec.Inline[name]; !ok {
				c.Fix("inline policy "+name, "present", "(removed)", how(func() error {
					_, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(name)})
					return err
				}))
			}
		}
	}
}

func listAttached(ctx context.Context, api IAMAPI, role string) ([]string, error) {
	var out []string
	p := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies: %w", err)
		}
		for _, a := range page.AttachedPolicies {
			out = append(out, aws.ToString(a.PolicyArn))
		}
	}
	return out, nil
}

func listInline(ctx context.Context, api IAMAPI, role string) (map[string]string, error) {
	out := map[string]string{}
	p := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies: %w", err)
		}
		for _, name := range page.PolicyNames {
			doc, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("get inline policy %s: %w", name, err)
			}
			out[name] = aws.ToString(doc.PolicyDocument)
		}
	}
	return out, nil
}

// ensureProfile creates the same-named instance profile and adds the role.
func ensureProfile(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) (string, error) {
	var c Converge
	arn, err := profileDiff(ctx, env, api, spec, &c, whileNew(ctx, env))
	if err != nil {
		return "", err
	}
	if err := c.Run(env); err != nil {
		return "", fmt.Errorf("instance profile: %w", err)
	}
	if arn == "" {
		got, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(spec.Name)})
		if err != nil {
			return "", fmt.Errorf("instance profile: %w", err)
		}
		arn = aws.ToString(got.InstanceProfile.Arn)
	}
	return arn, nil
}

// profileDiff records on c what the role's same-named instance profile
// lacks (the profile, or the role in it) and the writes, each run through
// how; it returns the profile's ARN when the profile exists.
func profileDiff(ctx context.Context, env Env, api IAMAPI, spec RoleSpec, c *Converge, how func(func() error) func() error) (string, error) {
	got, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(spec.Name)})
	addRole := how(func() error {
		_, err := api.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(spec.Name), RoleName: aws.String(spec.Name)})
		return err
	})
	if awsx.IsNotFound(err) {
		c.Fix("instance profile", "", spec.Name, how(func() error {
			_, err := api.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(spec.Name), Path: aws.String(spec.path()), Tags: iamTags(env.NameTags(spec.Name))})
			if awsx.IsAlreadyExists(err) {
				return nil
			}
			return err
		}))
		c.Then(addRole)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get instance profile: %w", err)
	}
	arn := aws.ToString(got.InstanceProfile.Arn)
	for _, r := range got.InstanceProfile.Roles {
		if aws.ToString(r.RoleName) == spec.Name {
			return arn, nil
		}
	}
	if len(got.InstanceProfile.Roles) > 0 {
		return "", fmt.Errorf("instance profile %s holds role %s, not %s", spec.Name, aws.ToString(got.InstanceProfile.Roles[0].RoleName), spec.Name)
	}
	c.Fix("instance profile role", "", spec.Name, addRole)
	return arn, nil
}

// DeleteRole deletes a role of the env: it removes the role from its
// instance profile (deleting the profile), detaches its managed policies,
// deletes its inline policies, then the role. A role without the env's
// ownership tag, and every Shared role, is left in place; a missing role
// is a no-op.
func DeleteRole(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) error {
	if err := Validate(env, spec); err != nil {
		return fmt.Errorf("delete role %q: %w", spec.Name, err)
	}
	if err := deleteRole(ctx, env, api, spec); err != nil {
		return fmt.Errorf("delete role %q: %w", spec.Name, err)
	}
	return nil
}

func deleteRole(ctx context.Context, env Env, api IAMAPI, spec RoleSpec) error {
	if spec.Shared {
		env.Report(Change{Kind: KindRole, Name: spec.Name, Action: ActionNoop, Note: "shared account role; left in place"})
		return nil
	}
	got, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
	if awsx.IsNotFound(err) {
		env.ReportGone(KindRole, spec.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if !env.Owns(fromIAMTags(got.Role.Tags)) {
		env.ReportNotOwned(KindRole, spec.Name, aws.ToString(got.Role.Arn))
		return nil
	}
	arn := aws.ToString(got.Role.Arn)
	if env.DryRun {
		env.Report(Change{Kind: KindRole, Name: spec.Name, ID: arn, Action: ActionDelete})
		return nil
	}
	ignoreGone := func(err error) error {
		if awsx.IsNotFound(err) {
			return nil
		}
		return err
	}
	if spec.InstanceProfile {
		if _, err := api.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(spec.Name), RoleName: aws.String(spec.Name)}); ignoreGone(err) != nil {
			return fmt.Errorf("remove from instance profile: %w", err)
		}
		if _, err := api.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(spec.Name)}); ignoreGone(err) != nil {
			return fmt.Errorf("delete instance profile: %w", err)
		}
	}
	attached, err := listAttached(ctx, api, spec.Name)
	if err != nil {
		return err
	}
	for _, a := range attached {
		if _, err := api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(spec.Name), PolicyArn: aws.String(a)}); ignoreGone(err) != nil {
			return fmt.Errorf("detach %s: %w", a, err)
		}
	}
	inline, err := listInline(ctx, api, spec.Name)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(inline)) {
		if _, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(name)}); ignoreGone(err) != nil {
			return fmt.Errorf("delete inline policy %s: %w", name, err)
		}
	}
	if _, err := api.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(spec.Name)}); ignoreGone(err) != nil {
		return fmt.Errorf("delete: %w", err)
	}
	env.Report(Change{Kind: KindRole, Name: spec.Name, ID: arn, Action: ActionDelete})
	return nil
}

func iamTags(m map[string]string) []iamtypes.Tag {
	return awsx.Tags(m, func(k, v *string) iamtypes.Tag { return iamtypes.Tag{Key: k, Value: v} })
}

func fromIAMTags(tags []iamtypes.Tag) map[string]string {
	return awsx.TagMap(tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })
}
