package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// defaults holds the reference migration of ARCHITECTURE.md (a datacenter
// in Virginia moving to us-east-1) and the demo CA certificates it names.
//
//go:embed spec.default.yaml certs/*.pem
var defaults embed.FS

// Spec is the whole migration as the operator writes it: YAML, or JSON
// (which is YAML too). Each section maps onto the specs of one package;
// the IDs that one part produces for another (VPC, subnets, key ARN) are
// never in the file: the runbook passes them along.
type Spec struct {
	Env        EnvSpec        `yaml:"env"`
	Key        KeySection     `yaml:"key"`
	Network    NetworkSpec    `yaml:"network"`
	DMS        DMSSection     `yaml:"dms"`
	DNS        DNSSection     `yaml:"dns"`
	Tracking   TrackingSpec   `yaml:"tracking"`
	Servers    ServersSpec    `yaml:"servers"`
	Files      FilesSpec      `yaml:"files"`
	Validation ValidationSpec `yaml:"validation"`
	Cutover    CutoverSpec    `yaml:"cutover"`

	// dir is where relative file names of the spec resolve; nil dirFS
	// means the embedded defaults.
	dir   string
	dirFS fs.FS
}

// EnvSpec names and tags the environment.
type EnvSpec struct {
	Suffix  string            `yaml:"suffix"`
	Region  string            `yaml:"region"`
	Project string            `yaml:"project"`
	Tags    map[string]string `yaml:"tags"`
}

// KeySection configures the env's KMS key.
type KeySection struct {
	DeletionWindowDays int `yaml:"deletionWindowDays"`
}

// NetworkSpec is the network section.
type NetworkSpec struct {
	VPC struct {
		CIDR string `yaml:"cidr"`
	} `yaml:"vpc"`
	Subnets struct {
		AZCount       int `yaml:"azCount"`
		PublicPrefix  int `yaml:"publicPrefix"`
		PrivatePrefix int `yaml:"privatePrefix"`
	} `yaml:"subnets"`
	NATGateways struct {
		Mode string `yaml:"mode"`
	} `yaml:"natGateways"`
	OnPremCIDR     string `yaml:"onPremCidr"`
	SecurityGroups struct {
		WebPort        int      `yaml:"webPort"`
		AppPort        int      `yaml:"appPort"`
		DBPort         int      `yaml:"dbPort"`
		OnPremDBPort   int      `yaml:"onPremDbPort"`
		PublicWebCIDRs []string `yaml:"publicWebCidrs"`
	} `yaml:"securityGroups"`
	FlowLogs struct {
		RetentionDays int `yaml:"retentionDays"`
	} `yaml:"flowLogs"`
	VPNGateway struct {
		AmazonSideASN int64 `yaml:"amazonSideAsn"`
	} `yaml:"vpnGateway"`
	VPN struct {
		CustomerGatewayIP string `yaml:"customerGatewayIp"`
		CustomerASN       int64  `yaml:"customerAsn"`
		Tunnels           []struct {
			InsideCIDR            string `yaml:"insideCidr"`
			PreSharedKeySecretARN string `yaml:"preSharedKeySecretArn"`
		} `yaml:"tunnels"`
		LogRetentionDays int `yaml:"logRetentionDays"`
	} `yaml:"vpn"`
	DirectConnect struct {
		AmazonSideASN    int64    `yaml:"amazonSideAsn"`
		ConnectionID     string   `yaml:"connectionId"`
		VLAN             int      `yaml:"vlan"`
		CustomerASN      int64    `yaml:"customerAsn"`
		AuthKeySecretARN string   `yaml:"authKeySecretArn"`
		AllowedPrefixes  []string `yaml:"allowedPrefixes"`
	} `yaml:"directConnect"`
	BGP struct {
		Primary string `yaml:"primary"`
	} `yaml:"bgp"`
	Resolver struct {
		Enabled bool `yaml:"enabled"`
	} `yaml:"resolver"`
}

// DMSSection is the database replication section.
type DMSSection struct {
	SourceSizeGB  int    `yaml:"sourceSizeGb"`
	EngineVersion string `yaml:"engineVersion"`
	Instance      struct {
		Class              string `yaml:"class"`
		AllocatedStorageGB int    `yaml:"allocatedStorageGb"`
		// DNSNameServers are the on-premises DNS servers the replication
		// instance resolves the source's host name with (set at creation).
		DNSNameServers []string `yaml:"dnsNameServers"`
	} `yaml:"instance"`
	Source struct {
		// SecretName is the Secrets Manager secret (name or full ARN) the
		// operator created with the migration user's credentials, host
		// and port. A name is resolved to its ARN when the platform runs.
		SecretName        string `yaml:"secretName"`
		DatabaseName      string `yaml:"databaseName"`
		CACertificateFile string `yaml:"caCertificateFile"`
	} `yaml:"source"`
	Target struct {
		DatabaseName       string `yaml:"databaseName"`
		EngineVersion      string `yaml:"engineVersion"`
		Class              string `yaml:"class"`
		AllocatedStorageGB int    `yaml:"allocatedStorageGb"`
		CACertificateFile  string `yaml:"caCertificateFile"`
		SkipFinalSnapshot  bool   `yaml:"skipFinalSnapshot"`
	} `yaml:"target"`
	Tables struct {
		Include []TableRef `yaml:"include"`
		Exclude []TableRef `yaml:"exclude"`
	} `yaml:"tables"`
	LOB struct {
		Mode      string `yaml:"mode"`
		MaxSizeKB int    `yaml:"maxSizeKb"`
	} `yaml:"lob"`
}

// TableRef selects tables by schema and table name (% is a wildcard).
type TableRef struct {
	Schema string `yaml:"schema"`
	Table  string `yaml:"table"`
}

// DNSSection is the traffic routing section: the services' weighted
// records, which the cutover moves step by step, and the database's name,
// which only the database switch moves, all at once.
type DNSSection struct {
	Zone     string       `yaml:"zone"`
	TTL      int64        `yaml:"ttl"`
	Services []DNSService `yaml:"services"`
	Database DNSDatabase  `yaml:"database"`
}

// DNSDatabase is the one name the applications, blue and green alike,
// reach the database by: a weighted CNAME pair in the zone, blue the
// on-premises database's host and green the RDS target's endpoint (which
// the platform fills in). It is all blue until the database switch flips
// it to all green; the traffic steps and rollbacks never move it, since a
// partial split of a database name is two writers.
type DNSDatabase struct {
	// Name is relative to the zone: "db" makes db.<zone>.
	Name string `yaml:"name"`
	// Blue is the on-premises database.
	Blue struct {
		// Host is its DNS name, as the on-premises servers resolve it.
		Host string `yaml:"host"`
	} `yaml:"blue"`
}

// DNSService is one service name with its blue and green targets.
type DNSService struct {
	Name  string    `yaml:"name"`
	Blue  DNSTarget `yaml:"blue"`
	Green DNSTarget `yaml:"green"`
}

// DNSTarget is what one weighted record answers: IPs, a host, or an alias
// to a load balancer.
type DNSTarget struct {
	IPs   []string `yaml:"ips"`
	Host  string   `yaml:"host"`
	Alias *struct {
		DNSName      string `yaml:"dnsName"`
		HostedZoneID string `yaml:"hostedZoneId"`
	} `yaml:"alias"`
	HealthCheckID string `yaml:"healthCheckId"`
}

// TrackingSpec is the tracking and notification section.
type TrackingSpec struct {
	RecoveryDays  int `yaml:"recoveryDays"`
	Subscriptions []struct {
		Protocol string `yaml:"protocol"`
		Endpoint string `yaml:"endpoint"`
	} `yaml:"subscriptions"`
}

// ServersSpec is the application servers section.
type ServersSpec struct {
	Replication struct {
		InstanceType  string `yaml:"instanceType"`
		BandwidthMbps int64  `yaml:"bandwidthMbps"`
	} `yaml:"replication"`
	WaveConcurrency int      `yaml:"waveConcurrency"`
	Hosts           []string `yaml:"hosts"`
}

// FilesSpec is the file share section.
type FilesSpec struct {
	// Target is s3 (a bucket; the default) or efs (a file system the
	// migrated servers mount).
	Target string `yaml:"target"`
	Source struct {
		Protocol       string   `yaml:"protocol"`
		ServerHostname string   `yaml:"serverHostname"`
		Subdirectory   string   `yaml:"subdirectory"`
		Agents         []string `yaml:"agents"`
	} `yaml:"source"`
	BytesPerSecond int64 `yaml:"bytesPerSecond"`
	// ForceDeleteObjects lets destroy delete the target (the bucket, or
	// the file system) with the migrated files in it; without it destroy
	// refuses while it holds any.
	ForceDeleteObjects bool `yaml:"forceDeleteObjects"`
}

// ValidationSpec is the post-migration validation section.
type ValidationSpec struct {
	Targets     map[string][]string `yaml:"targets"`
	Application struct {
		Port         int    `yaml:"port"`
		Path         string `yaml:"path"`
		TLS          bool   `yaml:"tls"`
		ServerName   string `yaml:"serverName"`
		ExpectStatus int    `yaml:"expectStatus"`
	} `yaml:"application"`
	Database struct {
		RootCertFile string `yaml:"rootCertFile"`
		Query        string `yaml:"query"`
	} `yaml:"database"`
	Services struct {
		Units []string `yaml:"units"`
		Ports []int    `yaml:"ports"`
	} `yaml:"services"`
	Files struct {
		MountPoint string `yaml:"mountPoint"`
	} `yaml:"files"`
	Schedule string `yaml:"schedule"`
}

// CutoverSpec is the stepped cutover and its rollback policy.
type CutoverSpec struct {
	// GreenLoadBalancer is the green load balancer's ARN suffix
	// ("app/<name>/<id>"), whose metrics the rollback policy watches.
	GreenLoadBalancer string        `yaml:"greenLoadBalancer"`
	Steps             []CutoverStep `yaml:"steps"`
	MaxForwardLag     Duration      `yaml:"maxForwardLag"`
	MaxErrorRate      float64       `yaml:"maxErrorRate"`
	MaxP99Latency     Duration      `yaml:"maxP99Latency"`
	MaxCDCLatency     Duration      `yaml:"maxCdcLatency"`
	DataLossBudget    Duration      `yaml:"dataLossBudget"`
	RollbackWindow    Duration      `yaml:"rollbackWindow"`
}

// CutoverStep is one step: green's share and how long it bakes.
type CutoverStep struct {
	Green int      `yaml:"green"`
	Bake  Duration `yaml:"bake"`
}

// Duration is a time.Duration written as "15m" or "1h30m".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 15m or 1h", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// loadSpec reads the spec at path (relative files it names resolve next to
// it), or the embedded default when path is empty. Unknown fields are
// errors: a typo must not silently fall back to a default.
func loadSpec(path string) (Spec, error) {
	var data []byte
	var err error
	s := Spec{}
	if path == "" {
		data, err = defaults.ReadFile("spec.default.yaml")
		s.dirFS = defaults
	} else {
		data, err = os.ReadFile(path)
		s.dir = filepath.Dir(path)
	}
	if err != nil {
		return Spec{}, fmt.Errorf("read spec: %w", err)
	}
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.DisallowUnknownField()); err != nil {
		return Spec{}, fmt.Errorf("parse spec %s: %s", orDefault(path), yaml.FormatError(err, false, true))
	}
	return s, nil
}

// readFile reads a file the spec names, relative to the spec's directory.
func (s Spec) readFile(name string) (string, error) {
	if s.dirFS != nil {
		b, err := fs.ReadFile(s.dirFS, name)
		return string(b), err
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(s.dir, name)
	}
	b, err := os.ReadFile(name)
	return string(b), err
}

func orDefault(path string) string {
	if path == "" {
		return "(default)"
	}
	return path
}

// env returns the migration env the spec describes, for an account.
func (s Spec) env(account string) migration.Env {
	return migration.Env{Suffix: s.Env.Suffix, Region: s.Env.Region, Account: account, Project: s.Env.Project, UserTags: s.Env.Tags}
}

// Validate checks every field and returns every problem at once, each
// prefixed with its path in the spec file. It checks the package specs
// the file maps onto with placeholders for the IDs other steps produce, so
// nothing here needs credentials.
func (s Spec) Validate() error {
	v := &validator{}
	// The account is not known before credentials are; a placeholder lets
	// the naming and tag rules be checked.
	v.add("", nil, s.env("000000000000").Validate())
	v.add("", nil, s.keySpec().Validate())
	p := placeholders()
	for _, c := range s.networkChecks(p) {
		v.add("network.", networkPaths, c)
	}
	v.add("", dmsPaths, s.dmsValidate(p))
	v.add("", dnsPaths, s.dnsValidate(p))
	v.add("", trackingPaths, s.trackingValidate(p))
	v.add("", serverPaths, s.serversValidate(p))
	v.add("", filesPaths, s.filesValidate(p))
	v.add("", validationPaths, s.validationValidate(p))
	v.add("", cutoverPaths, s.cutoverValidate(p))
	return errors.Join(v.errs...)
}

// validator collects errors, rewriting the field paths the packages use
// into paths of the spec file.
type validator struct {
	errs []error
	seen map[string]bool
}

func (v *validator) add(prefix string, paths []pathRewrite, err error) {
	if err == nil {
		return
	}
	if v.seen == nil {
		v.seen = map[string]bool{}
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// One field can reach several package specs (the LOB settings
		// both tasks share): report it once.
		line = rewrite(prefix+line, paths)
		if !v.seen[line] {
			v.seen[line] = true
			v.errs = append(v.errs, errors.New(line))
		}
	}
}

// pathRewrite maps a package's field path prefix to the spec file's.
type pathRewrite struct{ from, to string }

func rewrite(line string, paths []pathRewrite) string {
	best := -1
	for i, p := range paths {
		if strings.HasPrefix(line, p.from) && (best < 0 || len(p.from) > len(paths[best].from)) {
			best = i
		}
	}
	if best < 0 {
		return line
	}
	return paths[best].to + strings.TrimPrefix(line, paths[best].from)
}

// ids are stand-ins for the IDs other steps produce, valid in form, so a
// package's Validate can run before anything exists.
type ids struct {
	key, vpc, subnetA, subnetB, subnetC, sg, table, topic, zone, function, task string
}

func placeholders() ids {
	return ids{
		key: migration.Pending("key"), vpc: migration.Pending("vpc"), subnetA: migration.Pending("subnet-a"), subnetB: migration.Pending("subnet-b"),
		subnetC: migration.Pending("subnet-c"), sg: migration.Pending("sg"), table: migration.Pending("table"), topic: migration.Pending("topic"),
		zone: migration.Pending("zone"), function: migration.Pending("function"), task: migration.Pending("task"),
	}
}

func (s Spec) keySpec() migration.KeySpec {
	return migration.KeySpec{DeletionWindowDays: s.Key.DeletionWindowDays}
}

func (s Spec) vpcSpec() network.VPCSpec { return network.VPCSpec{CIDR: s.Network.VPC.CIDR} }
