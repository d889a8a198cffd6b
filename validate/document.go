package validate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SchemaVersion is the schema of every document this package builds:
// Command documents with mainSteps, versioning and a default version.
const SchemaVersion = "2.2"

// The step actions this package uses.
const (
	ActionRunShellScript      = "aws:runShellScript"
	ActionRunPowerShellScript = "aws:runPowerShellScript"
)

// Plugins are the step actions a schema 2.2 Command document may use, from
// the Command document plugin reference.
var Plugins = []string{
	"aws:applications", "aws:cloudWatch", "aws:configureContainers", "aws:configureDocker", "aws:configurePackage",
	"aws:domainJoin", "aws:downloadContent", "aws:psModule", "aws:refreshAssociation", "aws:runDockerAction",
	"aws:runDocument", ActionRunPowerShellScript, ActionRunShellScript, "aws:softwareInventory",
	"aws:updateAgent", "aws:updateSsmAgent",
}

// ParameterTypes are the parameter types of a Command document.
var ParameterTypes = []string{"String", "StringList", "Boolean", "Integer", "MapList", "StringMap"}

// Platforms are the values a precondition's platformType may take.
var Platforms = []string{"Linux", "Windows", "MacOS"}

// InterpolationEnvVar makes the SSM Agent (3.3.2746.0 and later) hand a
// String parameter to the script as the environment variable
// SSM_<name>, so its value is data, never shell code.
const InterpolationEnvVar = "ENV_VAR"

// CommandDocument is the content of a schema 2.2 Command document, built from Go
// values and rendered with JSON — never from string templates.
type CommandDocument struct {
	SchemaVersion string               `json:"schemaVersion"`
	Description   string               `json:"description,omitempty"`
	Parameters    map[string]Parameter `json:"parameters,omitempty"`
	MainSteps     []Step               `json:"mainSteps"`
}

// Parameter declares one document parameter.
type Parameter struct {
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	// Default makes the parameter optional; nil means required. A
	// pointer, so that an empty default ("") is kept.
	Default *string `json:"default,omitempty"`
	// AllowedPattern is a regular expression every value must match. The
	// service enforces it on SendCommand and CreateAssociation.
	AllowedPattern string   `json:"allowedPattern,omitempty"`
	AllowedValues  []string `json:"allowedValues,omitempty"`
	// InterpolationType InterpolationEnvVar passes the value as the
	// environment variable SSM_<name>.
	InterpolationType string `json:"interpolationType,omitempty"`
}

// Step is one entry of mainSteps.
type Step struct {
	Action       string        `json:"action"`
	Name         string        `json:"name"`
	Precondition *Precondition `json:"precondition,omitempty"`
	Inputs       ScriptInputs  `json:"inputs"`
}

// Precondition restricts a step to one platform:
// {"StringEquals": ["platformType", "Linux"]}.
type Precondition struct {
	StringEquals []string `json:"StringEquals"`
}

// OnLinux is the precondition of a Linux-only step.
func OnLinux() *Precondition { return &Precondition{StringEquals: []string{"platformType", "Linux"}} }

// ScriptInputs are the inputs of aws:runShellScript and
// aws:runPowerShellScript.
type ScriptInputs struct {
	RunCommand       []string `json:"runCommand"`
	WorkingDirectory string   `json:"workingDirectory,omitempty"`
	// TimeoutSeconds is the execution timeout of the step, "1".."172800";
	// a string, as AWS's own documents pass it.
	TimeoutSeconds string `json:"timeoutSeconds,omitempty"`
}

// JSON renders the document. Keys of maps are sorted, so the rendering is
// deterministic; HTML characters are not escaped, so scripts stay
// readable in the console.
func (d CommandDocument) JSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		// Document holds only strings, slices and maps of them.
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ContentHash returns "sha256:<hex>" of the canonical form of a JSON
// document: parsed and rendered again with sorted keys and no insignificant
// whitespace, so two renderings of the same document hash alike. This is
// the library's own hash for comparing content; it is not, and is never
// compared with, the DocumentHash SSM computes (AWS does not document how).
func ContentHash(content string) (string, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(content))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("document content is not JSON: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

var (
	stepNameRe  = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	paramNameRe = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)
	// paramRefRe matches {{ name }} and {{name}}; name may be anything
	// without braces or blanks, so references to undeclared or
	// Parameter Store ({{ssm:...}}) parameters are caught too.
	paramRefRe = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)
)

// CheckSchema checks a Command document against the schema 2.2 rules and
// returns every problem it finds, each naming its place:
//
//   - the content is a JSON object with schemaVersion "2.2" and at least
//     one step in mainSteps;
//   - every parameter has a name matching ^[a-zA-Z0-9_]+$, a known type,
//     an allowedPattern that compiles, a default that satisfies its own
//     allowedPattern and allowedValues, and interpolationType ENV_VAR only
//     on a String;
//   - every step has a valid action (one of Plugins), a name matching
//     ^[a-zA-Z0-9_.-]+$ that no other step has, and inputs; a script step
//     has a non-empty runCommand and a timeoutSeconds of 1..172800;
//   - a precondition has the form {"StringEquals": ["platformType", P]}
//     with P one of Platforms, and a shell step is not limited to Windows;
//   - every {{ reference }} names a declared parameter, and every declared
//     parameter is referenced.
func CheckSchema(content string) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var doc struct {
		SchemaVersion *string                      `json:"schemaVersion"`
		Description   string                       `json:"description"`
		Parameters    map[string]json.RawMessage   `json:"parameters"`
		MainSteps     []map[string]json.RawMessage `json:"mainSteps"`
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return fmt.Errorf("document: not a JSON object: %w", err)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != SchemaVersion {
		add("document.schemaVersion: must be %q", SchemaVersion)
	}
	params := map[string]Parameter{}
	for _, name := range slices.Sorted(maps.Keys(doc.Parameters)) {
		var p Parameter
		if err := json.Unmarshal(doc.Parameters[name], &p); err != nil {
			add("parameters.%s: %v", name, err)
			continue
		}
		params[name] = p
		errs = append(errs, checkParameter(name, p, doc.Parameters[name])...)
	}
	if len(doc.MainSteps) == 0 {
		add("document.mainSteps: at least one step required")
	}
	used := map[string]bool{}
	names := map[string]int{}
	for i, raw := range doc.MainSteps {
		where := fmt.Sprintf("mainSteps[%d]", i)
		var action, name string
		_ = json.Unmarshal(raw["action"], &action)
		_ = json.Unmarshal(raw["name"], &name)
		if name != "" {
			where = fmt.Sprintf("mainSteps[%d] %q", i, name)
		}
		if !slices.Contains(Plugins, action) {
			add("%s.action: %q is not a Command document plugin (%s)", where, action, strings.Join(Plugins, ", "))
		}
		switch {
		case !stepNameRe.MatchString(name):
			add("%s.name: %q must match %s", where, name, stepNameRe)
		case names[name] > 0:
			add("%s.name: %q is already the name of mainSteps[%d]; step names must be unique", where, name, names[name]-1)
		default:
			names[name] = i + 1
		}
		for key := range raw {
			switch key {
			case "action", "name", "inputs", "precondition", "description":
			default:
				add("%s: unknown field %q", where, key)
			}
		}
		platform := ""
		if pre, ok := raw["precondition"]; ok {
			var p map[string][]string
			if err := json.Unmarshal(pre, &p); err != nil || len(p) != 1 || len(p["StringEquals"]) != 2 || p["StringEquals"][0] != "platformType" || !slices.Contains(Platforms, p["StringEquals"][1]) {
				add(`%s.precondition: must be {"StringEquals": ["platformType", one of %v]}`, where, Platforms)
			} else {
				platform = p["StringEquals"][1]
			}
		}
		inputs, ok := raw["inputs"]
		if !ok {
			add("%s.inputs: required", where)
		}
		if action == ActionRunShellScript || action == ActionRunPowerShellScript {
			if action == ActionRunShellScript && platform == "Windows" {
				add("%s.precondition: aws:runShellScript does not run on Windows", where)
			}
			var in struct {
				RunCommand     []string `json:"runCommand"`
				TimeoutSeconds any      `json:"timeoutSeconds"`
			}
			if err := json.Unmarshal(inputs, &in); err != nil {
				add("%s.inputs: %v", where, err)
			}
			if len(in.RunCommand) == 0 {
				add("%s.inputs.runCommand: at least one line required", where)
			}
			if in.TimeoutSeconds != nil {
				s := fmt.Sprint(in.TimeoutSeconds)
				if n, err := strconv.Atoi(s); !paramRefRe.MatchString(s) && (err != nil || n < 1 || n > 172800) {
					add("%s.inputs.timeoutSeconds: %q must be 1..172800", where, s)
				}
			}
		}
		for _, m := range paramRefRe.FindAllStringSubmatch(string(raw["inputs"])+string(raw["precondition"]), -1) {
			ref := m[1]
			if _, ok := params[ref]; !ok {
				add("%s: {{ %s }} references a parameter the document does not declare", where, ref)
				continue
			}
			used[ref] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if !used[name] {
			add("parameters.%s: declared but never referenced", name)
		}
	}
	return errors.Join(errs...)
}

func checkParameter(name string, p Parameter, raw json.RawMessage) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("parameters.%s: "+format, append([]any{name}, args...)...))
	}
	if !paramNameRe.MatchString(name) {
		add("name must match %s", paramNameRe)
	}
	if !slices.Contains(ParameterTypes, p.Type) {
		add("type %q is not one of %v", p.Type, ParameterTypes)
	}
	var re *regexp.Regexp
	if p.AllowedPattern != "" {
		var err error
		if re, err = regexp.Compile(p.AllowedPattern); err != nil {
			add("allowedPattern does not compile: %v", err)
		}
	}
	switch p.InterpolationType {
	case "":
	case InterpolationEnvVar:
		if p.Type != "String" {
			add("interpolationType %s applies to String parameters only", InterpolationEnvVar)
		}
	default:
		add("interpolationType %q is not %q", p.InterpolationType, InterpolationEnvVar)
	}
	// A default of another JSON type (a list for a StringList) is allowed
	// by the schema; only string defaults are checked against the rules.
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	if d, ok := fields["default"]; ok {
		var def string
		if json.Unmarshal(d, &def) == nil {
			if re != nil && !re.MatchString(def) {
				add("default %q does not match allowedPattern %s", def, p.AllowedPattern)
			}
			if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, def) {
				add("default %q is not one of allowedValues %v", def, p.AllowedValues)
			}
		}
	}
	return errs
}

// InjectionProbes are values that must never reach a shell script as code.
// CheckInjection requires the allowedPattern of every parameter a script
// uses to reject each of them.
var InjectionProbes = []string{"'", "`id`", "$(id)", "${IFS}", "a;id", "a|id", "a&id", "a\nid", `a\id`, "a>f", "a<f", "{{x}}"}

// CheckInjection enforces the rules that make shell injection through
// parameters impossible in a document's scripts, and returns every
// violation:
//
//   - every String parameter a script references has an allowedPattern
//     that rejects every value of InjectionProbes (in particular the single
//     quote), or only allowedValues without any of those characters — the
//     service refuses any other value on SendCommand and CreateAssociation;
//   - every String parameter a script references has interpolationType
//     ENV_VAR, so the agent passes it as $SSM_<name>;
//   - a script references a parameter only in the form '{{ name }}', that
//     is inside single quotes, where the shell expands nothing (the fallback
//     assignment for agents older than ENV_VAR);
//   - no script turns on command tracing (set -x), which would print
//     values — credentials included — into the command output.
func CheckInjection(content string) error {
	var doc CommandDocument
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return fmt.Errorf("document: %w", err)
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checked := map[string]bool{}
	for _, s := range doc.MainSteps {
		if s.Action != ActionRunShellScript && s.Action != ActionRunPowerShellScript {
			continue
		}
		for i, line := range s.Inputs.RunCommand {
			where := fmt.Sprintf("mainSteps %q runCommand[%d]", s.Name, i)
			if traceRe.MatchString(line) {
				add("%s: command tracing (set -x) would print values into the output", where)
			}
			for _, loc := range paramRefRe.FindAllStringSubmatchIndex(line, -1) {
				name := line[loc[2]:loc[3]]
				if loc[0] == 0 || loc[1] == len(line) || line[loc[0]-1] != '\'' || line[loc[1]] != '\'' {
					add("%s: {{ %s }} must appear only inside single quotes, as '{{ %s }}'", where, name, name)
				}
				p, ok := doc.Parameters[name]
				if !ok || checked[name] {
					continue
				}
				checked[name] = true
				if p.Type != "String" {
					add("parameters.%s: a script may only use String parameters", name)
					continue
				}
				if p.InterpolationType != InterpolationEnvVar {
					add("parameters.%s: interpolationType must be %s", name, InterpolationEnvVar)
				}
				errs = append(errs, checkRejectsProbes(name, p)...)
			}
		}
	}
	return errors.Join(errs...)
}

var traceRe = regexp.MustCompile(`(^|[;&|\s])set\s+(-[a-zA-Z]*x|-o\s+xtrace)`)

func checkRejectsProbes(name string, p Parameter) []error {
	if p.AllowedPattern == "" && len(p.AllowedValues) == 0 {
		return []error{fmt.Errorf("parameters.%s: needs an allowedPattern or allowedValues: without one any value, shell code included, is accepted", name)}
	}
	var errs []error
	for _, v := range p.AllowedValues {
		if strings.ContainsAny(v, "'`$;|&\n\\<>{}") {
			errs = append(errs, fmt.Errorf("parameters.%s: allowed value %q contains a shell metacharacter", name, v))
		}
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile(p.AllowedPattern)
		if err != nil {
			return []error{fmt.Errorf("parameters.%s: allowedPattern: %w", name, err)}
		}
		if !strings.HasPrefix(p.AllowedPattern, "^") || !strings.HasSuffix(p.AllowedPattern, "$") {
			errs = append(errs, fmt.Errorf("parameters.%s: allowedPattern %s must be anchored with ^ and $", name, p.AllowedPattern))
		}
		for _, probe := range InjectionProbes {
			for _, v := range []string{probe, "a" + probe, probe + "a"} {
				if re.MatchString(v) {
					errs = append(errs, fmt.Errorf("parameters.%s: allowedPattern %s accepts %q", name, p.AllowedPattern, v))
					break
				}
			}
		}
	}
	return errs
}
