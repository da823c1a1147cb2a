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

const { createHttpsServer } = require("@vercel/cosmosdb-server");

const port = parseInt(process.argv[2] || "8081", 10);
const server = createHttpsServer({ keepAlive: true }).listen(port, "127.0.0.1", () => {
  console.log(`Cosmos stand-in ready at https://localhost:${server.address().port}`);
});
