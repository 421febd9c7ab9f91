/**
 * OPERATIONS: every routed OperationId mapped to its handler. A Record over the OperationId
 * union, so a missing operation is a compile error.
 */
import type { OperationTable } from "./types.js";
import { bucketOperations } from "./buckets.js";
import { deleteObjectsOperations } from "./delete-objects.js";
import { listingOperations } from "./listing.js";
import { multipartOperations } from "./multipart.js";
import { objectOperations } from "./objects.js";

export const OPERATIONS: OperationTable = {
  ...listingOperations,
  ...bucketOperations,
  ...deleteObjectsOperations,
  ...objectOperations,
  ...multipartOperations,
};
