// Starts @vercel/cosmosdb-server over https with keep-alive on (its CLI always closes connections,
// which makes every SDK request pay a new TLS handshake). Usage: node cosmos-standin.js <port>
//
// One handler is replaced, to follow Cosmos DB's documented behaviour: a transactional batch. The package
// runs a batch's operations one by one and keeps those done before one that fails, and reads each
// operation's partition key from the operation (the JavaScript SDK's bulk shape) where a transactional
// batch names it once, in the request's x-ms-documentdb-partitionkey header (what the Python SDK sends).
// Cosmos DB keeps none of a failed batch: the failing operation answers its own status, every other one
// 424 Failed Dependency, and the request 207 Multi-Status.
const batch = require("@vercel/cosmosdb-server/lib/handler/batch-documents");
const operations = require("@vercel/cosmosdb-server/lib/handler/_document-operations");
const readJson = require("@vercel/cosmosdb-server/lib/json").default;
const { parsePartitionKey } = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");
const trueHeader = require("@vercel/cosmosdb-server/lib/true-header").default;

const RUN = {
  Create: operations.createOperation,
  Upsert: operations.upsertOperation,
  Read: operations.readOperation,
  Delete: operations.deleteOperation,
  Replace: operations.replaceOperation,
};

batch.default = async (account, req, res, { dbId, collId }) => {
  const body = await readJson(req);
  const collection = account.database(dbId).collection(collId);
  if (!collection.read()) {
    res.statusCode = 404;
    return {};
  }
  if (!Array.isArray(body) || body.length === 0 || body.length > 100) {
    res.statusCode = 400;
    return { code: "BadRequest", message: "a batch holds 1 to 100 operations" };
  }
  const header = req.headers["x-ms-documentdb-partitionkey"];
  const items = collection.documents;
  const rids = items._ridCount;
  const undo = []; // [id, partition, the document before] of each operation done, to put back on failure
  const answers = [];
  let failed = false;
  for (const input of body) {
    const run = input && RUN[input.operationType];
    if (!run) {
      failed = true;
      answers.push({ statusCode: 400, requestCharge: 0 });
      continue;
    }
    if (failed) {
      answers.push({ statusCode: 424, requestCharge: 0 });
      continue;
    }
    const operation = { ...input, partitionKey: input.partitionKey || header };
    const id = operation.resourceBody ? operation.resourceBody.id : operation.id;
    const partition = operation.resourceBody ? items._getPartition(operation.resourceBody)
      : parsePartitionKey(operation.partitionKey, id);
    const prior = id === undefined ? undefined : collection.document(id, partition).read();
    const result = run(collection, operation);
    failed = result.statusCode >= 400;
    if (!failed && id !== undefined) undo.push([id, partition, prior]);
    answers.push(failed
      ? { statusCode: result.statusCode, requestCharge: 0 }
      : { statusCode: result.statusCode, requestCharge: 1,
          eTag: result.body ? result.body._etag : undefined, resourceBody: result.body });
  }
  if (failed) {
    for (const [id, partition, prior] of undo.reverse()) {
      if (collection.document(id, partition).read()) items.delete(id, partition);
      if (prior) items._set(prior);
    }
    items._ridCount = rids;
    for (const answer of answers) {
      if (answer.statusCode < 400) {
        answer.statusCode = 424;
        answer.requestCharge = 0;
        delete answer.resourceBody;
        delete answer.eTag;
      }
    }
    res.statusCode = 207;
  }
  return answers;
};

// A query that names its partition (x-ms-documentdb-partitionkey: a single-partition query) sees that
// partition only, as in Cosmos DB; the package scanned every item of the container for every query, so
// each test's items slowed every other test's queries. The items of each partition are kept by rid.
const { AsyncLocalStorage } = require("node:async_hooks");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const queryDocuments = require("@vercel/cosmosdb-server/lib/handler/query-documents");

const queryPartition = new AsyncLocalStorage();
const runQuery = queryDocuments.default;
queryDocuments.default = (account, req, res, params) => {
  const header = req.headers["x-ms-documentdb-partitionkey"];
  const crossPartition = trueHeader(req, "x-ms-documentdb-query-enablecrosspartition");
  const partition = header && !crossPartition ? parsePartitionKey(header) : undefined;
  return queryPartition.run({ partition }, () => runQuery(account, req, res, params));
};

function partitionRids(items, partition) {
  if (!items._partitions) items._partitions = new Map();
  let rids = items._partitions.get(partition);
  if (!rids) {
    rids = new Set();
    items._partitions.set(partition, rids);
  }
  return rids;
}

const setItem = Items.prototype._set;
Items.prototype._set = function set(data) {
  const stored = setItem.call(this, data);
  partitionRids(this, this._getPartition(data)).add(data._rid);
  return stored;
};

const deleteItem = Items.prototype.delete;
Items.prototype.delete = function remove(idOrRid, partition) {
  const data = this._item("/id", idOrRid, partition).read();
  deleteItem.call(this, idOrRid, partition);
  if (data) partitionRids(this, this._getPartition(data)).delete(data._rid);
};

const queryItems = Items.prototype.query;
Items.prototype.query = function query(params, options) {
  const scope = queryPartition.getStore();
  if (!scope || scope.partition === undefined || !this._partitions) return queryItems.call(this, params, options);
  // The same query over the partition's items only: the package reads `this._data` for the items.
  const only = new Map();
  for (const rid of partitionRids(this, scope.partition)) only.set(rid, this._data.get(rid));
  const all = this._data;
  this._data = only;
  try {
    return queryItems.call(this, params, options);
  } finally {
    this._data = all;
  }
};

const { createHttpsServer } = require("@vercel/cosmosdb-server");

const port = parseInt(process.argv[2] || "8081", 10);
const server = createHttpsServer({ keepAlive: true }).listen(port, "127.0.0.1", () => {
  console.log(`Cosmos stand-in ready at https://localhost:${server.address().port}`);
});

// Cosmos DB refuses a request over 2 MB (an item, or a transactional batch with everything in it) with
// 413 RequestEntityTooLarge; the package took any size.
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const handlers = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  if (parseInt(req.headers["content-length"] || "0", 10) > MAX_REQUEST_BYTES) {
    req.resume();
    res.statusCode = 413;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ code: "RequestEntityTooLarge", message: "Request size is too large." }));
    return;
  }
  for (const handle of handlers) handle.call(server, req, res);
});
