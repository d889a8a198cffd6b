package migration

import "strings"

const pendingPrefix = "pending:"

// Pending returns the placeholder ID a dry run gives a resource it would
// create, so that Ensure functions downstream can see that their parent
// does not exist yet and report a create without calling AWS.
func Pending(name string) string { return pendingPrefix + name }

// IsPending reports whether id is a dry-run placeholder made by Pending.
func IsPending(id string) bool { return strings.HasPrefix(id, pendingPrefix) }

// AnyPending reports whether any of ids is a dry-run placeholder.
func AnyPending(ids ...string) bool {
	for _, id := range ids {
		if IsPending(id) {
			return true
		}
	}
	return false
}
