package awsx

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TagFilter returns the EC2 filter "tag:<key>" = values.
func TagFilter(key string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String("tag:" + key), Values: values}
}

// Filter returns the EC2 filter name = values.
func Filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// OwnedFilters returns the filters that find the resources one env owns
// and that carry the given Name tag: the exact ownership tag plus Name.
// An empty name matches every owned resource.
func OwnedFilters(ownerKey, ownerValue, name string) []ec2types.Filter {
	f := []ec2types.Filter{TagFilter(ownerKey, ownerValue)}
	if name != "" {
		f = append(f, TagFilter("Name", name))
	}
	return f
}

// Tags converts a tag map to a service's tag list, sorted by key so
// requests and call logs are deterministic; tag builds one of the
// service's Tag values (each SDK module has its own type).
func Tags[T any](m map[string]string, tag func(key, value *string) T) []T {
	out := make([]T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, tag(aws.String(k), aws.String(m[k])))
	}
	return out
}

// TagMap converts a service's tag list to a map; kv returns a tag's key
// and value.
func TagMap[T any](tags []T, kv func(T) (key, value *string)) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := kv(t)
		m[aws.ToString(k)] = aws.ToString(v)
	}
	return m
}

// EC2Tags converts a tag map to EC2 tags, sorted by key.
func EC2Tags(tags map[string]string) []ec2types.Tag {
	return Tags(tags, func(k, v *string) ec2types.Tag { return ec2types.Tag{Key: k, Value: v} })
}

// TagSpec returns the TagSpecifications that tag a resource of type rt in
// its create call, so a resource never exists untagged (and a create whose
// response was lost is still found by its tags).
func TagSpec(rt ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: EC2Tags(tags)}}
}

// FromEC2Tags converts EC2 tags to a map.
func FromEC2Tags(tags []ec2types.Tag) map[string]string {
	return TagMap(tags, func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
}

// MissingTags returns the entries of want that have is lacks or holds with
// another value: what a converge must (re)write. Tags on the resource that
// want does not name are left alone; someone else may own them.
func MissingTags(have, want map[string]string) map[string]string {
	diff := map[string]string{}
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			diff[k] = v
		}
	}
	return diff
}
