/**
 * Server-level endpoints: health, setup state, configuration and the current user. lakes3 behaves
 * like `lakefs run --quickstart`: always initialized, one user (`quickstart`) holding the
 * configured key pair, a local blockstore without presigned URLs or imports.
 */
import { ApiError, noContent, ok, route, USER_ID, type Route } from "./router.js";

/** The lakeFS API version lakes3 answers as (the swagger.yml it implements is 1.0.0). */
const VERSION = "1.0.0";
const STARTED = Math.floor(Date.now() / 1000);

const storageConfig = {
  blockstore_type: "local",
  blockstore_namespace_example: "local://example-repo",
  blockstore_namespace_ValidityRegex: "^local://",
  default_namespace_prefix: "local://",
  pre_sign_support: false,
  pre_sign_support_ui: false,
  import_support: false,
  import_validity_regex: "^local://",
  pre_sign_multipart_upload: false,
};

const versionConfig = { version: VERSION, version_context: "lakes3", upgrade_recommended: false };

export const systemRoutes: Route[] = [
  route("GET", "/healthcheck", "healthCheck", async () => noContent(), { auth: false }),
  route("GET", "/setup_lakefs", "getSetupState", async () => ok({ state: "initialized", comm_prefs_missing: false }), { auth: false }),
  // Quickstart creates its installation user at startup, so setup is always done: 409 as lakeFS.
  route(
    "POST",
    "/setup_lakefs",
    "setup",
    async () => {
      throw new ApiError(409, "lakeFS already initialized");
    },
    { auth: false },
  ),
  route("GET", "/config/version", "getLakeFSVersion", async () => ok(versionConfig), { auth: false }),
  route("GET", "/config", "getConfig", async () => ok({ version_config: versionConfig, storage_config: storageConfig, ui_config: {}, capabilities_config: {} })),
  route("GET", "/config/storage", "getStorageConfig", async () => ok(storageConfig)),
  route("GET", "/user", "getCurrentUser", async () => ok({ user: { id: USER_ID, creation_date: STARTED, friendly_name: USER_ID } })),
];
