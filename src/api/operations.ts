/**
 * What the rest of the server knows of the REST API without loading it (the gateway loads it on
 * its first request): where it lives, and the lakeFS operation ids of its routes, which fault
 * rules name as `api:<operationId>`. Every route's id is one of these (the compiler checks it).
 */
export const API_PREFIX = "/api/v1";

export const API_OPERATIONS = [
  "healthCheck",
  "getSetupState",
  "setup",
  "getLakeFSVersion",
  "getConfig",
  "getStorageConfig",
  "getCurrentUser",
  "listRepositories",
  "createRepository",
  "getRepository",
  "getRepositoryMetadata",
  "deleteRepository",
  "listBranches",
  "createBranch",
  "getBranch",
  "deleteBranch",
  "resetBranch",
  "revertBranch",
  "cherryPick",
  "diffBranch",
  "commit",
  "getCommit",
  "logCommits",
  "diffRefs",
  "findMergeBase",
  "mergeIntoBranch",
  "listTags",
  "createTag",
  "getTag",
  "deleteTag",
  "getObject",
  "headObject",
  "statObject",
  "listObjects",
  "uploadObject",
  "deleteObject",
  "deleteObjects",
  "copyObject",
  "updateObjectUserMetadata",
] as const;

export type ApiOperation = (typeof API_OPERATIONS)[number];

/** The REST operations as the request log names them (`api:commit`), for fault rules. */
export const API_OPERATION_IDS: readonly string[] = API_OPERATIONS.map((op) => `api:${op}`);
