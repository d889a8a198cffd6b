package migration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// PolicyVersion is the IAM policy language version every document uses.
const PolicyVersion = "2012-10-17"

// PolicyDocument is an IAM, key, topic or bucket policy built from Go
// types, never from string templates.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement.
type Statement struct {
	Sid       string     `json:"Sid,omitempty"`
	Effect    string     `json:"Effect"`
	Principal *Principal `json:"Principal,omitempty"`
	Action    Strings    `json:"Action"`
	Resource  Strings    `json:"Resource,omitempty"`
	Condition Condition  `json:"Condition,omitempty"`
}

// Condition maps an operator (StringEquals, ArnLike, Bool, ...) to keys and
// their values.
type Condition map[string]map[string]Strings

// Principal is a statement's principal. Any means "*", which the library
// only writes together with a condition that narrows it (kms:CallerAccount,
// aws:SecureTransport, aws:SourceAccount).
type Principal struct {
	AWS     Strings `json:"AWS,omitempty"`
	Service Strings `json:"Service,omitempty"`
	Any     bool    `json:"-"`
}

// MarshalJSON writes "*" for Any.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	type plain Principal
	return json.Marshal(plain(p))
}

// UnmarshalJSON reads "*" or an object.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return fmt.Errorf("principal: unexpected string %q", s)
		}
		*p = Principal{Any: true}
		return nil
	}
	type plain Principal
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = Principal(q)
	return nil
}

// Strings is a policy value that AWS writes either as one string or as a
// list; it always marshals as a list and reads both.
type Strings []string

// UnmarshalJSON reads a string or a list of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// NewPolicy returns a document of the given statements.
func NewPolicy(statements ...Statement) PolicyDocument {
	return PolicyDocument{Version: PolicyVersion, Statement: statements}
}

// Allow returns an Allow statement of actions on resources.
func Allow(sid string, actions, resources []string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// ServicePrincipal returns the principal of one or more AWS services.
func ServicePrincipal(services ...string) *Principal { return &Principal{Service: services} }

// AWSPrincipal returns the principal of one or more accounts or roles.
func AWSPrincipal(arns ...string) *Principal { return &Principal{AWS: arns} }

// TrustPolicy returns a role trust policy letting the given services
// assume the role.
func TrustPolicy(services ...string) PolicyDocument {
	return NewPolicy(Statement{Effect: "Allow", Principal: ServicePrincipal(services...), Action: Strings{"sts:AssumeRole"}})
}

// JSON renders the document.
func (p PolicyDocument) JSON() string {
	b, err := json.Marshal(p)
	if err != nil { // only plain strings inside: cannot happen
		panic(fmt.Sprintf("policy marshal: %v", err))
	}
	return string(b)
}

// ParsePolicy reads a policy as AWS returns it: plain JSON, or URL-encoded
// JSON as IAM's Get*Policy operations return it.
func ParsePolicy(s string) (PolicyDocument, error) {
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		d, err := url.QueryUnescape(s)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("parse policy: %w", err)
		}
		s = d
	}
	var p PolicyDocument
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return PolicyDocument{}, fmt.Errorf("parse policy: %w", err)
	}
	return p, nil
}

// PolicyEqual reports whether two policies say the same thing: equal
// after parsing, with the order of values inside each list ignored. A
// policy that does not parse is unequal to anything, so a converge
// rewrites it.
func PolicyEqual(a, b string) bool {
	pa, err := ParsePolicy(a)
	if err != nil {
		return false
	}
	pb, err := ParsePolicy(b)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(pa.normalized(), pb.normalized())
}

func (p PolicyDocument) normalized() PolicyDocument {
	out := PolicyDocument{Version: p.Version}
	for _, s := range p.Statement {
		n := s
		n.Action = sortedCopy(s.Action)
		n.Resource = sortedCopy(s.Resource)
		if s.Principal != nil {
			pr := *s.Principal
			pr.AWS = sortedCopy(pr.AWS)
			pr.Service = sortedCopy(pr.Service)
			n.Principal = &pr
		}
		if len(s.Condition) > 0 {
			n.Condition = Condition{}
			for op, kv := range s.Condition {
				n.Condition[op] = map[string]Strings{}
				for k, v := range kv {
					n.Condition[op][k] = sortedCopy(v)
				}
			}
		} else {
			n.Condition = nil
		}
		out.Statement = append(out.Statement, n)
	}
	return out
}

func sortedCopy(s Strings) Strings {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// ResourceWildcardAllowed is the explicit allowlist of actions that may
// take Resource "*" in an identity policy, each because AWS offers no
// resource-level permission for it. Anything else must name its resource.
var ResourceWildcardAllowed = map[string]string{
	"cloudwatch:GetMetricData":         "CloudWatch supports no resource-level permissions for GetMetricData",
	"cloudwatch:PutMetricData":         "scoped by the cloudwatch:namespace condition instead of a resource",
	"cloudwatch:DescribeAlarmHistory":  "read only; no resource-level permissions when unfiltered",
	"route53:GetChange":                "change IDs are not known before the change is made",
	"ec2:DescribeInstances":            "EC2 Describe actions support no resource-level permissions",
	"ec2:DescribeAvailabilityZones":    "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeImages":               "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeInstanceTypes":        "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeNetworkInterfaces":    "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeSecurityGroups":       "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeSnapshots":            "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeSubnets":              "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeVolumes":              "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"ec2:DescribeVpcs":                 "EC2 Describe actions support no resource-level permissions (CloudEndure replication reads them)",
	"mgn:DescribeSourceServers":        "MGN lists servers only account-wide",
	"ssm:ListCommandInvocations":       "SSM list actions support no resource-level permissions",
	"kms:ListAliases":                  "ListAliases supports no resource-level permissions",
	"dms:DescribeReplicationTasks":     "DMS Describe actions support no resource-level permissions",
	"dms:DescribeReplicationInstances": "DMS Describe actions support no resource-level permissions",
	"dms:DescribeTableStatistics":      "read with the task ARN as a filter; no resource-level permission is documented",
}

// CheckLeastPrivilege returns an error for every Allow statement of an
// identity policy that grants a wildcard action ("*", "svc:*", or a partial
// one such as "ec2:Describe*", which silently grows as AWS adds actions) or, outside
// ResourceWildcardAllowed, a wildcard resource. Key policies are checked
// by CheckKeyPolicy instead: there Resource "*" means the key itself.
func (p PolicyDocument) CheckLeastPrivilege() error {
	var errs []error
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if strings.ContainsAny(a, "*?") {
				errs = append(errs, fmt.Errorf("statement %q: wildcard action %q", s.Sid, a))
			}
		}
		if slices.Contains(s.Resource, "*") {
			for _, a := range s.Action {
				if _, ok := ResourceWildcardAllowed[a]; !ok {
					errs = append(errs, fmt.Errorf("statement %q: action %q on resource \"*\" is not in ResourceWildcardAllowed", s.Sid, a))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// KeyAdminSid is the Sid of the one key-policy statement allowed "kms:*":
// the account root, which AWS requires so the key stays manageable through
// IAM and never becomes unmanageable.
const KeyAdminSid = "EnableAccountAdministration"

// CheckKeyPolicy returns an error for every Allow statement of a key policy
// that grants a wildcard action other than the account-root statement
// KeyAdminSid, or that gives Principal "*" without a kms:CallerAccount or
// aws:SourceAccount condition.
func (p PolicyDocument) CheckKeyPolicy() error {
	var errs []error
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if (a == "*" || a == "kms:*") && s.Sid != KeyAdminSid {
				errs = append(errs, fmt.Errorf("statement %q: wildcard action %q", s.Sid, a))
			}
		}
		if s.Principal != nil && s.Principal.Any && !s.Condition.has("kms:CallerAccount", "aws:SourceAccount") {
			errs = append(errs, fmt.Errorf("statement %q: principal \"*\" without an account condition", s.Sid))
		}
	}
	return errors.Join(errs...)
}

func (c Condition) has(keys ...string) bool {
	for _, kv := range c {
		for _, k := range keys {
			if _, ok := kv[k]; ok {
				return true
			}
		}
	}
	return false
}
