// Package docs holds Dialtone's documentation (the *.md files beside this one) and the
// test that keeps it true to the code:
//
//   - every docs/… path named in a Go file, in README.md or in a document exists, and
//     every relative link of README.md and the documents reaches a file (and heading);
//   - no Go file cites a *.md file the repository does not have;
//   - the OpenAPI document the admin API serves (admin.OpenAPIDocument) describes every
//     route of the router's table (admin.Routes) and nothing else;
//   - the import graph in architecture.md is the one the Go files have;
//   - the permission table in roles.md is store.RolePermissions, role by role.
//
// cmd/dialtone's tests check operations.md's flag table against serve's option table.
//
// It has no code: the package exists for its test.
package docs
