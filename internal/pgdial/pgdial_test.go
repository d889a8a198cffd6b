package pgdial

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const password = "s3cret-P4ss never-shown"

// secretValue answers every read with value, or err.
type secretValue struct {
	value string
	err   error
}

func (s secretValue) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s.value)}, nil
}

func TestDialRefusesWithoutConnecting(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	e := Endpoint{Host: "db.example.internal", Database: "orders", SecretARN: arn}
	for _, c := range []struct {
		name    string
		secrets SecretsAPI
		port    int
		want    string
	}{
		{"no client", nil, 0, "no Secrets Manager client"},
		{"unreadable secret", secretValue{err: errors.New("AccessDeniedException")}, 0, "read secret " + arn + ": AccessDeniedException"},
		{"not JSON", secretValue{value: password}, 0, "secret " + arn + " does not hold a JSON username and password"},
		{"no password", secretValue{value: `{"username":"app"}`}, 0, "does not hold a JSON username and password"},
		{"no username", secretValue{value: `{"password":"` + password + `"}`}, 0, "does not hold a JSON username and password"},
		{"bad port", secretValue{value: `{"username":"app","password":"` + password + `"}`}, 70000, "port 70000 is not a TCP port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e
			e.Port = c.port
			conn, err := Dial(context.Background(), c.secrets, e, nil)
			require.ErrorContains(t, err, c.want)
			assert.Nil(t, conn)
			assert.NotContains(t, err.Error(), password)
		})
	}
}

func TestRedact(t *testing.T) {
	cause := errors.New("server said: no user with password " + password + " here")
	err := redact(cause, password)
	assert.Equal(t, "server said: no user with password [REDACTED] here", err.Error())
	assert.NotErrorIs(t, err, cause, "the cause, which quotes the password, is dropped")

	clean := errors.New("password authentication failed")
	assert.Same(t, clean, redact(clean, password), "an error that does not quote it is kept, to be inspected")
	assert.Equal(t, "h:5432/d", Endpoint{Host: "h", Database: "d"}.Address())
}

func TestReadAddress(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	cred := `"username":"migrator","password":"` + password + `"`
	for _, c := range []struct {
		name    string
		secrets SecretsAPI
		want    Address
		err     string
	}{
		{"number port", secretValue{value: `{` + cred + `,"host":"pg13.dc1.example","port":5433}`}, Address{"pg13.dc1.example", 5433}, ""},
		{"string port", secretValue{value: `{` + cred + `,"host":" pg13.dc1.example ","port":"6432"}`}, Address{"pg13.dc1.example", 6432}, ""},
		{"no port", secretValue{value: `{` + cred + `,"host":"pg13.dc1.example"}`}, Address{"pg13.dc1.example", DefaultPort}, ""},
		{"no client", nil, Address{}, "no Secrets Manager client"},
		{"unreadable", secretValue{err: errors.New("AccessDeniedException")}, Address{}, "read secret " + arn + ": AccessDeniedException"},
		{"not JSON", secretValue{value: password}, Address{}, "does not hold a JSON object with a host"},
		{"no host", secretValue{value: `{` + cred + `,"port":5432}`}, Address{}, "does not hold a JSON object with a host"},
		{"port out of range", secretValue{value: `{` + cred + `,"host":"h","port":70000}`}, Address{}, "port 70000 is not a TCP port"},
		{"port not a number", secretValue{value: `{` + cred + `,"host":"h","port":"` + password + `"}`}, Address{}, "port is not a number"},
		{"port an object", secretValue{value: `{` + cred + `,"host":"h","port":{}}`}, Address{}, "port is neither a number nor a string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadAddress(context.Background(), c.secrets, arn)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				assert.NotContains(t, err.Error(), password)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}
