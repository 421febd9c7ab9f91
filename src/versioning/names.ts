/** lakeFS's naming rules (pkg/validator/validate.go in treeverse/lakeFS). */

/** Repository ids: `^[a-z0-9][a-z0-9-]{2,62}$`. */
export const REPOSITORY_NAME = /^[a-z0-9][a-z0-9-]{2,62}$/;
/** Branch ids: `^\w[-\w]*$`. */
export const BRANCH_NAME = /^\w[-\w]*$/;
