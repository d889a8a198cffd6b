package fakecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// Default identity of a new fake cloud.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "123456789012"
)

// ErrCrash is returned by every call once an injected crash has happened,
// until Restart: the simulated process is dead.
var ErrCrash = errors.New("fakecloud: simulated crash")

// Call is one API call as the fake saw it.
type Call struct {
	Service string    `json:"service"`
	Op      string    `json:"op"`
	Write   bool      `json:"write"`
	Code    string    `json:"code,omitempty"` // error code, "" on success
	At      time.Time `json:"at"`
}

// Faults are the failures the fake injects. The zero value injects none.
type Faults struct {
	// ThrottleRate and ServerErrorRate are the fractions (0..1) of calls
	// that fail with a throttling error or an HTTP 500.
	ThrottleRate, ServerErrorRate float64
	// Latency is added to every call, on the fake clock.
	Latency time.Duration
	// NotFoundReads is how many reads of a new resource report it missing
	// after its create (eventual consistency).
	NotFoundReads int
	// CrashAtWrite, when positive, crashes the k-th write call from now
	// (1-based). With CrashAfter the write takes effect and its response
	// is lost; otherwise it never happens.
	CrashAtWrite int
	CrashAfter   bool
	// Services, when non-empty, limits throttling, 5xx and latency to
	// these service IDs ("EC2", "KMS", ...).
	Services []string
}

// Cloud is one simulated AWS account in one Region. It is safe for
// concurrent use.
type Cloud struct {
	mu       sync.Mutex
	clock    *Clock
	region   string
	account  string
	seq      uint64
	calls    []Call
	faults   Faults
	writes   int // writes seen since SetFaults
	crashed  bool
	rng      *rand.Rand
	services map[string]any
	runtime  map[string]any // state that is not saved (scripted metric functions, handlers)
	fresh    map[string]int // resource ID -> reads still to hide
	hooks    []func()       // run after every successful write, outside the lock
}

// Option configures New.
type Option func(*Cloud)

// WithClock makes the cloud use clock.
func WithClock(clock *Clock) Option { return func(c *Cloud) { c.clock = clock } }

// WithRegion sets the Region.
func WithRegion(region string) Option { return func(c *Cloud) { c.region = region } }

// WithAccount sets the account ID.
func WithAccount(account string) Option { return func(c *Cloud) { c.account = account } }

// New returns an empty cloud: skip-ahead clock at Epoch, DefaultRegion,
// DefaultAccount, no faults.
func New(opts ...Option) *Cloud {
	c := &Cloud{
		clock:    NewClock(Epoch),
		region:   DefaultRegion,
		account:  DefaultAccount,
		rng:      rand.New(rand.NewPCG(1, 2)),
		services: map[string]any{},
		runtime:  map[string]any{},
		fresh:    map[string]int{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Clock returns the cloud's clock.
func (c *Cloud) Clock() *Clock { return c.clock }

// Region returns the cloud's Region.
func (c *Cloud) Region() string { return c.region }

// Account returns the cloud's account ID.
func (c *Cloud) Account() string { return c.account }

// SetFaults replaces the injected faults and restarts the write count
// that CrashAtWrite refers to.
func (c *Cloud) SetFaults(f Faults) {
	c.mu.Lock()
	c.faults = f
	c.writes = 0
	c.mu.Unlock()
}

// Restart clears a crash and every fault: the simulated process starts
// again against the same cloud.
func (c *Cloud) Restart() {
	c.mu.Lock()
	c.crashed = false
	c.faults = Faults{}
	c.writes = 0
	c.mu.Unlock()
}

// Crashed reports whether an injected crash has happened.
func (c *Cloud) Crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// Calls returns a copy of the call log.
func (c *Cloud) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// ResetCalls empties the call log.
func (c *Cloud) ResetCalls() {
	c.mu.Lock()
	c.calls = nil
	c.mu.Unlock()
}

// Writes returns the write calls of the log (successful or not).
func (c *Cloud) Writes() []Call {
	var out []Call
	for _, call := range c.Calls() {
		if call.Write {
			out = append(out, call)
		}
	}
	return out
}

// Count returns how many calls of service and op the log holds; an empty
// op counts every operation of the service.
func (c *Cloud) Count(service, op string) int {
	n := 0
	for _, call := range c.Calls() {
		if call.Service == service && (op == "" || call.Op == op) {
			n++
		}
	}
	return n
}

// OnWrite registers fn to run after every successful write call, outside
// the cloud's lock. The simulated alarm evaluation uses it.
func (c *Cloud) OnWrite(fn func()) {
	c.mu.Lock()
	c.hooks = append(c.hooks, fn)
	c.mu.Unlock()
}

// call runs one API operation: it applies latency, the crash and the
// injected errors, runs fn under the cloud lock, logs the attempt, and
// retries retryable failures the way the SDK client would. fn returns an
// API error made with apiError (or nil).
func (c *Cloud) call(ctx context.Context, service, op string, write bool, fn func() error) error {
	r := awsx.NewRetryer()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
		}
		err := c.attempt(ctx, service, op, write, fn)
		if err == nil {
			return nil
		}
		if !r.IsErrorRetryable(err) || attempt >= r.MaxAttempts() {
			return err
		}
		delay, derr := r.RetryDelay(attempt, err)
		if derr != nil {
			return err
		}
		if serr := awsx.Sleep(ctx, c.clock, delay); serr != nil {
			return err
		}
	}
}

func (c *Cloud) attempt(ctx context.Context, service, op string, write bool, fn func() error) error {
	c.mu.Lock()
	f := c.faults
	scoped := len(f.Services) == 0 || slices.Contains(f.Services, service)
	c.mu.Unlock()
	if scoped && f.Latency > 0 {
		if err := awsx.Sleep(ctx, c.clock, f.Latency); err != nil {
			return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
		}
	}

	c.mu.Lock()
	logCall := func(err error) {
		c.calls = append(c.calls, Call{Service: service, Op: op, Write: write, Code: awsx.Code(err), At: c.clock.Now()})
	}
	if c.crashed {
		c.mu.Unlock()
		return &smithy.OperationError{ServiceID: service, OperationName: op, Err: ErrCrash}
	}
	if scoped && f.ThrottleRate > 0 && c.rng.Float64() < f.ThrottleRate {
		err := c.wrap(service, op, throttleError(service))
		logCall(err)
		c.mu.Unlock()
		return err
	}
	if scoped && f.ServerErrorRate > 0 && c.rng.Float64() < f.ServerErrorRate {
		err := c.wrap(service, op, &apiErr{code: "InternalError", msg: "We encountered an internal error. Please try again.", status: http.StatusInternalServerError, fault: smithy.FaultServer})
		logCall(err)
		c.mu.Unlock()
		return err
	}
	crash := false
	if write {
		c.writes++
		if f.CrashAtWrite > 0 && c.writes == f.CrashAtWrite {
			crash = true
			if !f.CrashAfter {
				c.crashed = true
				c.calls = append(c.calls, Call{Service: service, Op: op, Write: write, Code: "Crash", At: c.clock.Now()})
				c.mu.Unlock()
				return &smithy.OperationError{ServiceID: service, OperationName: op, Err: ErrCrash}
			}
		}
	}
	err := fn()
	if err != nil {
		err = c.wrap(service, op, err)
	}
	logCall(err)
	var hooks []func()
	if write && err == nil {
		hooks = slices.Clone(c.hooks)
	}
	if crash {
		c.crashed = true
		c.mu.Unlock()
		return &smithy.OperationError{ServiceID: service, OperationName: op, Err: ErrCrash}
	}
	c.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	return err
}

// wrap wraps an API error the way the SDK does: an OperationError around
// an HTTP response error around the API error.
func (c *Cloud) wrap(service, op string, err error) error {
	var ae *apiErr
	if !errors.As(err, &ae) {
		return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
	}
	c.seq++
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: ae.status, Header: http.Header{}}},
			Err:      &smithy.GenericAPIError{Code: ae.code, Message: ae.msg, Fault: ae.fault},
		},
		RequestID: fmt.Sprintf("%08x-fake-%012x", c.seq, c.seq*7919),
	}}
}

// apiErr is what service code returns; call turns it into the SDK's shape.
type apiErr struct {
	code, msg string
	status    int
	fault     smithy.ErrorFault
}

func (e *apiErr) Error() string { return e.code + ": " + e.msg }

// apiError returns a client (HTTP 400) API error.
func apiError(code, format string, args ...any) error {
	return &apiErr{code: code, msg: fmt.Sprintf(format, args...), status: http.StatusBadRequest, fault: smithy.FaultClient}
}

// notFound returns a client API error with HTTP 404 semantics for the
// services that use it; the code is what matters to callers.
func notFound(code, format string, args ...any) error {
	return &apiErr{code: code, msg: fmt.Sprintf(format, args...), status: http.StatusNotFound, fault: smithy.FaultClient}
}

func throttleError(service string) error {
	code := "ThrottlingException"
	switch service {
	case "EC2":
		code = "RequestLimitExceeded"
	case "Route 53", "IAM", "CloudWatch", "SNS", "RDS":
		code = "Throttling"
	}
	return &apiErr{code: code, msg: "Rate exceeded", status: http.StatusBadRequest, fault: smithy.FaultClient}
}

// newID returns a fresh resource ID in the EC2 style: prefix-0 followed by
// 16 hex digits, deterministic for a given cloud history. Call with mu held.
func (c *Cloud) newID(prefix string) string {
	c.seq++
	return fmt.Sprintf("%s-0%016x", prefix, mix(c.seq))
}

// newUUID returns a fresh UUID-shaped ID (KMS key IDs, Lambda, ...). Call
// with mu held.
func (c *Cloud) newUUID() string {
	c.seq++
	a, b := mix(c.seq), mix(c.seq^0x9e3779b97f4a7c15)
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff, uint16(b)&0xfff, b>>16&0xffffffffffff)
}

// arn returns an ARN in this cloud's partition, Region and account.
func (c *Cloud) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, c.region, c.account, resource)
}

// globalARN returns an ARN without a Region (IAM, Route 53, S3 use them).
func (c *Cloud) globalARN(service, account, resource string) string {
	return fmt.Sprintf("arn:aws:%s::%s:%s", service, account, resource)
}

func mix(x uint64) uint64 { // splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// created marks id as just created, so the next Faults.NotFoundReads reads
// of it report it missing. Call with mu held.
func (c *Cloud) created(id string) {
	if c.faults.NotFoundReads > 0 {
		c.fresh[id] = c.faults.NotFoundReads
	}
}

// hidden reports whether a read must not see id yet, and counts the read.
// Call with mu held.
func (c *Cloud) hidden(id string) bool {
	n, ok := c.fresh[id]
	if !ok {
		return false
	}
	if n <= 1 {
		delete(c.fresh, id)
	} else {
		c.fresh[id] = n - 1
	}
	return true
}

// now returns the fake time. Safe with or without mu held.
func (c *Cloud) now() time.Time { return c.clock.Now() }

// registry maps a service name to the constructor of its state.
var registry = map[string]func() any{}

// register declares a service's state type; call it from an init function.
func register(name string, newState func() any) {
	if _, dup := registry[name]; dup {
		panic("fakecloud: service registered twice: " + name)
	}
	registry[name] = newState
}

// state returns the state of the named service, creating it on first use.
// Call with mu held.
func state[T any](c *Cloud, name string) *T {
	s, ok := c.services[name]
	if !ok {
		mk, ok := registry[name]
		if !ok {
			panic("fakecloud: unregistered service " + name)
		}
		s = mk()
		c.services[name] = s
	}
	return s.(*T)
}

// runtimeState returns the named runtime state (never saved: functions,
// handlers), creating it with mk on first use. Call with mu held.
func runtimeState[T any](c *Cloud, name string, mk func() *T) *T {
	s, ok := c.runtime[name]
	if !ok {
		s = mk()
		c.runtime[name] = s
	}
	return s.(*T)
}

type snapshot struct {
	Version  int                        `json:"version"`
	Region   string                     `json:"region"`
	Account  string                     `json:"account"`
	Now      time.Time                  `json:"now"`
	Seq      uint64                     `json:"seq"`
	Services map[string]json.RawMessage `json:"services"`
}

// Save writes the whole state (not the call log or the faults) as JSON.
func (c *Cloud) Save(w io.Writer) error {
	c.mu.Lock()
	snap := snapshot{Version: 1, Region: c.region, Account: c.account, Now: c.clock.Now(), Seq: c.seq, Services: map[string]json.RawMessage{}}
	names := make([]string, 0, len(c.services))
	for name := range c.services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := json.Marshal(c.services[name])
		if err != nil {
			c.mu.Unlock()
			return fmt.Errorf("fakecloud: save %s: %w", name, err)
		}
		snap.Services[name] = b
	}
	c.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(snap)
}

// Load reads a state written by Save into a new cloud whose clock resumes
// from the saved time (scaled by scale, or skip-ahead when scale is 0).
func Load(r io.Reader, scale float64) (*Cloud, error) {
	var snap snapshot
	if err := json.NewDecoder(r).Decode(&snap); err != nil {
		return nil, fmt.Errorf("fakecloud: load: %w", err)
	}
	if snap.Version != 1 {
		return nil, fmt.Errorf("fakecloud: load: unsupported state version %d", snap.Version)
	}
	clock := NewClock(snap.Now)
	if scale > 0 {
		clock = NewScaledClock(snap.Now, scale)
	}
	c := New(WithClock(clock), WithRegion(snap.Region), WithAccount(snap.Account))
	c.seq = snap.Seq
	for name, raw := range snap.Services {
		mk, ok := registry[name]
		if !ok {
			return nil, fmt.Errorf("fakecloud: load: unknown service %q", name)
		}
		s := mk()
		if err := json.Unmarshal(raw, s); err != nil {
			return nil, fmt.Errorf("fakecloud: load %s: %w", name, err)
		}
		c.services[name] = s
	}
	return c, nil
}

// SaveFile writes the state to path atomically (temp file and rename).
func (c *Cloud) SaveFile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("fakecloud: save: %w", err)
	}
	if err := c.Save(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fakecloud: save: %w", err)
	}
	return os.Rename(tmp, path)
}

// LoadFile reads path, or returns a new cloud (with a clock of the given
// scale) when path does not exist.
func LoadFile(path string, scale float64) (*Cloud, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		clock := NewClock(Epoch)
		if scale > 0 {
			clock = NewScaledClock(Epoch, scale)
		}
		return New(WithClock(clock)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("fakecloud: load: %w", err)
	}
	defer f.Close()
	return Load(f, scale)
}

// page returns the slice of items a paginated list call returns for the
// given token (an index encoded as a decimal string) and page size, and
// the next token ("" at the end).
func page[T any](items []T, token *string, size int) ([]T, *string, error) {
	start := 0
	if token != nil && *token != "" {
		if _, err := fmt.Sscanf(*token, "%d", &start); err != nil || start < 0 || start > len(items) {
			return nil, nil, apiError("InvalidNextToken", "invalid pagination token %q", *token)
		}
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(fmt.Sprint(end))
	}
	return items[start:end], next, nil
}

// sortedKeys returns the keys of m in order, so list operations are
// deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
