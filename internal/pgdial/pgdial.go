package pgdial

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
)

// SecretsAPI is the part of the Secrets Manager client Dial uses.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// DefaultPort is the port of an Endpoint whose Port is 0.
const DefaultPort = 5432

// DefaultConnectTimeout bounds establishing a connection (TCP, TLS,
// authentication) unless PGCONNECT_TIMEOUT says otherwise.
const DefaultConnectTimeout = 15 * time.Second

// Endpoint is a database to connect to. Callers validate its fields
// against their own rules first; Dial never builds a connection string
// from them, so no value can smuggle in a connection parameter.
type Endpoint struct {
	// Host is the server's DNS name (or IP address) as in its certificate.
	Host string
	// Port is DefaultPort when 0.
	Port int
	// Database is the database name.
	Database string
	// SecretARN is a Secrets Manager secret holding a JSON object with
	// "username" and "password" (the RDS and DMS format; other fields are
	// ignored).
	SecretARN string
	// RootCAs verify the server certificate; nil means the system pool.
	RootCAs *x509.CertPool
}

// Address is host:port/database, for messages.
func (e Endpoint) Address() string {
	return fmt.Sprintf("%s:%d/%s", e.Host, cmp.Or(e.Port, DefaultPort), e.Database)
}

// Dial reads the endpoint's secret and opens one verify-full TLS
// connection as its user, with params as the session's settings (for
// example application_name). There is no plaintext or unverified
// fallback, whatever the PG* environment variables say. The password is
// set on the connection's configuration only; an error that would quote
// it has it replaced by [REDACTED]. The caller closes the connection; the
// connecting user is conn.Config().User.
func Dial(ctx context.Context, secrets SecretsAPI, e Endpoint, params map[string]string) (*pgx.Conn, error) {
	if secrets == nil {
		return nil, errors.New("no Secrets Manager client to read the credentials with")
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretARN)})
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", e.SecretARN, err)
	}
	var cred struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &cred); err != nil || cred.Username == "" || cred.Password == "" {
		return nil, fmt.Errorf("secret %s does not hold a JSON username and password", e.SecretARN)
	}
	port := cmp.Or(e.Port, DefaultPort)
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port %d is not a TCP port", port)
	}
	// Only the TLS mode comes from a string; every other field is set
	// below, so the PG* environment cannot weaken TLS or pick the server.
	cfg, err := pgx.ParseConfig("sslmode=verify-full")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.Database = e.Host, uint16(port), e.Database
	cfg.User, cfg.Password = cred.Username, cred.Password
	cfg.TLSConfig = &tls.Config{ServerName: e.Host, RootCAs: e.RootCAs, MinVersion: tls.VersionTLS12}
	cfg.Fallbacks = nil
	cfg.RuntimeParams = maps.Clone(params)
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", e.Address(), redact(err, cred.Password))
	}
	return conn, nil
}

// redact keeps err as it is unless its message quotes the password, in
// which case only the message, with the password replaced, survives.
func redact(err error, password string) error {
	if !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "[REDACTED]"))
}

// Address is where a secret says its database is: the "host" and "port"
// fields of the DMS and RDS secret format.
type Address struct {
	Host string
	Port int
}

// ReadAddress reads the host and port of the secret's JSON value (port
// DefaultPort when absent) and nothing else: the credentials in it are
// not kept. A secret without a host, or with a port outside 1..65535, is
// an error that quotes neither the value nor any other field.
func ReadAddress(ctx context.Context, secrets SecretsAPI, secretARN string) (Address, error) {
	if secrets == nil {
		return Address{}, errors.New("no Secrets Manager client to read the secret with")
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return Address{}, fmt.Errorf("read secret %s: %w", secretARN, err)
	}
	var v struct {
		Host string          `json:"host"`
		Port json.RawMessage `json:"port"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || strings.TrimSpace(v.Host) == "" {
		return Address{}, fmt.Errorf("secret %s does not hold a JSON object with a host", secretARN)
	}
	a := Address{Host: strings.TrimSpace(v.Host), Port: DefaultPort}
	if len(v.Port) > 0 {
		// RDS writes the port as a number, people often as a string.
		var port int
		if err := json.Unmarshal(v.Port, &port); err != nil {
			var s string
			if json.Unmarshal(v.Port, &s) != nil {
				return Address{}, fmt.Errorf("secret %s: port is neither a number nor a string", secretARN)
			}
			if port, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
				return Address{}, fmt.Errorf("secret %s: port is not a number", secretARN)
			}
		}
		if port < 1 || port > 65535 {
			return Address{}, fmt.Errorf("secret %s: port %d is not a TCP port", secretARN, port)
		}
		a.Port = port
	}
	return a, nil
}
