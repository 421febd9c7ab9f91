/**
 * Repositories: list (prefix, after, amount, search), create (201 Repository; 400 invalid, 409
 * exists), get, delete (204; every blob the repository referenced is reclaimed).
 */
import { REPOSITORY_NAME } from "../versioning/names.js";
import type { RepositoryRecord } from "../storage/metadata-store.js";
import { ApiError, badRequest, field, noContent, ok, pageParams, repoRoute, route, type Route } from "./router.js";
import * as shapes from "./shapes.js";

const STORAGE_NAMESPACE = /^(s3|gs|https?|mem|local|transient):\/\/.*$/;

export const repositoryRoutes: Route[] = [
  route("GET", "/repositories", "listRepositories", async (ctx) => {
    const { prefix, after, amount } = pageParams(ctx.query);
    const search = ctx.query.get("search") ?? "";
    const found: RepositoryRecord[] = [];
    let cursor = after;
    let hasMore = false;
    // `search` filters by substring, so keep reading catalog pages until the page is full.
    for (;;) {
      const page = await ctx.services.catalog.listRepositories({ prefix, after: cursor || undefined, limit: amount + 1 });
      for (const r of page.repos) if (r.name.includes(search)) found.push(r);
      if (found.length > amount) {
        found.length = amount;
        hasMore = true;
        break;
      }
      if (!page.hasMore || page.repos.length === 0) break;
      cursor = page.repos.at(-1)!.name;
    }
    return ok(shapes.list(found.map(shapes.repository), hasMore, (r) => r.id));
  }),

  route("POST", "/repositories", "createRepository", async (ctx) => {
    const body = await ctx.json();
    const name = field.string(body, "name");
    const storageNamespace = field.string(body, "storage_namespace");
    const defaultBranch = field.optString(body, "default_branch") || "main";
    if (!REPOSITORY_NAME.test(name)) throw badRequest(`invalid repository name "${name}": use 3-63 characters a-z, 0-9 and '-', starting with a letter or digit`);
    if (!STORAGE_NAMESPACE.test(storageNamespace)) throw badRequest(`invalid storage_namespace "${storageNamespace}"`);
    if (field.optBool(body, "sample_data")) throw badRequest("sample_data is not supported by lakes3");
    if (field.optBool(body, "read_only")) throw badRequest("read-only repositories are not supported by lakes3");
    const created = await ctx.services.catalog.createRepository(name, { defaultBranch, storageNamespace });
    if (!created) throw new ApiError(409, "error creating repository: not unique"); // lakeFS CreateRepository
    Object.assign(ctx.event, { repo: name, path: undefined }); // as for the repository's own routes
    return ok(shapes.repository((await ctx.services.catalog.getRepository(name))!), 201);
  }),

  repoRoute("GET", "/repositories/{repository}", "getRepository", async (ctx) => ok(shapes.repository(ctx.repo))),

  // lakes3 keeps no repository metadata (lakeFS sets it through internal APIs); the SDKs read it
  repoRoute("GET", "/repositories/{repository}/metadata", "getRepositoryMetadata", async () => ok({})),

  repoRoute("DELETE", "/repositories/{repository}", "deleteRepository", async (ctx) => {
    const blobs = await ctx.services.catalog.deleteRepository(ctx.repo.name);
    ctx.services.reclaimer.reclaim(blobs);
    return noContent();
  }),
];
