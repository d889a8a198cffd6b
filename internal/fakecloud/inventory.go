package fakecloud

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Tagged is one resource of the cloud that carries a tag.
type Tagged struct {
	// Service is the registered service state it lives in ("ec2", "kms").
	Service string
	// Path is where it sits in that state ("vpcs", "keys").
	Path string
	// ID is its id, arn or name field, whichever it has first.
	ID string
	// State is its state or status field, if any ("PendingDeletion").
	State string
	// Deleted says the resource is deleted (or scheduled for deletion)
	// but still visible, as AWS shows deleted NAT gateways and VPN
	// connections for a while and secrets in their recovery window.
	Deleted bool
}

// String renders the resource as "service/path id", with its state and
// whether it is deleted, for messages about leftovers.
func (t Tagged) String() string {
	s := t.Service + "/" + t.Path + " " + t.ID
	if t.State != "" {
		s += " (" + t.State + ")"
	}
	if t.Deleted {
		s += " [deleted]"
	}
	return s
}

// TaggedWith lists every resource of every service that carries the tag
// key=value, whatever the service: it walks the saved form of each
// service's state for objects whose tags map holds the tag. Tests and the
// demo use it to prove that a destroy left nothing of an env behind.
func (c *Cloud) TaggedWith(key, value string) ([]Tagged, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Tagged
	for _, name := range sortedKeys(c.services) {
		b, err := json.Marshal(c.services[name])
		if err != nil {
			return nil, fmt.Errorf("fakecloud: inventory %s: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("fakecloud: inventory %s: %w", name, err)
		}
		walkTagged(name, "", v, key, value, &out)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

func walkTagged(service, path string, v any, key, value string, out *[]Tagged) {
	switch x := v.(type) {
	case map[string]any:
		if hasTag(x, key, value) {
			*out = append(*out, Tagged{Service: service, Path: path, ID: firstString(x, "id", "ID", "arn", "ARN", "name", "Name"), State: firstString(x, "state", "State", "status", "Status"),
				Deleted: firstString(x, "deleted", "deletedAt", "Deleted", "DeletedAt") != ""})
		}
		for k, child := range x {
			if strings.EqualFold(k, "tags") {
				continue
			}
			p := path
			if m, isMap := child.(map[string]any); !isMap || !isItem(m) {
				p = strings.TrimPrefix(path+"."+k, ".")
			}
			walkTagged(service, p, child, key, value, out)
		}
	case []any:
		for _, child := range x {
			walkTagged(service, path, child, key, value, out)
		}
	}
}

// isItem reports whether a map is one resource (it has an id, arn or
// name), so that the key it sits under is its ID in a collection rather
// than a field name.
func isItem(m map[string]any) bool {
	return firstString(m, "id", "ID", "arn", "ARN", "name", "Name") != ""
}

func hasTag(obj map[string]any, key, value string) bool {
	for k, v := range obj {
		if !strings.EqualFold(k, "tags") {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t[key].(string); ok && s == value {
				return true
			}
		case []any: // [{"Key":..., "Value":...}]
			for _, e := range t {
				if m, ok := e.(map[string]any); ok && firstString(m, "Key", "key", "TagKey") == key && firstString(m, "Value", "value", "TagValue") == value {
					return true
				}
			}
		}
	}
	return false
}

func firstString(obj map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
