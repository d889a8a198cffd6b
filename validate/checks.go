package validate

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// A Check is one validation a document runs on an instance: its
// parameters and its steps. ApplicationHealth, DatabaseConnectivity,
// ServiceAvailability and FileStorage are the checks; a DocumentSpec
// combines one or more of them.
//
// Every check follows the same rules, which CheckInjection enforces on the
// rendered document: the spec's values become parameter defaults, each
// parameter has an allowedPattern that admits no shell metacharacter and
// interpolationType ENV_VAR, and the script reads the value from
// $SSM_<name>, always double-quoted. For agents older than 3.3.2746.0,
// which do not set SSM_<name>, the script falls back to the textual
// value inside single quotes ('{{ name }}'), which the pattern makes
// impossible to break out of. So a parameter value — from the spec, a
// SendCommand override or an association — can never become shell code:
// the service refuses a value outside the pattern before any instance sees
// it, and Run refuses it even before calling the service.
type Check interface {
	// Validate checks the check's fields and names the first bad one.
	Validate() error
	parameters() map[string]Parameter
	steps() []Step
}

// Allowed patterns of the check parameters. Each is anchored and admits no
// quote, backslash, dollar sign, backquote, semicolon, pipe, ampersand,
// redirection, brace or line break.
const (
	PatternPort       = `^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$`
	PatternPorts      = `^[0-9]{1,5}( [0-9]{1,5}){0,31}$`
	PatternHost       = `^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`
	PatternURLPath    = `^/[A-Za-z0-9/._~%=?+-]{0,255}$`
	PatternFile       = `^(/[A-Za-z0-9._@+-]+)+$`
	PatternFileOrNone = `^((/[A-Za-z0-9._@+-]+)+)?$`
	PatternRelPath    = `^(([A-Za-z0-9._@+-]+/)*[A-Za-z0-9._@+-]+)?$`
	PatternStatus     = `^[1-5][0-9]{2}$`
	PatternText       = `^[A-Za-z0-9 ._:/=,+"-]{0,128}$`
	PatternSeconds    = `^[1-9][0-9]{0,2}$`
	PatternSecretARN  = `^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$`
	PatternDBName     = `^[A-Za-z_][A-Za-z0-9_]{0,62}$`
	PatternQuery      = `^[A-Za-z0-9_ ,.*()=-]{1,256}$`
	PatternUnits      = `^[A-Za-z0-9@._:-]+( [A-Za-z0-9@._:-]+)*$`
	PatternFSType     = `^[a-z0-9.]{0,32}$`
)

// compiled holds the patterns compiled once; it is read-only after init,
// so match is safe for concurrent use.
var compiled = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for _, p := range []string{PatternPort, PatternPorts, PatternHost, PatternURLPath, PatternFile, PatternFileOrNone, PatternRelPath, PatternStatus, PatternText, PatternSeconds, PatternSecretARN, PatternDBName, PatternQuery, PatternUnits, PatternFSType} {
		m[p] = regexp.MustCompile(p)
	}
	return m
}()

func match(pattern, v string) bool {
	if re, ok := compiled[pattern]; ok {
		return re.MatchString(v)
	}
	re, err := regexp.Compile(pattern)
	return err == nil && re.MatchString(v)
}

// param declares an optional String parameter passed as $SSM_<name>.
func param(description, def, pattern string) Parameter {
	return Parameter{Type: "String", Description: description, Default: &def, AllowedPattern: pattern, InterpolationType: InterpolationEnvVar}
}

// choice declares an optional String parameter limited to values.
func choice(description, def string, values ...string) Parameter {
	return Parameter{Type: "String", Description: description, Default: &def, AllowedValues: values, InterpolationType: InterpolationEnvVar}
}

// fallback is the script line that sets SSM_<name> where the agent did not
// (agents older than 3.3.2746.0): the textual value, single-quoted.
func fallback(name string) string {
	return fmt.Sprintf(`[ -n "${SSM_%s+x}" ] || SSM_%s='{{ %s }}'`, name, name, name)
}

func fallbacks(params map[string]Parameter) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		out = append(out, fallback(name))
	}
	return out
}

func shellStep(name string, timeout time.Duration, lines ...string) Step {
	return Step{
		Action: ActionRunShellScript, Name: name, Precondition: OnLinux(),
		Inputs: ScriptInputs{RunCommand: lines, TimeoutSeconds: strconv.Itoa(int(timeout / time.Second))},
	}
}

func seconds(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	return strconv.Itoa(int(d / time.Second))
}

func checkSeconds(field string, d time.Duration) error {
	if d != 0 && (d < time.Second || d > 999*time.Second || d%time.Second != 0) {
		return fmt.Errorf("%s: %v must be whole seconds, 1s..999s", field, d)
	}
	return nil
}

// ApplicationHealth checks the application on the instance over HTTP: a
// request to its port and path must return ExpectStatus and, if set, a
// body containing ExpectBody. With TLS the request is HTTPS to ServerName
// (resolved to 127.0.0.1, so the certificate is verified against the name
// clients use), TLS 1.2 or later, and the certificate chain is verified —
// against CAFile when set, else the system trust store. Verification is
// never turned off.
type ApplicationHealth struct {
	// Port is the application's port on the instance.
	Port int
	// Path is the health endpoint, for example "/health"; "/" when empty.
	Path string
	// TLS makes the request HTTPS; ServerName is then required.
	TLS bool
	// ServerName is the DNS name in the application's certificate.
	ServerName string
	// CAFile is an absolute path on the instance to the CA bundle that
	// signs the certificate; empty means the system trust store.
	CAFile string
	// ExpectStatus is the HTTP status the endpoint must return; 200 when 0.
	ExpectStatus int
	// ExpectBody, when set, must appear in the response body. Letters,
	// digits, spaces and ._:/=,+"- only, at most 128.
	ExpectBody string
	// Timeout bounds the request; 10s when 0.
	Timeout time.Duration
}

// Validate checks the fields against the patterns their parameters use.
func (c ApplicationHealth) Validate() error {
	var errs []error
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("applicationHealth.port: %d is not a TCP port (1..65535)", c.Port))
	}
	if c.Path != "" && !match(PatternURLPath, c.Path) {
		errs = append(errs, fmt.Errorf("applicationHealth.path: %q must match %s", c.Path, PatternURLPath))
	}
	if c.TLS && !match(PatternHost, c.ServerName) {
		errs = append(errs, fmt.Errorf("applicationHealth.serverName: %q is not a DNS name (required with TLS: the certificate is verified against it)", c.ServerName))
	}
	if !c.TLS && (c.ServerName != "" || c.CAFile != "") {
		errs = append(errs, errors.New("applicationHealth.tls: serverName and caFile apply only with TLS; set TLS or remove them"))
	}
	if c.CAFile != "" && !match(PatternFile, c.CAFile) {
		errs = append(errs, fmt.Errorf("applicationHealth.caFile: %q must be an absolute path matching %s", c.CAFile, PatternFile))
	}
	if c.ExpectStatus != 0 && (c.ExpectStatus < 100 || c.ExpectStatus > 599) {
		errs = append(errs, fmt.Errorf("applicationHealth.expectStatus: %d is not an HTTP status", c.ExpectStatus))
	}
	if !match(PatternText, c.ExpectBody) {
		errs = append(errs, fmt.Errorf("applicationHealth.expectBody: %q must match %s", c.ExpectBody, PatternText))
	}
	if err := checkSeconds("applicationHealth.timeout", c.Timeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c ApplicationHealth) parameters() map[string]Parameter {
	path, status := c.Path, c.ExpectStatus
	if path == "" {
		path = "/"
	}
	if status == 0 {
		status = 200
	}
	return map[string]Parameter{
		"httpPort":         param("The application's TCP port on the instance.", strconv.Itoa(c.Port), PatternPort),
		"httpPath":         param("The health endpoint's path.", path, PatternURLPath),
		"httpTls":          choice("true: HTTPS with certificate verification; false: plain HTTP to 127.0.0.1.", strconv.FormatBool(c.TLS), "true", "false"),
		"httpServerName":   param("With TLS: the DNS name in the certificate, resolved to 127.0.0.1.", c.ServerName, `^(`+strings.Trim(PatternHost, "^$")+`)?$`),
		"httpCaFile":       param("With TLS: CA bundle path on the instance; empty for the system trust store.", c.CAFile, PatternFileOrNone),
		"httpExpectStatus": param("The HTTP status the endpoint must return.", strconv.Itoa(status), PatternStatus),
		"httpExpectBody":   param("Text the response body must contain; empty for any.", c.ExpectBody, PatternText),
		"httpTimeout":      param("Request timeout in seconds.", seconds(c.Timeout, 10*time.Second), PatternSeconds),
	}
}

func (c ApplicationHealth) steps() []Step {
	lines := append([]string{"set -u"}, fallbacks(c.parameters())...)
	lines = append(lines,
		`body=$(mktemp) || exit 1`,
		`trap 'rm -f "$body"' EXIT`,
		`set -- --silent --show-error --max-time "$SSM_httpTimeout" --output "$body" --write-out '%{http_code}'`,
		`if [ "$SSM_httpTls" = "true" ]; then`,
		`  url="https://$SSM_httpServerName:$SSM_httpPort$SSM_httpPath"`,
		`  set -- "$@" --proto '=https' --tlsv1.2 --resolve "$SSM_httpServerName:$SSM_httpPort:127.0.0.1"`,
		`  if [ -n "$SSM_httpCaFile" ]; then set -- "$@" --cacert "$SSM_httpCaFile"; fi`,
		`else`,
		`  url="http://127.0.0.1:$SSM_httpPort$SSM_httpPath"`,
		`fi`,
		`if ! status=$(curl "$@" "$url" 2>&1); then echo "FAIL http: cannot fetch $url: $status"; exit 1; fi`,
		`if [ "$status" != "$SSM_httpExpectStatus" ]; then echo "FAIL http: $url returned HTTP $status, expected $SSM_httpExpectStatus"; exit 1; fi`,
		`if [ -n "$SSM_httpExpectBody" ] && ! grep -qF -- "$SSM_httpExpectBody" "$body"; then echo "FAIL http: the body of $url does not contain the expected text"; exit 1; fi`,
		`echo "PASS http: $url returned HTTP $status"`,
	)
	timeout := 10 * time.Second
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	return []Step{shellStep("applicationHealth", timeout+60*time.Second, lines...)}
}

// DatabaseConnectivity checks that the instance reaches the target
// PostgreSQL over TLS and can run a query. The credentials never appear in
// the document, its parameters or its output: the script reads them on
// the instance from the Secrets Manager secret SecretARN (a JSON object
// with "username" and "password", the format of RDS-managed secrets) with
// the instance role, writes the password to a mode-0600 password file that
// it removes on exit, and passes the user name by environment. The secret
// moves between processes only through pipes fed by the shell's builtin
// printf, so it is never in a process's arguments (visible in ps), and
// never in an environment variable. The
// connection uses sslmode=verify-full against RootCertFile, so it fails
// unless the server's certificate chains to that CA and names Host; the
// script also confirms from pg_stat_ssl that the session is encrypted.
//
// The instance needs the AWS CLI, python3 (to read the secret's JSON) and
// psql; InstancePolicy gives its role the one secret it may read.
type DatabaseConnectivity struct {
	// Host is the database endpoint's DNS name, as in its certificate.
	Host string
	// Port is the database port; 5432 when 0.
	Port int
	// Database is the database name.
	Database string
	// SecretARN is the Secrets Manager secret holding the credentials.
	SecretARN string
	// RootCertFile is an absolute path on the instance to the CA bundle
	// (for RDS, the Region's global bundle).
	RootCertFile string
	// Query runs after connecting; "SELECT 1" when empty. Letters, digits,
	// spaces and _,.*()=- only: no quotes, no statement separators.
	Query string
	// Expect, when set, must equal the query's output; "1" for the
	// default query.
	Expect string
	// ConnectTimeout bounds the connection; 10s when 0.
	ConnectTimeout time.Duration
}

// Validate checks the fields against the patterns their parameters use.
func (c DatabaseConnectivity) Validate() error {
	var errs []error
	// Host and SecretARN come from the database the dms steps make: in a
	// dry run of a new env they are pending, and the documents are only
	// compared, never written.
	if !match(PatternHost, c.Host) && !migration.IsPending(c.Host) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.host: %q is not a DNS name", c.Host))
	}
	if c.Port != 0 && (c.Port < 1 || c.Port > 65535) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.port: %d is not a TCP port", c.Port))
	}
	if !match(PatternDBName, c.Database) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.database: %q must match %s", c.Database, PatternDBName))
	}
	if !match(PatternSecretARN, c.SecretARN) && !migration.IsPending(c.SecretARN) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.secretArn: %q is not a Secrets Manager secret ARN (credentials come only from Secrets Manager)", c.SecretARN))
	}
	if !match(PatternFile, c.RootCertFile) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.rootCertFile: %q must be an absolute path (required: the connection verifies the server certificate)", c.RootCertFile))
	}
	if c.Query != "" && !match(PatternQuery, c.Query) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.query: %q must match %s", c.Query, PatternQuery))
	}
	if !match(PatternText, c.Expect) {
		errs = append(errs, fmt.Errorf("databaseConnectivity.expect: %q must match %s", c.Expect, PatternText))
	}
	if err := checkSeconds("databaseConnectivity.connectTimeout", c.ConnectTimeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c DatabaseConnectivity) parameters() map[string]Parameter {
	port, query, expect := c.Port, c.Query, c.Expect
	if port == 0 {
		port = 5432
	}
	if query == "" {
		query = "SELECT 1"
		if expect == "" {
			expect = "1"
		}
	}
	return map[string]Parameter{
		"dbHost":           param("The database endpoint's DNS name (verified against its certificate).", c.Host, PatternHost),
		"dbPort":           param("The database port.", strconv.Itoa(port), PatternPort),
		"dbName":           param("The database name.", c.Database, PatternDBName),
		"dbSecretArn":      param("ARN of the Secrets Manager secret with username and password; read on the instance with the instance role.", c.SecretARN, PatternSecretARN),
		"dbRootCert":       param("CA bundle path on the instance for sslmode=verify-full.", c.RootCertFile, PatternFile),
		"dbQuery":          param("The query to run.", query, PatternQuery),
		"dbExpect":         param("The output the query must return; empty for any.", expect, PatternText),
		"dbConnectTimeout": param("Connection timeout in seconds.", seconds(c.ConnectTimeout, 10*time.Second), PatternSeconds),
	}
}

// Python one-liners reading the secret's JSON from stdin.
const (
	pyUser     = `import json,sys; print(json.load(sys.stdin)["username"])`
	pyPassFile = `import json,sys; s=json.load(sys.stdin); e=lambda v: str(v).replace("\\", "\\\\").replace(":", "\\:"); print("*:*:*:*:" + e(s["password"]))`
)

func (c DatabaseConnectivity) steps() []Step {
	lines := append([]string{"set -u"}, fallbacks(c.parameters())...)
	lines = append(lines,
		`region=$(printf '%s' "$SSM_dbSecretArn" | cut -d: -f4)`,
		`if ! secret=$(aws secretsmanager get-secret-value --region "$region" --secret-id "$SSM_dbSecretArn" --query SecretString --output text 2>/dev/null); then echo "FAIL database: cannot read secret $SSM_dbSecretArn with the instance role"; exit 1; fi`,
		`umask 077`,
		`pgpass=$(mktemp) || exit 1`,
		`trap 'rm -f "$pgpass"' EXIT`,
		`if ! PGUSER=$(printf '%s' "$secret" | python3 -c '`+pyUser+`' 2>/dev/null); then echo "FAIL database: secret $SSM_dbSecretArn has no username"; exit 1; fi`,
		`if ! printf '%s' "$secret" | python3 -c '`+pyPassFile+`' >"$pgpass" 2>/dev/null; then echo "FAIL database: secret $SSM_dbSecretArn has no password"; exit 1; fi`,
		`unset secret`,
		`export PGUSER PGPASSFILE="$pgpass" PGHOST="$SSM_dbHost" PGPORT="$SSM_dbPort" PGDATABASE="$SSM_dbName" PGCONNECT_TIMEOUT="$SSM_dbConnectTimeout" PGAPPNAME=cutover-validate`,
		`if ! out=$(psql -X -A -t -v ON_ERROR_STOP=1 "sslmode=verify-full sslrootcert=$SSM_dbRootCert" -c "$SSM_dbQuery" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1); then echo "FAIL database: $SSM_dbHost:$SSM_dbPort/$SSM_dbName: $out"; exit 1; fi`,
		`tls=$(printf '%s\n' "$out" | tail -n 1)`,
		`result=$(printf '%s\n' "$out" | sed '$d')`,
		`if [ "$tls" != "t" ]; then echo "FAIL database: the session to $SSM_dbHost is not encrypted"; exit 1; fi`,
		`if [ -n "$SSM_dbExpect" ] && [ "$result" != "$SSM_dbExpect" ]; then echo "FAIL database: the query returned $(printf '%s' "$result" | head -c 200), expected $SSM_dbExpect"; exit 1; fi`,
		`echo "PASS database: $SSM_dbHost:$SSM_dbPort/$SSM_dbName over TLS (verify-full) as $PGUSER"`,
	)
	timeout := 10 * time.Second
	if c.ConnectTimeout > 0 {
		timeout = c.ConnectTimeout
	}
	return []Step{shellStep("databaseConnectivity", timeout+110*time.Second, lines...)}
}

// ServiceAvailability checks that systemd units are active and TCP ports
// are listening on the instance. Either list may be empty, not both.
type ServiceAvailability struct {
	// Units are systemd unit names, for example "app.service".
	Units []string
	// Ports are TCP ports that must have a listener.
	Ports []int
}

var unitRe = regexp.MustCompile(`^[A-Za-z0-9@._:-]{1,256}$`)

// Validate checks the unit names and ports.
func (c ServiceAvailability) Validate() error {
	var errs []error
	if len(c.Units) == 0 && len(c.Ports) == 0 {
		errs = append(errs, errors.New("serviceAvailability: name at least one unit or port"))
	}
	if len(c.Units) > 32 || len(c.Ports) > 32 {
		errs = append(errs, errors.New("serviceAvailability: at most 32 units and 32 ports"))
	}
	for i, u := range c.Units {
		if !unitRe.MatchString(u) {
			errs = append(errs, fmt.Errorf("serviceAvailability.units[%d]: %q is not a systemd unit name (letters, digits and @._:- only)", i, u))
		}
	}
	for i, p := range c.Ports {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("serviceAvailability.ports[%d]: %d is not a TCP port", i, p))
		}
	}
	return errors.Join(errs...)
}

func (c ServiceAvailability) parameters() map[string]Parameter {
	p := map[string]Parameter{}
	if len(c.Units) > 0 {
		p["svcUnits"] = param("Space-separated systemd units that must be active.", strings.Join(c.Units, " "), PatternUnits)
	}
	if len(c.Ports) > 0 {
		ports := make([]string, len(c.Ports))
		for i, n := range c.Ports {
			ports[i] = strconv.Itoa(n)
		}
		p["svcPorts"] = param("Space-separated TCP ports that must be listening.", strings.Join(ports, " "), PatternPorts)
	}
	return p
}

func (c ServiceAvailability) steps() []Step {
	var steps []Step
	// The lists are split on spaces unquoted; set -f turns globbing off,
	// and the patterns admit no other special character.
	if len(c.Units) > 0 {
		steps = append(steps, shellStep("systemdUnits", 60*time.Second,
			"set -u", "set -f", fallback("svcUnits"),
			`fail=0`,
			`for u in $SSM_svcUnits; do`,
			`  state=$(systemctl is-active "$u" 2>/dev/null) || true`,
			`  if [ "$state" = "active" ]; then echo "PASS unit $u is active"; else echo "FAIL unit $u is ${state:-unknown}"; fail=1; fi`,
			`done`,
			`exit "$fail"`,
		))
	}
	if len(c.Ports) > 0 {
		steps = append(steps, shellStep("listeningPorts", 60*time.Second,
			"set -u", "set -f", fallback("svcPorts"),
			`fail=0`,
			`for p in $SSM_svcPorts; do`,
			`  if ss -ltn "sport = :$p" 2>/dev/null | tail -n +2 | grep -q .; then echo "PASS port $p is listening"; else echo "FAIL port $p has no listener"; fail=1; fi`,
			`done`,
			`exit "$fail"`,
		))
	}
	return steps
}

// FileStorage checks that the migrated file share is mounted on the
// instance and readable: MountPoint is a mount point (of FSType, when
// set) and ReadPath under it (or the directory itself) can be read. Every
// file system access runs under timeout, so a hung NFS mount fails the
// check instead of hanging it.
type FileStorage struct {
	// MountPoint is the absolute path of the mount.
	MountPoint string
	// FSType is the expected file system type (nfs4 for EFS); any when
	// empty.
	FSType string
	// ReadPath is a file under MountPoint, relative to it, whose first
	// byte must be readable; empty lists MountPoint instead.
	ReadPath string
	// Timeout bounds each file system access; 30s when 0.
	Timeout time.Duration
}

// Validate checks the fields against the patterns their parameters use.
func (c FileStorage) Validate() error {
	var errs []error
	if !match(PatternFile, c.MountPoint) {
		errs = append(errs, fmt.Errorf("fileStorage.mountPoint: %q must be an absolute path matching %s", c.MountPoint, PatternFile))
	}
	if !match(PatternFSType, c.FSType) {
		errs = append(errs, fmt.Errorf("fileStorage.fsType: %q must match %s", c.FSType, PatternFSType))
	}
	if !match(PatternRelPath, c.ReadPath) || slices.Contains(strings.Split(c.ReadPath, "/"), "..") {
		errs = append(errs, fmt.Errorf("fileStorage.readPath: %q must be a path under the mount point without \"..\" components", c.ReadPath))
	}
	if err := checkSeconds("fileStorage.timeout", c.Timeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c FileStorage) parameters() map[string]Parameter {
	return map[string]Parameter{
		"filesMountPoint": param("The mount point of the file share.", c.MountPoint, PatternFile),
		"filesFsType":     param("The expected file system type; empty for any.", c.FSType, PatternFSType),
		"filesReadPath":   param("A file under the mount point that must be readable; empty to list the mount point.", c.ReadPath, PatternRelPath),
		"filesTimeout":    param("Timeout in seconds of each file system access.", seconds(c.Timeout, 30*time.Second), PatternSeconds),
	}
}

func (c FileStorage) steps() []Step {
	lines := append([]string{"set -u"}, fallbacks(c.parameters())...)
	lines = append(lines,
		`if ! timeout "$SSM_filesTimeout" mountpoint -q "$SSM_filesMountPoint"; then echo "FAIL files: $SSM_filesMountPoint is not mounted (or did not answer within $SSM_filesTimeout s)"; exit 1; fi`,
		`fstype=$(findmnt -n -o FSTYPE --mountpoint "$SSM_filesMountPoint")`,
		`if [ -n "$SSM_filesFsType" ] && [ "$fstype" != "$SSM_filesFsType" ]; then echo "FAIL files: $SSM_filesMountPoint is $fstype, expected $SSM_filesFsType"; exit 1; fi`,
		`if [ -n "$SSM_filesReadPath" ]; then`,
		`  target="$SSM_filesMountPoint/$SSM_filesReadPath"`,
		`  if ! timeout "$SSM_filesTimeout" head -c 1 -- "$target" >/dev/null; then echo "FAIL files: cannot read $target"; exit 1; fi`,
		`else`,
		`  target="$SSM_filesMountPoint"`,
		`  if ! timeout "$SSM_filesTimeout" ls -- "$target" >/dev/null; then echo "FAIL files: cannot list $target"; exit 1; fi`,
		`fi`,
		`echo "PASS files: $SSM_filesMountPoint ($fstype) is mounted and $target is readable"`,
	)
	timeout := 30 * time.Second
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	return []Step{shellStep("fileStorage", 3*timeout+30*time.Second, lines...)}
}

// DocumentSpec describes one validation document: its name and the checks
// it runs, in order.
type DocumentSpec struct {
	// Name of the document; env.Name("validate-...") for the env's
	// documents (see the Kinds in migration/names.go).
	Name string
	// Description is the document's description.
	Description string
	// Checks run in order, each as one or two steps.
	Checks []Check
}

// Content builds the document's content. Parameter names are unique
// across checks (each check prefixes its own).
func (s DocumentSpec) Content() CommandDocument {
	d := CommandDocument{SchemaVersion: SchemaVersion, Description: s.Description, Parameters: map[string]Parameter{}}
	for _, c := range s.Checks {
		maps.Copy(d.Parameters, c.parameters())
		d.MainSteps = append(d.MainSteps, c.steps()...)
	}
	return d
}

// withStandIns returns the spec with well-formed stand-ins for the
// pending inputs of a dry run (the database's host and secret before the
// database exists), so that the content checks judge the document's
// shape; pending inputs are never written anywhere.
func (s DocumentSpec) withStandIns() DocumentSpec {
	out := s
	out.Checks = nil
	for _, c := range s.Checks {
		if db, ok := c.(DatabaseConnectivity); ok {
			if migration.IsPending(db.Host) {
				db.Host = "pending.invalid"
			}
			if migration.IsPending(db.SecretARN) {
				db.SecretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:pending-AbCdEf"
			}
			c = db
		}
		out.Checks = append(out.Checks, c)
	}
	return out
}

// Validate checks the name, every check, and the rendered document
// against CheckSchema and CheckInjection (with stand-ins for the pending
// inputs of a dry run), and the 64 KB size limit of SSM documents.
func (s DocumentSpec) Validate() error {
	var errs []error
	if err := migrationRuleSSM(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("document.name: %w", err))
	}
	if len(s.Description) > 1024 {
		errs = append(errs, errors.New("document.description: at most 1024 characters"))
	}
	if len(s.Checks) == 0 {
		errs = append(errs, errors.New("document.checks: at least one check required"))
	}
	seen := map[string]bool{}
	for i, c := range s.Checks {
		if c == nil {
			errs = append(errs, fmt.Errorf("document.checks[%d]: nil", i))
			continue
		}
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("document.checks[%d]: %w", i, err))
		}
		for name := range c.parameters() {
			if seen[name] {
				errs = append(errs, fmt.Errorf("document.checks[%d]: parameter %q is declared by another check too; a document runs each kind of check once", i, name))
			}
			seen[name] = true
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	content := s.withStandIns().Content().JSON()
	if err := CheckSchema(content); err != nil {
		errs = append(errs, fmt.Errorf("document %s: %w", s.Name, err))
	}
	if err := CheckInjection(content); err != nil {
		errs = append(errs, fmt.Errorf("document %s: %w", s.Name, err))
	}
	if len(content) > 64*1024 {
		errs = append(errs, fmt.Errorf("document %s: %d bytes; SSM documents are at most 64 KB", s.Name, len(content)))
	}
	return errors.Join(errs...)
}
