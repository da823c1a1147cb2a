// Starts @vercel/cosmosdb-server over https with keep-alive on (its CLI always closes connections,
// which makes every SDK request pay a new TLS handshake). Usage: node cosmos-standin.js <port>
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const port = parseInt(process.argv[2] || "8081", 10);
const server = createHttpsServer({ keepAlive: true }).listen(port, "127.0.0.1", () => {
  console.log(`Cosmos stand-in ready at https://localhost:${server.address().port}`);
});
